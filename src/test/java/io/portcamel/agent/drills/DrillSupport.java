package io.portcamel.agent.drills;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.extension.requestfilter.RequestFilterAction;
import com.github.tomakehurst.wiremock.extension.requestfilter.StubRequestFilterV2;
import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;

import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.security.PortSignature;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Shared pieces of the drills: the agent as a separate JVM ({@code java -jar target/port-camel-agent.jar}, like the
 * image's ENTRYPOINT) in a temp working directory laid out like {@code /app}, its environment (Kafka ingress against an
 * {@link EmbeddedKafka}, Port = {@link FakePort}, everything on 127.0.0.1), signed run messages, a target that counts
 * the triggers per runId, and the report helpers.
 */
final class DrillSupport {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path CHECKOUT = Path.of("").toAbsolutePath();
    static final Path JAR = CHECKOUT.resolve("target/port-camel-agent.jar");
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    static final String ORG = "org_test";
    static final String CLIENT_ID = "test-client-id";
    static final String RUNS = ORG + ".runs";
    static final String CHANGE_LOG = ORG + ".change.log";
    static final Pattern RUN_ID = Pattern.compile("\"runId\"\\s*:\\s*\"([^\"]{1,200})\"");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private DrillSupport() {
    }

    // ---------------------------------------------------------------- working directory and environment

