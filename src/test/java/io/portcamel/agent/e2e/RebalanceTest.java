package io.portcamel.agent.e2e;


import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;
import io.portcamel.agent.testsupport.JsonTarget;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A second agent joins the consumer group while the first one has runs in flight: the partitions move (the first
 * agent commits what it finished, in order, before it lets them go), the second re-reads from there, and the shared
 * store makes every re-read run a duplicate. Every run is triggered exactly once and reported, and both partitions'
 * commits reach the end. Real broker (2 partitions), two agents, one store.
 */
class RebalanceTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String ORG = "org_rebal";
    private static final String RUNS = ORG + ".runs";
    private static final String GROUP = ORG + ".agents";
    private static final int N = 40;

    static EmbeddedKafka kafka;
    static FakePort port;
    static JsonTarget target;
    static Map<String, String> env;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 2);
        kafka.createTopic(ORG + ".change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        target = JsonTarget.start(path -> Thread.sleep(300));
        env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", ORG);
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", GROUP);
        env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "src/test/resources/agent-mappings/seed-circleci-then-port-agent-defaults.json");
        env.put("AGENT_RUN_CONCURRENCY", "4");
        // one store for both agents, as replicas share one PostgreSQL (same JVM: the same in-memory H2 database)
        env.put("TRACKING_JDBC_URL", "jdbc:h2:mem:rebalance-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    }

    @AfterAll
    static void stop() {
        if (port != null) port.close();
        if (target != null) target.close();
    }

    @Test
    void partitionsMoveMidBurstWithoutLosingOrRepeatingARun() throws Exception {
        String url = target.url("/t/");
        List<String> runIds = new ArrayList<>();
        long[] end = new long[2];
        try (RunningAgent first = RunningAgent.start(env)) {
            for (int i = 0; i < N; i++) {
                String runId = "r_rebal_" + i;
                runIds.add(runId);
                var meta = kafka.send(RUNS, runId, PortMessages.signed(KafkaToCircleCiTest.webhookRun(runId, url + runId, false)).toString());
                end[meta.partition()] = Math.max(end[meta.partition()], meta.offset() + 1);
            }
            assertTrue(end[0] > 0 && end[1] > 0, "runs on both partitions");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (target.calls() < 6 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            // the second agent joins while the first is busy: the group rebalances mid-burst
            try (RunningAgent second = RunningAgent.start(env)) {
                for (String runId : runIds) {
                    port.awaitLog(runId, m -> m.startsWith("Port agent finished"), WAIT);
                }
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while ((kafka.committedOffset(GROUP, RUNS, 0) < end[0] || kafka.committedOffset(GROUP, RUNS, 1) < end[1])
                        && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals(end[0], kafka.committedOffset(GROUP, RUNS, 0), "partition 0 committed to its end");
                assertEquals(end[1], kafka.committedOffset(GROUP, RUNS, 1), "partition 1 committed to its end");
            }
        }
        List<String> notOnce = runIds.stream().filter(r -> target.calls("/t/" + r) != 1).toList();
        assertEquals(List.of(), notOnce, "runs not triggered exactly once");
        for (String runId : runIds) {
            assertEquals(1, port.logMessages(runId).stream().filter(m -> m.startsWith("Port agent finished")).count(),
                    port.describe(runId));
        }
    }
}
