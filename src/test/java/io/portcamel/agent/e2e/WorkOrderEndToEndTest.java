package io.portcamel.agent.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;
import io.portcamel.agent.testsupport.FakeWorkOrder;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The work-order pipeline end to end (seed 004): Port message on Kafka → build run with the agent's callback URL →
 * build polled to Built=True → release with the build's versionTag → app conditions → deploy logs → SUCCESS and the
 * deployment entity upserted under the run. Polls are 30 s apart here, so every step is driven by the pipeline's
 * callback (POST /callbacks/{runId}), which must make the next poll happen at once.
 */
class WorkOrderEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(40);
    private static final String RUNS = "org_wo.runs";

    static EmbeddedKafka kafka;
    static FakePort port;
    static FakeWorkOrder paas;
    static RunningAgent agent;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 1);
        kafka.createTopic("org_wo.change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        paas = new FakeWorkOrder("workorder-token-123456");
        paas.addApp("web");
        Map<String, String> env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", "org_wo");
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", "org_wo.e2e");
        env.put("WORKORDER_URL", paas.host());
        env.put("WORKORDER_CLUSTER_ID", paas.clusterId());
        env.put("WORKORDER_PROJECT_ID", paas.projectId());
        env.put("WORKORDER_TOKEN", "workorder-token-123456");
        env.put("TRACKING_POLL_INTERVAL_SECONDS", "30");
        env.put("TRACKING_MAX_POLL_INTERVAL_SECONDS", "30");
        int httpPort = RunningAgent.freePort();
        env.put("AGENT_HTTP_PORT", String.valueOf(httpPort));
        env.put("AGENT_PUBLIC_URL", "http://127.0.0.1:" + httpPort);
        agent = RunningAgent.start(env);
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) agent.close();
        if (paas != null) paas.close();
        if (port != null) port.close();
    }

    private static void send(String runId, String deploy) throws Exception {
        ObjectNode msg = PortMessages.fixture("event-docs-incoming-run.json");
        msg.put("action", "build_and_release");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.at("/trigger/by/user")).put("email", "dev@acme.example");
        ((ObjectNode) msg.get("payload")).putObject("properties").put("pipeline", "p-tpk2x").put("branch", "master")
                .put("deploy", deploy);
        kafka.send(RUNS, runId, PortMessages.signed(msg).toString());
    }

    /** The PaaS calling back until the run ends (bounded): each call must wake the run's next poll. */
    private static void callBackUntilEnded(String runId) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String status = port.run(runId).path("status").asText("IN_PROGRESS");
            if (status.equals("SUCCESS") || status.equals("FAILURE")) {
                return;
            }
            HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + "/callbacks/" + runId))
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            Thread.sleep(400);
        }
        throw new AssertionError("run " + runId + " did not end: " + port.describe(runId));
    }

    @Test
    void buildThenReleaseSucceedsAndUpsertsTheDeploymentEntity() throws Exception {
        paas.nextBuild(FakeWorkOrder.BuildScript.SUCCESS);
        paas.nextRelease(FakeWorkOrder.ReleaseScript.SUCCESS);
        String runId = "r_wo_ok";
        send(runId, "web");
        port.awaitLog(runId, m -> m.startsWith("Following work-order build"), WAIT);
        callBackUntilEnded(runId);

        ObjectNode run = port.run(runId);
        assertEquals("SUCCESS", run.path("status").asText(), port.describe(runId));
        FakeWorkOrder.Recorded build = paas.runs().get(paas.runs().size() - 1);
        assertEquals("http://127.0.0.1:" + agent.httpPort() + "/callbacks/" + runId, build.body().path("webhook").asText(),
                "the build's callback is the agent's callback endpoint for this run");
        FakeWorkOrder.Recorded release = paas.upgrades().get(paas.upgrades().size() - 1);
        String versionTag = release.body().path("versionTag").asText();
        assertTrue(!versionTag.isEmpty(), release.toString());
        List<String> logs = port.logMessages(runId);
        assertTrue(logs.stream().anyMatch(l -> l.startsWith("Built ") && l.contains(versionTag)), logs.toString());
        assertTrue(logs.stream().anyMatch(l -> l.startsWith("Deploy logs:")), logs.toString());
        assertTrue(logs.stream().anyMatch(l -> l.startsWith("Stage \"Build\"")), logs.toString());

        List<FakePort.EntityUpsert> upserts = port.entityUpserts().stream().filter(u -> runId.equals(u.runId())).toList();
        assertEquals(1, upserts.size(), port.entityUpserts().toString());
        FakePort.EntityUpsert e = upserts.get(0);
        assertEquals("deployment", e.blueprint());
        assertEquals("web-" + versionTag, e.body().path("identifier").asText());
        assertEquals(versionTag, e.body().at("/properties/imageTag").asText());
        assertEquals("dev@acme.example", e.body().at("/properties/deployingUser").asText());
        assertTrue(!e.body().at("/properties/jobUrl").asText().isEmpty(), e.body().toString());
        port.assertNoContractViolations();
        paas.assertNoContractViolations();
    }

    @Test
    void failedBuildEndsFailureWithTheConditionMessage() throws Exception {
        paas.nextBuild(FakeWorkOrder.BuildScript.FAILED);
        String runId = "r_wo_build_failed";
        send(runId, "web");
        port.awaitLog(runId, m -> m.startsWith("Following work-order build"), WAIT);
        callBackUntilEnded(runId);
        assertEquals("FAILURE", port.run(runId).path("status").asText());
        assertTrue(port.run(runId).path("summary").asText().contains("Buildinfo got FAILED status"), port.describe(runId));
        assertTrue(port.entityUpserts().stream().noneMatch(u -> runId.equals(u.runId())));
    }

    @Test
    void aConditionFalseBeforeTheBuildRunsAndAnAbortedBuildEndFailure() throws Exception {
        paas.nextBuild(FakeWorkOrder.BuildScript.PROVISION_FAILED);
        send("r_wo_provision_failed", "web");
        port.awaitLog("r_wo_provision_failed", m -> m.startsWith("Following work-order build"), WAIT);
        callBackUntilEnded("r_wo_provision_failed");
        assertEquals("FAILURE", port.run("r_wo_provision_failed").path("status").asText());
        assertTrue(port.run("r_wo_provision_failed").path("summary").asText().contains("no available executor"),
                port.describe("r_wo_provision_failed"));

        paas.nextBuild(FakeWorkOrder.BuildScript.ABORTED);
        send("r_wo_aborted", "web");
        port.awaitLog("r_wo_aborted", m -> m.startsWith("Following work-order build"), WAIT);
        callBackUntilEnded("r_wo_aborted");
        assertEquals("FAILURE", port.run("r_wo_aborted").path("status").asText());
        assertTrue(port.run("r_wo_aborted").path("summary").asText().contains("Aborted"), port.describe("r_wo_aborted"));
    }

    @Test
    void helmFailureOfTheReleaseEndsFailure() throws Exception {
        paas.nextBuild(FakeWorkOrder.BuildScript.SUCCESS);
        paas.nextRelease(FakeWorkOrder.ReleaseScript.HELM_FAILED);
        String runId = "r_wo_helm_failed";
        send(runId, "web");
        port.awaitLog(runId, m -> m.startsWith("Following work-order build"), WAIT);
        callBackUntilEnded(runId);
        assertEquals("FAILURE", port.run(runId).path("status").asText());
        assertTrue(port.run(runId).path("summary").asText().contains("failed to install app"), port.describe(runId));
    }

    @Test
    void callbackForAnUnknownRunIs404() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort()
                + "/callbacks/r_nobody")).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, r.statusCode(), r.body());
    }
}
