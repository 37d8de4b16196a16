package io.portcamel.agent.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.security.PortSignature;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Plain WEBHOOK agent runs (fixture event-test-kafka-run-webhook-signed.json, as KafkaToCircleCiTest#webhookRun),
 * signed the way Port signs Kafka messages (same code path as e2e/PortMessages#signed). Built before the clock starts.
 */
final class BenchMessages {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final PortSignature SIGNER = new PortSignature(TestSecrets.CLIENT_SECRET);
    private static final ObjectNode TEMPLATE = load();

    record Msg(String runId, String value) { }

    private BenchMessages() { }

    static List<Msg> build(String prefix, int n, String targetUrl) {
        return build(prefix, n, targetUrl, false);
    }

    /** {@code synchronized}: Port expects the agent to end the run with the target's answer (more Port calls). */
    static List<Msg> build(String prefix, int n, String targetUrl, boolean sync) {
        List<Msg> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String runId = prefix + "_" + i;
            out.add(new Msg(runId, signed(run(runId, targetUrl, sync))));
        }
        return out;
    }

    static ObjectNode run(String runId, String url, boolean sync) {
        ObjectNode msg = TEMPLATE.deepCopy();
        msg.remove("headers");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.at("/payload/action/invocationMethod")).put("url", url).put("synchronized", sync);
        return msg;
    }

    static String signed(ObjectNode message) {
        return SIGNER.signMessage(message, System.currentTimeMillis() / 1000).toString();
    }

    private static ObjectNode load() {
        try (InputStream in = BenchMessages.class.getResourceAsStream("/fixtures/port/event-test-kafka-run-webhook-signed.json")) {
            return (ObjectNode) JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
