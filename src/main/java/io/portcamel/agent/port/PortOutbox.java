package io.portcamel.agent.port;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.portcamel.agent.store.TrackingStore;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Set;

/**
 * Every update for Port — run logs, PATCH, the synchronized response, workflow-node updates, entity upserts — is
 * written to the store's outbox first and delivered from there (the {@code port-outbox} route), one run's updates in
 * the order they were made. A Port outage delays updates and loses none, also across a restart; the Kafka offset
 * of a run is committed once its updates are durable, not once Port answered.
 */
public class PortOutbox {
    private static final Logger LOG = LoggerFactory.getLogger(PortOutbox.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Port's answers that will not change on a retry: the update is kept as DROPPED with the reason. */
    private static final Set<Integer> FINAL = Set.of(400, 403, 404, 409, 413, 422);
    private static final long MAX_BACKOFF_MILLIS = 60_000;

    private final TrackingStore store;
    private final Clock clock;
    private PortApi port;

    public PortOutbox(TrackingStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    void deliverWith(PortApi port) {
        this.port = port;
    }

    void enqueue(String runId, String method, String path, JsonNode body) {
        try {
            store.outboxAdd(runId, method, path, body == null ? null : JSON.writeValueAsString(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** One pass over the runs with updates due (called by the port-outbox timer); returns how many were delivered. */
    public int deliverDue() {
        int delivered = 0;
        for (String runId : store.outboxRuns(200)) {
            delivered += deliverRun(runId);
        }
        return delivered;
    }

    private int deliverRun(String runId) {
        int delivered = 0;
        while (true) {
            var head = store.outboxLeaseHead(runId);
            if (head.isEmpty()) {
                return delivered;
            }
            TrackingStore.OutboxItem item = head.get();
            try {
                JsonNode body = item.body() == null ? null : JSON.readTree(item.body());
                port.call(item.method(), item.path(), body);
                store.outboxDelivered(item.id());
                delivered++;
            } catch (PortApiException e) {
                if (FINAL.contains(e.status())) {
                    LOG.warn("run {}: Port refused {} {} for good, dropped: {}", runId, item.method(), item.path(), e.getMessage());
                    store.outboxDropped(item.id(), e.getMessage());
                    continue;
                }
                long backoff = Math.min(1000L << Math.min(item.attempts(), 6), MAX_BACKOFF_MILLIS);
                LOG.warn("run {}: Port update {} {} not delivered (attempt {}), next try in {} s: {}", runId, item.method(),
                        item.path(), item.attempts() + 1, backoff / 1000, e.getMessage());
                store.outboxRetryLater(item.id(), clock.millis() + backoff, e.getMessage());
                return delivered;
            } catch (java.io.IOException e) {
                store.outboxDropped(item.id(), "unreadable body: " + e.getMessage());
            }
        }
    }
}
