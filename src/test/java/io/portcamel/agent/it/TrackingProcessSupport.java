package io.portcamel.agent.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.testsupport.FakeCircleCi.Snapshot;
import io.portcamel.agent.testsupport.FakePort;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static io.portcamel.agent.testsupport.FakeCircleCi.job;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflow;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Shared pieces of the process-level tracking tests ({@link TrackingRestartIT}, {@link TrackingReplicasIT}): the agent's
 * environment, a tracked CircleCI run injected through the signed webhook ingress ({@code POST /port/runs}), the
 * scripted pipeline progression and the assertions on what Port shows at the end.
 *
 * <p>Every pipeline follows the same script, so every run must end with the same tracking log lines (pipeline number 1
 * and job numbers #1/#2, because each run has its own project slug):
 * {@code runningPolls} snapshots "build running, compile running, test blocked", then
 * {@value #MIDDLE_POLLS} snapshots "compile success, test running", then "build success".
 */
final class TrackingProcessSupport {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String ORG = "org_test";
    static final String CLIENT_ID = "test-client-id";
    static final int MIDDLE_POLLS = 2;

    private TrackingProcessSupport() {
    }

    // ---------------------------------------------------------------- a CircleCI fake that can hold polls

    /**
     * {@link FakeCircleCi} whose {@code GET /pipeline/{id}} can be made to hang for a while (then answer 503, a
     * retryable error for the tracker, so the pipeline's progression does not move). A replica whose poll hangs keeps
     * its lease on that run: this is how a test catches a replica holding leases at the moment it is killed. The
     * request is still recorded (with its arrival time) before it hangs; the delay is WireMock's, outside the fake's
     * lock, so other requests are served meanwhile.
     */
    static final class HoldableCircleCi extends FakeCircleCi {
        private volatile int holdMillis;

        HoldableCircleCi(String token) {
            super(token);
        }

        /** From now on, pipeline GETs hang this long and then fail with 503; 0 ends it (for new requests). */
        void holdPipelineGets(int millis) {
            holdMillis = millis;
        }

        @Override
        protected ResponseDefinition beforeRoute(Call call) {
            ResponseDefinition auth = super.beforeRoute(call);
            if (auth != null) {
                return auth;
            }
            int hold = holdMillis;
            if (hold > 0 && "GET".equalsIgnoreCase(call.method()) && call.rawPath().matches(BASE_PATH + "/pipeline/[^/]+")) {
                return ResponseDefinitionBuilder.like(error(503, "unavailable", "held by the test"))
                        .withFixedDelay(hold).build();
            }
            return null;
        }
    }

    // ---------------------------------------------------------------- agent process

    /** The environment of one agent process: POLLING (no Kafka), webhook ingress on {@code httpPort}, 1 s tracking polls. */
    static Map<String, String> agentEnv(FakePort port, FakeCircleCi circleci, int httpPort, String hostname) {
        Map<String, String> env = AgentProcess.minimalEnv();
        env.put("PORT_ORG_ID", ORG);
        env.put("PORT_CLIENT_ID", CLIENT_ID);
        env.put("PORT_CLIENT_SECRET", TestSecrets.CLIENT_SECRET);
        env.put("PORT_API_BASE_URL", port.baseUrl());
        env.put("STREAMER_NAME", "POLLING");
        env.put("POLLING_INTERVAL_SECONDS", "5"); // the claim queue stays empty; runs come through the webhook
        env.put("AGENT_HTTP_PORT", String.valueOf(httpPort));
        try {
            env.put("AGENT_MANAGEMENT_PORT", String.valueOf(AgentProcess.freePort())); // two agents on one machine
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        env.put("CAMEL_SERVER_HOST", "127.0.0.1");
        env.put("CIRCLE_CI_URL", circleci.rootUrl());
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        env.put("TRACKING_POLL_INTERVAL_SECONDS", "1");
        env.put("TRACKING_MAX_POLL_INTERVAL_SECONDS", "1");
        env.put("HOSTNAME", hostname); // the first part of the replica id (lease_owner)
        // 2-core CI machines: a lean JVM starts faster; the command line stays the image's `java -jar`
        env.put("JAVA_TOOL_OPTIONS", "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
        return env;
    }

    static AgentProcess startAgent(java.nio.file.Path workDir, Map<String, String> env) throws Exception {
        AgentProcess agent = AgentProcess.start(workDir, env);
        agent.awaitListening(Integer.parseInt(env.get("AGENT_HTTP_PORT")), Duration.ofSeconds(60));
        return agent;
    }

    /** SIGKILL (Process.destroyForcibly is SIGKILL on Linux), waited for. */
    static void kill9(AgentProcess agent) throws InterruptedException {
        Process p = agent.process();
        p.destroyForcibly();
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            fail("the agent (pid " + p.pid() + ") did not die within 10 s of SIGKILL");
        }
        assertEquals(137, p.exitValue(), "exit code after SIGKILL");
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

    static String tail(String text, int lines) {
        String[] all = text.split("\n");
        int from = Math.max(0, all.length - lines);
        return String.join("\n", java.util.Arrays.copyOfRange(all, from, all.length));
    }

    static String outputOf(String name, AgentProcess agent) {
        return agent == null ? "" : "\n--- " + name + " output (tail):\n" + tail(agent.output(), 80);
    }

    // ---------------------------------------------------------------- runs

    static String newRunId() {
        return "r_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }

    /** Project slug of a run: one per run, so its pipeline is number 1 and its jobs #1 and #2. */
    static String slug(String runId) {
        return "gh/acme/svc-" + runId.substring(runId.length() - 8);
    }

    /** The docs' incoming run, made a CircleCI trigger of the shipped mapping #0 (which has track circleci). */
    static byte[] circleCiRun(String runId) throws Exception {
        ObjectNode msg = (ObjectNode) JSON.readTree(AgentProcess.FIXTURES.resolve("event-docs-incoming-run.json").toFile());
        msg.put("action", "trigger_circle_ci_pipeline");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ObjectNode payload = (ObjectNode) msg.get("payload");
        ((ObjectNode) payload.at("/entity/properties")).put("project_slug", slug(runId));
        payload.putObject("properties").put("branch", "main");
        return JSON.writeValueAsBytes(msg);
    }

    /** Scripts the next pipeline triggered: {@code runningPolls} polls of "still running", then it goes to success. */
    static void scriptNext(FakeCircleCi circleci, int runningPolls) {
        List<Snapshot> s = new ArrayList<>();
        for (int i = 0; i < runningPolls; i++) {
            s.add(workflows(workflow("build", "running", job("compile", "running"), job("test", "blocked"))));
        }
        for (int i = 0; i < MIDDLE_POLLS; i++) {
            s.add(workflows(workflow("build", "running", job("compile", "success"), job("test", "running"))));
        }
        s.add(workflows(workflow("build", "success", job("compile", "success"), job("test", "success"))));
        circleci.script(FakeCircleCi.NEXT, s);
    }

    /** The tracking log lines every run must get, each exactly once, in this order. */
    static List<String> expectedTrackingLines(String runId) {
        String slug = slug(runId);
        return List.of(
                "Following CircleCI pipeline 1 of " + slug,
                "Workflow \"build\" is running",
                "Job \"compile\" (#1) running",
                "Job \"compile\" (#1) success",
                "Job \"test\" (#2) running",
                "Workflow \"build\" success",
                "Job \"test\" (#2) success",
                "Pipeline succeeded: CircleCI pipeline 1 succeeded (workflows: build)");
    }

    static final String FIRST_POLL_LINE = "Job \"compile\" (#1) running";

    static String signature(String timestamp, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(TestSecrets.CLIENT_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
    }

    /** Sends one run through an agent's signed webhook ingress; it answers 202 once the pipeline is triggered. */
    static void inject(HttpClient http, int agentPort, String runId, Supplier<String> diagnostics) throws Exception {
        byte[] body = circleCiRun(runId);
        String ts = String.valueOf(Instant.now().getEpochSecond());
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agentPort + "/port/runs"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("X-Port-Timestamp", ts)
                .header("X-Port-Signature", signature(ts, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals(202, res.statusCode(), () -> "webhook ingress answered " + res.body() + diagnostics.get());
    }

    // ---------------------------------------------------------------- assertions

    /** SUCCESS with the pipeline's link, the dispatcher's and the tracker's log lines each exactly once. */
    static void assertRunEndedOnce(FakePort port, String runId) {
        ObjectNode run = port.run(runId);
        assertEquals("SUCCESS", run.path("status").asText(), () -> "run " + runId + port.describe(runId));
        assertEquals("https://app.circleci.com/pipelines/" + slug(runId) + "/1", run.path("link").asText(),
                () -> "link of " + runId + port.describe(runId));
        assertEquals("CircleCI pipeline 1 succeeded (workflows: build)", run.path("summary").asText(),
                () -> "summary of " + runId + port.describe(runId));
        List<String> logs = port.logMessages(runId);
        Map<String, Long> counts = logs.stream().collect(Collectors.groupingBy(l -> l, LinkedHashMap::new, Collectors.counting()));
        Map<String, Long> dups = new LinkedHashMap<>();
        counts.forEach((line, n) -> {
            if (n > 1) {
                dups.put(line, n);
            }
        });
        assertTrue(dups.isEmpty(), () -> "run " + runId + ": log lines sent more than once " + dups + "\n  all: " + logs);
        List<String> tracking = logs.stream().filter(l -> l.startsWith("Following ") || l.startsWith("Workflow ")
                || l.startsWith("Job ") || l.startsWith("Pipeline ")).toList();
        assertEquals(expectedTrackingLines(runId), tracking, () -> "run " + runId + ": tracking log lines\n  all: " + logs);
        for (String dispatcherLine : List.of("An action message has been received", "Preparing the payload for the request",
                "Sending the request", "Port agent finished processing the action run")) {
            assertTrue(logs.contains(dispatcherLine), () -> "run " + runId + " lacks '" + dispatcherLine + "': " + logs);
        }
        // the terminal status was sent once: one PATCH carries a status
        long statusPatches = port.patches(runId).stream().filter(p -> p.has("status")).count();
        assertEquals(1, statusPatches, () -> "run " + runId + ": PATCHes with a status " + port.patches(runId));
    }

    /** Exactly one trigger per run (each slug once). */
    static void assertTriggeredOnce(FakeCircleCi circleci, List<String> runIds) {
        List<FakeCircleCi.Trigger> triggers = circleci.triggers();
        assertEquals(runIds.size(), triggers.size(), () -> "pipelines triggered: " + triggers.stream()
                .map(FakeCircleCi.Trigger::projectSlug).toList());
        for (String runId : runIds) {
            long n = triggers.stream().filter(t -> slug(runId).equals(t.projectSlug())).count();
            assertEquals(1, n, () -> "run " + runId + " triggered " + n + " times");
        }
    }

    /** The pipeline id CircleCI created for a run. */
    static String pipelineId(FakeCircleCi circleci, String runId) {
        return circleci.triggers().stream().filter(t -> slug(runId).equals(t.projectSlug())).findFirst()
                .orElseThrow(() -> new AssertionError("run " + runId + " never triggered a pipeline")).pipelineId();
    }

    /** Arrival times (epoch ms) of every {@code GET /api/v2/pipeline/{id}} (not its sub-resources), oldest first. */
    static List<Long> pipelineGets(FakeCircleCi circleci, String pipelineId) {
        String path = FakeCircleCi.BASE_PATH + "/pipeline/" + pipelineId;
        return circleci.requests(r -> "GET".equalsIgnoreCase(r.getMethod().getName())
                        && r.getUrl().split("\\?", 2)[0].equals(path)).stream()
                .map(LoggedRequest::getLoggedDate).map(java.util.Date::getTime).sorted().toList();
    }

    /** Per pipeline: pairs of consecutive polls closer than {@code minGapMs} (two pollers at once). */
    static Map<String, List<Long>> closePolls(FakeCircleCi circleci, Map<String, String> pipelineByRun, long minGapMs) {
        Map<String, List<Long>> close = new HashMap<>();
        pipelineByRun.forEach((runId, pid) -> {
            List<Long> t = pipelineGets(circleci, pid);
            for (int i = 1; i < t.size(); i++) {
                if (t.get(i) - t.get(i - 1) < minGapMs) {
                    close.computeIfAbsent(runId, k -> new ArrayList<>()).add(t.get(i) - t.get(i - 1));
                }
            }
        });
        return close;
    }
}
