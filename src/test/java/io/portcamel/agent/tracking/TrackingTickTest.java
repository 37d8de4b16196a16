package io.portcamel.agent.tracking;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.portcamel.agent.store.StoreSettings;
import io.portcamel.agent.store.TrackingStore;
import io.portcamel.agent.store.TrackingStore.TrackedRun;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tracking timer's tick (routes/tracking.camel.yaml): {@code moreDue} / {@code leaseDue} lease batch after batch
 * while they come back full, for at most 10 s, and the heartbeat goes out at most once a second however many
 * batches a tick takes.
 */
class TrackingTickTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000L;

    private final AtomicLong millis = new AtomicLong(T0);
    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }

        @Override
        public long millis() {
            return millis.get();
        }
    };
    private String url;
    private TrackingStore store;
    private TrackingService tracking;

    @BeforeEach
    void open() {
        url = "jdbc:h2:mem:tick-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        store = TrackingStore.open(new StoreSettings(url, null, null, 3, 60, 2, "replica-a"), "tick-test-secret", clock);
        tracking = new TrackingService(store, List.of(), null, null, null, null,
                new TrackingService.Settings(7200, 10, 60, 3), clock);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aTickLeasesFullBatchesUntilOneComesBackShort() {
        for (int i = 0; i < 7; i++) {
            insert("r-" + i, T0 - i);
        }
        assertTrue(tracking.moreDue(), "the first batch of a tick");
        assertEquals(3, tracking.leaseDue().size());
        assertTrue(tracking.moreDue(), "a full batch: more may be due");
        assertEquals(3, tracking.leaseDue().size());
        assertTrue(tracking.moreDue());
        assertEquals(1, tracking.leaseDue().size());
        assertFalse(tracking.moreDue(), "a short batch ends the tick");

        assertTrue(tracking.moreDue(), "the next tick leases again");
        assertEquals(0, tracking.leaseDue().size());
        assertFalse(tracking.moreDue());
    }

    @Test
    void aTickStopsLeasingAfterTenSecondsAndTheNextOneGoesOn() {
        for (int i = 0; i < 9; i++) {
            insert("r-" + i, T0 - i);
        }
        assertTrue(tracking.moreDue());
        assertEquals(3, tracking.leaseDue().size());
        millis.addAndGet(TrackingService.MAX_TICK_MILLIS);
        assertFalse(tracking.moreDue(), "ten seconds: the tick ends (the timer fires again at once)");
        assertTrue(tracking.moreDue());
        assertEquals(3, tracking.leaseDue().size());
        assertTrue(tracking.moreDue());
    }

    @Test
    void aLeaseThatFailsEndsTheTickAndTheNextTickStartsAfresh() {
        assertTrue(tracking.moreDue());
        store.close(); // the database is gone
        assertThrows(RuntimeException.class, tracking::leaseDue);
        assertTrue(tracking.moreDue(), "the next tick leases again (it does not take itself for the failed one)");
    }

    @Test
    void theHeartbeatGoesOutAtMostOnceASecond() throws Exception {
        assertEquals(-1, heartbeat(), "no heartbeat before the first lease");
        tracking.leaseDue();
        assertEquals(T0, heartbeat(), "the first lease says this replica is alive");
        millis.addAndGet(400);
        tracking.leaseDue();
        assertEquals(T0, heartbeat(), "not again within a second");
        millis.addAndGet(600);
        tracking.leaseDue();
        assertEquals(T0 + 1_000, heartbeat());
    }

    private void insert(String runId, long due) {
        assertTrue(store.insert(new TrackedRun(runId, "ACTION_RUN", "circleci", JSON.createObjectNode(), Map.of(),
                JSON.createObjectNode(), 0, due, 10_000, 0, T0 + 3_600_000, T0 - 60_000, JSON.createObjectNode())));
    }

    private long heartbeat() throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT seen_at FROM replica_heartbeat WHERE replica = 'replica-a'")) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }
}