    /** A fresh working directory like the image's /app: routes/, application.properties and the given mapping file. */
    static Path workDir(Path parent, String invocationsJson) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run the drills through `mvn verify` (package first)");
        }
        Path dir = Files.createTempDirectory(parent, "app");
        try (Stream<Path> s = Files.walk(CHECKOUT.resolve("routes"))) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                Path to = dir.resolve("routes").resolve(CHECKOUT.resolve("routes").relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Files.copy(CHECKOUT.resolve("application.properties"), dir.resolve("application.properties"));
        Files.writeString(dir.resolve("invocations.json"), invocationsJson);
        return dir;
    }

    static String seedMappings() throws IOException {
        return Files.readString(CHECKOUT.resolve("src/test/resources/agent-mappings/seed-circleci-then-port-agent-defaults.json"));
    }

    /**
     * KAFKA ingress on the embedded broker, Port = the fake, H2 file store under the working dir (the default
     * {@code ./data}), both HTTP servers on 127.0.0.1 and free ports, a short Kafka session so a killed member leaves
     * the group in seconds, and a lean JVM (as the process-level ITs do).
     */
    static Map<String, String> agentEnv(FakePort port, EmbeddedKafka kafka, String group, String hostname) throws IOException {
        Map<String, String> env = new HashMap<>();
        String path = System.getenv("PATH");
        env.put("PATH", JAVA.getParent() + (path == null ? "" : ":" + path));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("PORT_ORG_ID", ORG);
        env.put("PORT_CLIENT_ID", CLIENT_ID);
        env.put("PORT_CLIENT_SECRET", TestSecrets.CLIENT_SECRET);
        env.put("PORT_API_BASE_URL", port.baseUrl());
        env.put("STREAMER_NAME", "KAFKA");
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", group);
        env.put("KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "6000"); // the broker's minimum: a SIGKILLed member is gone in 6 s
        env.put("AGENT_HTTP_PORT", String.valueOf(freePort()));
        env.put("AGENT_MANAGEMENT_PORT", String.valueOf(freePort()));
        env.put("CAMEL_SERVER_HOST", "127.0.0.1");
        env.put("CAMEL_MANAGEMENT_HOST", "127.0.0.1");
        env.put("WEBHOOK_INGRESS_ENABLED", "false");
        env.put("AGENT_LIVE_EDITS", "false");
        env.put("HOSTNAME", hostname);
        env.put("JAVA_TOOL_OPTIONS", "-Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
        return env;
    }

    /** Fresh HTTP and management ports (a second process on the same machine). */
    static Map<String, String> withNewPorts(Map<String, String> env, String hostname) throws IOException {
        Map<String, String> copy = new HashMap<>(env);
        copy.put("AGENT_HTTP_PORT", String.valueOf(freePort()));
        copy.put("AGENT_MANAGEMENT_PORT", String.valueOf(freePort()));
        copy.put("HOSTNAME", hostname);
        return copy;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    // ---------------------------------------------------------------- the agent process

    /** {@code java -jar target/port-camel-agent.jar} in {@code workDir}, output to files there (never a full pipe). */
    static final class Agent implements AutoCloseable {
        final String name;
        final Process process;
        final Path stdout;
        final Path stderr;
        final int managementPort;
        final long startedAtMillis = System.currentTimeMillis();

        private Agent(String name, Process process, Path stdout, Path stderr, int managementPort) {
            this.name = name;
            this.process = process;
            this.stdout = stdout;
            this.stderr = stderr;
            this.managementPort = managementPort;
        }

        static Agent start(String name, Path workDir, Map<String, String> env) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(JAVA.toString(), "-jar", JAR.toString()).directory(workDir.toFile());
            pb.environment().clear();
            pb.environment().putAll(env);
            Path out = workDir.resolve("stdout-" + name + ".log");
            Path err = workDir.resolve("stderr-" + name + ".log");
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.redirectOutput(out.toFile());
            pb.redirectError(err.toFile());
            return new Agent(name, pb.start(), out, err, Integer.parseInt(env.get("AGENT_MANAGEMENT_PORT")));
        }

        /** Waits for {@code /observe/health/ready} = 200 (the consumer holds the runs partition, store and Port up). */
        void awaitReady(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new AssertionError("agent " + name + " exited with " + process.exitValue() + " before it was ready"
                            + tail(60));
                }
                if (ready()) {
                    return;
                }
                Thread.sleep(200);
            }
            throw new AssertionError("agent " + name + " not ready within " + timeout + tail(60));
        }

        boolean ready() {
            return get("/observe/health/ready").statusCode() == 200;
        }

        /** A Prometheus sample's value (summed over its label sets), or -1 when absent. */
        double metric(String name) {
            HttpResponse<String> res = get("/observe/metrics");
            if (res.statusCode() != 200) {
                return -1;
            }
            double sum = -1;
            for (String line : res.body().split("\n")) {
                if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                    String[] parts = line.trim().split("\\s+");
                    sum = Math.max(sum, 0) + Double.parseDouble(parts[parts.length - 1]);
                }
            }
            return sum;
        }

        private HttpResponse<String> get(String path) {
            try {
                return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
                        .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                return new FailedResponse(path);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new FailedResponse(path);
            }
        }

        /** SIGKILL (destroyForcibly is SIGKILL on Linux), waited for. */
        int kill9() throws InterruptedException {
            process.destroyForcibly();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError("agent " + name + " (pid " + process.pid() + ") did not die within 10 s of SIGKILL");
            }
            return process.exitValue();
        }

        String output() {
            return read(stdout) + read(stderr);
        }

        String tail(int lines) {
            String[] all = output().split("\n");
            return "\n--- agent " + name + " output (last " + lines + " lines):\n"
                    + String.join("\n", java.util.Arrays.copyOfRange(all, Math.max(0, all.length - lines), all.length));
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private static String read(Path file) {
            try {
                return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A connection error as a status 0 answer (the agent is not up yet, or dead). */
    private record FailedResponse(String path) implements HttpResponse<String> {
        public int statusCode() { return 0; }
        public HttpRequest request() { return null; }
        public java.util.Optional<HttpResponse<String>> previousResponse() { return java.util.Optional.empty(); }
        public java.net.http.HttpHeaders headers() { return java.net.http.HttpHeaders.of(Map.of(), (a, b) -> true); }
        public String body() { return ""; }
        public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return java.util.Optional.empty(); }
        public URI uri() { return URI.create("http://127.0.0.1" + path); }
        public HttpClient.Version version() { return HttpClient.Version.HTTP_1_1; }
    }

    // ---------------------------------------------------------------- Kafka

    /** The runs and change-log topics, 1 partition, accepting records up to 4 MiB (so oversize runs reach the agent). */
    static void createTopics(EmbeddedKafka kafka) throws Exception {
        Map<String, String> cfg = Map.of("max.message.bytes", String.valueOf(4 * 1024 * 1024));
        kafka.admin().createTopics(List.of(new NewTopic(RUNS, 1, (short) 1).configs(cfg),
                new NewTopic(CHANGE_LOG, 1, (short) 1).configs(cfg))).all().get(30, TimeUnit.SECONDS);
    }

    static KafkaProducer<String, byte[]> producer(EmbeddedKafka kafka) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 * 1024 * 1024);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1); // records in exactly the order the drill sends
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    static long endOffset(EmbeddedKafka kafka, String topic) throws Exception {
        var tp = new org.apache.kafka.common.TopicPartition(topic, 0);
        return kafka.admin().listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()))
                .partitionResult(tp).get(30, TimeUnit.SECONDS).offset();
    }

    // ---------------------------------------------------------------- messages

    static ObjectNode fixture(String name) {
        try (InputStream in = DrillSupport.class.getResourceAsStream("/fixtures/port/" + name)) {
            return (ObjectNode) JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A plain WEBHOOK agent run (port-agent's fallback mapping sends the whole message to {@code url}). */
    static ObjectNode webhookRun(String runId, String url, boolean sync) {
        ObjectNode msg = fixture("event-test-kafka-run-webhook-signed.json");
        msg.remove("headers");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.at("/payload/action/invocationMethod")).put("url", url).put("synchronized", sync);
        return msg;
    }

    /** Port's in-message signature (headers.X-Port-Signature / X-Port-Timestamp) with the test secret. */
    static ObjectNode signed(ObjectNode message) {
        return new PortSignature(TestSecrets.CLIENT_SECRET).signMessage(message, System.currentTimeMillis() / 1000);
    }

    static byte[] bytes(JsonNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- the target

    /**
     * A WireMock request filter that counts every request per runId (read from the body, where port-agent's default
     * body puts the whole message) at the moment it arrives, before the response (and its delay) — so a hook can act
     * while the agent waits for the answer.
     */
    static final class TriggerCounter implements StubRequestFilterV2 {
        final Map<String, AtomicInteger> byRunId = new ConcurrentHashMap<>();
        final AtomicInteger total = new AtomicInteger();
        final Map<String, String> authorization = new ConcurrentHashMap<>();
        private volatile Consumer<String> onRequest = r -> { };

        void onRequest(Consumer<String> hook) {
            this.onRequest = hook;
        }

        @Override
        public RequestFilterAction filter(Request request, ServeEvent serveEvent) {
            String body = request.getBodyAsString();
            Matcher m = RUN_ID.matcher(body == null ? "" : body);
            String runId = m.find() ? m.group(1) : "(none)";
            byRunId.computeIfAbsent(runId, k -> new AtomicInteger()).incrementAndGet();
            String auth = request.getHeader("Authorization");
            if (auth != null) {
                authorization.put(runId, auth);
            }
            total.incrementAndGet();
            onRequest.accept(runId);
            return RequestFilterAction.continueWith(request);
        }

        int count(String runId) {
            AtomicInteger n = byRunId.get(runId);
            return n == null ? 0 : n.get();
        }

        @Override
        public String getName() {
            return "drill-trigger-counter";
        }
    }

    // ---------------------------------------------------------------- Port

    static boolean terminal(FakePort port, String runId) {
        String s = port.run(runId).path("status").asText();
        return "SUCCESS".equals(s) || "FAILURE".equals(s);
    }

    /** PATCHes that carried a terminal status (an ended run refuses more, so more than 1 cannot be accepted). */
    static long statusPatches(FakePort port, String runId) {
        return port.patches(runId).stream().filter(p -> p.has("status")).count();
    }

    static List<String> where(List<String> runIds, java.util.function.Predicate<String> p) {
        List<String> out = new ArrayList<>();
        for (String r : runIds) {
            if (p.test(r)) {
                out.add(r);
            }
        }
        return out;
    }

    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort in finally
            }
        }
    }

    /** Prints the report and keeps a copy under target/drills/ (failsafe sends stdout to its report files). */
    static void publish(String drill, String report) {
        if (!drill.endsWith("-output")) {
            System.out.println(report);
        }
        try {
            Path dir = CHECKOUT.resolve("target/drills");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(drill + ".txt"), report);
        } catch (IOException e) {
            System.err.println("could not write the drill report: " + e);
        }
    }
}
