package io.portcamel.agent.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.store.TrackingStore.RunStatus;
import io.portcamel.agent.store.TrackingStore.TrackedRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every database behind {@link TrackingStore} must do, run against a real H2 file and a real PostgreSQL.
 * Subclasses provide a fresh database (file or schema) per class; each test starts with an empty table.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TrackingStoreContract {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET = "store-test-secret";
    static final String TOKEN = "circle-token-3f9a1c77e2b04d";
    static final long T0 = 1_700_000_000_000L;

    MutableClock clock;
    TrackingStore store;
    private final List<TrackingStore> opened = new ArrayList<>();

    abstract String jdbcUrl();

    abstract String expectedDialect();

    /** A subclass skips its tests here when its database is not there (an Assumption). */
    void assumeDatabase() {
    }

    @BeforeEach
    void openStore() throws SQLException {
        assumeDatabase();
        clock = new MutableClock(T0);
        store = open("replica-a", 60);
        sql("DELETE FROM tracked_run");
    }

    @AfterEach
    void closeStores() {
        opened.forEach(TrackingStore::close);
        opened.clear();
    }

    TrackingStore open(String replica, int leaseSeconds) {
        return open(replica, leaseSeconds, SECRET);
    }

    TrackingStore open(String replica, int leaseSeconds, String secret) {
        TrackingStore s = TrackingStore.open(new StoreSettings(jdbcUrl(), null, null, 50, leaseSeconds, 4, replica), secret, clock);
        opened.add(s);
        return s;
    }

    static TrackedRun run(String runId, long nextPollAt) {
        ObjectNode state = JSON.createObjectNode().put("pipelineId", "p-" + runId).put("phase", "created");
        ObjectNode message = JSON.createObjectNode();
        message.putObject("context").put("runId", runId);
        message.putObject("payload").putObject("properties").put("service", "billing");
        return new TrackedRun(runId, "ACTION_RUN", "circleci", state, Map.of("Circle-Token", TOKEN), message, 2,
                nextPollAt, 10_000, 0, T0 + 3_600_000, T0, JSON.createObjectNode());
    }

    Connection raw() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    void sql(String statement, Object... params) throws SQLException {
        try (Connection c = raw(); PreparedStatement ps = c.prepareStatement(statement)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            ps.executeUpdate();
        }
    }

    String column(String runId, String column) throws SQLException {
        try (Connection c = raw(); PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM tracked_run WHERE run_id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "no row " + runId);
                return rs.getString(1);
            }
        }
    }

    static List<String> ids(List<TrackedRun> runs) {
        return runs.stream().map(TrackedRun::runId).toList();
    }

    @Test
    void reportsItsDialectAndIsReachable() {
        assertEquals(expectedDialect(), store.dialect());
        assertTrue(store.isReachable());
        store.close();
        assertFalse(store.isReachable(), "a closed store is not reachable (and isReachable does not throw)");
    }

    @Test
    void insertStoresEveryFieldAndADuplicateRunIdIsRefused() {
        TrackedRun r = run("r-1", T0 + 5_000);
        assertTrue(store.insert(r));
        assertEquals(r, store.find("r-1").orElseThrow());
        assertEquals(new RunStatus("TRACKING", null, null, null, 0), store.status("r-1").orElseThrow());

        TrackedRun again = new TrackedRun("r-1", "WORKFLOW_NODE_RUN", "azure", JSON.createObjectNode(), Map.of(), JSON.createObjectNode(),
                0, T0, 1, 0, T0, T0, JSON.createObjectNode());
        assertFalse(store.insert(again), "a redelivered run is not tracked twice");
        assertEquals(r, store.find("r-1").orElseThrow(), "the first row is untouched");
        assertEquals(1, store.countTracking());
        assertTrue(store.find("nope").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> store.insert(new TrackedRun("r-2", "UNREPORTED", "circleci",
                JSON.createObjectNode(), Map.of(), JSON.createObjectNode(), 0, T0, 1, 0, T0, T0, JSON.createObjectNode())));
    }

    @Test
    void authHeadersAreEncryptedAtRestAndBoundToTheirRun() throws SQLException {
        store.insert(run("r-1", T0));
        store.insert(run("r-2", T0));
        try (Connection c = raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM tracked_run WHERE run_id = 'r-1'")) {
            assertTrue(rs.next());
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                String value = rs.getString(i);
                assertFalse(value != null && value.contains(TOKEN), "column " + rs.getMetaData().getColumnName(i) + " holds the token");
                assertFalse(value != null && value.contains("Circle-Token"), "column " + rs.getMetaData().getColumnName(i) + " names the header");
            }
        }
        String enc1 = column("r-1", "auth_enc");
        assertTrue(enc1.startsWith("v1:"), enc1);
        assertFalse(enc1.equals(column("r-2", "auth_enc")), "a random IV per value: equal headers encrypt differently");
        assertEquals(Map.of("Circle-Token", TOKEN), store.find("r-1").orElseThrow().authHeaders());

        // another secret cannot read it, and a value moved to another row does not decrypt: null, not an exception
        assertNull(open("replica-x", 60, "another-secret").find("r-1").orElseThrow().authHeaders());
        sql("UPDATE tracked_run SET auth_enc = ? WHERE run_id = 'r-2'", enc1);
        assertNull(store.find("r-2").orElseThrow().authHeaders());
        assertNotNull(store.find("r-1").orElseThrow().authHeaders());
    }

    @Test
    void leaseDueTakesDueRunsOldestFirstUpToTheLimit() {
        store.insert(run("late", T0 - 1_000));
        store.insert(run("oldest", T0 - 3_000));
        store.insert(run("middle", T0 - 2_000));
        store.insert(run("now", T0));
        store.insert(run("future", T0 + 1));
        store.insert(run("ended", T0 - 10_000));
        store.end("ended", "SUCCESS", "done", null);

        List<TrackedRun> first = store.leaseDue(2);
        assertEquals(List.of("oldest", "middle"), ids(first));
        assertEquals("p-oldest", first.get(0).state().get("pipelineId").asText());
        assertEquals(Map.of("Circle-Token", TOKEN), first.get(0).authHeaders());
        RunStatus leased = store.status("oldest").orElseThrow();
        assertEquals("replica-a", leased.leaseOwner());
        assertEquals(T0 + 60_000, leased.leaseUntil());

        assertEquals(List.of("late", "now"), ids(store.leaseDue(10)), "leased runs are not handed out again");
        assertEquals(List.of(), store.leaseDue(10));
        assertEquals(List.of(), store.leaseDue(0));

        clock.advance(1);
        assertEquals(List.of("future"), ids(store.leaseDue(10)));
        assertEquals(5, store.countTracking());
    }

    @Test
    void anExpiredLeaseIsTakenOverByAnotherReplica() {
        TrackingStore other = open("replica-b", 60);
        store.insert(run("r-1", T0));
        assertEquals(List.of("r-1"), ids(store.leaseDue(10)));
        assertEquals(List.of(), other.leaseDue(10), "a live lease is respected");

        clock.advance(60_000);
        assertEquals(List.of(), other.leaseDue(10), "lease_until itself is still live");
        clock.advance(1);
        assertEquals(List.of("r-1"), ids(other.leaseDue(10)), "replica-a is presumed dead");
        assertEquals("replica-b", store.status("r-1").orElseThrow().leaseOwner());

        ObjectNode staleState = JSON.createObjectNode().put("phase", "from-a");
        assertFalse(store.reschedule("r-1", staleState, JSON.createObjectNode(), clock.millis() + 1_000, 1_000),
                "the replica that lost its lease cannot save");
        assertEquals("created", store.find("r-1").orElseThrow().state().get("phase").asText());
        assertTrue(other.reschedule("r-1", JSON.createObjectNode().put("phase", "from-b"), JSON.createObjectNode(), clock.millis() + 1_000, 1_000));
        assertEquals("from-b", store.find("r-1").orElseThrow().state().get("phase").asText());
    }

    @Test
    void rescheduleSavesTheStateCountsThePollAndReleasesTheLease() {
        store.insert(run("r-1", T0));
        TrackedRun leased = store.leaseDue(1).get(0);
        ObjectNode state = leased.state().deepCopy().put("phase", "running");
        ObjectNode reported = JSON.createObjectNode().put("statusLabel", "running").put("link", "https://ci/p/1");
        assertTrue(store.reschedule("r-1", state, reported, T0 + 15_000, 15_000));

        TrackedRun saved = store.find("r-1").orElseThrow();
        assertEquals(state, saved.state());
        assertEquals(reported, saved.reported());
        assertEquals(T0 + 15_000, saved.nextPollAt());
        assertEquals(15_000, saved.pollIntervalMs());
        assertEquals(1, saved.pollCount());
        assertEquals(Map.of("Circle-Token", TOKEN), saved.authHeaders());
        assertNull(store.status("r-1").orElseThrow().leaseOwner());
        assertFalse(store.reschedule("r-1", state, reported, T0, 1), "not leased any more");

        assertEquals(List.of(), store.leaseDue(10), "not due before its next poll time");
        clock.advance(15_000);
        TrackedRun again = store.leaseDue(10).get(0);
        assertEquals("running", again.state().get("phase").asText());
        assertEquals(1, again.pollCount());
    }

    @Test
    void rescheduleWithNothingNewKeepsTheSavedJsonAndMovesTheSchedule() {
        store.insert(run("r-1", T0));
        ObjectNode state = store.leaseDue(1).get(0).state().deepCopy().put("phase", "running");
        ObjectNode reported = JSON.createObjectNode().put("statusLabel", "running");
        assertTrue(store.reschedule("r-1", state, reported, T0 + 10_000, 10_000));
        clock.advance(10_000);
        assertEquals(List.of("r-1"), ids(store.leaseDue(1)));
        assertTrue(store.reschedule("r-1", null, null, clock.millis() + 10_000, 10_000), "null: the stored JSON stays");

        TrackedRun saved = store.find("r-1").orElseThrow();
        assertEquals(state, saved.state());
        assertEquals(reported, saved.reported());
        assertEquals(T0 + 20_000, saved.nextPollAt());
        assertEquals(2, saved.pollCount());
        assertNull(store.status("r-1").orElseThrow().leaseOwner());
        assertFalse(store.reschedule("r-1", null, null, T0, 1), "only the lease holder saves, news or not");
    }

    @Test
    void leasesTakenInOneMillisecondByOneReplicaNeverShareARun() {
        for (int i = 0; i < 10; i++) {
            store.insert(run("m-" + i, T0 - i));
        }
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            List<String> batch = ids(store.leaseDue(3)); // the clock stands still: every claim in the same millisecond
            batch.forEach(id -> assertFalse(all.contains(id), () -> id + " leased twice: " + all + " then " + batch));
            all.addAll(batch);
        }
        assertEquals(10, all.size());
        assertEquals(List.of("m-9", "m-8", "m-7"), all.subList(0, 3), "oldest due first");
    }

    @Test
    void endStopsPollingOnceAndForAll() {
        store.insert(run("r-1", T0));
        store.insert(run("r-2", T0));
        store.leaseDue(10);
        ObjectNode reported = JSON.createObjectNode().put("statusLabel", "success");
        assertTrue(store.end("r-1", "SUCCESS", "Pipeline 42 succeeded", reported));
        assertEquals(new RunStatus("ENDED", "SUCCESS", "Pipeline 42 succeeded", null, 0), store.status("r-1").orElseThrow());
        assertEquals(reported, store.find("r-1").orElseThrow().reported());
        assertFalse(store.end("r-1", "FAILURE", "timed out", null), "only the first end counts");
        assertEquals("SUCCESS", store.status("r-1").orElseThrow().endStatus());
        assertFalse(store.reschedule("r-1", JSON.createObjectNode(), reported, T0, 1), "an ended run is not rescheduled");
        assertEquals(1, store.countTracking());

        clock.advance(3_600_000);
        assertEquals(List.of("r-2"), ids(store.leaseDue(10)));
        assertFalse(store.end("nope", "SUCCESS", "", null));
    }

    @Test
    void pollNowMakesARunDueAndANudgeDuringAPollIsKept() {
        store.insert(run("r-1", T0 + 600_000));
        clock.advance(1_000);
        assertTrue(store.pollNow("r-1"));
        assertEquals(T0 + 1_000, store.find("r-1").orElseThrow().nextPollAt());
        assertEquals(List.of("r-1"), ids(store.leaseDue(10)));

        // the callback arrives while the run is being polled: the poll may have looked too early, so it stays due
        clock.advance(1_000);
        assertTrue(store.pollNow("r-1"));
        assertTrue(store.reschedule("r-1", JSON.createObjectNode(), JSON.createObjectNode(), clock.millis() + 30_000, 30_000));
        assertEquals(clock.millis(), store.find("r-1").orElseThrow().nextPollAt());
        assertEquals(List.of("r-1"), ids(store.leaseDue(10)));
        // without a nudge, the next poll time is the one asked for
        assertTrue(store.reschedule("r-1", JSON.createObjectNode(), JSON.createObjectNode(), clock.millis() + 30_000, 30_000));
        assertEquals(clock.millis() + 30_000, store.find("r-1").orElseThrow().nextPollAt());

        assertFalse(store.pollNow("unknown"));
        store.end("r-1", "SUCCESS", "done", null);
        assertFalse(store.pollNow("r-1"));
    }

    @Test
    void openingAgainLeavesSchemaAndDataAsTheyAre() throws SQLException {
        store.insert(run("r-1", T0));
        TrackingStore second = open("replica-b", 60);
        TrackingStore third = open("replica-c", 60);
        assertEquals(run("r-1", T0), third.find("r-1").orElseThrow());
        assertEquals(1, second.countTracking());
        try (Connection c = raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*), MAX(version) FROM schema_version")) {
            rs.next();
            assertEquals(Schema.MIGRATIONS.size(), rs.getInt(1));
            assertEquals(Schema.MIGRATIONS.get(Schema.MIGRATIONS.size() - 1).version(), rs.getInt(2));
        }
    }

    @Test
    void aMessageOfMoreThanAMillionCharactersFits() {
        TrackedRun r = run("big", T0);
        r.message().put("blob", "x".repeat(1_100_000));
        assertTrue(store.insert(r));
        assertEquals(1_100_000, store.find("big").orElseThrow().message().get("blob").asText().length());
    }

    @Test
    void twoReplicasLeasingConcurrentlyLeaseEachRunExactlyOnce() throws Exception {
        int runs = 200;
        for (int i = 0; i < runs; i++) {
            store.insert(run(String.format("c-%03d", i), T0 - i));
        }
        TrackingStore b = open("replica-b", 60);
        Map<String, String> leasedBy = new ConcurrentHashMap<>();
        AtomicInteger total = new AtomicInteger();
        AtomicInteger duplicates = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(6);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            TrackingStore replica = t % 2 == 0 ? store : b;
            done.add(threads.submit(() -> {
                start.await();
                long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (total.get() < runs && System.nanoTime() < giveUp) {
                    for (TrackedRun r : replica.leaseDue(7)) {
                        if (leasedBy.putIfAbsent(r.runId(), replica.replicaId()) != null) {
                            duplicates.incrementAndGet();
                        }
                        total.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get(90, TimeUnit.SECONDS);
        }
        threads.shutdown();

        assertEquals(0, duplicates.get(), "runs leased twice");
        assertEquals(runs, total.get());
        assertEquals(runs, leasedBy.size());
        Map<String, String> owners = new java.util.HashMap<>();
        try (Connection c = raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT run_id, lease_owner FROM tracked_run")) {
            while (rs.next()) {
                owners.put(rs.getString(1), rs.getString(2));
            }
        }
        assertEquals(leasedBy, owners, "the database agrees on who holds each run");
        System.out.printf("%s: leases per replica %s%n", expectedDialect(),
                leasedBy.values().stream().collect(java.util.stream.Collectors.groupingBy(v -> v, java.util.stream.Collectors.counting())));
        assertEquals(List.of(), store.leaseDue(10));
        assertEquals(List.of(), b.leaseDue(10));
    }
}
