package io.portcamel.agent.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent as a real process ({@code java -jar}, shipped routes/, application.properties and invocations.json),
 * STREAMER_NAME=POLLING against a {@link FakePort}, its webhook ingress on a free port, targets on WireMock.
 * One process for the whole class; the last test stops it with SIGTERM.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentProcessIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path tmp;

    static FakePort port;
    static WireMockServer target;
    static AgentProcess agent;
    static int webhookPort;
    static HttpClient http;

    @BeforeAll
    static void startAgent() throws Exception {
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        target = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        target.start();
        target.stubFor(post(urlPathEqualTo("/hook")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"ok\":true,\"from\":\"hook\"}")));
        target.stubFor(post(urlPathEqualTo("/polled")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"ok\":true,\"from\":\"polled\"}")));
        target.stubFor(post(urlPathMatching("/api/v2/project/.*/pipeline")).willReturn(aResponse().withStatus(201)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"id\":\"5034460f-c7c4-4c43-9457-de07e2029e7b\",\"number\":42,\"state\":\"created\"}")));
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        webhookPort = AgentProcess.freePort();
        Map<String, String> env = agentEnv(webhookPort);
        Path workDir = AgentProcess.workDir(tmp);
        agent = AgentProcess.start(workDir, env);
    }

    private static Map<String, String> agentEnv(int serverPort) {
        Map<String, String> env = AgentProcess.minimalEnv();
        env.put("PORT_ORG_ID", "org_test");
        env.put("PORT_CLIENT_ID", "test-client-id");
        env.put("PORT_CLIENT_SECRET", TestSecrets.CLIENT_SECRET);
        env.put("PORT_API_BASE_URL", port.baseUrl());
        env.put("STREAMER_NAME", "POLLING");
        env.put("POLLING_INTERVAL_SECONDS", "1");
        env.put("DETAILED_LOGGING", "true");
        // Camel ignores CAMEL_* variables ending in _PORT (Kubernetes service variables): AGENT_HTTP_PORT is ours
        env.put("AGENT_HTTP_PORT", String.valueOf(serverPort));
        env.put("CAMEL_SERVER_HOST", "127.0.0.1");
        // the shipped invocations.json's CircleCI mapping: its Circle-Token header is a secret taken from env
        env.put("CIRCLE_CI_URL", target.baseUrl());
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        return env;
    }

    @AfterAll
    static void stopAll() {
        try {
            if (agent != null) {
                agent.close();
            }
        } finally {
            if (target != null) {
                target.stop();
            }
            if (port != null) {
                port.close();
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String runId() {
        return "r_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }

    /** A Port run message (the signed Kafka fixture without its in-message signature headers). */
    private static ObjectNode webhookRun(String runId, String url) throws Exception {
        ObjectNode msg = (ObjectNode) JSON.readTree(
                AgentProcess.FIXTURES.resolve("event-test-kafka-run-webhook-signed.json").toFile());
        msg.remove("headers");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ObjectNode im = (ObjectNode) msg.at("/payload/action/invocationMethod");
        im.put("url", url);
        im.put("synchronized", true);
        return msg;
    }

    static String sign(String secret, String timestamp, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
    }

    private static HttpResponse<String> postWebhook(byte[] body, String timestamp, String signature) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webhookPort + "/port/runs"))
                .timeout(RUN_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (timestamp != null) {
            b.header("X-Port-Timestamp", timestamp);
        }
        if (signature != null) {
            b.header("X-Port-Signature", signature);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> postSigned(byte[] body) throws Exception {
        String ts = String.valueOf(Instant.now().getEpochSecond());
        return postWebhook(body, ts, sign(TestSecrets.CLIENT_SECRET, ts, body));
    }

    private static List<LoggedRequest> targetCallsFor(String runId) {
        return target.findAll(com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor(
                com.github.tomakehurst.wiremock.client.WireMock.anyUrl())).stream()
                .filter(r -> r.getBodyAsString().contains(runId)).toList();
    }

    private static String processOutput() {
        return "\n--- agent stdout:\n" + agent.stdout() + "\n--- agent stderr:\n" + agent.stderr();
    }

    private static void assertNoSecretInOutput() {
        String out = agent.output();
        assertFalse(out.contains(TestSecrets.CLIENT_SECRET), "PORT_CLIENT_SECRET appears in the agent's output");
        assertFalse(out.contains(TestSecrets.CIRCLE_TOKEN), "the target token (CIRCLE_CI_TOKEN) appears in the agent's output");
    }

    // ---------------------------------------------------------------- tests

    @Test
    @Order(1)
    void becomesReady() throws Exception {
        // the jar's own classpath (target/lib) must carry every component the routes use
        agent.awaitListening(webhookPort, Duration.ofSeconds(30));
        assertTrue(agent.process().isAlive(), AgentProcessIT::processOutput);
    }

    @Test
    @Order(2)
    void signedWebhookRunIsDispatchedAndReportedSuccess() throws Exception {
        String runId = runId();
        byte[] body = JSON.writeValueAsBytes(webhookRun(runId, target.baseUrl() + "/hook"));
        HttpResponse<String> res = postSigned(body);
        assertEquals(202, res.statusCode(), () -> res.body() + processOutput());
        assertEquals(runId, JSON.readTree(res.body()).path("runId").asText(), res::body);

        port.awaitStatus(runId, "SUCCESS", RUN_TIMEOUT);
        // updates reach Port through the outbox in order; the last log line comes after the status PATCH
        port.awaitLog(runId, "Port agent finished processing the action run"::equals, RUN_TIMEOUT);
        List<String> logs = port.logMessages(runId);
        assertTrue(logs.contains("An action message has been received"), () -> port.describe(runId));
        assertTrue(logs.stream().anyMatch(l -> l.startsWith("Action invocation has completed successfully with status code: 200")),
                () -> port.describe(runId));
        assertTrue(logs.contains("Port agent finished processing the action run"), () -> port.describe(runId));

        // port-agent's fallback mapping: the whole message, POSTed once to invocationMethod.url
        List<LoggedRequest> calls = targetCallsFor(runId);
        assertEquals(1, calls.size(), () -> "target calls: " + calls);
        assertEquals("/hook", calls.get(0).getUrl());
        JsonNode sent = JSON.readTree(calls.get(0).getBodyAsString());
        assertEquals(runId, sent.at("/context/runId").asText());
        assertEquals("Create", sent.path("action").asText());
        // synchronized: the target's answer is the run's response
        assertEquals("hook", port.run(runId).at("/response/from").asText(), () -> port.describe(runId));
    }

    @Test
    @Order(3)
    void unsignedWebhookCallIsRefused() throws Exception {
        String runId = runId();
        byte[] body = JSON.writeValueAsBytes(webhookRun(runId, target.baseUrl() + "/hook"));
        HttpResponse<String> res = postWebhook(body, null, null);
        assertEquals(401, res.statusCode(), res::body);
        JsonNode reason = JSON.readTree(res.body());
        assertFalse(reason.path("ok").asBoolean(true), res::body);
        assertEquals("unauthorized", reason.path("error").asText(), res::body);
        assertNotDispatched(runId, "missing X-Port-Signature or X-Port-Timestamp header");
        // the reason is in the answer too, not only in the agent's log
        assertTrue(reason.path("message").asText().contains("X-Port-Signature"), res::body);
    }

    @Test
    @Order(4)
    void staleWebhookCallIsRefused() throws Exception {
        String runId = runId();
        byte[] body = JSON.writeValueAsBytes(webhookRun(runId, target.baseUrl() + "/hook"));
        String ts = String.valueOf(Instant.now().minusSeconds(600).getEpochSecond());
        HttpResponse<String> res = postWebhook(body, ts, sign(TestSecrets.CLIENT_SECRET, ts, body));
        assertEquals(401, res.statusCode(), res::body);
        JsonNode reason = JSON.readTree(res.body());
        assertEquals("unauthorized", reason.path("error").asText(), res::body);
        assertNotDispatched(runId, "stale X-Port-Timestamp");
        // the reason is in the answer too, not only in the agent's log
        assertTrue(reason.path("message").asText().contains("stale"), res::body);
    }

    @Test
    @Order(5)
    void wronglySignedWebhookCallIsRefused() throws Exception {
        String runId = runId();
        byte[] body = JSON.writeValueAsBytes(webhookRun(runId, target.baseUrl() + "/hook"));
        String ts = String.valueOf(Instant.now().getEpochSecond());
        HttpResponse<String> res = postWebhook(body, ts, sign("not-the-client-secret", ts, body));
        assertEquals(401, res.statusCode(), res::body);
        assertNotDispatched(runId, "signature does not match the body");
        // the reason is in the answer too, not only in the agent's log
        assertTrue(JSON.readTree(res.body()).path("message").asText().contains("does not match"), res::body);
    }

    /** Neither the target nor Port heard of the run; the agent logged why it refused the call. */
    private static void assertNotDispatched(String runId, String loggedReason) throws InterruptedException {
        Thread.sleep(500); // the webhook dispatches before answering; this only guards against a stray async call
        assertEquals(List.of(), targetCallsFor(runId), "the target must not be called for a refused webhook");
        assertEquals(List.of(), port.logMessages(runId), "Port must not hear of a refused webhook run");
        assertTrue(agent.output().lines().anyMatch(l -> l.contains("refused a webhook call") && l.contains(loggedReason)),
                () -> "the agent should log the refusal (" + loggedReason + ")" + processOutput());
    }

    @Test
    @Order(6)
    void polledRunIsClaimedAckedAndDispatched() throws Exception {
        String runId = runId();
        ObjectNode run = (ObjectNode) JSON.readTree(
                AgentProcess.FIXTURES.resolve("polling-claimed-action-run-sample.json").toFile());
        run.put("_id", runId).put("id", runId);
        ObjectNode payload = (ObjectNode) run.get("payload");
        payload.put("url", target.baseUrl() + "/polled");
        payload.put("synchronized", true);
        ((ObjectNode) payload.at("/body/context")).put("runId", runId);
        port.enqueuePolledRun(run);

        port.awaitStatus(runId, "SUCCESS", RUN_TIMEOUT);
        assertTrue(port.ackedRunIds().contains(runId), () -> "acked: " + port.ackedRunIds());
        assertTrue(port.claimRequests().size() >= 1);
        List<LoggedRequest> calls = targetCallsFor(runId);
        assertEquals(1, calls.size(), () -> "target calls: " + calls);
        assertEquals("/polled", calls.get(0).getUrl());
        JsonNode sent = JSON.readTree(calls.get(0).getBodyAsString());
        assertEquals(runId, sent.at("/context/runId").asText(), sent::toString);
        assertEquals("deploy", sent.at("/payload/action/identifier").asText(), sent::toString);
        // the last log line follows the SUCCESS PATCH
        port.awaitLog(runId, "Port agent finished processing the action run"::equals, RUN_TIMEOUT);
    }

    @Test
    @Order(7)
    void secretsNeverReachTheProcessOutput() throws Exception {
        // a CircleCI run through the shipped first mapping: Circle-Token = env.CIRCLE_CI_TOKEN (a target secret)
        String runId = runId();
        ObjectNode msg = webhookRun(runId, "http://unused.invalid/");
        msg.put("action", "trigger_circle_ci_pipeline");
        ObjectNode entity = ((ObjectNode) msg.get("payload")).putObject("entity");
        entity.put("identifier", "svc").putObject("properties").put("project_slug", "gh/my org/repo");
        ((ObjectNode) msg.get("payload")).putObject("properties").put("branch", "main")
                // a user input that echoes the target token must not be printed either
                .put("note", "token is " + TestSecrets.CIRCLE_TOKEN);
        HttpResponse<String> res = postSigned(JSON.writeValueAsBytes(msg));
        assertEquals(202, res.statusCode(), () -> res.body() + processOutput());
        port.awaitStatus(runId, "SUCCESS", RUN_TIMEOUT);

        List<LoggedRequest> calls = target.findAll(com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor(
                urlPathMatching("/api/v2/project/.*/pipeline")));
        assertEquals(1, calls.size(), () -> "CircleCI calls: " + calls);
        assertEquals("/api/v2/project/gh%2Fmy%20org%2Frepo/pipeline", calls.get(0).getUrl());
        assertEquals(TestSecrets.CIRCLE_TOKEN, calls.get(0).getHeader("Circle-Token"));

        // give the logger a moment to flush, then scan everything the process printed so far
        Thread.sleep(300);
        assertNoSecretInOutput();
    }

    @Test
    @Order(8)
    void httpPortFromTheEnvironment() throws Exception {
        // a second agent, the working directory exactly as shipped: AGENT_HTTP_PORT alone chooses the port
        int envPort = AgentProcess.freePort();
        try (AgentProcess second = AgentProcess.start(AgentProcess.workDir(tmp), agentEnv(envPort))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && second.process().isAlive()
                    && !second.output().contains("HTTP endpoints summary") && !listening(envPort)) {
                Thread.sleep(200);
            }
            Thread.sleep(300); // the endpoints line follows the summary header
            assertTrue(listening(envPort), () -> "AGENT_HTTP_PORT=" + envPort + " was not honoured: the agent is not "
                    + "listening there\n--- stdout:\n" + second.stdout() + "\n--- stderr:\n" + second.stderr());
        }
    }

    private static boolean listening(int p) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", p), 300);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    @Order(9)
    void sigtermStopsTheAgent() throws Exception {
        Process p = agent.process();
        assertTrue(p.isAlive(), AgentProcessIT::processOutput);
        long start = System.nanoTime();
        p.destroy(); // SIGTERM, as docker stop / Kubernetes send it
        boolean ended = p.waitFor(40, TimeUnit.SECONDS);
        assertTrue(ended, () -> "the agent did not stop within 40 s of SIGTERM" + processOutput());
        int code = p.exitValue();
        assertTrue(code == 0 || code == 143, () -> "exit code after SIGTERM: " + code + processOutput());
        System.out.println("agent stopped " + Duration.ofNanos(System.nanoTime() - start).toMillis()
                + " ms after SIGTERM, exit " + code);
        // the whole output, including shutdown, is free of secrets
        assertNoSecretInOutput();
        port.assertNoContractViolations();
    }
}
