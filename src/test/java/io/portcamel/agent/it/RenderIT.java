package io.portcamel.agent.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import io.portcamel.agent.TestSecrets;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code java -jar port-camel-agent.jar render --mapping F --event F}: the request a mapping builds, sent nowhere. */
class RenderIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    static Path workDir;
    static Path circleEvent;

    @BeforeAll
    static void layOut() throws Exception {
        workDir = AgentProcess.workDir(tmp);
        ObjectNode event = (ObjectNode) JSON.readTree(AgentProcess.FIXTURES.resolve("event-docs-incoming-run.json").toFile());
        event.put("action", "trigger_circle_ci_pipeline");
        ((ObjectNode) event.get("payload").get("entity").get("properties")).put("project_slug", "gh/my org/repo");
        ObjectNode props = (ObjectNode) event.get("payload").get("properties");
        props.put("branch", "feature/x");
        props.put("replicas", 3);
        circleEvent = workDir.resolve("event-circleci.json");
        JSON.writeValue(circleEvent.toFile(), event);
    }

    private static Map<String, String> env() {
        return AgentProcess.minimalEnv();
    }

    private static String fixture(String name) {
        return AgentProcess.FIXTURES.resolve(name).toString();
    }

    private static JsonNode renderedOk(AgentProcess.Result r) throws Exception {
        assertEquals(0, r.exitCode(), r::toString);
        assertFalse(r.stderr().contains("\tat "), r::toString);
        JsonNode out = JSON.readTree(r.stdout());
        assertTrue(out.path("mappingIndex").isInt(), r::toString);
        JsonNode req = out.path("request");
        for (String k : new String[] {"method", "url", "headers", "query", "body"}) {
            assertTrue(req.has(k), () -> "request." + k + " missing\n" + r);
        }
        return out;
    }

    @Test
    void circleCiMappingRendersTheTriggerWithTheTokenFromTheEnvironment() throws Exception {
        Map<String, String> env = env();
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        AgentProcess.Result r = AgentProcess.run(workDir, env, TIMEOUT,
                "render", "--mapping", fixture("mapping-circleci.json"), "--event", circleEvent.toString());
        JsonNode out = renderedOk(r);
        assertEquals(0, out.get("mappingIndex").asInt());
        JsonNode req = out.get("request");
        assertEquals("POST", req.get("method").asText(), r::toString);
        assertEquals("https://circleci.com/api/v2/project/gh%2Fmy%20org%2Frepo/pipeline", req.get("url").asText());
        assertTrue(req.get("url").asText().contains("gh%2Fmy%20org%2Frepo"));
        assertEquals(TestSecrets.CIRCLE_TOKEN, req.get("headers").path("Circle-Token").asText(), r::toString);
        assertEquals(JSON.readTree("{\"branch\":\"feature/x\",\"parameters\":{\"branch\":\"feature/x\",\"replicas\":\"3\"}}"),
                req.get("body"), r::toString);
        assertEquals(JSON.createObjectNode(), req.get("query"), r::toString);
    }

    @Test
    void theWholeShippedFileSelectsTheCircleCiMappingToo() throws Exception {
        Map<String, String> env = env();
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        AgentProcess.Result r = AgentProcess.run(workDir, env, TIMEOUT,
                "render", "--mapping", "invocations.json", "--event", circleEvent.toString());
        JsonNode out = renderedOk(r);
        assertEquals(0, out.get("mappingIndex").asInt(), r::toString);
        assertTrue(out.at("/request/url").asText().contains("gh%2Fmy%20org%2Frepo"), r::toString);
    }

    @Test
    void gitlabMappingOfTheDefaultFileTakesTheTokenFromGroupProjectVariable() throws Exception {
        Map<String, String> env = env();
        env.put("group_project", "glptt-token-123");
        AgentProcess.Result r = AgentProcess.run(workDir, env, TIMEOUT, "render",
                "--mapping", fixture("mapping-default-control_the_payload_config.json"),
                "--event", fixture("event-test-kafka-run-gitlab-legacy.json"));
        JsonNode out = renderedOk(r);
        assertEquals(0, out.get("mappingIndex").asInt(), r::toString);
        JsonNode req = out.get("request");
        assertEquals("POST", req.get("method").asText(), r::toString);
        assertEquals("https://gitlab.com/api/v4/projects/group%2Fproject/trigger/pipeline", req.get("url").asText());
        assertEquals("glptt-token-123", req.at("/body/token").asText(), r::toString);
        assertEquals("main", req.at("/body/ref").asText(), r::toString);
        // port_payload is the message as the mapping sees it: the run, without the signature headers
        assertEquals("r_jE5FhDURh4Uen2Qr", req.at("/body/port_payload/context/runId").asText(), r::toString);
        assertFalse(req.at("/body/port_payload").toString().contains("X-Port-Signature"), r::toString);
    }

    @Test
    void renderSendsNothing() throws Exception {
        WireMockServer target = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        target.start();
        try {
            Map<String, String> env = env();
            env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
            env.put("CIRCLE_CI_URL", "http://127.0.0.1:" + target.port());
            AgentProcess.Result r = AgentProcess.run(workDir, env, TIMEOUT,
                    "render", "--mapping", fixture("mapping-circleci.json"), "--event", circleEvent.toString());
            JsonNode out = renderedOk(r);
            assertEquals("http://127.0.0.1:" + target.port() + "/api/v2/project/gh%2Fmy%20org%2Frepo/pipeline",
                    out.at("/request/url").asText());
            assertEquals(0, target.getAllServeEvents().size(), "render must not call the target");
        } finally {
            target.stop();
        }
    }

    @Test
    void noMatchingMappingIsAClearNonZeroExit() throws Exception {
        // the docs' event has action "action_identifier": the CircleCI mapping is not enabled for it
        AgentProcess.Result r = AgentProcess.run(workDir, env(), TIMEOUT,
                "render", "--mapping", fixture("mapping-circleci.json"), "--event", fixture("event-docs-incoming-run.json"));
        assertNotEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.stdout().strip(), r::toString);
        assertFalse(r.stderr().contains("\tat "), r::toString);
        assertTrue(r.stderr().contains("no mapping") && r.stderr().contains("mapping-circleci.json"), r::toString);
    }

    @Test
    void missingEventFileIsAClearNonZeroExit() throws Exception {
        AgentProcess.Result r = AgentProcess.run(workDir, env(), TIMEOUT,
                "render", "--mapping", fixture("mapping-circleci.json"), "--event", "no-such-event.json");
        assertNotEquals(0, r.exitCode(), r::toString);
        assertFalse(r.stderr().contains("\tat "), r::toString);
        assertTrue(r.stderr().contains("no-such-event.json"), r::toString);
    }

    @Test
    void invalidMappingFileNamesFileIndexAndField() throws Exception {
        Path bad = workDir.resolve("invalid-jq-body-parameters.json");
        if (!Files.exists(bad)) {
            Files.copy(AgentProcess.IT_RESOURCES.resolve("invalid-jq-body-parameters.json"), bad);
        }
        AgentProcess.Result r = AgentProcess.run(workDir, env(), TIMEOUT,
                "render", "--mapping", bad.toString(), "--event", circleEvent.toString());
        assertNotEquals(0, r.exitCode(), r::toString);
        assertFalse(r.stderr().contains("\tat "), r::toString);
        assertTrue(r.stderr().contains("invalid-jq-body-parameters.json") && r.stderr().contains("mapping #1")
                && r.stderr().contains("field \"body.parameters\""), r::toString);
    }
}
