package io.portcamel.agent.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.moreThanOrExactly;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's own failures end runs FAILURE with a reason (port-agent leaves them IN_PROGRESS), `report` drives the
 * run's fields, change-log events are delivered, Kafka credentials come from Port and one cached token serves all
 * calls (renewed once on 401). Real Kafka broker, fake Port and target over HTTP.
 */
class DispatchRulesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String RUNS = "org_rules.runs";
    private static final String CHANGES = "org_rules.change.log";

    static EmbeddedKafka kafka;
    static FakePort port;
    static WireMockServer target;
    static RunningAgent agent;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 1);
        kafka.createTopic(CHANGES, 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        // no KAFKA_CONSUMER_BOOTSTRAP_SERVERS: brokers come from Port, as in production
        port.setKafkaCredentials(List.of(kafka.bootstrapServers()), "org_rules.agent-user", "kafka-password-xyz");
        target = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
        target.start();
        Map<String, String> env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", "org_rules");
        env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "src/test/resources/agent-mappings/dispatch-rules.json");
        agent = RunningAgent.start(env);
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) agent.close();
        if (port != null) port.close();
        if (target != null) target.stop();
    }

    private static ObjectNode run(String runId, String action, String url) {
        ObjectNode msg = KafkaToCircleCiTest.webhookRun(runId, url, false);
        msg.put("action", action);
        ((ObjectNode) msg.at("/payload/properties")).put("foo", "v1.2.3").put("replicas", "three");
        return PortMessages.signed(msg);
    }

    @Test
    void noMatchingMappingEndsTheRunFailureAndSendsNothing() throws Exception {
        kafka.send(RUNS, "r_nomatch", run("r_nomatch", "not_mapped", target.baseUrl() + "/never").toString());
        port.awaitStatus("r_nomatch", "FAILURE", WAIT);
        String summary = port.run("r_nomatch").path("summary").asText();
        assertTrue(summary.startsWith("No mapping in dispatch-rules.json matched this run (action 'not_mapped'"), summary);
        assertEquals(0, target.findAll(postRequestedFor(urlPathEqualTo("/never"))).size());
    }

    @Test
    void anInputCannotSteerTheRequestToAHostOutsideTheMappingsAllowlist() throws Exception {
        ObjectNode msg = run("r_steered", "steered", "http://unused");
        ((ObjectNode) msg.at("/payload/properties")).put("host", "127.0.0.1:" + target.port());
        kafka.send(RUNS, "r_steered", PortMessages.signed(PortMessages.unsigned(msg)).toString());
        port.awaitStatus("r_steered", "FAILURE", WAIT);
        String summary = port.run("r_steered").path("summary").asText();
        assertTrue(summary.contains("host 127.0.0.1 is not in the mapping's allowedHosts") && summary.contains("nothing was sent"), summary);
        assertEquals(0, target.findAll(postRequestedFor(urlPathEqualTo("/api"))).size());
    }

    @Test
    void jqRuntimeErrorEndsTheRunFailureNamingTheField() throws Exception {
        kafka.send(RUNS, "r_jqerror", run("r_jqerror", "jq_error", target.baseUrl() + "/never").toString());
        port.awaitStatus("r_jqerror", "FAILURE", WAIT);
        String summary = port.run("r_jqerror").path("summary").asText();
        assertTrue(summary.contains("body.replicas") && summary.contains("nothing was sent"), summary);
        assertEquals(0, target.findAll(postRequestedFor(urlPathEqualTo("/never"))).size());
    }

    @Test
    void reportFieldsBecomeTheRunsStatusLinkLabelAndExternalId() throws Exception {
        target.stubFor(post(urlPathEqualTo("/reported")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"id\": 9876}")));
        kafka.send(RUNS, "r_reported", run("r_reported", "reported", target.baseUrl() + "/reported").toString());
        port.awaitStatus("r_reported", "SUCCESS", WAIT);
        ObjectNode r = port.run("r_reported");
        assertEquals("https://ci.example.com/runs/9876", r.path("link").isArray() ? r.path("link").get(0).asText() : r.path("link").asText());
        assertEquals("deployed v1.2.3", r.path("statusLabel").asText());
        assertEquals("9876", r.path("externalRunId").asText());
        assertEquals("answered 200", r.path("summary").asText());
        // arrays in the body template are recursed, literals pass through
        target.verify(postRequestedFor(urlPathEqualTo("/reported"))
                .withRequestBody(equalToJson("{\"runId\":\"r_reported\",\"inputs\":[\"v1.2.3\",42,true]}")));
        port.assertNoContractViolations();
    }

    @Test
    void aPortHiccupIsRetriedAndNoUpdateIsLost() throws Exception {
        target.stubFor(post(urlPathEqualTo("/hiccup")).willReturn(aResponse().withStatus(200).withBody("{\"id\":7}")));
        port.failNext(2, 503);
        kafka.send(RUNS, "r_hiccup", run("r_hiccup", "reported", target.baseUrl() + "/hiccup").toString());
        port.awaitStatus("r_hiccup", "SUCCESS", WAIT);
        port.awaitLog("r_hiccup", m -> m.startsWith("Port agent finished"), WAIT);
        assertEquals("An action message has been received", port.logMessages("r_hiccup").get(0));
    }

    @Test
    void changeLogEventsAreDeliveredWithoutSignature() throws Exception {
        target.stubFor(post(urlPathEqualTo("/changes")).willReturn(aResponse().withStatus(200)));
        ObjectNode change = PortMessages.fixture("event-test-kafka-changelog.json");
        ((ObjectNode) change.get("changelogDestination")).put("url", target.baseUrl() + "/changes");
        kafka.send(CHANGES, "c1", change.toString());
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (target.findAll(postRequestedFor(urlPathEqualTo("/changes"))).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        target.verify(moreThanOrExactly(1), postRequestedFor(urlPathEqualTo("/changes")));
    }

    @Test
    void oneTokenServesManyRunsAndA401RenewsItOnce() throws Exception {
        target.stubFor(post(urlPathEqualTo("/tok")).willReturn(aResponse().withStatus(200).withBody("{\"id\":1}")));
        for (int i = 0; i < 3; i++) {
            kafka.send(RUNS, "r_tok_" + i, run("r_tok_" + i, "reported", target.baseUrl() + "/tok").toString());
        }
        for (int i = 0; i < 3; i++) {
            port.awaitStatus("r_tok_" + i, "SUCCESS", WAIT);
        }
        int before = port.tokenRequests();
        assertTrue(before <= 2, "tokens are cached, got " + before + " token requests");
        port.expireTokens();
        kafka.send(RUNS, "r_tok_after", run("r_tok_after", "reported", target.baseUrl() + "/tok").toString());
        port.awaitStatus("r_tok_after", "SUCCESS", WAIT);
        port.awaitLog("r_tok_after", m -> m.startsWith("Port agent finished"), WAIT);
        assertEquals(before + 1, port.tokenRequests(), "exactly one new token after the 401");
    }
}
