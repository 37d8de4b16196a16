package io.portcamel.agent.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.security.PortSignature;
import io.portcamel.agent.security.PythonJson;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.testsupport.FakePort;

import java.io.InputStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

/**
 * The README's first command: the agent on its embedded defaults beside an in-process Kafka broker and simulated
 * Port, CircleCI and webhook services. It sends the seed actions, prints each run as Port shows it, and exits.
 * No credentials, nothing to install.
 */
public final class Demo {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.out.println("== port-camel-agent demo: starting Kafka, simulated Port, CircleCI and a webhook target ...");
        EmbeddedKafka kafka = EmbeddedKafka.start(1);
        FakePort port = new FakePort("demo-client-id", TestSecrets.CLIENT_SECRET);
        FakeCircleCi circleci = new FakeCircleCi(TestSecrets.CIRCLE_TOKEN);
        WireMockServer webhook = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
        webhook.start();
        webhook.stubFor(post(urlPathEqualTo("/deploy")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"deployed\":\"v1.2.3\"}")));
        webhook.stubFor(post(urlPathEqualTo("/broken")).willReturn(aResponse().withStatus(503).withBody("maintenance")));
        kafka.createTopic("org_demo.runs", 1);
        kafka.createTopic("org_demo.change.log", 1);

        Map<String, String> env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", "org_demo");
        env.put("PORT_CLIENT_ID", "demo-client-id");
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("DETAILED_LOGGING", "false");
        env.put("CIRCLE_CI_URL", circleci.rootUrl());
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        try (RunningAgent agent = RunningAgent.start(env)) {
            System.out.println("== agent started (routes/, invocations.json, application.properties of this checkout)");
            Map<String, String> runs = new java.util.LinkedHashMap<>();
            runs.put("r_demo_circleci", "CircleCI pipeline (seed mapping, project 'gh/acme org/web app')");
            runs.put("r_demo_webhook", "Synchronized webhook deploy (port-agent's fallback mapping)");
            runs.put("r_demo_failing", "A deploy whose target answers 503");
            runs.put("r_demo_unreachable", "A deploy whose target is down");

            send(kafka, circleCiRun("r_demo_circleci"));
            send(kafka, webhookRun("r_demo_webhook", webhook.baseUrl() + "/deploy"));
            send(kafka, webhookRun("r_demo_failing", webhook.baseUrl() + "/broken"));
            send(kafka, webhookRun("r_demo_unreachable", "http://127.0.0.1:9/deploy"));

            for (String runId : runs.keySet()) {
                try {
                    port.awaitLog(runId, m -> m.startsWith("Port agent finished") || m.startsWith("Action invocation failed")
                            || m.startsWith("The agent could not"), Duration.ofSeconds(30));
                    Thread.sleep(300);
                } catch (AssertionError e) {
                    System.out.println("(run " + runId + " did not finish in time)");
                }
            }
            for (Map.Entry<String, String> e : runs.entrySet()) {
                printRun(port, e.getKey(), e.getValue());
            }
            System.out.println("\n== CircleCI received: " + circleci.triggers().stream()
                    .map(t -> "POST " + t.rawUrl() + " " + t.body()).toList());
        } finally {
            webhook.stop();
            circleci.close();
            port.close();
            kafka.close();
        }
        System.out.println("""

                == Next: run it against your Port organisation
                   export PORT_ORG_ID=... PORT_CLIENT_ID=... PORT_CLIENT_SECRET=...   (same variables as port-agent)
                   mvn -B -q package -DskipTests && java -jar target/port-camel-agent.jar
                   Preview a mapping:  java -jar target/port-camel-agent.jar render --mapping invocations.json --event my-run.json
                   Configuration: README.md, section "Configuration".""");
        System.exit(0);
    }

    private static void printRun(FakePort port, String runId, String title) {
        ObjectNode run = port.run(runId);
        System.out.println("\n-- " + runId + ": " + title);
        System.out.println("   status: " + run.path("status").asText("IN_PROGRESS")
                + (run.hasNonNull("summary") ? "   summary: " + run.get("summary").asText() : "")
                + (run.hasNonNull("link") ? "   link: " + run.get("link") : ""));
        List<String> logs = port.logMessages(runId);
        logs.forEach(l -> System.out.println("   log: " + l));
    }

    private static void send(EmbeddedKafka kafka, ObjectNode message) throws Exception {
        long ts = System.currentTimeMillis() / 1000;
        message.putObject("headers");
        String sig = new PortSignature(TestSecrets.CLIENT_SECRET).sign(ts + "." + PythonJson.dumps(message, false));
        ((ObjectNode) message.get("headers")).put("X-Port-Signature", sig).put("X-Port-Timestamp", ts);
        kafka.send("org_demo.runs", message.at("/context/runId").asText(), message.toString());
    }

    private static ObjectNode fixture(String name) throws Exception {
        try (InputStream in = Demo.class.getResourceAsStream("/fixtures/port/" + name)) {
            return (ObjectNode) JSON.readTree(in);
        }
    }

    private static ObjectNode circleCiRun(String runId) throws Exception {
        ObjectNode msg = fixture("event-docs-incoming-run.json");
        msg.put("action", "trigger_circle_ci_pipeline");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.at("/payload/entity/properties")).put("project_slug", "gh/acme org/web app");
        ((ObjectNode) msg.get("payload")).putObject("properties").put("branch", "main").put("environment", "staging");
        return msg;
    }

    private static ObjectNode webhookRun(String runId, String url) throws Exception {
        ObjectNode msg = fixture("event-test-kafka-run-webhook-signed.json");
        msg.remove("headers");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        JsonNode im = msg.at("/payload/action/invocationMethod");
        ((ObjectNode) im).put("url", url).put("synchronized", true);
        return msg;
    }
}
