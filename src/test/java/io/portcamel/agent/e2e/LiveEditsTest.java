package io.portcamel.agent.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.security.PortSignature;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Live edits while the agent runs: a changed invocations.json or route file is picked up; an invalid edit is refused
 * with a log line and the previous version keeps serving. Runs enter through the signed webhook ingress.
 */
class LiveEditsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    @TempDir
    static Path dir;
    static FakePort port;
    static WireMockServer target;
    static RunningAgent agent;
    static Path mappingFile;
    static Path routes;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        target = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
        target.start();
        target.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200)));
        routes = Files.createDirectories(dir.resolve("routes"));
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path f : files.toList()) {
                Files.copy(f, routes.resolve(f.getFileName()));
            }
        }
        mappingFile = dir.resolve("invocations.json");
        writeMapping("/v1");
        Map<String, String> env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("STREAMER_NAME", "POLLING");
        env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", mappingFile.toString());
        env.put("AGENT_ROUTES_DIR", routes.toString());
        agent = RunningAgent.start(env, Map.of("camel.main.routes-include-pattern", "file:" + routes + "/*.yaml"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) agent.close();
        if (port != null) port.close();
        if (target != null) target.stop();
    }

    static void writeMapping(String path) throws Exception {
        Files.writeString(mappingFile, "[{\"enabled\": true, \"url\": \"\\\"" + target.baseUrl() + path + "\\\"\"}]");
    }

    static HttpResponse<String> sendRun(String runId) throws Exception {
        ObjectNode msg = KafkaToCircleCiTest.webhookRun(runId, "http://unused.invalid", false);
        byte[] body = msg.toString().getBytes(StandardCharsets.UTF_8);
        String ts = String.valueOf(System.currentTimeMillis() / 1000);
        String sig = new PortSignature(TestSecrets.CLIENT_SECRET).signOutgoing(ts, body);
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + "/port/runs"))
                .header("X-Port-Timestamp", ts).header("X-Port-Signature", sig)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends runs until one satisfies the check (bounded): edits take effect within a few seconds. */
    static void eventually(String what, Predicate<Integer> attempt) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int i = 0;
        while (System.nanoTime() < deadline) {
            if (attempt.test(i++)) return;
            Thread.sleep(500);
        }
        throw new AssertionError("not within " + WAIT + ": " + what);
    }

    @Test
    void mappingEditsApplyAndAnInvalidEditKeepsThePreviousVersion() throws Exception {
        assertEquals(202, sendRun("r_live_1").statusCode());
        target.verify(postRequestedFor(urlPathEqualTo("/v1")));

        writeMapping("/v2");
        eventually("the edited mapping sends to /v2", i -> {
            try {
                sendRun("r_live_v2_" + i);
                return !target.findAll(postRequestedFor(urlPathEqualTo("/v2"))).isEmpty();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });

        Files.writeString(mappingFile, "[{\"enabled\": true, \"url\": \".payload | (\"}]"); // jq syntax error
        Thread.sleep(5000); // two reload ticks
        int before = target.findAll(postRequestedFor(urlPathEqualTo("/v2"))).size();
        assertEquals(202, sendRun("r_live_after_bad").statusCode());
        port.awaitLog("r_live_after_bad", m -> m.startsWith("Action invocation has completed successfully"), WAIT);
        assertEquals(before + 1, target.findAll(postRequestedFor(urlPathEqualTo("/v2"))).size(),
                "the previous mapping (/v2) keeps serving after an invalid edit");
    }

    @Test
    void routeEditsApplyAndAnInvalidRouteFileKeepsThePreviousRoutes() throws Exception {
        Path webhook = routes.resolve("ingress-webhook.camel.yaml");
        String original = Files.readString(webhook);
        String edited = original.replace("'{\"ok\":true,\"runId\":\"${variable.run?.runId}\"}'",
                "'{\"ok\":true,\"edited\":true,\"runId\":\"${variable.run?.runId}\"}'");
        assertTrue(!edited.equals(original), "the route file has the answer to edit");
        Files.writeString(webhook, edited);
        eventually("the edited route answers", i -> {
            try {
                return sendRun("r_route_" + i).body().contains("\"edited\":true");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });

        Files.writeString(webhook, edited.replace("ref: webhookIngress", "ref: noSuchBean").replace("uri: direct:dispatch", "uri: direct:dispatch\n   broken: [yaml"));
        Thread.sleep(5000); // the watcher looks every 2 s
        HttpResponse<String> r = sendRun("r_route_after_bad");
        assertEquals(202, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"edited\":true"), "the last good version keeps serving: " + r.body());
        Files.writeString(webhook, original);
    }
}
