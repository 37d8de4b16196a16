package io.portcamel.agent.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;

import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The container's entrypoint, deploy/docker-entrypoint.sh, run with {@code sh} against the packaged jar in a
 * directory laid out like the image's /app: the custom CA certificates of CA_CERTS_DIR (a PEM, a DER .crt and a
 * two-certificate PEM bundle, made with keytool) are imported into a copy of the JRE truststore, the agent starts
 * with it (exec: the shell's pid becomes java's), a target whose TLS certificate is signed by the test CA is
 * trusted with WEBHOOK_VERIFY_SSL on, the {@code healthcheck} subcommand answers from the management port, and
 * SIGTERM stops the agent.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EntrypointIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCRIPT = AgentProcess.CHECKOUT.resolve("deploy/docker-entrypoint.sh");
    private static final Path KEYTOOL = AgentProcess.JAVA.resolveSibling("keytool");
    private static final String PASS = "changeit";
    private static final Duration WAIT = Duration.ofSeconds(40);

    @TempDir
    static Path tmp;

    static Path app;
    static Path certs;
    static Path tmpDir;
    static Path truststore;
    static FakePort port;
    static WireMockServer tlsTarget;
    static Process agent;
    static Path stdout;
    static Path stderr;
    static int httpPort;
    static int managementPort;
    static HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        // /app as in the image: routes/, application.properties, invocations.json, the jar and lib/ beside it
        app = AgentProcess.workDir(tmp);
        Files.createSymbolicLink(app.resolve("port-camel-agent.jar"), AgentProcess.JAR);
        Files.createSymbolicLink(app.resolve("lib"), AgentProcess.JAR.resolveSibling("lib"));
        certs = Files.createDirectories(tmp.resolve("certs"));
        tmpDir = Files.createDirectories(tmp.resolve("tmpdir"));
        truststore = tmpDir.resolve("port-camel-agent-truststore.p12");
        Path keys = Files.createDirectories(tmp.resolve("keys"));

        // a test CA (PEM), and a server certificate it signs for 127.0.0.1
        Path ca = keys.resolve("ca.p12");
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=port-camel-agent test CA",
                "-ext", "bc:c", "-validity", "2", "-keystore", ca.toString(), "-storepass", PASS, "-storetype", "PKCS12");
        keytool("-exportcert", "-rfc", "-alias", "ca", "-file", certs.resolve("test-ca.pem").toString(),
                "-keystore", ca.toString(), "-storepass", PASS);
        Path server = keys.resolve("server.p12");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=127.0.0.1",
                "-validity", "2", "-keystore", server.toString(), "-storepass", PASS, "-storetype", "PKCS12");
        keytool("-certreq", "-alias", "server", "-file", keys.resolve("server.csr").toString(),
                "-keystore", server.toString(), "-storepass", PASS);
        keytool("-gencert", "-rfc", "-alias", "ca", "-infile", keys.resolve("server.csr").toString(),
                "-outfile", keys.resolve("server.pem").toString(), "-ext", "san=ip:127.0.0.1", "-ext", "eku=serverAuth",
                "-validity", "2", "-keystore", ca.toString(), "-storepass", PASS);
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", certs.resolve("test-ca.pem").toString(),
                "-keystore", server.toString(), "-storepass", PASS);
        keytool("-importcert", "-alias", "server", "-file", keys.resolve("server.pem").toString(),
                "-keystore", server.toString(), "-storepass", PASS);
        // another CA as DER (.crt), and two more in one PEM bundle
        selfSignedCa(keys, "der", "CN=port-camel-agent test CA (DER)");
        keytool("-exportcert", "-alias", "der", "-file", certs.resolve("other-ca.crt").toString(),
                "-keystore", keys.resolve("der.p12").toString(), "-storepass", PASS);
        StringBuilder bundle = new StringBuilder();
        for (String n : List.of("b1", "b2")) {
            selfSignedCa(keys, n, "CN=port-camel-agent bundle CA " + n);
            Path pem = keys.resolve(n + ".pem");
            keytool("-exportcert", "-rfc", "-alias", n, "-file", pem.toString(), "-keystore", keys.resolve(n + ".p12").toString(),
                    "-storepass", PASS);
            bundle.append(Files.readString(pem));
        }
        Files.writeString(certs.resolve("bundle.pem"), bundle);
        Files.writeString(certs.resolve("README.txt"), "not a certificate: ignored");

        tlsTarget = new WireMockServer(options().bindAddress("127.0.0.1").httpDisabled(true).dynamicHttpsPort()
                .keystorePath(server.toString()).keystorePassword(PASS).keyManagerPassword(PASS).keystoreType("PKCS12"));
        tlsTarget.start();
        tlsTarget.stubFor(post(urlPathEqualTo("/hook")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"ok\":true,\"tls\":\"trusted\"}")));

        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        httpPort = AgentProcess.freePort();
        managementPort = AgentProcess.freePort();
        ProcessBuilder pb = new ProcessBuilder("sh", SCRIPT.toString()).directory(tmp.toFile());
        pb.environment().clear();
        pb.environment().putAll(env());
        stdout = tmp.resolve("agent-stdout.log");
        stderr = tmp.resolve("agent-stderr.log");
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.redirectOutput(stdout.toFile());
        pb.redirectError(stderr.toFile());
        agent = pb.start();
    }

    private static Map<String, String> env() {
        Map<String, String> env = AgentProcess.minimalEnv();
        env.put("APP_HOME", app.toString());
        env.put("CA_CERTS_DIR", certs.toString());
        env.put("TMPDIR", tmpDir.toString());
        env.put("PORT_ORG_ID", "org_test");
        env.put("PORT_CLIENT_ID", "test-client-id");
        env.put("PORT_CLIENT_SECRET", TestSecrets.CLIENT_SECRET);
        env.put("PORT_API_BASE_URL", port.baseUrl());
        env.put("STREAMER_NAME", "POLLING");
        env.put("POLLING_INTERVAL_SECONDS", "1");
        env.put("AGENT_HTTP_PORT", String.valueOf(httpPort));
        env.put("AGENT_MANAGEMENT_PORT", String.valueOf(managementPort));
        env.put("CAMEL_SERVER_HOST", "127.0.0.1");
        env.put("CAMEL_MANAGEMENT_HOST", "127.0.0.1");
        env.put("JAVA_OPTS", "-Xmx256m");
        return env;
    }

    @AfterAll
    static void stop() {
        try {
            if (agent != null && agent.isAlive()) {
                agent.destroyForcibly();
            }
        } finally {
            if (tlsTarget != null) tlsTarget.stop();
            if (port != null) port.close();
        }
    }

    // ---------------------------------------------------------------------------------------------- tests

    @Test
    @Order(1)
    void importsEveryCertificateIntoACopyOfTheJreTruststore() throws Exception {
        awaitOutput("custom CA certificate(s) added to the truststore");
        assertTrue(read(stderr).contains("4 custom CA certificate(s) added to the truststore " + truststore), EntrypointIT::output);
        for (String alias : List.of("custom-test-ca", "custom-other-ca", "custom-bundle-1", "custom-bundle-2")) {
            Result list = keytoolResult("-list", "-alias", alias, "-keystore", truststore.toString(), "-storepass", PASS);
            assertEquals(0, list.exit, () -> alias + " is not in " + truststore + ": " + list.out);
            assertTrue(list.out.contains("trustedCertEntry"), list.out);
        }
        // the JRE's own CAs are still there
        Path jreCacerts = Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");
        assertEquals(entries(jreCacerts) + 4, entries(truststore));
    }

    @Test
    @Order(2)
    void javaReplacesTheShellAndUsesTheTruststore() throws Exception {
        awaitHealth("/observe/health/ready");
        assertTrue(agent.isAlive(), EntrypointIT::output);
        // exec: the process started as `sh docker-entrypoint.sh` is now java, so signals reach the JVM
        Path cmdline = Path.of("/proc", String.valueOf(agent.pid()), "cmdline");
        String cmd = new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).replace('\0', ' ');
        assertTrue(cmd.contains("java") && cmd.contains("-jar " + app.resolve("port-camel-agent.jar")), cmd);
        assertTrue(cmd.contains("-Djavax.net.ssl.trustStore=" + truststore), cmd);
        assertTrue(cmd.contains("-Xmx256m"), "JAVA_OPTS: " + cmd);
    }

    @Test
    @Order(3)
    void aTargetSignedByTheCustomCaIsTrusted() throws Exception {
        String runId = "r_it_tls_" + Long.toString(System.nanoTime(), 36);
        ObjectNode msg = (ObjectNode) JSON.readTree(AgentProcess.FIXTURES.resolve("event-test-kafka-run-webhook-signed.json").toFile());
        msg.remove("headers");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ObjectNode im = (ObjectNode) msg.at("/payload/action/invocationMethod");
        im.put("url", "https://127.0.0.1:" + tlsTarget.httpsPort() + "/hook");
        im.put("synchronized", true);
        byte[] body = JSON.writeValueAsBytes(msg);
        String ts = String.valueOf(Instant.now().getEpochSecond());
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/port/runs"))
                .timeout(WAIT).header("Content-Type", "application/json").header("X-Port-Timestamp", ts)
                .header("X-Port-Signature", AgentProcessIT.sign(TestSecrets.CLIENT_SECRET, ts, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, res.statusCode(), () -> res.body() + output());
        // WEBHOOK_VERIFY_SSL is on: the call succeeds only because the test CA is trusted
        port.awaitStatus(runId, "SUCCESS", WAIT);
        assertEquals("trusted", port.run(runId).at("/response/tls").asText(), () -> port.describe(runId));
    }

    @Test
    @Order(4)
    void healthcheckSubcommand() throws Exception {
        assertEquals(0, runScript(Map.of("AGENT_MANAGEMENT_PORT", String.valueOf(managementPort)), "healthcheck").exit,
                EntrypointIT::output);
        assertEquals(0, runScript(Map.of("AGENT_MANAGEMENT_PORT", String.valueOf(managementPort)), "healthcheck",
                "/observe/health/live").exit);
        Result missing = runScript(Map.of("AGENT_MANAGEMENT_PORT", String.valueOf(managementPort)), "healthcheck", "/observe/nothing");
        assertNotEquals(0, missing.exit, missing.out);
        int closed = AgentProcess.freePort();
        assertNotEquals(0, runScript(Map.of("AGENT_MANAGEMENT_PORT", String.valueOf(closed)), "healthcheck").exit);
    }

    @Test
    @Order(5)
    void sigtermStopsTheAgent() throws Exception {
        agent.destroy(); // SIGTERM to the pid the shell had: java's, thanks to exec
        assertTrue(agent.waitFor(40, TimeUnit.SECONDS), () -> "the agent did not stop within 40 s of SIGTERM" + output());
        int code = agent.exitValue();
        assertTrue(code == 0 || code == 143, () -> "exit code after SIGTERM: " + code + output());
        String out = output();
        assertTrue(!out.contains(TestSecrets.CLIENT_SECRET), "the client secret appears in the output");
    }

    // ---------------------------------------------------------------------------------------------- helpers

    record Result(int exit, String out) { }

    private static void selfSignedCa(Path dir, String alias, String dname) throws Exception {
        keytool("-genkeypair", "-alias", alias, "-keyalg", "RSA", "-keysize", "2048", "-dname", dname, "-ext", "bc:c",
                "-validity", "2", "-keystore", dir.resolve(alias + ".p12").toString(), "-storepass", PASS, "-storetype", "PKCS12");
    }

    private static void keytool(String... args) throws Exception {
        Result r = keytoolResult(args);
        assertEquals(0, r.exit, () -> "keytool " + String.join(" ", args) + ":\n" + r.out);
    }

    private static Result keytoolResult(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(KEYTOOL.toString());
        cmd.addAll(List.of(args));
        return run(new ProcessBuilder(cmd));
    }

    private static int entries(Path store) throws Exception {
        Result r = keytoolResult("-list", "-keystore", store.toString(), "-storepass", PASS);
        assertEquals(0, r.exit, r.out);
        return (int) r.out.lines().filter(l -> l.contains("trustedCertEntry")).count();
    }

    private static Result runScript(Map<String, String> extraEnv, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("sh", SCRIPT.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(AgentProcess.minimalEnv());
        pb.environment().putAll(extraEnv);
        return run(pb);
    }

    private static Result run(ProcessBuilder pb) throws Exception {
        pb.redirectErrorStream(true);
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(pb.command() + " did not end within 30 s");
        }
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }

    private static void awaitOutput(String text) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && !read(stderr).contains(text)) {
            if (!agent.isAlive()) {
                throw new AssertionError("the entrypoint exited with " + agent.exitValue() + output());
            }
            Thread.sleep(100);
        }
        assertTrue(read(stderr).contains(text), () -> "no \"" + text + "\" in the output" + output());
    }

    private static void awaitHealth(String path) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!agent.isAlive()) {
                throw new AssertionError("the agent exited with " + agent.exitValue() + output());
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError(path + " never answered 200; last: " + last + output());
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static String output() {
        return "\n--- stdout:\n" + read(stdout) + "\n--- stderr:\n" + read(stderr);
    }
}
