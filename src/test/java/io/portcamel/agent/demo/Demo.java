package io.portcamel.agent.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.security.PortSignature;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakeAzureDevOps;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.testsupport.FakePort;
import io.portcamel.agent.testsupport.FakeWorkOrder;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.completed;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.inProgress;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.stage;
import static io.portcamel.agent.testsupport.FakeCircleCi.job;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflow;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflows;

/**
 * The README's first command ({@code mvn -B -q test-compile exec:java}): the agent on its embedded defaults, started
 * in this JVM exactly as the jar starts it (this checkout's routes/, application.properties and shipped
 * invocations.json), beside an in-process Kafka broker and simulated Port, CircleCI, Azure DevOps, work-order PaaS and
 * webhook target. It sends the seed actions over Kafka, signed as Port signs them, follows each run to its terminal
 * status (bounded), prints each run as Port saw it and exits: 0 when every run ended as expected, 1 otherwise.
 * No credentials, nothing to install.
 */
public final class Demo {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ORG = "org_demo";
    private static final String RUNS_TOPIC = ORG + ".runs";
    private static final String CLIENT_ID = "demo-client-id";
    private static final String ADO_ORG = "acme";
    private static final String ADO_PROJECT = "Web Shop";
    private static final String ADO_PAT = "demo-ado-pat";
    private static final String WORKORDER_TOKEN = "demo-workorder-token";
    private static final String CIRCLE_SLUG = "gh/acme org/web app";
    private static final String CIRCLE_FAILING_SLUG = "gh/acme org/payments";
    /** How long the runs may take in all (-Ddemo.budget.seconds=N to try the "a run did not end" exit). */
    private static final Duration RUNS_BUDGET = Duration.ofSeconds(Long.getLong("demo.budget.seconds", 60));
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static long startMillis;
    /** Each run as Port shows it at the end (status, summary, link, externalRunId). */
    private static final Map<String, ObjectNode> PORT_VIEW = new LinkedHashMap<>();

