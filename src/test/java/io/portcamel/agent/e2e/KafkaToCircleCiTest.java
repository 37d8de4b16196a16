package io.portcamel.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.Scenario;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.store.TrackingStore;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent end to end on the real path: a Port message on a real Kafka broker, the seed CircleCI mapping unchanged
 * (followed by port-agent's default mappings), the request to (fake) CircleCI, and what (fake) Port shows for the run.
 */
class KafkaToCircleCiTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String RUNS = "org_test.runs";
    private static final String GROUP = "org_test.e2e-circleci";

    static EmbeddedKafka kafka;
    static FakePort port;
    static FakeCircleCi circleci;
    static WireMockServer webhook;
    static RunningAgent agent;
    static Map<String, String> env;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 1);
        kafka.createTopic("org_test.change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        circleci = new FakeCircleCi(TestSecrets.CIRCLE_TOKEN);
        webhook = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
        webhook.start();
        env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", GROUP);
        env.put("CIRCLE_CI_URL", circleci.rootUrl());
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        // the seed 001 mapping exactly as published (no track), then port-agent's own default mappings
        env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "src/test/resources/agent-mappings/seed-circleci-then-port-agent-defaults.json");
        agent = RunningAgent.start(env);
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) agent.close();
        if (circleci != null) circleci.close();
        if (port != null) port.close();
        if (webhook != null) webhook.stop();
    }

    @Test
    void seedCircleCiMappingSendsExactlyWhatJqComputesAndPortGetsTheLogs() throws Exception {
        String runId = "r_circle_e2e_1";
        ObjectNode message = PortMessages.circleCiRun(runId, "gh/my org/my-repo/with/slashes");
        kafka.send(RUNS, runId, PortMessages.signed(message).toString());

        port.awaitLog(runId, m -> m.startsWith("Port agent finished processing the action run"), WAIT);
        List<FakeCircleCi.Trigger> triggers = circleci.triggers().stream()
                .filter(t -> t.projectSlug().equals("gh/my org/my-repo/with/slashes")).toList();
        assertEquals(1, triggers.size(), "exactly one pipeline triggered");
        FakeCircleCi.Trigger trigger = triggers.get(0);

        // the reference: the seed mapping's jq, run by the real jq binary over the message the agent saw
        JsonNode seen = PortMessages.unsigned(message);
        Map<String, String> jqEnv = Map.of("CIRCLE_CI_URL", circleci.rootUrl(), "CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        JsonNode seed = PortMessages.fixtureJson("mapping-circleci.json").get(0);
        String expectedUrl = JqBinary.eval(seed.get("url").asText(), seen, jqEnv).asText();
        ObjectNode expectedBody = PortMessages.JSON.createObjectNode();
        expectedBody.set("branch", JqBinary.eval(seed.at("/body/branch").asText(), seen, jqEnv));
        expectedBody.set("parameters", JqBinary.eval(seed.at("/body/parameters").asText(), seen, jqEnv));

        assertEquals(expectedUrl, trigger.rawUrl().startsWith("http") ? trigger.rawUrl() : circleci.rootUrl() + trigger.rawUrl(),
                "URL as sent, %2F and %20 intact");
        assertTrue(expectedUrl.contains("gh%2Fmy%20org%2Fmy-repo%2Fwith%2Fslashes"), expectedUrl);
        assertEquals(TestSecrets.CIRCLE_TOKEN, trigger.header("Circle-Token"));
        assertEquals(expectedBody, trigger.body());
        assertEquals("3", trigger.body().at("/parameters/replicas").asText(), "jq tostring of inputs");
        assertTrue(trigger.header("X-Port-Signature").startsWith("v1,"));

        List<String> logs = port.logMessages(runId);
        assertEquals("An action message has been received", logs.get(0));
        assertEquals("Preparing the payload for the request", logs.get(1));
        assertEquals("Sending the request", logs.get(2));
        assertTrue(logs.get(3).startsWith("Action invocation has completed successfully with status code: 201"), logs.get(3));
        assertEquals("Port agent finished processing the action run", logs.get(4));
        // async CircleCI trigger without `report`: port-agent semantics, the run stays IN_PROGRESS
        assertEquals("IN_PROGRESS", port.run(runId).path("status").asText());

        awaitCommitted(1);
        port.assertNoContractViolations();
        circleci.assertNoContractViolations();
    }

    @Test
    void unsignedAndForgedMessagesAreDroppedAndDoNotBlockThePartition() throws Exception {
        ObjectNode unsigned = PortMessages.circleCiRun("r_unsigned", "gh/acme/unsigned");
        kafka.send(RUNS, "r_unsigned", unsigned.toString());
        ObjectNode forged = PortMessages.signed(PortMessages.circleCiRun("r_forged", "gh/acme/forged"));
        ((ObjectNode) forged.get("payload").get("properties")).put("branch", "evil");
        kafka.send(RUNS, "r_forged", forged.toString());
        kafka.send(RUNS, "garbage", "{not json");
        String okRun = "r_after_bad_ones";
        kafka.send(RUNS, okRun, PortMessages.signed(PortMessages.circleCiRun(okRun, "gh/acme/ok")).toString());

        kafka.send(RUNS, "truncated", "{\"context\":{\"runId\":\"r_truncated_json\"},\"payload\":{\"action\":");
        port.awaitLog(okRun, m -> m.startsWith("Port agent finished"), WAIT);
        assertTrue(circleci.triggers().stream().noneMatch(t -> t.projectSlug().contains("unsigned") || t.projectSlug().contains("forged")),
                "no pipeline for unsigned or forged messages");
        assertTrue(port.logMessages("r_unsigned").isEmpty());
        assertTrue(port.logMessages("r_forged").isEmpty(), "a forged message never touches the run it names");

        // a poison message whose runId can be read ends that run FAILURE instead of leaving it IN_PROGRESS
        port.awaitStatus("r_truncated_json", "FAILURE", WAIT);
        assertTrue(port.run("r_truncated_json").path("summary").asText().contains("not valid JSON"), port.describe("r_truncated_json"));

        // every message that was refused is kept, with where it came from and why
        TrackingStore store = agent.context().getRegistry().lookupByNameAndType("trackingStore", TrackingStore.class);
        List<Map<String, String>> dead = store.deadLetters();
        assertTrue(dead.stream().anyMatch(d -> "r_unsigned".equals(d.get("runId")) && d.get("reason").startsWith("no signature")), dead.toString());
        assertTrue(dead.stream().anyMatch(d -> "r_forged".equals(d.get("runId")) && d.get("reason").contains("does not match")), dead.toString());
        assertTrue(dead.stream().anyMatch(d -> d.get("reason").startsWith("not valid JSON") && d.get("origin").startsWith("kafka " + RUNS + "/0@")),
                dead.toString());
    }

    @Test
    void targetFailuresEndTheRunFailureWithAReason() throws Exception {
        webhook.stubFor(post(urlPathEqualTo("/broken")).willReturn(aResponse().withStatus(500).withBody("boom")));
        String failing = "r_target_500";
        kafka.send(RUNS, failing, PortMessages.signed(webhookRun(failing, webhook.baseUrl() + "/broken", false)).toString());
        port.awaitStatus(failing, "FAILURE", WAIT);
        assertEquals("Failed to invoke the webhook with status code: 500. Response: boom",
                port.run(failing).path("summary").asText());

        String refused = "r_connection_refused";
        kafka.send(RUNS, refused, PortMessages.signed(webhookRun(refused, "http://127.0.0.1:" + closedPort() + "/x", false)).toString());
        port.awaitStatus(refused, "FAILURE", WAIT);
        assertTrue(port.run(refused).path("summary").asText().startsWith("The agent could not connect to the target"),
                port.describe(refused));
        assertTrue(port.run(refused).path("summary").asText().endsWith("(4 attempts)"), port.describe(refused));
    }

    @Test
    void a503StormIsRetriedWithBackOffAndRetryAfter_then4xxIsNot() throws Exception {
        // two refusals (one with Retry-After), then the target answers: one run, three attempts, SUCCESS
        webhook.stubFor(post(urlPathEqualTo("/storm")).inScenario("storm").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(503).withHeader("Retry-After", "1")).willSetStateTo("second"));
        webhook.stubFor(post(urlPathEqualTo("/storm")).inScenario("storm").whenScenarioStateIs("second")
                .willReturn(aResponse().withStatus(429)).willSetStateTo("ok"));
        webhook.stubFor(post(urlPathEqualTo("/storm")).inScenario("storm").whenScenarioStateIs("ok")
                .willReturn(aResponse().withStatus(200).withBody("{\"ok\":true}")));
        String runId = "r_storm";
        kafka.send(RUNS, runId, PortMessages.signed(webhookRun(runId, webhook.baseUrl() + "/storm", true)).toString());
        port.awaitStatus(runId, "SUCCESS", WAIT);
        assertEquals(3, webhook.findAll(postRequestedFor(urlPathEqualTo("/storm"))).size());

        // a 503 that never ends: 1 + TARGET_MAX_RETRIES (3) attempts, then FAILURE with the status
        webhook.stubFor(post(urlPathEqualTo("/down")).willReturn(aResponse().withStatus(503)));
        kafka.send(RUNS, "r_down", PortMessages.signed(webhookRun("r_down", webhook.baseUrl() + "/down", false)).toString());
        port.awaitStatus("r_down", "FAILURE", WAIT);
        assertEquals(4, webhook.findAll(postRequestedFor(urlPathEqualTo("/down"))).size());
        assertTrue(port.run("r_down").path("summary").asText().startsWith("Failed to invoke the webhook with status code: 503."));

        // any other 4xx is final at once
        webhook.stubFor(post(urlPathEqualTo("/gone")).willReturn(aResponse().withStatus(404)));
        kafka.send(RUNS, "r_gone", PortMessages.signed(webhookRun("r_gone", webhook.baseUrl() + "/gone", false)).toString());
        port.awaitStatus("r_gone", "FAILURE", WAIT);
        assertEquals(1, webhook.findAll(postRequestedFor(urlPathEqualTo("/gone"))).size());
    }

    @Test
    void synchronizedRunEndsWithTheTargetsAnswer() throws Exception {
        webhook.stubFor(post(urlPathEqualTo("/sync")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"deployed\":true}")));
        String runId = "r_sync_ok";
        kafka.send(RUNS, runId, PortMessages.signed(webhookRun(runId, webhook.baseUrl() + "/sync", true)).toString());
        port.awaitStatus(runId, "SUCCESS", WAIT);
        assertEquals(1, port.responses(runId).size());
        assertTrue(port.logMessages(runId).contains("The run response was reported successfully "));
    }

    /** A plain WEBHOOK agent run handled by port-agent's fallback mapping (the last one of invocations.json). */
    static ObjectNode webhookRun(String runId, String url, boolean sync) {
        ObjectNode msg = PortMessages.fixture("event-test-kafka-run-webhook-signed.json");
        msg.remove("headers");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.at("/payload/action/invocationMethod")).put("url", url).put("synchronized", sync);
        return msg;
    }

    private static void awaitCommitted(long atLeast) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long committed = -1;
        while (System.nanoTime() < deadline) {
            committed = kafka.committedOffset(GROUP, RUNS, 0);
            if (committed >= atLeast) return;
            Thread.sleep(100);
        }
        throw new AssertionError("offset not committed, got " + committed + "; groups: "
                + kafka.admin().listConsumerGroups().all().get().stream().map(g -> g.groupId()).toList());
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
