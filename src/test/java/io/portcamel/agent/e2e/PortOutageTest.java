package io.portcamel.agent.e2e;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Port down: the runs still go out to their targets, every update for Port waits in the store's outbox and arrives,
 * in order, once Port answers again — also when the agent was restarted in between.
 */
class PortOutageTest {
    private static final Duration WAIT = Duration.ofSeconds(40);
    private static final String RUNS = "org_outage.runs";
    private static final List<String> EXPECTED_LOGS = List.of("An action message has been received",
            "Preparing the payload for the request", "Sending the request",
            "Action invocation has completed successfully with status code: 200, response: {\"deployed\":true}",
            "Reporting the run response", "The run response was reported successfully ",
            "Port agent finished processing the action run");

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static FakePort port;
    static WireMockServer target;
    static Map<String, String> env;

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 1);
        kafka.createTopic("org_outage.change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        target = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
        target.start();
        target.stubFor(post(urlPathEqualTo("/deploy")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"deployed\":true}")));
        env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", "org_outage");
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", "org_outage.agent");
        env.put("TRACKING_JDBC_URL", "jdbc:h2:file:" + dir.resolve("store") + ";WRITE_DELAY=0");
        env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "src/test/resources/agent-mappings/seed-circleci-then-port-agent-defaults.json");
    }

    @AfterAll
    static void stop() {
        if (port != null) port.close();
        if (target != null) target.stop();
    }

    private static void send(String runId) throws Exception {
        kafka.send(RUNS, runId, PortMessages.signed(KafkaToCircleCiTest.webhookRun(runId, target.baseUrl() + "/deploy", true)).toString());
    }

    private static void awaitTargetCalls(int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (target.findAll(postRequestedFor(urlPathEqualTo("/deploy"))).size() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(n, target.findAll(postRequestedFor(urlPathEqualTo("/deploy"))).size());
    }

    @Test
    void updatesWaitForPortAndArriveInOrder_alsoAcrossARestart() throws Exception {
        port.setUnavailable(true);
        try (RunningAgent agent = RunningAgent.start(env)) {
            send("r_outage_1");
            awaitTargetCalls(1); // the run is not held up by Port
            Thread.sleep(1500);
            assertEquals(List.of(), port.logMessages("r_outage_1"), "nothing reached Port while it was down");
            port.setUnavailable(false);
            port.awaitStatus("r_outage_1", "SUCCESS", WAIT);
            port.awaitLog("r_outage_1", m -> m.startsWith("Port agent finished"), WAIT);
            assertEquals(EXPECTED_LOGS, port.logMessages("r_outage_1"));

            // Port goes down again, a run goes out, and the agent is stopped before Port is back
            port.setUnavailable(true);
            send("r_outage_2");
            awaitTargetCalls(2);
            Thread.sleep(500);
        }
        port.setUnavailable(false);
        try (RunningAgent restarted = RunningAgent.start(env)) {
            port.awaitStatus("r_outage_2", "SUCCESS", WAIT);
            port.awaitLog("r_outage_2", m -> m.startsWith("Port agent finished"), WAIT);
            assertEquals(EXPECTED_LOGS, port.logMessages("r_outage_2"), "delivered after the restart, in order, once each");
            assertEquals(2, target.findAll(postRequestedFor(urlPathEqualTo("/deploy"))).size(), "no run was triggered again");
        }
        port.assertNoContractViolations();
    }
}
