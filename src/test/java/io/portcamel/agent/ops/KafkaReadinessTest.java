package io.portcamel.agent.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KAFKA mode: readiness waits until the consumer holds partitions of the runs / change-log topics (the agent's
 * {@code agent-ingress} check) and camel-kafka's own consumer check (connected to a broker) is UP.
 */
class KafkaReadinessTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ORG = "org_ops_kafka";

    static EmbeddedKafka kafka;
    static FakePort port;
    static RunningAgent agent;
    static int managementPort;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(ORG + ".runs", 2);
        kafka.createTopic(ORG + ".change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        Map<String, String> env = RunningAgent.baseEnv(port.baseUrl());
        env.put("PORT_ORG_ID", ORG);
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", ORG + ".ops-readiness");
        managementPort = RunningAgent.freePort();
        agent = RunningAgent.start(env, Map.of("camel.management.port", String.valueOf(managementPort),
                "camel.management.host", "127.0.0.1"));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (agent != null) agent.close();
        } finally {
            if (port != null) port.close();
        }
    }

    @Test
    void readyOncePartitionsAreAssigned() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        HttpResponse<String> res = null;
        while (System.nanoTime() < deadline) {
            try {
                res = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort
                        + "/observe/health/ready?data=true")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (res.statusCode() == 200) {
                    break;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(300);
        }
        HttpResponse<String> last = res;
        assertTrue(last != null && last.statusCode() == 200, () -> "never ready: " + (last == null ? "no answer" : last.body()));
        JsonNode health = JSON.readTree(last.body());
        JsonNode ingress = OpsEndpointsTest.check(health, "agent-ingress");
        assertEquals("UP", ingress.path("status").asText(), ingress::toString);
        assertEquals("KAFKA", OpsEndpointsTest.data(ingress).path("streamer").asText(), ingress::toString);
        String partitions = OpsEndpointsTest.data(ingress).path("assigned.partitions").asText();
        // one consumer in the group: it holds all three partitions
        assertEquals(ORG + ".change.log-0," + ORG + ".runs-0," + ORG + ".runs-1", partitions, ingress::toString);
        // camel-kafka's built-in consumer readiness check is there and UP
        JsonNode camelKafka = OpsEndpointsTest.check(health, "consumer:ingress-kafka");
        assertEquals("UP", camelKafka.path("status").asText(), camelKafka::toString);
        assertEquals("consumer:kafka-ingress-kafka", OpsEndpointsTest.data(camelKafka).path("check.id").asText(), camelKafka::toString);
    }
}
