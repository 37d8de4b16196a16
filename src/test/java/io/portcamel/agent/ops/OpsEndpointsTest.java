package io.portcamel.agent.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.function.Predicate;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The management port of a running agent (in this JVM, as AgentMain builds it): /observe/health with the agent's
 * readiness and liveness checks and their details, readiness following Port's availability, /observe/metrics with
 * the run counters after a signed webhook run went through. POLLING mode against a {@link FakePort}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpsEndpointsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(30);

    static FakePort port;
    static WireMockServer target;
    static RunningAgent agent;
    static int managementPort;
    static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        // Port is unreachable when the agent starts: no token, no claim
        port.setDown(true);
        target = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        target.start();
        target.stubFor(post(urlPathEqualTo("/hook")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"ok\":true}")));
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        Map<String, String> env = RunningAgent.baseEnv(port.baseUrl());
        env.put("STREAMER_NAME", "POLLING");
        env.put("POLLING_INTERVAL_SECONDS", "1");
        env.put("POLLING_INITIAL_BACKOFF_SECONDS", "0.5");
        env.put("POLLING_MAX_BACKOFF_SECONDS", "1");
        managementPort = RunningAgent.freePort();
        agent = RunningAgent.start(env, Map.of(
                "camel.management.port", String.valueOf(managementPort),
                "camel.management.host", "127.0.0.1",
                // probe often, so the test sees Port come and go within seconds
                "agent.health.port-auth-cache-seconds", "1",
                "agent.health.store-cache-seconds", "1"));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (agent != null) agent.close();
        } finally {
            if (target != null) target.stop();
            if (port != null) port.close();
        }
    }

    // ---------------------------------------------------------------------------------------------- tests

    @Test
    @Order(1)
    void notReadyWhilePortIsUnreachable() throws Exception {
        HttpResponse<String> ready = awaitResponse("/observe/health/ready?data=true",
                r -> r.body().contains("cannot get a Port access token"));
        assertEquals(503, ready.statusCode(), ready::body);
        JsonNode auth = check(JSON.readTree(ready.body()), "agent-port-auth");
        assertTrue(auth.path("message").asText().contains("cannot get a Port access token"), auth::toString);
        assertTrue(auth.path("message").asText().contains("access_token"), auth::toString);
        JsonNode ingress = check(JSON.readTree(ready.body()), "agent-ingress");
        assertEquals("DOWN", ingress.path("status").asText(), ingress::toString);
        assertEquals("POLLING", data(ingress).path("streamer").asText(), ingress::toString);
        assertFalse(ready.body().contains(TestSecrets.CLIENT_SECRET), "the health answer must not carry the client secret");

        // Port being down is no reason to restart the container
        HttpResponse<String> live = get("/observe/health/live");
        assertEquals(200, live.statusCode(), live::body);
        assertEquals("UP", checkStatus(live, "agent-liveness"));
    }

    @Test
    @Order(2)
    void readyWithDetailsOncePortAnswers() throws Exception {
        port.setDown(false);
        HttpResponse<String> ready = awaitResponse("/observe/health/ready", r -> r.statusCode() == 200);
        JsonNode body = JSON.readTree(ready.body());
        assertEquals("UP", body.path("status").asText(), ready::body);

        HttpResponse<String> all = get("/observe/health?data=true");
        assertEquals(200, all.statusCode(), all::body);
        JsonNode health = JSON.readTree(all.body());
        JsonNode ingress = check(health, "agent-ingress");
        assertEquals("UP", ingress.path("status").asText(), ingress::toString);
        assertEquals("claiming runs from Port", ingress.path("message").asText(), ingress::toString);
        assertTrue(data(ingress).has("last.claim"), ingress::toString);
        JsonNode store = check(health, "agent-tracking-store");
        assertEquals("UP", store.path("status").asText(), store::toString);
        assertEquals("h2", data(store).path("dialect").asText().toLowerCase(), store::toString);
        assertEquals("UP", checkStatus(all, "agent-port-auth"));
        JsonNode liveness = check(health, "agent-liveness");
        assertEquals("UP", liveness.path("status").asText(), liveness::toString);
        assertEquals("Started", data(liveness).path("context.status").asText(), liveness::toString);
        // the tracking timer ticks every second
        assertTrue(data(liveness).path("tracking.last.tick").asText().endsWith("s ago"), liveness::toString);

        // readiness and liveness are split: the ingress check is not a liveness check
        JsonNode live = JSON.readTree(get("/observe/health/live").body());
        assertTrue(findCheck(live, "agent-ingress") == null, live::toString);
        assertTrue(findCheck(live, "agent-liveness") != null, live::toString);
        assertTrue(findCheck(body, "agent-liveness") == null, body::toString);
    }

    @Test
    @Order(3)
    void metricsCountAWebhookRun() throws Exception {
        String runId = "r_ops_" + Long.toString(System.nanoTime(), 36);
        byte[] msg = JSON.writeValueAsBytes(webhookRun(runId, target.baseUrl() + "/hook"));
        HttpResponse<String> res = postSigned(msg);
        assertEquals(202, res.statusCode(), res::body);
        port.awaitStatus(runId, "SUCCESS", WAIT);

        HttpResponse<String> metrics = get("/observe/metrics");
        assertEquals(200, metrics.statusCode(), metrics::body);
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                () -> metrics.headers().toString());
        String text = metrics.body();
        // the shipped invocations.json: the fallback mapping (#4) sends the message to invocationMethod.url
        assertMetric(text, "port_agent_runs_received_total{ingress=\"webhook\"}", 1);
        assertMetric(text, "port_agent_runs_triggered_total{mapping=\"4\",target=\"webhook\"}", 1);
        assertMetric(text, "port_agent_runs_succeeded_total{mapping=\"4\",target=\"webhook\"}", 1);
        assertMetric(text, "port_agent_runs_dead_letter_total", 0);
        assertMetric(text, "port_agent_runs_tracking", 0); // the webhook mapping is not tracked
        assertMetric(text, "port_agent_port_retries_total{reason=\"token-refresh\"}", 0);
        // Port was down at start: the port-api route re-sent the calls that met the outage (routes/port-api.camel.yaml)
        assertTrue(text.lines().anyMatch(l -> l.startsWith("port_agent_port_retries_total{reason=\"redelivery\"}") && !l.endsWith(" 0.0")),
                text);
        // Camel's own route metrics and JVM binders share the scrape
        assertTrue(text.contains("camel_exchanges_total") || text.contains("camel_exchanges_succeeded_total"), text);
        assertTrue(text.contains("jvm_memory_used_bytes"), text);
    }

    @Test
    @Order(4)
    void readinessDropsWhenClaimsStopButLivenessStays() throws Exception {
        port.setDown(true);
        try {
            HttpResponse<String> ready = awaitResponse("/observe/health/ready", r -> r.statusCode() == 503);
            JsonNode ingress = check(JSON.readTree(ready.body()), "agent-ingress");
            assertEquals("DOWN", ingress.path("status").asText(), ingress::toString);
            assertTrue(ingress.path("message").asText().startsWith("no successful claim from Port for"), ingress::toString);
            assertEquals(200, get("/observe/health/live").statusCode());
            // claims that failed for good, after the route's own retries, are Port errors
            awaitResponse("/observe/metrics", r -> r.body().contains("port_agent_port_errors_total{status=\"io\"}"));
        } finally {
            port.setDown(false);
        }
        awaitResponse("/observe/health/ready", r -> r.statusCode() == 200);
    }

    // ---------------------------------------------------------------------------------------------- helpers

    static void assertMetric(String text, String series, double expected) {
        String line = text.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no series " + series + " in\n" + text));
        assertEquals(expected, Double.parseDouble(line.substring(series.length() + 1).trim()), 0.0001, line);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> awaitResponse(String path, Predicate<HttpResponse<String>> until) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = get(path);
                if (until.test(last)) {
                    return last;
                }
            } catch (java.io.IOException notYet) {
                // the management server may not listen yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("GET " + path + " never matched within " + WAIT + "; last answer: "
                + (last == null ? "none" : last.statusCode() + " " + last.body()));
    }

    static JsonNode findCheck(JsonNode health, String name) {
        for (JsonNode c : health.path("checks")) {
            if (name.equals(c.path("name").asText())) {
                return c;
            }
        }
        return null;
    }

    static JsonNode check(JsonNode health, String name) {
        JsonNode c = findCheck(health, name);
        if (c == null) {
            throw new AssertionError("no check " + name + " in " + health);
        }
        return c;
    }

    static JsonNode data(JsonNode check) {
        return check.path("data");
    }

    private static String checkStatus(HttpResponse<String> res, String name) {
        try {
            JsonNode c = findCheck(JSON.readTree(res.body()), name);
            return c == null ? "" : c.path("status").asText();
        } catch (Exception e) {
            return "";
        }
    }

    private static ObjectNode webhookRun(String runId, String url) throws Exception {
        ObjectNode msg = (ObjectNode) JSON.readTree(Path.of("src/test/resources/fixtures/port/event-test-kafka-run-webhook-signed.json").toFile());
        msg.remove("headers");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ObjectNode im = (ObjectNode) msg.at("/payload/action/invocationMethod");
        im.put("url", url);
        im.put("synchronized", true);
        return msg;
    }

    private static HttpResponse<String> postSigned(byte[] body) throws Exception {
        String ts = String.valueOf(Instant.now().getEpochSecond());
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(TestSecrets.CLIENT_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((ts + ".").getBytes(StandardCharsets.UTF_8));
        String sig = "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + "/port/runs"))
                .timeout(WAIT).header("Content-Type", "application/json").header("X-Port-Timestamp", ts)
                .header("X-Port-Signature", sig).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
