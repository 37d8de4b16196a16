package io.portcamel.agent.demo;

import com.fasterxml.jackson.databind.JsonNode;

import io.portcamel.agent.testsupport.FakePort;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One demo run as the simulated Port sees it: what the demo sent, and every change Port accepted for the run (log
 * lines, status labels, terminal status, entity upserts), stamped with when the demo first saw it. Fed by
 * {@link #observe(FakePort, long)} polling Port's state, so the timeline is Port's, not the agent's.
 */
final class RunTimeline {
    private static final Set<String> TERMINAL = Set.of("SUCCESS", "FAILURE");

    /** One thing Port accepted for the run, {@code millis} after the demo sent the run's message. */
    record Event(long millis, String kind, String text) {
    }

    final String runId;
    final String action;
    final String title;
    final String expected;
    final List<Event> events = new ArrayList<>();
    final List<String> labels = new ArrayList<>();
    final List<FakePort.EntityUpsert> entities = new ArrayList<>();
    long sentAtMillis = -1;
    long endedAfterMillis = -1;
    String request = "";
    int callbacksAccepted;
    int callbacksRefused;
    private int logsSeen;
    private int patchesSeen;

    RunTimeline(String runId, String action, String title, String expected) {
        this.runId = runId;
        this.action = action;
        this.title = title;
        this.expected = expected;
    }

    boolean sent() {
        return sentAtMillis >= 0;
    }

    boolean ended() {
        return endedAfterMillis >= 0;
    }

    /** Takes what Port accepted for this run since the last call. */
    void observe(FakePort port, long nowMillis) {
        if (!sent()) {
            return;
        }
        long t = nowMillis - sentAtMillis;
        List<JsonNode> logs = port.logs(runId);
        for (; logsSeen < logs.size(); logsSeen++) {
            JsonNode log = logs.get(logsSeen);
            if (log.hasNonNull("statusLabel")) {
                label(t, log.get("statusLabel").asText());
            }
            events.add(new Event(t, "log", log.path("message").asText()));
            if (log.hasNonNull("terminationStatus")) {
                events.add(new Event(t, "status", log.get("terminationStatus").asText()));
            }
        }
        List<JsonNode> patches = port.patches(runId);
        for (; patchesSeen < patches.size(); patchesSeen++) {
            JsonNode patch = patches.get(patchesSeen);
            if (patch.hasNonNull("statusLabel")) {
                label(t, patch.get("statusLabel").asText());
            }
            if (patch.hasNonNull("status")) {
                String summary = patch.path("summary").asText("");
                events.add(new Event(t, "status", patch.get("status").asText() + (summary.isEmpty() ? "" : ": " + summary)));
            }
        }
        for (FakePort.EntityUpsert u : port.entityUpserts()) {
            if (runId.equals(u.runId()) && !entities.contains(u)) {
                entities.add(u);
                events.add(new Event(t, "entity", u.blueprint() + " \"" + u.body().path("identifier").asText() + "\" upserted"));
            }
        }
        if (!ended() && TERMINAL.contains(port.run(runId).path("status").asText())) {
            endedAfterMillis = t;
        }
    }

    private void label(long t, String label) {
        if (labels.isEmpty() || !labels.get(labels.size() - 1).equals(label)) {
            labels.add(label);
            events.add(new Event(t, "label", label));
        }
    }
}
