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
    /** An accepted run older than this and not done was cut off by a crash (longer than any target call). */
    private final long unfinishedAfterMillis;

    public RunIntake(PortSignature signature, String runsTopic, io.portcamel.agent.store.TrackingStore store,
                     long unfinishedAfterMillis) {
        this.signature = signature;
        this.runsTopic = runsTopic;
        this.store = store;
        this.unfinishedAfterMillis = unfinishedAfterMillis;
    }

    /** Returns the run to dispatch (also stored in the variable {@code run}), or null when the message is dropped. */
    public RunContext accept(Exchange exchange) {
        String ingress = exchange.getVariable("ingress", "unknown", String.class);
        RunContext.Origin origin = origin(ingress, exchange);
        byte[] raw = exchange.getMessage().getBody(byte[].class);
        if (raw == null || raw.length == 0) {
            LOG.warn("dropped a message from {}: it is empty", origin);
            return null;
        }
        if (raw.length > MAX_MESSAGE_BYTES) {
            LOG.warn("dropped a message from {}: {} bytes is over Port's 1 MiB limit", origin, raw.length);
            return null;
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(raw);
        } catch (Exception e) {
            LOG.warn("dropped a message from {}: not valid JSON ({})", origin, firstLine(e.getMessage()));
            return null;
        }
        if (!(parsed instanceof ObjectNode message)) {
            LOG.warn("dropped a message from {}: expected a JSON object, got {}", origin, parsed.getNodeType());
            return null;
        }
        if ("polling".equals(ingress)) {
            message = fromClaimedRun(message);
        }
        if ("kafka".equals(ingress) && runsTopic.equals(exchange.getMessage().getHeader(KafkaConstants.TOPIC))) {
            PortSignature.Verdict verdict = signature.verifyMessage(message);
            if (!verdict.valid()) {
                LOG.warn("dropped a message from {} (runId {}): {}", origin,
                        message.path("context").path("runId").asText("?"), verdict.reason());
                return null;
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
     * A redelivered or replayed run is never triggered twice. When the first attempt never finished (the agent died
     * between accepting and reporting — the one window no store closes, since no CI API takes an idempotency key),
     * the outcome is unknown: the run ends FAILURE saying so, instead of hanging IN_PROGRESS (at-most-once trigger).
     */
    public void duplicate(Exchange exchange) {
        RunContext run = exchange.getVariable("run", RunContext.class);
        var accepted = store.accepted(run.dedupeKey());
        long age = accepted.map(a -> System.currentTimeMillis() - a.acceptedAt()).orElse(0L);
        if (accepted.isPresent() && !accepted.get().done() && age > unfinishedAfterMillis && run.runId() != null) {
            store.markDone(run.dedupeKey());
            throw new RunFailure("The agent stopped while handling this run (accepted " + age / 1000 + " s ago by "
                    + accepted.get().replica() + "); the request may or may not have reached the target, so it is not sent "
                    + "again: check the target and re-run the action if needed");
        }
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

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
