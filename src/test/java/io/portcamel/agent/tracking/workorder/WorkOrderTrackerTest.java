package io.portcamel.agent.tracking.workorder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.testsupport.FakeWorkOrder;
import io.portcamel.agent.testsupport.FakeWorkOrder.BuildScript;
import io.portcamel.agent.testsupport.FakeWorkOrder.ReleaseScript;
import io.portcamel.agent.tracking.JdkTargetHttp;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Drives {@link WorkOrderTracker} through every scripted progression of {@link FakeWorkOrder} over real HTTP. */
class WorkOrderTrackerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "token-abcde:s3cr3t";
    private static final Map<String, String> AUTH = Map.of("Authorization", "Bearer " + TOKEN);
    private static final String IMAGE = "harbor.example/p-5tfq9/p-tpk2x";
    private static final String TAG = "master-10-3f2a9c1";

    /** A clock the test moves by hand (the settle window of the rollout). */
    static final class MutableClock extends Clock {
        Instant now = Instant.now();

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private FakeWorkOrder paas;
    private final TargetHttp http = new JdkTargetHttp();
    private final MutableClock clock = new MutableClock();
    private final WorkOrderTracker tracker = new WorkOrderTracker(clock);

    @BeforeEach
    void start() {
        paas = new FakeWorkOrder(TOKEN);
        paas.addApp("web");
    }

    @AfterEach
    void stop() {
        paas.close();
    }

    // ------------------------------------------------------------------------------------------ helpers

    private ObjectNode params(Object... kv) {
        ObjectNode p = JSON.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) {
            p.set((String) kv[i], JSON.valueToTree(kv[i + 1]));
        }
        return p;
    }

    /** Triggers a run as the mapping would and returns what the agent hands the tracker. */
    private TrackStart trigger(ObjectNode params) throws Exception {
        String url = paas.runUrl("p-tpk2x");
        ObjectNode body = JSON.createObjectNode().put("branch", "master")
                .put("webhook", "http://172.23.20.137:8005/release/querystate");
        TargetHttp.Response r = http.post(url, AUTH, body);
        ObjectNode req = JSON.createObjectNode().put("method", "POST").put("url", url);
        req.set("headers", JSON.valueToTree(AUTH));
        req.putObject("query").put("action", "run");
        req.set("body", body);
        return new TrackStart(JSON.createObjectNode(), req, AUTH, r.status(), r.json(), params);
    }

    private ObjectNode started(ObjectNode params) throws Exception {
        return tracker.start(trigger(params));
    }

    /** Polls until terminal; every log line must be new (no transition logged twice). */
    private record Run(List<PollResult> polls, List<String> lines) {
        PollResult last() {
            return polls.get(polls.size() - 1);
        }

        List<String> labels() {
            return polls.stream().map(PollResult::statusLabel).toList();
        }
    }

    private Run drive(ObjectNode state) throws TrackingException {
        List<PollResult> polls = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            PollResult r = tracker.poll(state, AUTH, http);
            polls.add(r);
            lines.addAll(r.newLogLines());
            state = r.state();
            if (r.terminal() != null) {
                Set<String> unique = new HashSet<>(lines);
                assertEquals(lines.size(), unique.size(), "a log line repeated: " + lines);
                return new Run(polls, lines);
            }
        }
        throw new AssertionError("no terminal after 20 polls: " + lines + "\n" + paas.requestSummary());
    }

    private static List<String> buildLines(String... tail) {
        List<String> l = new ArrayList<>(List.of("build #10: Waiting", "build #10: Building", "Stage \"Clone\": Success",
                "Stage \"Build\": Building"));
        l.addAll(List.of(tail));
        return l;
    }

    private static final List<String> BUILD_SUCCESS_LINES = buildLines("Stage \"Build\": Success",
            "Stage \"Publish\": Success", "Stage \"Deploy\": Success", "build #10: Success",
            "Built dockerImage " + IMAGE + " versionTag " + TAG);

    // ------------------------------------------------------------------------------------------ start

    @Test
    void startTakesIdsFromTheRunUrlAndTheExecutionIdFromTheResponse() throws Exception {
        ObjectNode s = started(params("deployName", "web"));
        assertEquals(paas.host(), s.get("host").asText());
        assertEquals("c-64wdm", s.get("clusterId").asText());
        assertEquals("p-5tfq9", s.get("projectId").asText());
        assertEquals("p-tpk2x", s.get("pipelineId").asText());
        assertEquals("p-5tfq9:p-tpk2x-10", s.get("executionId").asText());
        assertEquals("10", s.get("run").asText());
        assertEquals("upgradeoutter", s.get("releaseAction").asText());
        assertTrue(s.get("skippedIsFailure").asBoolean());
        assertTrue(s.get("fetchDeployLogs").asBoolean());
        assertEquals("Following work-order build p-5tfq9:p-tpk2x-10 (run 10) of pipeline p-tpk2x on branch master,"
                + " then releasing web", tracker.startMessage(s));
        assertEquals("workorder", tracker.type());
    }

    @Test
    void startAcceptsEncodedColonsAndTextualFlags() throws Exception {
        ObjectNode req = JSON.createObjectNode().put("method", "POST")
                .put("url", "https://srv4.yzf.best/v3/project/c-64wdm%3Ap-5tfq9/pipelines/p-5tfq9%3Ap-tpk2x?action=run");
        JsonNode resp = JSON.readTree("{\"id\":\"p-5tfq9:p-tpk2x-7\",\"type\":\"pipelineExecution\"}");
        ObjectNode s = tracker.start(new TrackStart(null, req, AUTH, 200, resp,
                params("deployName", null, "skippedIsFailure", "false", "fetchDeployLogs", false,
                        "releaseAction", "upgrade")));
        assertEquals("https://srv4.yzf.best", s.get("host").asText());
        assertEquals("p-5tfq9", s.get("projectId").asText());
        assertEquals("7", s.get("run").asText(), "run number from the id when the response lacks run");
        assertFalse(s.has("deployName"));
        assertFalse(s.get("skippedIsFailure").asBoolean());
        assertFalse(s.get("fetchDeployLogs").asBoolean());
        assertEquals("upgrade", s.get("releaseAction").asText());
        assertEquals("https://srv4.yzf.best/v3/project/c-64wdm:p-5tfq9/pipelineExecutions/p-5tfq9:p-tpk2x-7",
                s.get("link").asText());
    }

    @Test
    void startWithoutExecutionIdOrWithARefusedRunCannotBeFollowed() throws Exception {
        ObjectNode req = JSON.createObjectNode().put("url", paas.runUrl("p-tpk2x"));
        TrackingException noId = assertThrows(TrackingException.class, () -> tracker.start(
                new TrackStart(null, req, AUTH, 200, JSON.readTree("{\"type\":\"pipelineExecution\"}"), params())));
        assertFalse(noId.retryable());
        assertTrue(noId.getMessage().contains("no execution id"), noId.getMessage());

        paas.rejectBranch("master", "find no pipeline config to run in the branch");
        TrackStart refused = trigger(params());
        assertEquals(500, refused.statusCode());
        TrackingException ex = assertThrows(TrackingException.class, () -> tracker.start(refused));
        assertFalse(ex.retryable());
        assertTrue(ex.getMessage().contains("find no pipeline config to run in the branch"), ex.getMessage());

        ObjectNode other = JSON.createObjectNode().put("url", "https://srv4.yzf.best/v3/projects/x");
        assertFalse(assertThrows(TrackingException.class, () -> tracker.start(new TrackStart(null, other, AUTH, 200,
                JSON.readTree("{\"id\":\"a:b-1\"}"), params()))).retryable());
    }

    // ------------------------------------------------------------------------------------------ success

    @Test
    void buildReleaseAndLogsSucceedWithEveryTransitionLoggedOnceInOrder() throws Exception {
        ObjectNode s = started(params("deployName", "web"));
        String self = paas.host() + "/v3/project/c-64wdm:p-5tfq9/pipelineExecutions/p-5tfq9:p-tpk2x-10";

        PollResult p1 = tracker.poll(s, AUTH, http);
        assertEquals(List.of("build #10: Waiting"), p1.newLogLines());
        assertEquals("build #10: Waiting (Setting up jenkins)", p1.statusLabel());
        assertEquals(self, p1.link());
        assertEquals("p-5tfq9:p-tpk2x-10", p1.externalRunId());
        assertNull(p1.terminal());
        assertFalse(p1.pollSoon());

        PollResult p2 = tracker.poll(p1.state(), AUTH, http);
        assertEquals(List.of("build #10: Building", "Stage \"Clone\": Success", "Stage \"Build\": Building"),
                p2.newLogLines());
        assertEquals("build #10: Building (stage 2/4: Build)", p2.statusLabel());

        PollResult p3 = tracker.poll(p2.state(), AUTH, http);
        assertEquals(BUILD_SUCCESS_LINES.subList(4, 9), p3.newLogLines());
        assertEquals("build #10: Success; releasing web", p3.statusLabel());
        assertTrue(p3.pollSoon());
        assertNull(p3.terminal());
        assertEquals("RELEASE", p3.state().get("phase").asText());
        assertTrue(paas.upgrades().isEmpty(), "the release is the next poll's job");

        PollResult p4 = tracker.poll(p3.state(), AUTH, http);
        assertEquals(List.of("Release web: upgradeoutter to versionTag " + TAG + " requested"), p4.newLogLines());
        assertEquals("release web: upgrade requested", p4.statusLabel());
        assertEquals(1, paas.upgrades().size());
        FakeWorkOrder.Recorded up = paas.upgrades().get(0);
        assertEquals("/v3/project/c-64wdm:p-5tfq9/apps/p-5tfq9:web?action=upgradeoutter", up.rawUrl());
        assertEquals("Bearer " + TOKEN, up.authorization());
        assertEquals(JSON.createObjectNode().put("versionTag", TAG), up.body());
        assertEquals(paas.execution("p-5tfq9:p-tpk2x-10").get("versionTag").asText(), up.body().get("versionTag").asText(),
                "the release carries the build's versionTag");

        PollResult p5 = tracker.poll(p4.state(), AUTH, http);
        assertEquals(List.of("App \"web\" Installed: True", "App \"web\" Deployed: Unknown (workloads are updating)"),
                p5.newLogLines());
        assertEquals("release web: workloads are updating", p5.statusLabel());

        PollResult p6 = tracker.poll(p5.state(), AUTH, http);
        assertEquals(List.of("App \"web\" Deployed: True"), p6.newLogLines());
        assertEquals("release web: deployed; fetching deploy logs", p6.statusLabel());
        assertTrue(p6.pollSoon());

        PollResult p7 = tracker.poll(p6.state(), AUTH, http);
        assertEquals(List.of("Deploy logs:\nstarting app\nlistening on :8080\nready"), p7.newLogLines());
        assertNotNull(p7.terminal());
        assertEquals("SUCCESS", p7.terminal().status());
        assertEquals("Built " + IMAGE + ":" + TAG + " and released web", p7.terminal().summary());
        assertEquals(self, p7.link());
        ObjectNode facts = p7.facts();
        assertEquals(TAG, facts.get("imageTag").asText());
        assertEquals(TAG, facts.get("versionTag").asText());
        assertEquals(IMAGE, facts.get("dockerImage").asText());
        assertEquals("p-5tfq9:p-tpk2x-10", facts.get("executionId").asText());
        assertEquals(paas.execution("p-5tfq9:p-tpk2x-10").get("commit").asText(), facts.get("commitSha").asText());
        assertEquals("master", facts.get("branch").asText());
        assertEquals(TAG, paas.appVersionTag("web"));
        assertEquals(1, paas.requests("GET", "/v3/project/c-64wdm:p-5tfq9/deployLogs/p-5tfq9:web").size());
        paas.allRequests().forEach(r -> assertEquals("Bearer " + TOKEN, r.getHeader("Authorization")));
    }

    @Test
    void withoutDeployNameTheRunSucceedsAfterTheBuild() throws Exception {
        Run run = drive(started(params("deployName", null)));
        assertEquals(BUILD_SUCCESS_LINES, run.lines());
        assertEquals("SUCCESS", run.last().terminal().status());
        assertEquals("Built " + IMAGE + ":" + TAG, run.last().terminal().summary());
        assertEquals(TAG, run.last().facts().get("imageTag").asText());
        assertEquals(3, run.polls().size());
        assertTrue(paas.upgrades().isEmpty());
        assertTrue(paas.requests("GET", "/v3/project/c-64wdm:p-5tfq9/apps/").isEmpty());
    }

    @Test
    void customReleaseActionAndNoDeployLogsEndAtTheRollout() throws Exception {
        Run run = drive(started(params("deployName", "web", "releaseAction", "upgrade", "fetchDeployLogs", false)));
        List<String> expected = new ArrayList<>(BUILD_SUCCESS_LINES);
        expected.addAll(List.of("Release web: upgrade to versionTag " + TAG + " requested",
                "App \"web\" Installed: True", "App \"web\" Deployed: Unknown (workloads are updating)",
                "App \"web\" Deployed: True"));
        assertEquals(expected, run.lines());
        assertEquals("SUCCESS", run.last().terminal().status());
        assertEquals("Built " + IMAGE + ":" + TAG + " and released web", run.last().terminal().summary());
        assertEquals("upgrade", paas.upgrades().get(0).action());
        assertTrue(paas.requests("GET", "/v3/project/c-64wdm:p-5tfq9/deployLogs/").isEmpty());
    }

    // ------------------------------------------------------------------------------------------ build failures

    @Test
    void failedBuildEndsFailureWithTheBuiltConditionMessage() throws Exception {
        paas.nextBuild(BuildScript.FAILED);
        Run run = drive(started(params("deployName", "web")));
        assertEquals(buildLines("Stage \"Build\": Failed", "build #10: Failed",
                "build #10: Built=False: Buildinfo got FAILED status"), run.lines());
        assertEquals("FAILURE", run.last().terminal().status());
        assertEquals("build #10 failed: Buildinfo got FAILED status", run.last().terminal().summary());
        assertEquals("Buildinfo got FAILED status", run.last().statusLabel());
        assertTrue(paas.upgrades().isEmpty());
    }

    @Test
    void aFalseConditionFailsBeforeTheExecutionStateChanges() throws Exception {
        paas.nextBuild(BuildScript.PROVISION_FAILED);
        Run run = drive(started(params("deployName", "web")));
        assertEquals(List.of("build #10: Waiting", "build #10: Provisioned=False: no available executor"), run.lines());
        assertEquals(List.of("build #10: Waiting (Assigning jobs to pipeline engine)", "no available executor"),
                run.labels());
        assertEquals("FAILURE", run.last().terminal().status());
        assertEquals("build #10 failed: no available executor", run.last().terminal().summary());
        assertEquals("Waiting", paas.execution("p-5tfq9:p-tpk2x-10").get("executionState").asText());
    }

    @Test
    void abortedBuildEndsFailure() throws Exception {
        paas.nextBuild(BuildScript.ABORTED);
        Run run = drive(started(params("deployName", "web")));
        assertEquals(buildLines("Stage \"Build\": Aborted", "build #10: Aborted"), run.lines());
        assertEquals("FAILURE", run.last().terminal().status());
        assertEquals("build #10 ended Aborted", run.last().terminal().summary());
    }

    @Test
    void skippedIsFailureByDefaultAndSuccessWhenConfigured() throws Exception {
        paas.nextBuild(BuildScript.SKIPPED);
        Run byDefault = drive(started(params("deployName", "web")));
        assertEquals(List.of("build #10: Waiting", "build #10: Skipped"), byDefault.lines());
        assertEquals("FAILURE", byDefault.last().terminal().status());
        assertEquals("build #10 was skipped", byDefault.last().terminal().summary());

        Run accepted = drive(started(params("deployName", "web", "skippedIsFailure", false)));
        assertEquals(List.of("build #11: Waiting", "build #11: Skipped"), accepted.lines());
        assertEquals("SUCCESS", accepted.last().terminal().status());
        assertEquals("build #11 was skipped; nothing released", accepted.last().terminal().summary());
        assertTrue(paas.upgrades().isEmpty());
    }

    @Test
    void aBuildWithoutVersionTagCannotBeReleased() throws Exception {
        paas.nextBuild(BuildScript.SUCCESS_WITHOUT_TAG);
        Run run = drive(started(params("deployName", "web")));
        assertEquals("Built dockerImage (none) versionTag (none)", run.lines().get(run.lines().size() - 1));
        assertEquals("FAILURE", run.last().terminal().status());
        assertEquals("build #10 succeeded but the PaaS returned no versionTag to release web with",
                run.last().terminal().summary());
        assertTrue(paas.upgrades().isEmpty());
    }

    // ------------------------------------------------------------------------------------------ release failures

    @Test
    void helmErrorOnInstalledEndsFailureWithItsMessage() throws Exception {
        paas.nextRelease(ReleaseScript.HELM_FAILED);
        Run run = drive(started(params("deployName", "web")));
        String helm = "failed to install app web. Error: UPGRADE FAILED: template: app/templates/deployment.yaml:12:"
                + " image is required";
        List<String> expected = new ArrayList<>(BUILD_SUCCESS_LINES);
        expected.addAll(List.of("Release web: upgradeoutter to versionTag " + TAG + " requested",
                "App \"web\" Installed: True", "App \"web\" Deployed: Unknown (workloads are updating)",
                "App \"web\" Installed: False (" + helm + ")"));
        assertEquals(expected, run.lines());
        assertEquals("FAILURE", run.last().terminal().status());
        assertEquals("release of web failed: " + helm, run.last().terminal().summary());
        assertEquals(helm, run.last().statusLabel());
    }

    @Test
    void aRejectedUpgradeEndsFailureWithTheNormanMessage() throws Exception {
        Run run = drive(started(params("deployName", "api")));
        assertEquals(BUILD_SUCCESS_LINES, run.lines());
        assertEquals("FAILURE", run.last().terminal().status());
        assertEquals("release of api rejected (HTTP 404 NotFound): apps \"p-5tfq9:api\" not found",
                run.last().terminal().summary());
        assertEquals(1, paas.requests("POST", "/v3/project/c-64wdm:p-5tfq9/apps/p-5tfq9:api").size());
    }

    @Test
    void conditionsOfThePreviousReleaseAreNotTrustedRightAfterTheUpgrade() throws Exception {
        paas.nextRelease(ReleaseScript.SLOW_START);
        Run run = drive(started(params("deployName", "web", "fetchDeployLogs", false)));
        List<String> labels = run.labels();
        assertEquals(List.of("release web: upgrade requested", "release web: waiting for the upgrade to start",
                "release web: waiting for the upgrade to start", "release web: workloads are updating",
                "Built " + IMAGE + ":" + TAG + " and released web"),
                labels.subList(3, labels.size()));
        assertEquals(List.of(), run.polls().get(4).newLogLines());
        assertEquals("SUCCESS", run.last().terminal().status());
    }

    @Test
    void afterTheSettleWindowUnchangedConditionsAreTrusted() throws Exception {
        paas.nextRelease(ReleaseScript.SLOW_START);
        ObjectNode s = started(params("deployName", "web", "fetchDeployLogs", false, "rolloutSettleSeconds", 30));
        for (int i = 0; i < 4; i++) {
            s = tracker.poll(s, AUTH, http).state(); // 3 build polls + the upgrade call
        }
        assertEquals("ROLLOUT", s.get("phase").asText());
        PollResult stale = tracker.poll(s, AUTH, http);
        assertEquals("release web: waiting for the upgrade to start", stale.statusLabel());
        clock.now = clock.now.plus(Duration.ofSeconds(30));
        PollResult trusted = tracker.poll(stale.state(), AUTH, http);
        assertEquals(List.of("App \"web\" Installed: True", "App \"web\" Deployed: True"), trusted.newLogLines());
        assertEquals("SUCCESS", trusted.terminal().status());
    }

    // ------------------------------------------------------------------------------------------ deploy logs

    @Test
    void missingDeployLogsStillSucceed() throws Exception {
        paas.deployLogs("web", 404, "application/json", "");
        Run run = drive(started(params("deployName", "web")));
        assertEquals("deploy logs not available", run.lines().get(run.lines().size() - 1));
        assertEquals("SUCCESS", run.last().terminal().status());
    }

    @Test
    void deployLogsAsNormanJsonDataAreOneLogEntry() throws Exception {
        paas.deployLogs("web", 200, "application/json",
                "{\"data\":[{\"message\":\"pod web-1 started\"},{\"log\":\"GET /health 200\"}]}");
        Run run = drive(started(params("deployName", "web")));
        assertEquals("Deploy logs:\npod web-1 started\nGET /health 200", run.lines().get(run.lines().size() - 1));
        assertEquals("SUCCESS", run.last().terminal().status());
    }

    @Test
    void deployLogsThatKeepFailingAreGivenUpWithoutFailingTheRun() throws Exception {
        paas.deployLogs("web", 503, "application/json", "");
        Run run = drive(started(params("deployName", "web")));
        List<String> labels = run.labels();
        assertEquals("release web: deployed; deploy logs not ready (HTTP 503)", labels.get(labels.size() - 2));
        assertEquals("deploy logs not available (HTTP 503)", run.lines().get(run.lines().size() - 1));
        assertEquals("SUCCESS", run.last().terminal().status());
        assertEquals(3, paas.requests("GET", "/v3/project/c-64wdm:p-5tfq9/deployLogs/").size());
    }

    @Test
    void deployLogFormatsAndLimits() {
        assertEquals(List.of("a", "b"), WorkOrderTracker.deployLogLines("[\"a\",\"b\"]"));
        assertEquals(List.of("a", "b", "c"), WorkOrderTracker.deployLogLines("[\"a\\nb\",{\"log\":\"c\"}]"));
        assertEquals(List.of("x", "y"), WorkOrderTracker.deployLogLines("{\"data\":[{\"message\":\"x\"},{\"log\":\"y\"}]}"));
        assertEquals(List.of("[INFO] up", "ok"), WorkOrderTracker.deployLogLines("[INFO] up\nok\n"));
        assertEquals(List.of("plain"), WorkOrderTracker.deployLogLines("\"plain\""));
        assertEquals("Deploy logs: (empty)", WorkOrderTracker.deployLogBlock(""));

        StringBuilder many = new StringBuilder();
        for (int i = 1; i <= 120; i++) {
            many.append("line ").append(i).append('\n');
        }
        String block = WorkOrderTracker.deployLogBlock(many.toString());
        String[] lines = block.split("\n");
        assertEquals("Deploy logs: (last 50 of 120 lines)", lines[0]);
        assertEquals("line 71", lines[1]);
        assertEquals("line 120", lines[lines.length - 1]);

        String wide = ("x".repeat(999) + "\n").repeat(40);
        String capped = WorkOrderTracker.deployLogBlock(wide);
        assertTrue(capped.length() <= WorkOrderTracker.MAX_LOG_CHARS + 60, "capped at ~16 KB: " + capped.length());
        assertTrue(capped.startsWith("Deploy logs: (last 16 of 40 lines)"), capped.substring(0, 40));

        String huge = WorkOrderTracker.deployLogBlock("y".repeat(40_000) + "END");
        assertTrue(huge.endsWith("END"));
        assertTrue(huge.length() <= WorkOrderTracker.MAX_LOG_CHARS + 60);
    }

    // ------------------------------------------------------------------------------------------ errors

    @Test
    void aRejectedTokenIsTerminal() throws Exception {
        ObjectNode s = started(params("deployName", "web"));
        PollResult r = tracker.poll(s, Map.of("Authorization", "Bearer wrong"), http);
        assertEquals("FAILURE", r.terminal().status());
        assertEquals("the PaaS rejected the token", r.statusLabel());
        assertTrue(r.terminal().summary().startsWith("the PaaS rejected the token (HTTP 401"), r.terminal().summary());
        assertTrue(r.terminal().summary().contains("must authenticate"), r.terminal().summary());
    }

    @Test
    void anUnknownExecutionIsTerminal() throws Exception {
        ObjectNode s = started(params());
        s.put("executionId", "p-5tfq9:p-tpk2x-99");
        PollResult r = tracker.poll(s, AUTH, http);
        assertEquals("FAILURE", r.terminal().status());
        assertEquals("work-order build p-5tfq9:p-tpk2x-99 not found (HTTP 404)", r.terminal().summary());
    }

    @Test
    void transientTroubleIsRetryableAndLosesNoTransition() throws Exception {
        ObjectNode s = started(params("deployName", "web"));
        PollResult p1 = tracker.poll(s, AUTH, http);

        paas.failNext(1, 503);
        TrackingException unavailable = assertThrows(TrackingException.class, () -> tracker.poll(p1.state(), AUTH, http));
        assertTrue(unavailable.retryable());
        paas.failNext(1, 429);
        assertTrue(assertThrows(TrackingException.class, () -> tracker.poll(p1.state(), AUTH, http)).retryable());
        paas.setDown(true);
        TrackingException io = assertThrows(TrackingException.class, () -> tracker.poll(p1.state(), AUTH, http));
        assertTrue(io.retryable());
        paas.setDown(false);

        Run rest = drive(p1.state());
        List<String> all = new ArrayList<>(p1.newLogLines());
        all.addAll(rest.lines());
        // the failed polls never reached the execution, so the script resumes where it was
        assertEquals("build #10: Building", all.get(1));
        assertEquals("SUCCESS", rest.last().terminal().status());
    }

    @Test
    void aTransientFailureOfTheUpgradeIsRetriedWithTheSameTag() throws Exception {
        ObjectNode s = started(params("deployName", "web"));
        for (int i = 0; i < 3; i++) {
            s = tracker.poll(s, AUTH, http).state();
        }
        assertEquals("RELEASE", s.get("phase").asText());
        paas.failNext(1, 502);
        ObjectNode release = s;
        assertTrue(assertThrows(TrackingException.class, () -> tracker.poll(release, AUTH, http)).retryable());
        PollResult r = tracker.poll(release, AUTH, http);
        assertEquals("ROLLOUT", r.state().get("phase").asText());
        assertEquals(2, paas.requests("POST", "/v3/project/c-64wdm:p-5tfq9/apps/p-5tfq9:web").size());
        assertEquals(1, paas.upgrades().size());
        assertEquals(TAG, paas.upgrades().get(0).body().get("versionTag").asText());
    }
}
