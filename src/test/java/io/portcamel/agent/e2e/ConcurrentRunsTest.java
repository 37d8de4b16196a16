package io.portcamel.agent.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;
import io.portcamel.agent.testsupport.JsonTarget;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 6: runs of one partition are handled concurrently, yet the committed offset never passes a run that is not
 * finished, the per-host limit holds, and a plain run costs Port at most four calls. Real broker, fake Port, a target
 * that counts the calls it holds at once.
 */
class ConcurrentRunsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String ORG = "org_conc";
    private static final String RUNS = ORG + ".runs";
    private static final String GROUP = ORG + ".agent";
    private static final int PER_TARGET = 3;
    private static final int FAST_RUNS = 20;

    static EmbeddedKafka kafka;
    static FakePort port;
    static JsonTarget target;
    static RunningAgent agent;
    static final CountDownLatch RELEASE_HELD = new CountDownLatch(1);

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 1);
        kafka.createTopic(ORG + ".change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        target = JsonTarget.start(path -> {
            if (path.startsWith("/hold")) {
                RELEASE_HELD.await(60, TimeUnit.SECONDS);
            } else {
                Thread.sleep(100);
            }
        });
        Map<String, String> env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", ORG);
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", GROUP);
        env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "src/test/resources/agent-mappings/seed-circleci-then-port-agent-defaults.json");
        env.put("AGENT_RUN_CONCURRENCY", "8");
        env.put("TARGET_MAX_CONCURRENCY", String.valueOf(PER_TARGET));
        agent = RunningAgent.start(env);
    }

    @AfterAll
    static void stop() throws Exception {
        RELEASE_HELD.countDown();
        if (agent != null) agent.close();
        if (port != null) port.close();
        if (target != null) target.close();
    }

    private static String url(String path) {
        return target.url(path);
    }

    private static String run(String runId, String path) {
        ObjectNode msg = KafkaToCircleCiTest.webhookRun(runId, url(path), false);
        return PortMessages.signed(msg).toString();
    }

    @Test
    void runsOvertakeASlowOneButTheCommitWaitsForIt() throws Exception {
        kafka.send(RUNS, "r_held", run("r_held", "/hold"));
        for (int i = 0; i < FAST_RUNS; i++) {
            kafka.send(RUNS, "r_fast_" + i, run("r_fast_" + i, "/fast/" + i));
        }
        // every run behind the held one finishes while it is still in flight: one partition, handled concurrently
        for (int i = 0; i < FAST_RUNS; i++) {
            port.awaitLog("r_fast_" + i, m -> m.startsWith("Port agent finished"), WAIT);
        }
        assertEquals("IN_PROGRESS", port.run("r_held").path("status").asText());
        Thread.sleep(1500); // a few polls: any commit the agent would make is made by now
        long committed = kafka.committedOffset(GROUP, RUNS, 0);
        assertTrue(committed <= 0, "the committed offset passed the unfinished run at offset 0: " + committed);
        int max = target.maxInFlight();
        assertTrue(max >= 2 && max <= PER_TARGET, "calls in flight at once to the one target host: " + max
                + " (expected 2.." + PER_TARGET + ": concurrent, and never over TARGET_MAX_CONCURRENCY)");

        RELEASE_HELD.countDown();
        port.awaitLog("r_held", m -> m.startsWith("Port agent finished"), WAIT);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (kafka.committedOffset(GROUP, RUNS, 0) < FAST_RUNS + 1 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(FAST_RUNS + 1, kafka.committedOffset(GROUP, RUNS, 0), "every run handled: the commit reaches the end");
        assertEquals(FAST_RUNS + 1, target.calls(), "one target call per run");

        // Port: a plain run's port-agent lines arrive as one call (two when the outbox sends the first ones early)
        long portCalls = port.allRequests().stream().filter(r -> r.getUrl().contains("/runs/r_fast_")).count();
        assertTrue(portCalls <= 2L * FAST_RUNS, "Port calls for " + FAST_RUNS + " plain runs: " + portCalls);
        assertEquals(java.util.List.of("An action message has been received", "Preparing the payload for the request",
                "Sending the request", "Action invocation has completed successfully with status code: 200, response: {\"ok\":true}",
                "Port agent finished processing the action run"), port.logMessages("r_fast_7"));
    }
}
