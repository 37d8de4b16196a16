package io.portcamel.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.RunningAgent;
import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakeAzureDevOps;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static io.portcamel.agent.testsupport.FakeAzureDevOps.completed;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.inProgress;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.stage;
import static io.portcamel.agent.testsupport.FakeCircleCi.approval;
import static io.portcamel.agent.testsupport.FakeCircleCi.errored;
import static io.portcamel.agent.testsupport.FakeCircleCi.job;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflow;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tracking end to end: a Port message on Kafka, the shipped invocations.json (tracked CircleCI and Azure DevOps
 * mappings), the fake CI scripted through its real state progression, and the run as (fake) Port shows it at the end:
 * log lines once each and in order, label, link, externalRunId, terminal status and summary.
 */
class TrackingEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(40);
    private static final String RUNS = "org_track.runs";

    static EmbeddedKafka kafka;
    static FakePort port;
    static FakeCircleCi circleci;
    static FakeAzureDevOps azure;
    static RunningAgent agent;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.shared();
        kafka.createTopic(RUNS, 1);
        kafka.createTopic("org_track.change.log", 1);
        port = new FakePort("test-client-id", TestSecrets.CLIENT_SECRET);
        circleci = new FakeCircleCi(TestSecrets.CIRCLE_TOKEN);
        azure = new FakeAzureDevOps("acme", "Web Shop", "ado-pat-secret-value").pipeline(7, "deploy-web");
        Map<String, String> env = new HashMap<>(RunningAgent.baseEnv(port.baseUrl()));
        env.put("PORT_ORG_ID", "org_track");
        env.put("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KAFKA_CONSUMER_GROUP_ID", "org_track.e2e");
        env.put("CIRCLE_CI_URL", circleci.rootUrl());
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        env.put("AZURE_DEVOPS_URL", azure.rootUrl());
        env.put("AZURE_DEVOPS_ORG", "acme");
        env.put("AZURE_DEVOPS_PROJECT", "Web Shop");
        env.put("AZURE_DEVOPS_PAT", "ado-pat-secret-value");
        env.put("TRACKING_POLL_INTERVAL_SECONDS", "1");
        env.put("TRACKING_MAX_POLL_INTERVAL_SECONDS", "1");
        env.put("TRACKING_DEFAULT_DEADLINE_SECONDS", "8");
        agent = RunningAgent.start(env);
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) agent.close();
        if (circleci != null) circleci.close();
        if (azure != null) azure.close();
        if (port != null) port.close();
    }

    private static void sendCircleCi(String runId, String slug) throws Exception {
        kafka.send(RUNS, runId, PortMessages.signed(PortMessages.circleCiRun(runId, slug)).toString());
    }

    private static void sendAzure(String runId) throws Exception {
        sendAzure(runId, 7);
    }

    private static void sendAzure(String runId, int pipelineId) throws Exception {
        ObjectNode msg = PortMessages.fixture("event-docs-incoming-run.json");
        msg.put("action", "run_azure_pipeline");
        ((ObjectNode) msg.get("context")).put("runId", runId);
        ((ObjectNode) msg.get("payload")).putObject("properties").put("pipeline_id", pipelineId).put("branch", "release/1.2")
                .put("environment", "prod").put("replicas", 3);
        kafka.send(RUNS, runId, PortMessages.signed(msg).toString());
    }

    /** Every log line once; labels sent only when they change. */
    private static void assertOnlyChanges(String runId) {
        List<String> logs = port.logMessages(runId);
        assertEquals(logs.size(), new HashSet<>(logs).size(), "a log line was sent twice: " + logs);
        String previous = null;
        for (JsonNode patch : port.patches(runId)) {
            String label = patch.path("statusLabel").asText(null);
            if (label != null) {
                assertTrue(!label.equals(previous), "label sent twice in a row: " + label);
                previous = label;
            }
        }
    }

    private static List<String> labels(String runId) {
        return port.patches(runId).stream().map(p -> p.path("statusLabel").asText(null)).filter(Objects::nonNull).toList();
    }

    @Test
    void circleCiPipelineSucceeds() throws Exception {
        circleci.script(FakeCircleCi.NEXT,
                workflows(workflow("build", "running", job("test", "running"), job("lint", "success"))),
                workflows(workflow("build", "running", job("test", "success"), job("lint", "success")),
                        workflow("deploy", "running", job("ship", "running"))),
                workflows(workflow("build", "success", job("test", "success"), job("lint", "success")),
                        workflow("deploy", "success", job("ship", "success"))));
        String runId = "r_track_cci_ok";
        sendCircleCi(runId, "gh/acme/web shop");
        port.awaitStatus(runId, "SUCCESS", WAIT);

        ObjectNode run = port.run(runId);
        assertTrue(run.path("link").asText().startsWith("https://app.circleci.com/pipelines/gh/acme/web shop/"), run.toString());
        assertTrue(run.path("summary").asText().contains("succeeded"), run.toString());
        List<String> logs = port.logMessages(runId);
        assertTrue(logs.indexOf("Sending the request") < logs.indexOf("Workflow \"build\" is running"), logs.toString());
        assertTrue(logs.indexOf("Workflow \"build\" is running") < logs.indexOf("Workflow \"build\" success"), logs.toString());
        assertTrue(logs.contains("Job \"test\" (#1) success") || logs.stream().anyMatch(l -> l.startsWith("Job \"test\"") && l.endsWith("success")),
                logs.toString());
        assertTrue(labels(runId).stream().anyMatch(l -> l.startsWith("build: running")), labels(runId).toString());
        assertOnlyChanges(runId);
        port.assertNoContractViolations();
        circleci.assertNoContractViolations();
    }

    @Test
    void circleCiPipelineFailing_thenFailed() throws Exception {
        circleci.script(FakeCircleCi.NEXT,
                workflows(workflow("build", "running", job("unit", "running"), job("e2e", "running"))),
                workflows(workflow("build", "failing", job("unit", "failed"), job("e2e", "running"))),
                workflows(workflow("build", "failed", job("unit", "failed"), job("e2e", "success"))));
        String runId = "r_track_cci_failed";
        sendCircleCi(runId, "gh/acme/failing");
        port.awaitStatus(runId, "FAILURE", WAIT);
        String summary = port.run(runId).path("summary").asText();
        assertTrue(summary.contains("build") && summary.contains("fail"), summary);
        assertTrue(labels(runId).stream().anyMatch(l -> l.startsWith("build: failing")), labels(runId).toString());
        assertOnlyChanges(runId);
    }

    @Test
    void circleCiErroredPipelineEndsFailureWithCircleCisMessage() throws Exception {
        circleci.script(FakeCircleCi.NEXT, errored("config", "Config does not conform to schema: missing jobs"));
        String runId = "r_track_cci_errored";
        sendCircleCi(runId, "gh/acme/broken-config");
        port.awaitStatus(runId, "FAILURE", WAIT);
        assertTrue(port.run(runId).path("summary").asText().contains("Config does not conform to schema"), port.describe(runId));
    }

    @Test
    void circleCiCanceledWorkflowEndsFailure() throws Exception {
        circleci.script(FakeCircleCi.NEXT,
                workflows(workflow("build", "running", job("test", "running"))),
                workflows(workflow("build", "canceled", job("test", "canceled"))));
        String runId = "r_track_cci_canceled";
        sendCircleCi(runId, "gh/acme/canceled");
        port.awaitStatus(runId, "FAILURE", WAIT);
        assertTrue(port.run(runId).path("summary").asText().contains("canceled"), port.describe(runId));
    }

    @Test
    void circleCiOnHoldPastTheDeadlineTimesOut() throws Exception {
        circleci.script(FakeCircleCi.NEXT,
                workflows(workflow("deploy", "on_hold", job("build", "success"), approval("approve-prod", "on_hold"))));
        String runId = "r_track_cci_on_hold";
        sendCircleCi(runId, "gh/acme/needs-approval");
        port.awaitStatus(runId, "FAILURE", WAIT);
        String summary = port.run(runId).path("summary").asText();
        assertTrue(summary.startsWith("Timed out after 8 s"), summary);
        assertTrue(summary.contains("on_hold"), summary);
        assertTrue(labels(runId).stream().anyMatch(l -> l.contains("on_hold")), labels(runId).toString());
    }

    @Test
    void azureDevOpsRunSucceedsThroughItsStages() throws Exception {
        azure.script(FakeAzureDevOps.NEXT,
                inProgress(stage("Build", "inProgress"), stage("Deploy", "pending")),
                inProgress(stage("Build", "completed", "succeeded"), stage("Deploy", "inProgress")),
                completed("succeeded", stage("Build", "completed", "succeeded"), stage("Deploy", "completed", "succeeded")));
        String runId = "r_track_ado_ok";
        sendAzure(runId);
        port.awaitStatus(runId, "SUCCESS", WAIT);

        FakeAzureDevOps.Trigger trigger = azure.triggers().get(azure.triggers().size() - 1);
        assertEquals("refs/heads/release/1.2", trigger.body().at("/resources/repositories/self/refName").asText());
        assertEquals("prod", trigger.body().at("/templateParameters/environment").asText());
        assertEquals("3", trigger.body().at("/templateParameters/replicas").asText());
        assertEquals(runId, trigger.body().at("/variables/PORT_RUN_ID/value").asText());

        ObjectNode run = port.run(runId);
        assertTrue(run.path("link").asText().contains("_build/results?buildId="), run.toString());
        assertTrue(run.path("externalRunId").asText().startsWith("ado_"), run.toString());
        List<String> logs = port.logMessages(runId);
        assertTrue(logs.contains("Stage \"Build\" succeeded") && logs.contains("Stage \"Deploy\" succeeded"), logs.toString());
        assertTrue(logs.indexOf("Stage \"Build\" succeeded") < logs.indexOf("Stage \"Deploy\" succeeded"), logs.toString());
        assertOnlyChanges(runId);
        azure.assertNoContractViolations();
        port.assertNoContractViolations();
    }

    @Test
    void circleCiUnauthorizedAndNotRunWorkflowsEndFailure() throws Exception {
        circleci.script(FakeCircleCi.NEXT, workflows(workflow("deploy", "unauthorized", job("ship", "unauthorized"))));
        sendCircleCi("r_track_cci_unauth", "gh/acme/restricted");
        // runs are handled concurrently: the next script is for the next pipeline only once this one exists
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (circleci.triggers().stream().noneMatch(t -> t.projectSlug().equals("gh/acme/restricted")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        circleci.script(FakeCircleCi.NEXT, workflows(workflow("nightly", "not_run")));
        sendCircleCi("r_track_cci_not_run", "gh/acme/filtered");
        port.awaitStatus("r_track_cci_unauth", "FAILURE", WAIT);
        port.awaitStatus("r_track_cci_not_run", "FAILURE", WAIT);
        assertTrue(port.run("r_track_cci_unauth").path("summary").asText().contains("unauthorized"), port.describe("r_track_cci_unauth"));
        assertTrue(port.run("r_track_cci_not_run").path("summary").asText().contains("not_run"), port.describe("r_track_cci_not_run"));
    }

    @Test
    void azureDevOpsCanceledRunAndUnknownPipelineEndFailure() throws Exception {
        azure.script(FakeAzureDevOps.NEXT, inProgress(stage("Build", "inProgress")),
                completed("canceled", stage("Build", "completed", "canceled")));
        sendAzure("r_track_ado_canceled");
        port.awaitStatus("r_track_ado_canceled", "FAILURE", WAIT);
        assertTrue(port.run("r_track_ado_canceled").path("summary").asText().contains("canceled"), port.describe("r_track_ado_canceled"));

        // an unknown pipeline: Azure answers 500 PipelineNotFoundException to the trigger, nothing to follow
        sendAzure("r_track_ado_unknown", 999);
        port.awaitStatus("r_track_ado_unknown", "FAILURE", WAIT);
        String summary = port.run("r_track_ado_unknown").path("summary").asText();
        assertTrue(summary.startsWith("Failed to invoke the webhook with status code: 500.") && summary.contains("PipelineNotFoundException"),
                summary);
    }

    @Test
    void azureDevOpsRunFails() throws Exception {
        azure.script(FakeAzureDevOps.NEXT,
                inProgress(stage("Build", "inProgress")),
                completed("failed", stage("Build", "completed", "failed")));
        String runId = "r_track_ado_failed";
        sendAzure(runId);
        port.awaitStatus(runId, "FAILURE", WAIT);
        assertTrue(port.logMessages(runId).contains("Stage \"Build\" failed"), port.describe(runId));
    }
}
