package io.portcamel.agent.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.mapping.Mapping;
import io.portcamel.agent.mapping.RenderedRequest;

import java.util.Map;

/**
 * One Port run on its way through the agent: where it came from, the message, the chosen mapping, the request
 * as sent and the target's answer. Carried in the exchange variable {@code run} from route to route.
 */
public final class RunContext {
    /** Where the message entered the agent, for log lines that let an operator find it again. */
    public record Origin(String ingress, String detail) {
        @Override
        public String toString() {
            return ingress + (detail == null ? "" : " " + detail);
        }
    }

    public enum Kind {
        /** An action run: reported through /v1/actions/runs/{id}. */
        ACTION_RUN,
        /** A workflow-node run (runId wfnr_…): reported through /v1/workflows/nodes/runs/{id}. */
        WORKFLOW_NODE_RUN,
        /** A change-log event or a message without runId: nothing to report to. */
        UNREPORTED
    }

    private final Origin origin;
    private final ObjectNode message;
    private final String runId;
    private final Kind kind;
    private Mapping mapping;
    private RenderedRequest request;
    private ObjectNode requestAsSent;
    private int statusCode = -1;
    private Map<String, String> responseHeaders = Map.of();
    private String responseText;
    private String targetFailure;
    /** Log lines not queued for Port yet: a run's lines between two moments that matter go to the store as one. */
    private final java.util.List<String> pendingLines = new java.util.ArrayList<>();

    public RunContext(Origin origin, ObjectNode message) {
        this.origin = origin;
        this.message = message;
        String id = message.path("context").path("runId").asText(null);
        this.runId = id == null || id.isBlank() ? null : id;
        this.kind = runId == null ? Kind.UNREPORTED : runId.startsWith("wfnr_") ? Kind.WORKFLOW_NODE_RUN : Kind.ACTION_RUN;
    }

    /**
     * What makes this run unique for the dedupe: the runId; for a change-log event (no runId) a digest of the message,
     * so the same event replayed is recognised too.
     */
    public String dedupeKey() {
        if (runId != null) {
            return runId;
        }
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(message.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "event:" + java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Origin origin() { return origin; }
    public ObjectNode message() { return message; }
    public String runId() { return runId; }
    public Kind kind() { return kind; }

    /** For log lines: the run id, or where the message came from when it has none. */
    public String label() {
        return runId != null ? runId : "(no runId, " + origin + ")";
    }

    public JsonNode invocationMethod() {
        JsonNode im = message.path("payload").path("action").path("invocationMethod");
        return im.isObject() ? im : message.path("changelogDestination");
    }

    public boolean synchronizedRun() {
        return invocationMethod().path("synchronized").asBoolean(false);
    }

    public Mapping mapping() { return mapping; }
    public void mapping(Mapping m) { this.mapping = m; }
    public RenderedRequest request() { return request; }
    public void request(RenderedRequest r) { this.request = r; }
    public ObjectNode requestAsSent() { return requestAsSent; }
    public void requestAsSent(ObjectNode r) { this.requestAsSent = r; }
    public int statusCode() { return statusCode; }
    public Map<String, String> responseHeaders() { return responseHeaders; }
    public String responseText() { return responseText; }

    public void response(int status, Map<String, String> headers, String text) {
        this.statusCode = status;
        this.responseHeaders = headers;
        this.responseText = text;
    }

    /** Why the target call itself failed (no HTTP answer at all), or null. */
    public String targetFailure() { return targetFailure; }
    public void targetFailure(String reason) { this.targetFailure = reason; }

    public boolean succeeded() {
        return statusCode >= 200 && statusCode < 300;
    }

    /** The log lines written with RunReporter#logLater and not flushed yet (the reporter's buffer). */
    public java.util.List<String> pendingLines() {
        return pendingLines;
    }

    /** The target call was prepared (and may have been sent): the run can only be reported now, never sent again. */
    public boolean requestSent() {
        return requestAsSent != null;
    }
}
