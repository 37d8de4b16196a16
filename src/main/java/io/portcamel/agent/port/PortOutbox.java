package io.portcamel.agent.port;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.portcamel.agent.store.TrackingStore;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
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
    private static final int RUNS_PER_PASS = 500;
    private static final int MAX_LINES_PER_CALL = 50;
    private static final int MAX_CHARS_PER_CALL = 64 * 1024;

    private final TrackingStore store;
    private final Clock clock;
    private PortApi port;
    private final Set<String> delivering = java.util.concurrent.ConcurrentHashMap.newKeySet();

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

    /** Runs with updates waiting (the port-outbox route delivers them in parallel, PORT_MAX_CONCURRENCY at once). */
    public List<String> dueRuns() {
        return store.outboxRuns(RUNS_PER_PASS);
    }

    /**
     * Delivers one run's due updates in order; stops at the first that Port did not take (it is retried later, the
     * later ones wait for it). Log lines queued one after the other are sent as one log call, joined by new lines:
     * a run's five port-agent lines cost Port one call, not five, when they are queued together.
     */
    public int deliverRun(String runId) {
        // the store's lease keeps other replicas off this run; this keeps this replica's own threads off it
        if (!delivering.add(runId)) {
            return 0;
        }
        try {
            return deliverLeased(runId);
        } finally {
            delivering.remove(runId);
        }
    }

    private int deliverLeased(String runId) {
        int delivered = 0;
        while (true) {
            List<TrackingStore.OutboxItem> leased = store.outboxLeaseHead(runId, MAX_LINES_PER_CALL);
            if (leased.isEmpty()) {
                return delivered;
            }
            TrackingStore.OutboxItem item = leased.get(0);
            try {
                List<Long> ids = new ArrayList<>(List.of(item.id()));
                JsonNode body = item.body() == null ? null : JSON.readTree(item.body());
                String line = plainLogLine(item, body);
                if (line != null) {
                    StringBuilder lines = new StringBuilder(line);
                    for (TrackingStore.OutboxItem next : leased.subList(1, leased.size())) {
                        String more = plainLogLine(next, next.body() == null ? null : JSON.readTree(next.body()));
                        if (more == null || lines.length() + more.length() > MAX_CHARS_PER_CALL) {
                            break;
                        }
                        lines.append('\n').append(more);
                        ids.add(next.id());
                    }
                    if (ids.size() > 1) {
                        body = JSON.createObjectNode().put("message", lines.toString());
                    }
                }
                port.call(item.method(), item.path(), body);
                store.outboxDelivered(ids);
                delivered += ids.size();
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

    /** The text of a plain run log line (POST …/logs with only a message), or null for anything else. */
    private static String plainLogLine(TrackingStore.OutboxItem item, JsonNode body) {
        if (!"POST".equals(item.method()) || !item.path().endsWith("/logs") || body == null || body.size() != 1
                || !body.path("message").isTextual()) {
            return null;
        }
        return body.get("message").textValue();
    }
}
