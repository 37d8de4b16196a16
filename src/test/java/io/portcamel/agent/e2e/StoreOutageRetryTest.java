package io.portcamel.agent.e2e;


import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;
import io.portcamel.agent.testsupport.JsonTarget;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The store fails after a run was accepted and before anything was sent (its first log lines cannot be queued): the
 * run worker frees the runId and dispatches the record again once the store is back — the run is neither skipped as
 * a duplicate of itself nor sent twice. Real broker; the store's outbox table is taken away and given back.
 */
class StoreOutageRetryTest {
    private static final String ORG = "org_outage";
    private static final String RUNS = ORG + ".runs";

    static EmbeddedKafka kafka;
    static FakePort port;
    static JsonTarget target;
    static String jdbcUrl;
    static RunningAgent agent;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 1);
        kafka.createTopic(ORG + ".change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        target = JsonTarget.start(path -> { });
        jdbcUrl = "jdbc:h2:mem:outage-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        Map<String, String> env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", ORG);
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", ORG + ".agent");
        env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "src/test/resources/agent-mappings/seed-circleci-then-port-agent-defaults.json");
        env.put("TRACKING_JDBC_URL", jdbcUrl);
        agent = RunningAgent.start(env);
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) agent.close();
        if (port != null) port.close();
        if (target != null) target.close();
    }

    private static void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    @Test
    void aRunAcceptedButNotSentIsDispatchedAgainOnceTheStoreIsBack() throws Exception {
        sql("ALTER TABLE port_outbox RENAME TO port_outbox_away");
        try {
            String url = target.url("/deploy");
            kafka.send(RUNS, "r_outage", PortMessages.signed(KafkaToCircleCiTest.webhookRun("r_outage", url, false)).toString());
            Thread.sleep(3000); // accepted, then its first log lines cannot be queued: the worker keeps trying
            assertEquals(0, target.calls(), "nothing may be sent before the run's first lines are in the store");
        } finally {
            sql("ALTER TABLE port_outbox_away RENAME TO port_outbox");
        }
        port.awaitLog("r_outage", m -> m.startsWith("Port agent finished"), Duration.ofSeconds(30));
        assertEquals(1, target.calls(), "triggered exactly once");
        assertEquals(List.of("An action message has been received", "Preparing the payload for the request",
                "Sending the request", "Action invocation has completed successfully with status code: 200, response: {\"ok\":true}",
                "Port agent finished processing the action run"), port.logMessages("r_outage"));
    }
}