    public static void main(String[] args) {
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8));
        quietLogging();
        startMillis = System.currentTimeMillis();
        int exit;
        try {
            exit = run();
        } catch (Throwable e) {
            System.out.println("\n== The demo itself broke: " + e);
            exit = 2;
        }
        System.out.flush();
        System.exit(exit);
    }

    /** WARN and above only; the embedded broker's own housekeeping warnings are not the agent's and are left out. */
    private static void quietLogging() {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        for (String logger : List.of("kafka", "state.change.logger", "org.apache.kafka", "org.apache.zookeeper",
                "com.github.tomakehurst", "wiremock", "org.eclipse.jetty")) {
            System.setProperty("org.slf4j.simpleLogger.log." + logger, "error");
        }
    }

    private static int run() throws Exception {
        step("starting an in-process Kafka broker (KRaft) ...");
        EmbeddedKafka kafka = EmbeddedKafka.start(1);
        List<RunTimeline> runs = List.of();
        Path eventFile = null;
        FakePort port = null;
        FakeCircleCi circleci = null;
        FakeAzureDevOps azure = null;
        FakeWorkOrder paas = null;
        WireMockServer webhook = null;
        RunningAgent agent = null;
        try {
            kafka.createTopic(RUNS_TOPIC, 1);
            kafka.createTopic(ORG + ".change.log", 1);
            port = new FakePort(CLIENT_ID, TestSecrets.CLIENT_SECRET);
            circleci = new FakeCircleCi(TestSecrets.CIRCLE_TOKEN);
            azure = new FakeAzureDevOps(ADO_ORG, ADO_PROJECT, ADO_PAT).pipeline(7, "deploy-web");
            paas = new FakeWorkOrder(WORKORDER_TOKEN);
            paas.addApp("web");
            webhook = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
            webhook.start();
            webhook.stubFor(post(urlPathEqualTo("/deploy")).willReturn(aResponse().withStatus(200)
                    .withHeader("Content-Type", "application/json").withBody("{\"deployed\":\"v1.2.3\"}")));
            webhook.stubFor(post(urlPathEqualTo("/broken")).willReturn(aResponse().withStatus(503).withBody("maintenance")));
            step("Kafka on " + kafka.bootstrapServers() + "; simulated Port, CircleCI, Azure DevOps, work-order PaaS "
                    + "and a webhook target on 127.0.0.1");

            int httpPort = RunningAgent.freePort();
            Map<String, String> env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
            env.put("PORT_ORG_ID", ORG);
            env.put("PORT_CLIENT_ID", CLIENT_ID);
            env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
            env.put("LOG_LEVEL", "WARNING");
            env.put("DETAILED_LOGGING", "false");
            env.put("AGENT_HTTP_PORT", String.valueOf(httpPort));
            env.put("AGENT_PUBLIC_URL", "http://127.0.0.1:" + httpPort);
            env.put("TRACKING_POLL_INTERVAL_SECONDS", "1");
            env.put("TRACKING_MAX_POLL_INTERVAL_SECONDS", "1");
            env.put("TRACKING_DEFAULT_DEADLINE_SECONDS", "45");
            env.put("CIRCLE_CI_URL", circleci.rootUrl());
            env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
            env.put("AZURE_DEVOPS_URL", azure.rootUrl());
            env.put("AZURE_DEVOPS_ORG", ADO_ORG);
            env.put("AZURE_DEVOPS_PROJECT", ADO_PROJECT);
            env.put("AZURE_DEVOPS_PIPELINE_ID", "7");
            env.put("AZURE_DEVOPS_PAT", ADO_PAT);
            env.put("WORKORDER_URL", paas.host());
            env.put("WORKORDER_CLUSTER_ID", paas.clusterId());
            env.put("WORKORDER_PROJECT_ID", paas.projectId());
            env.put("WORKORDER_TOKEN", WORKORDER_TOKEN);
            agent = RunningAgent.start(env);
            step("agent started: routes/*.yaml, application.properties and the shipped invocations.json of this "
                    + "checkout; tracking polls every 1 s; callbacks on http://127.0.0.1:" + httpPort + "/callbacks/{runId}");

            scriptPipelines(circleci, azure, paas);
            runs = List.of(
                    new RunTimeline("r_demo_circleci", "trigger_circle_ci_pipeline",
                            "CircleCI pipeline of \"" + CIRCLE_SLUG + "\" (seed 001, 2 workflows)", "SUCCESS"),
                    new RunTimeline("r_demo_azure", "run_azure_pipeline",
                            "Azure DevOps pipeline 7 \"deploy-web\" on release/1.2 (Runs API)", "SUCCESS"),
                    new RunTimeline("r_demo_release", "build_and_release",
                            "Work order: build p-tpk2x on master, then release app \"web\"", "SUCCESS"),
                    new RunTimeline("r_demo_webhook", "Create",
                            "Synchronized webhook deploy (port-agent's fallback mapping)", "SUCCESS"),
                    new RunTimeline("r_demo_circleci_failing", "trigger_circle_ci_pipeline",
                            "CircleCI pipeline of \"" + CIRCLE_FAILING_SLUG + "\" whose tests fail", "FAILURE"),
                    new RunTimeline("r_demo_webhook_503", "Create",
                            "Synchronized webhook deploy, target answers 503", "FAILURE"));
            Map<String, ObjectNode> messages = new LinkedHashMap<>();
            messages.put("r_demo_circleci", circleCiRun("r_demo_circleci", CIRCLE_SLUG));
            messages.put("r_demo_azure", azureRun("r_demo_azure"));
            messages.put("r_demo_release", workOrderRun("r_demo_release"));
            messages.put("r_demo_webhook", webhookRun("r_demo_webhook", webhook.baseUrl() + "/deploy"));
            messages.put("r_demo_circleci_failing", circleCiRun("r_demo_circleci_failing", CIRCLE_FAILING_SLUG));
            messages.put("r_demo_webhook_503", webhookRun("r_demo_webhook_503", webhook.baseUrl() + "/broken"));
            eventFile = saveForRender(messages.get("r_demo_circleci"));

            for (RunTimeline r : runs) {
                kafka.send(RUNS_TOPIC, r.runId, signed(messages.get(r.runId)).toString());
                r.sentAtMillis = System.currentTimeMillis();
            }
            step("sent " + runs.size() + " signed run messages to Kafka topic " + RUNS_TOPIC + "; following them"
                    + " (at most " + RUNS_BUDGET.toSeconds() + " s) ...");
            follow(port, agent, runs);

            for (RunTimeline r : runs) {
                PORT_VIEW.put(r.runId, port.run(r.runId));
            }
            describeRequests(runs, circleci, azure, paas, webhook);
            for (int i = 0; i < runs.size(); i++) {
                print(i + 1, runs.size(), runs.get(i));
            }
            printOperations(agent);
        } finally {
            System.out.println();
            step("stopping the agent, Kafka and the simulated services ...");
            shutDown(agent, webhook, paas, azure, circleci, port, kafka);
        }
        int exit = verdict(runs);
        printNextSteps(eventFile);
        return exit;
    }

    // ------------------------------------------------------------------------------------ the simulated pipelines

    private static void scriptPipelines(FakeCircleCi circleci, FakeAzureDevOps azure, FakeWorkOrder paas) {
        // scripts by project: the agent handles runs concurrently, so trigger order is not the order runs were sent in
        // web app: running → success, two workflows
        circleci.scriptProject(CIRCLE_SLUG,
                workflows(workflow("build", "running", job("test", "running"), job("lint", "success"))),
                workflows(workflow("build", "success", job("test", "success"), job("lint", "success")),
                        workflow("deploy", "running", job("ship", "running"))),
                workflows(workflow("build", "success", job("test", "success"), job("lint", "success")),
                        workflow("deploy", "success", job("ship", "success"))));
        // payments: its tests fail
        circleci.scriptProject(CIRCLE_FAILING_SLUG,
                workflows(workflow("build", "running", job("unit", "running"), job("e2e", "running"))),
                workflows(workflow("build", "failing", job("unit", "failed"), job("e2e", "running"))),
                workflows(workflow("build", "failed", job("unit", "failed"), job("e2e", "success"))));
        azure.script(FakeAzureDevOps.NEXT,
                inProgress(stage("Build", "inProgress"), stage("Deploy", "pending")),
                inProgress(stage("Build", "completed", "succeeded"), stage("Deploy", "inProgress")),
                completed("succeeded", stage("Build", "completed", "succeeded"), stage("Deploy", "completed", "succeeded")));
        paas.nextBuild(FakeWorkOrder.BuildScript.SUCCESS);
        paas.nextRelease(FakeWorkOrder.ReleaseScript.SUCCESS);
    }

    /**
     * Watches Port until every run has a terminal status or the budget is spent. Meanwhile plays the work-order PaaS's
     * part: while the build/release runs it calls the build's webhook, {@code POST /callbacks/{runId}} on the agent.
     */
    private static void follow(FakePort port, RunningAgent agent, List<RunTimeline> runs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + RUNS_BUDGET.toMillis();
        long nextCallback = 0;
        while (System.currentTimeMillis() < deadline && !runs.stream().allMatch(RunTimeline::ended)) {
            long now = System.currentTimeMillis();
            for (RunTimeline r : runs) {
                boolean wasEnded = r.ended();
                r.observe(port, now);
                if (!wasEnded && r.ended()) {
                    step(String.format("%-24s %s", r.runId, port.run(r.runId).path("status").asText()));
                }
            }
            if (now >= nextCallback) {
                nextCallback = now + 1000;
                for (RunTimeline r : runs) {
                    if (r.action.equals("build_and_release") && !r.ended()
                            && r.events.stream().anyMatch(e -> e.text().startsWith("Following work-order build"))) {
                        callBack(agent, r);
                    }
                }
            }
            Thread.sleep(100);
        }
        Thread.sleep(800); // port-agent's "finished processing" line may follow a synchronized run's final PATCH
        long now = System.currentTimeMillis();
        runs.forEach(r -> r.observe(port, now));
    }

    private static void callBack(RunningAgent agent, RunTimeline r) {
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + agent.httpPort() + "/callbacks/" + r.runId))
                    .timeout(Duration.ofSeconds(3)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"pipeline_execution\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 202) {
                r.callbacksAccepted++;
            } else {
                r.callbacksRefused++;
            }
        } catch (Exception e) {
            r.callbacksRefused++;
        }
    }

    // ------------------------------------------------------------------------------------ the messages Port sends

    private static ObjectNode fixture(String name) throws Exception {
        try (InputStream in = Demo.class.getResourceAsStream("/fixtures/port/" + name)) {
            return (ObjectNode) JSON.readTree(in);
        }
    }

    /** A DAY-2 run of the seed CircleCI action on a {@code circle_ci_project} entity. */
    private static ObjectNode circleCiRun(String runId, String slug) throws Exception {
        ObjectNode msg = fixture("event-docs-incoming-run.json");
        msg.put("action", "trigger_circle_ci_pipeline");
        ((ObjectNode) msg.get("context")).put("runId", runId).put("blueprint", "circle_ci_project");
        ObjectNode entity = (ObjectNode) msg.at("/payload/entity");
        entity.put("blueprint", "circle_ci_project").put("title", slug.substring(slug.lastIndexOf('/') + 1));
        ((ObjectNode) entity.get("properties")).put("project_slug", slug);
        ((ObjectNode) msg.at("/payload/action/invocationMethod")).put("url", "https://circleci.com");
        ((ObjectNode) msg.get("payload")).putObject("properties").put("branch", "main").put("environment", "staging");
        return msg;
    }

    private static ObjectNode azureRun(String runId) throws Exception {
        ObjectNode msg = fixture("event-docs-incoming-run.json");
        msg.put("action", "run_azure_pipeline");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.get("payload")).putObject("properties").put("branch", "release/1.2")
                .put("environment", "prod").put("replicas", 3);
        return msg;
    }

    private static ObjectNode workOrderRun(String runId) throws Exception {
        ObjectNode msg = fixture("event-docs-incoming-run.json");
        msg.put("action", "build_and_release");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.at("/trigger/by/user")).put("email", "dev@acme.example");
        ((ObjectNode) msg.get("payload")).putObject("properties").put("pipeline", "p-tpk2x").put("branch", "master")
                .put("deploy", "web");
        return msg;
    }

    private static ObjectNode webhookRun(String runId, String url) throws Exception {
        ObjectNode msg = fixture("event-test-kafka-run-webhook-signed.json");
        msg.remove("headers");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.at("/payload/action/invocationMethod")).put("url", url).put("synchronized", true);
        return msg;
    }

    /** Port's in-message signature: HMAC-SHA256 over {@code timestamp.json} with the client secret. */
    private static ObjectNode signed(ObjectNode message) {
        return new PortSignature(TestSecrets.CLIENT_SECRET).signMessage(message, System.currentTimeMillis() / 1000);
    }

    /** The seed CircleCI message as a file, for trying the render command on it afterwards. */
    private static Path saveForRender(ObjectNode message) {
        try {
            Path file = Path.of("target", "demo", "circleci-run.json");
            Files.createDirectories(file.getParent());
            Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(message));
            return file;
        } catch (Exception e) {
            return null;
        }
    }

    // ------------------------------------------------------------------------------------ output

    private static void step(String text) {
        System.out.printf("[%5.1f s] %s%n", (System.currentTimeMillis() - startMillis) / 1000.0, text);
    }

    /** The request each target received, for the header of each run. */
    private static void describeRequests(List<RunTimeline> runs, FakeCircleCi circleci, FakeAzureDevOps azure,
                                         FakeWorkOrder paas, WireMockServer webhook) {
        for (RunTimeline r : runs) {
            List<String> lines = new ArrayList<>();
            switch (r.runId) {
                case "r_demo_circleci", "r_demo_circleci_failing" -> {
                    String slug = r.runId.equals("r_demo_circleci") ? CIRCLE_SLUG : CIRCLE_FAILING_SLUG;
                    circleci.triggers().stream().filter(t -> t.projectSlug().equals(slug)).forEach(t ->
                            lines.add("POST " + t.rawUrl() + "  " + t.body()));
                }
                case "r_demo_azure" -> azure.triggers().forEach(t -> lines.add("POST " + t.rawUrl() + "  " + t.body()));
                case "r_demo_release" -> {
                    paas.runs().forEach(t -> lines.add("POST " + t.rawUrl() + "  " + t.body()));
                    paas.upgrades().forEach(t -> lines.add("POST " + t.rawUrl() + "  " + t.body()));
                }
                default -> {
                    String target = r.runId.equals("r_demo_webhook") ? "/deploy" : "/broken";
                    List<LoggedRequest> got = webhook.findAll(postRequestedFor(urlPathEqualTo(target)));
                    got.forEach(q -> lines.add("POST " + webhook.baseUrl() + q.getUrl() + "  (the whole signed message, "
                            + q.getBody().length + " bytes, X-Port-Signature " + (q.containsHeader("X-Port-Signature")
                            ? "present" : "absent") + ")"));
                }
            }
            r.request = String.join("\n", lines);
        }
    }

    private static void print(int n, int of, RunTimeline r) {
        System.out.println();
        System.out.println("== " + n + "/" + of + "  " + r.title);
        ObjectNode run = PORT_VIEW.get(r.runId);
        String status = run.path("status").asText("IN_PROGRESS");
        field("run", r.runId + " (action " + r.action + ")");
        field("status", status + (r.ended() ? String.format(", %.1f s after the message was sent", r.endedAfterMillis / 1000.0)
                : ", did not end in time") + (status.equals(r.expected) ? "" : "   <-- expected " + r.expected));
        field("summary", run.path("summary").asText(""));
        field("link", run.path("link").asText(""));
        field("externalRunId", run.path("externalRunId").asText(""));
        field("labels", String.join("\n", r.labels));
        for (FakePort.EntityUpsert u : r.entities) {
            field("entity", u.blueprint() + " \"" + u.body().path("identifier").asText() + "\" " + u.body().path("properties"));
        }
        field("sent", r.request);
        if (r.callbacksAccepted + r.callbacksRefused > 0) {
            field("callbacks", "the PaaS called POST /callbacks/" + r.runId + " "
                    + times(r.callbacksAccepted + r.callbacksRefused) + " while it ran (" + r.callbacksAccepted
                    + " answered 202: poll now)");
        }
        System.out.println("   timeline, as Port received it (seconds after the message was sent):");
        for (RunTimeline.Event e : r.events) {
            String[] lines = e.text().split("\n");
            System.out.printf("   %6.1f  %-7s%s%n", e.millis() / 1000.0, e.kind(), lines[0]);
            for (int i = 1; i < lines.length; i++) {
                System.out.printf("   %6s  %-7s%s%n", "", "", lines[i]);
            }
        }
    }

    private static String times(int n) {
        return n == 1 ? "once" : n + " times";
    }

    private static void field(String name, String value) {
        if (value == null || value.isEmpty()) {
            return;
        }
        String[] lines = value.split("\n");
        System.out.printf("   %-14s %s%n", name, lines[0]);
        for (int i = 1; i < lines.length; i++) {
            System.out.printf("   %-14s %s%n", "", lines[i]);
        }
    }

    private static int verdict(List<RunTimeline> runs) {
        List<String> wrong = new ArrayList<>();
        for (RunTimeline r : runs) {
            String status = PORT_VIEW.get(r.runId).path("status").asText("IN_PROGRESS");
            if (!r.ended()) {
                wrong.add(r.runId + " did not end (still " + status + ")");
            } else if (!status.equals(r.expected)) {
                wrong.add(r.runId + " ended " + status + ", expected " + r.expected);
            }
        }
        long success = runs.stream().filter(r -> PORT_VIEW.get(r.runId).path("status").asText().equals("SUCCESS")).count();
        long failure = runs.stream().filter(r -> PORT_VIEW.get(r.runId).path("status").asText().equals("FAILURE")).count();
        if (wrong.isEmpty()) {
            step("all " + runs.size() + " runs ended as expected: " + success + " SUCCESS, " + failure + " FAILURE");
            return 0;
        }
        step("NOT as expected:");
        wrong.forEach(w -> System.out.println("           " + w));
        return 1;
    }

    /** What an operator sees while the agent runs: its health and the run counters on the management port. */
    private static void printOperations(RunningAgent agent) {
        String base = "http://127.0.0.1:" + agent.managementPort();
        System.out.println();
        System.out.println("== Operations (management port " + agent.managementPort() + ")");
        try {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            String health = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/observe/health")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            System.out.println("   GET /observe/health   " + health.replaceAll("\\s+", " "));
            String metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/observe/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            System.out.println("   GET /observe/metrics  (the agent's own series)");
            metrics.lines().filter(l -> l.startsWith("port_agent_") && !l.startsWith("#"))
                    .filter(l -> l.contains("_total") || l.startsWith("port_agent_runs_tracking"))
                    .limit(20).forEach(l -> System.out.println("      " + l));
        } catch (Exception e) {
            System.out.println("   (management endpoints not reachable: " + e.getMessage() + ")");
        }
    }

    private static void printNextSteps(Path eventFile) {
        String event = eventFile == null ? "my-run.json" : eventFile.toString();
        System.out.println("""

                == Next: run it against your Port organisation
                   Same environment variables as port-agent (or a .env file in the working directory):
                     export PORT_ORG_ID=org_... PORT_CLIENT_ID=... PORT_CLIENT_SECRET=...
                     # Port's Kafka credentials are fetched with these; the shipped mappings also read
                     # CIRCLE_CI_TOKEN, AZURE_DEVOPS_ORG/PROJECT/PIPELINE_ID/PAT, WORKORDER_URL/CLUSTER_ID/PROJECT_ID/TOKEN,
                     # and AGENT_PUBLIC_URL (where the work-order PaaS calls the agent back)
                   Build and run the agent:
                     mvn -B -q package -DskipTests && java -jar target/port-camel-agent.jar
                   Preview the request a mapping sends for an event (nothing is sent; this demo saved its CircleCI run):
                     java -jar target/port-camel-agent.jar render --mapping invocations.json --event %s
                   Read next in README.md: "Configuration", "The shipped invocations.json",
                     "`track`: follow the pipeline", "What tracking shows in Port", "Routes".
                   All tests: mvn -B verify""".formatted(event));
    }

    /** Stops everything, bounded: the demo must end by itself even if a component hangs on close. */
    private static void shutDown(AutoCloseable agent, WireMockServer webhook, AutoCloseable... others) {
        Thread t = new Thread(() -> {
            closeQuietly(agent);
            if (webhook != null) {
                try {
                    webhook.stop();
                } catch (RuntimeException ignored) {
                    // stopping anyway
                }
            }
            for (AutoCloseable c : others) {
                closeQuietly(c);
            }
        }, "demo-shutdown");
        t.setDaemon(true);
        t.start();
        try {
            t.join(15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // the demo is ending; nothing useful to say
        }
    }
}
