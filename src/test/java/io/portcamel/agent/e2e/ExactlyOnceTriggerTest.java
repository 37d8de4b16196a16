package io.portcamel.agent.e2e;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.store.StoreSettings;
import io.portcamel.agent.store.TrackingStore;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A redelivered or replayed Kafka message never triggers twice — in one agent, and in a new agent on the same store
 * that replays the whole topic. A run whose first attempt was cut off by a crash ends FAILURE saying so.
 */
class ExactlyOnceTriggerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String RUNS = "org_once.runs";
    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static FakePort port;
    static FakeCircleCi circleci;
    static Map<String, String> env;

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 1);
        kafka.createTopic("org_once.change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        circleci = new FakeCircleCi(TestSecrets.CIRCLE_TOKEN);
        env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", "org_once");
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("CIRCLE_CI_URL", circleci.rootUrl());
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "src/test/resources/agent-mappings/seed-circleci-then-port-agent-defaults.json");
        env.put("TRACKING_JDBC_URL", "jdbc:h2:file:" + dir.resolve("store") + ";WRITE_DELAY=0");
    }

    @AfterAll
    static void stop() {
        if (circleci != null) circleci.close();
        if (port != null) port.close();
    }

    private static long triggersFor(String slug) {
        return circleci.triggers().stream().filter(t -> t.projectSlug().equals(slug)).count();
    }

    @Test
    void redeliveriesAndReplaysAfterARestartDoNotTriggerTwice() throws Exception {
        String message = PortMessages.signed(PortMessages.circleCiRun("r_once", "gh/acme/once")).toString();
        env.put("KAFKA_CONSUMER_GROUP_ID", "org_once.first");
        try (RunningAgent first = RunningAgent.start(env)) {
            kafka.send(RUNS, "r_once", message);
            kafka.send(RUNS, "r_once", message); // the same record redelivered
            port.awaitLog("r_once", m -> m.startsWith("Port agent finished"), WAIT);
            Thread.sleep(1000);
            assertEquals(1, triggersFor("gh/acme/once"));
        }
        // a new agent on the same store, in a new consumer group: it replays the topic from the beginning
        env.put("KAFKA_CONSUMER_GROUP_ID", "org_once.replay");
        String marker = PortMessages.signed(PortMessages.circleCiRun("r_once_marker", "gh/acme/marker")).toString();
        kafka.send(RUNS, "r_once_marker", marker);
        try (RunningAgent second = RunningAgent.start(env)) {
            port.awaitLog("r_once_marker", m -> m.startsWith("Port agent finished"), WAIT);
            assertEquals(1, triggersFor("gh/acme/once"), "replayed after a restart: still one trigger");
            assertEquals(1, triggersFor("gh/acme/marker"));
            assertEquals(1, port.logMessages("r_once").stream().filter(m -> m.equals("Sending the request")).count());
        }
    }

    @Test
    void aRunCutOffByACrashEndsFailureInsteadOfBeingSentAgain() throws Exception {
        // the state a crash leaves: the run accepted 10 minutes ago, never finished
        Clock tenMinutesAgo = Clock.fixed(Instant.now().minusSeconds(600), ZoneOffset.UTC);
        try (TrackingStore store = TrackingStore.open(StoreSettings.from(env), TestSecrets.CLIENT_SECRET, tenMinutesAgo)) {
            assertTrue(store.accept("r_crashed"));
        }
        env.put("KAFKA_CONSUMER_GROUP_ID", "org_once.crash");
        try (RunningAgent agent = RunningAgent.start(env)) {
            kafka.send(RUNS, "r_crashed", PortMessages.signed(PortMessages.circleCiRun("r_crashed", "gh/acme/crashed")).toString());
            port.awaitStatus("r_crashed", "FAILURE", WAIT);
            assertTrue(port.run("r_crashed").path("summary").asText().startsWith("The agent stopped while handling this run"),
                    port.describe("r_crashed"));
            assertEquals(0, triggersFor("gh/acme/crashed"), "not sent again");
        }
    }
}
