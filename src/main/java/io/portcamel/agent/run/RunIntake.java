package io.portcamel.agent.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.security.PortSignature;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * The gate every message passes, from any ingress: size limit, JSON, signature (Kafka runs topic), and port-agent's
 * "is this for an agent" filter. What does not pass is logged with where it came from and why, and dropped.
 */
public class RunIntake {
    private static final Logger LOG = LoggerFactory.getLogger(RunIntake.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Port refuses bodies over 1 MiB, so nothing larger can be a genuine run. */
    public static final int MAX_MESSAGE_BYTES = 1024 * 1024;

    private final PortSignature signature;
    private final String runsTopic;
    private final io.portcamel.agent.store.TrackingStore store;

    public RunIntake(PortSignature signature, String runsTopic, io.portcamel.agent.store.TrackingStore store) {
        this.signature = signature;
        this.runsTopic = runsTopic;
        this.store = store;
    }

    /** Returns the run to dispatch (also stored in the variable {@code run}), or null when the message is dropped. */
    public RunContext accept(Exchange exchange) {
        String ingress = exchange.getVariable("ingress", "unknown", String.class);
        RunContext.Origin origin = origin(ingress, exchange);
        byte[] raw = exchange.getMessage().getBody(byte[].class);
        if (raw == null || raw.length == 0) {
            return poison(exchange, origin, "it is empty", raw, false);
        }
        if (raw.length > MAX_MESSAGE_BYTES) {
            return poison(exchange, origin, raw.length + " bytes is over Port's 1 MiB limit", raw, true);
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(raw);
        } catch (Exception e) {
            return poison(exchange, origin, "not valid JSON (" + firstLine(e.getMessage()) + ")", raw, true);
        }
        if (!(parsed instanceof ObjectNode message)) {
            return poison(exchange, origin, "expected a JSON object, got " + parsed.getNodeType(), raw, false);
        }
        if (!message.path("context").isMissingNode() && !message.path("context").isObject()
                || !message.path("payload").isMissingNode() && !message.path("payload").isObject()) {
            return poison(exchange, origin, "wrong shape: 'context' and 'payload' must be objects", raw, true);
        }
        if ("polling".equals(ingress)) {
            message = fromClaimedRun(message);
        }
        if ("kafka".equals(ingress) && runsTopic.equals(exchange.getMessage().getHeader(KafkaConstants.TOPIC))) {
            PortSignature.Verdict verdict = signature.verifyMessage(message);
            if (!verdict.valid()) {
                // never fail a run on an unverified message: a forged one could end someone else's run
                return poison(exchange, origin, verdict.reason(), raw, false);
            }
        } else if (message.get("headers") instanceof ObjectNode headers) {
            // never hand a signature to a mapping's default body
            headers.remove(PortSignature.SIGNATURE_HEADER);
            headers.remove(PortSignature.TIMESTAMP_HEADER);
        }
        RunContext run = new RunContext(origin, message);
        if (!"polling".equals(ingress) && !isForAgent(message)) {
            LOG.debug("skipped {} from {}: not an agent invocation", run.label(), origin);
            return null;
        }
        exchange.setVariable("run", run);
        LOG.info("run {}: received from {} (action {})", run.label(), origin, message.path("action").asText("?"));
        return run;
    }

    /**
     * A message the agent cannot take: logged with where it came from and why, kept in the store's dead_letter table,
     * and dropped (the ingress goes on, the Kafka offset is committed: a poison message never blocks a partition).
     * When a runId can still be read from a message Port signed or that needs no signature, the run ends FAILURE with
     * the reason instead of hanging.
     */
    private RunContext poison(Exchange exchange, RunContext.Origin origin, String reason, byte[] raw, boolean failRunIfReadable) {
        String text = raw == null ? "" : new String(raw, 0, Math.min(raw.length, MAX_MESSAGE_BYTES + 1024), StandardCharsets.UTF_8);
        java.util.regex.Matcher m = RUN_ID.matcher(text.length() > 65536 ? text.substring(0, 65536) : text);
        String runId = m.find() ? m.group(1) : null;
        String id;
        id = store.deadLetter(origin.toString(), reason, runId, text); // store down: the record is retried, not lost
        LOG.warn("dropped a message from {}{}: {} — dead letter {}", origin, runId == null ? "" : " (runId " + runId + ")", reason, id);
        io.portcamel.agent.ops.AgentMetrics.of(exchange).deadLettered();
        if (failRunIfReadable && runId != null) {
            ObjectNode stub = JSON.createObjectNode();
            stub.putObject("context").put("runId", runId);
            exchange.setVariable("run", new RunContext(origin, stub));
            throw new RunFailure("The agent could not read this run's message from " + origin + ": " + reason
                    + " (kept as dead letter " + id + ")");
        }
        return null;
    }

    /** A runId in a message that cannot be parsed ("runId":"r_…" or wfnr_…). */
    private static final java.util.regex.Pattern RUN_ID = java.util.regex.Pattern.compile("\"runId\"\\s*:\\s*\"((?:r|wfnr)_[A-Za-z0-9_-]{1,100})\"");

    /**
     * A redelivered or replayed run is never triggered twice: it is logged and skipped. (A run whose first attempt was
     * cut off by a crash is ended FAILURE by the tracking watchdog, redelivered or not.)
     */
    public void duplicate(Exchange exchange) {
        RunContext run = exchange.getVariable("run", RunContext.class);
        LOG.warn("run {}: already accepted before (redelivery or replay from {}); not processed again", run.label(), run.origin());
    }

    /** port-agent: only messages whose invocation method (or change-log destination) says agent: true. */
    static boolean isForAgent(JsonNode message) {
        JsonNode agent = message.path("payload").path("action").path("invocationMethod").path("agent");
        if (agent.isMissingNode()) {
            agent = message.path("changelogDestination").path("agent");
        }
        return truthy(agent);
    }

    private static boolean truthy(JsonNode n) {
        return switch (n.getNodeType()) {
            case BOOLEAN -> n.booleanValue();
            case NUMBER -> n.doubleValue() != 0;
            case STRING -> !n.textValue().isEmpty();
            case OBJECT, ARRAY -> !n.isEmpty();
            default -> false;
        };
    }

    /**
     * A run claimed through POLLING carries the message in {@code payload.body}; rebuild it the way port-agent does
     * (headers from payload.headers, invocationMethod from payload, runId from the claimed run's id).
     */
    static ObjectNode fromClaimedRun(ObjectNode claimed) {
        JsonNode payload = claimed.path("payload");
        ObjectNode msg = payload.path("body") instanceof ObjectNode b ? b.deepCopy() : JSON.createObjectNode();
        if (payload.has("headers")) {
            msg.set("headers", payload.get("headers"));
        }
        ObjectNode im = JSON.createObjectNode();
        for (String f : new String[] {"type", "url", "synchronized", "method", "headers"}) {
            if (payload.has(f)) {
                im.set(f, payload.get(f));
            }
        }
        ObjectNode p = msg.path("payload") instanceof ObjectNode po ? po : msg.putObject("payload");
        ObjectNode action = p.path("action") instanceof ObjectNode ao ? ao : p.putObject("action");
        action.set("invocationMethod", im);
        ObjectNode ctx = msg.path("context") instanceof ObjectNode co ? co : msg.putObject("context");
        ctx.put("runId", claimed.path("id").asText());
        return msg;
    }

    private static RunContext.Origin origin(String ingress, Exchange exchange) {
        if ("kafka".equals(ingress)) {
            var m = exchange.getMessage();
            return new RunContext.Origin("kafka", m.getHeader(KafkaConstants.TOPIC) + "/" + m.getHeader(KafkaConstants.PARTITION)
                    + "@" + m.getHeader(KafkaConstants.OFFSET));
        }
        return new RunContext.Origin(ingress, null);
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
