package io.portcamel.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.security.PortSignature;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Port run messages for tests, built from the fixtures and signed the way Port signs them. */
final class PortMessages {
    static final ObjectMapper JSON = new ObjectMapper();

    private PortMessages() { }

    static ObjectNode fixture(String name) {
        return (ObjectNode) fixtureJson(name);
    }

    static JsonNode fixtureJson(String name) {
        try (InputStream in = PortMessages.class.getResourceAsStream("/fixtures/port/" + name)) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A DAY-2 run of the seed CircleCI action on a project whose slug has spaces and slashes. */
    static ObjectNode circleCiRun(String runId, String projectSlug) {
        ObjectNode msg = fixture("event-docs-incoming-run.json");
        msg.put("action", "trigger_circle_ci_pipeline");
        ((ObjectNode) msg.get("context")).put("runId", runId).put("blueprint", "circle_ci_project");
        ObjectNode payload = (ObjectNode) msg.get("payload");
        ObjectNode entity = (ObjectNode) payload.get("entity");
        entity.put("blueprint", "circle_ci_project");
        ((ObjectNode) entity.get("properties")).put("project_slug", projectSlug);
        ((ObjectNode) payload.at("/action/invocationMethod")).put("url", "https://circleci.com");
        payload.putObject("properties").put("branch", "feature/ünïcode").put("replicas", 3).put("debug", true)
                .put("ratio", 1.5);
        return msg;
    }

    /** Adds Port's in-message signature (headers.X-Port-Signature / X-Port-Timestamp) for the test secret. */
    static ObjectNode signed(ObjectNode message) {
        return new PortSignature(TestSecrets.CLIENT_SECRET).signMessage(message, System.currentTimeMillis() / 1000);
    }

    /** The message as the mapping sees it: signature headers removed, the emptied object kept. */
    static ObjectNode unsigned(ObjectNode message) {
        ObjectNode copy = message.deepCopy();
        copy.remove("headers");
        copy.putObject("headers");
        return copy;
    }
}
