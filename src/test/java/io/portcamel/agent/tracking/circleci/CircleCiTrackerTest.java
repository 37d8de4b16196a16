package io.portcamel.agent.tracking.circleci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.portcamel.agent.testsupport.FakeCircleCi.NEXT;
import static io.portcamel.agent.testsupport.FakeCircleCi.approval;
import static io.portcamel.agent.testsupport.FakeCircleCi.errored;
import static io.portcamel.agent.testsupport.FakeCircleCi.job;
import static io.portcamel.agent.testsupport.FakeCircleCi.noWorkflows;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflow;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflows;
import static io.portcamel.agent.tracking.circleci.CircleCiHarness.JSON;
import static io.portcamel.agent.tracking.circleci.CircleCiHarness.TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CircleCiTrackerTest {

    private FakeCircleCi circle;
    private CircleCiHarness h;

    @BeforeEach
    void start() {
        circle = new FakeCircleCi(TOKEN);
        h = new CircleCiHarness(circle);
    }

    @AfterEach
    void stop() {
        try {
            circle.assertNoContractViolations();
        } finally {
            circle.close();
        }
    }

    private String link() {
        return "https://app.circleci.com/pipelines/gh/acme/api/1";
    }

    private static void assertInProgress(PollResult r, String label, List<String> lines) {
        assertEquals(lines, r.newLogLines());
        assertEquals(label, r.statusLabel());
        assertNull(r.terminal(), () -> "unexpected end: " + r.terminal());
    }

    private static void assertEnd(PollResult r, boolean success, String summary, List<String> lines) {
        assertEquals(lines, r.newLogLines());
        assertEquals(success ? "SUCCESS" : "FAILURE", r.terminal() == null ? null : r.terminal().status(), () -> "" + r.terminal());
        assertEquals(summary, r.terminal().summary());
    }

    @Test
    void successPathLogsEachTransitionOnceInOrderAndSucceedsWhenAllWorkflowsSucceed() throws Exception {
        circle.script(NEXT,
                noWorkflows("setup"),
                workflows(workflow("build", "running", job("test", "running"), job("lint", "success"), job("package", "blocked"))),
                workflows(workflow("build", "success", job("test", "success"), job("lint", "success"), job("package", "success")),
                        workflow("deploy", "running", job("ship", "running"))),
                workflows(workflow("build", "success", job("test", "success"), job("lint", "success"), job("package", "success")),
                        workflow("deploy", "success", job("ship", "success"))));
        h.trigger(null);
        assertEquals("Following CircleCI pipeline 1 of gh/acme/api", h.tracker.startMessage(h.state));

        PollResult r = h.poll();
        assertInProgress(r, "pipeline 1: setup (waiting for workflows)", List.of());
        assertEquals(link(), r.link());
        assertEquals(h.pipelineId(), r.externalRunId());

        assertInProgress(h.poll(), "build: running (1/3 jobs)", List.of(
                "Workflow \"build\" is running", "Job \"test\" (#1) running", "Job \"lint\" (#2) success"));
        assertInProgress(h.poll(), "deploy: running (0/1 jobs)", List.of(
                "Workflow \"build\" success", "Job \"test\" (#1) success", "Job \"package\" (#3) success",
                "Workflow \"deploy\" is running", "Job \"ship\" (#4) running"));
        r = h.poll();
        assertEnd(r, true, "CircleCI pipeline 1 succeeded (workflows: build, deploy)",
                List.of("Workflow \"deploy\" success", "Job \"ship\" (#4) success"));
        assertEquals(link(), r.link());
        assertEquals(h.pipelineId(), r.externalRunId());
        assertEquals("success", r.statusLabel());
        assertEquals(h.pipelineId(), r.facts().get("pipelineId").asText());
        assertEquals(1, r.facts().get("pipelineNumber").asLong());
        assertEquals(link(), r.facts().get("jobUrl").asText());
        assertEquals(circle.pipeline(h.pipelineId()).at("/vcs/revision").asText(), r.facts().get("commitSha").asText());
        assertEquals("main", r.facts().get("branch").asText());
        assertFalse(r.pollSoon());

        // each line exactly once over the whole run
        assertEquals(h.allLines.size(), h.allLines.stream().distinct().count(), h.allLines::toString);
        // a workflow already finished and fully logged is not asked for its jobs again
        long buildJobCalls = circle.requests(req -> req.getUrl().matches("/api/v2/workflow/[^/]+/job")).size();
        assertEquals(1 + 2 + 1, buildJobCalls, "poll 2: build; poll 3: build+deploy; poll 4: deploy only");
        // follow-up calls carry the token only, not the trigger's Content-Type
        for (LoggedRequest get : circle.requests("GET", "/api/v2/")) {
            assertEquals(TOKEN, get.getHeader("Circle-Token"));
            assertFalse(get.containsHeader("Content-Type"), get.getUrl());
        }
    }

    @Test
    void runningThenFailingThenFailedEndsFailureNamingTheJob() throws Exception {
        circle.script(NEXT,
                workflows(workflow("build", "running", job("test", "running"), job("lint", "running"))),
                workflows(workflow("build", "failing", job("test", "failed"), job("lint", "running"))),
                workflows(workflow("build", "failed", job("test", "failed"), job("lint", "success"))));
        h.trigger(null);
        assertInProgress(h.poll(), "build: running (0/2 jobs)", List.of(
                "Workflow \"build\" is running", "Job \"test\" (#1) running", "Job \"lint\" (#2) running"));
        assertInProgress(h.poll(), "build: failing (1/2 jobs)", List.of(
                "Workflow \"build\" is failing", "Job \"test\" (#1) failed"));
        PollResult r = h.poll();
        assertEnd(r, false, "CircleCI pipeline 1 failed: workflow \"build\" failed (job \"test\" (#1) failed)",
                List.of("Workflow \"build\" failed", "Job \"lint\" (#2) success"));
        assertEquals("workflow \"build\" failed (job \"test\" (#1) failed)", r.statusLabel());
        assertEquals(link(), r.link());
        assertEquals(h.pipelineId(), r.externalRunId());
    }

    @Test
    void onHoldIsLabelledAsApprovalUntilApprovedThenSucceeds() throws Exception {
        circle.script(NEXT,
                workflows(workflow("build", "success", job("test", "success")),
                        workflow("deploy", "on_hold", approval("hold", "on_hold"), job("release", "blocked"))),
                workflows(workflow("build", "success", job("test", "success")),
                        workflow("deploy", "running", approval("hold", "success"), job("release", "running"))),
                workflows(workflow("build", "success", job("test", "success")),
                        workflow("deploy", "success", approval("hold", "success"), job("release", "success"))));
        h.trigger(null);
        assertInProgress(h.poll(), "deploy: on_hold (approval)", List.of(
                "Workflow \"build\" success", "Job \"test\" (#1) success",
                "Workflow \"deploy\" is on_hold", "Job \"hold\" (approval) on_hold"));
        assertInProgress(h.poll(), "deploy: running (1/2 jobs)", List.of(
                "Workflow \"deploy\" is running", "Job \"hold\" (approval) success", "Job \"release\" (#2) running"));
        assertEnd(h.poll(), true, "CircleCI pipeline 1 succeeded (workflows: build, deploy)",
                List.of("Workflow \"deploy\" success", "Job \"release\" (#2) success"));
    }

    @Test
    void erroredPipelineFailsWithTheErrorMessageAsLabel() throws Exception {
        circle.script(NEXT, errored("config", "Config does not conform to schema: {:workflows missing}"));
        h.trigger(null);
        PollResult r = h.poll();
        assertEnd(r, false, "CircleCI pipeline 1 errored: Config does not conform to schema: {:workflows missing}",
                List.of("Pipeline 1 errored: Config does not conform to schema: {:workflows missing}"));
        assertEquals("Config does not conform to schema: {:workflows missing}", r.statusLabel());
        assertEquals(link(), r.link());
        assertEquals(0, circle.requests("GET", "/api/v2/pipeline/" + h.pipelineId() + "/workflow").size(),
                "errored: no workflow will run, none is asked for");
    }

    @Test
    void canceledWorkflowFails() throws Exception {
        circle.script(NEXT,
                workflows(workflow("build", "running", job("test", "running"))),
                workflows(workflow("build", "canceled", job("test", "canceled"))));
        h.trigger(null);
        h.poll();
        assertEnd(h.poll(), false, "CircleCI pipeline 1 failed: workflow \"build\" canceled (job \"test\" (#1) canceled)",
                List.of("Workflow \"build\" canceled", "Job \"test\" (#1) canceled"));
    }

    @Test
    void unauthorizedWorkflowFails() throws Exception {
        circle.script(NEXT, workflows(workflow("deploy", "unauthorized", job("ship", "unauthorized"))));
        h.trigger(null);
        assertEnd(h.poll(), false, "CircleCI pipeline 1 failed: workflow \"deploy\" unauthorized (job \"ship\" unauthorized)",
                List.of("Workflow \"deploy\" unauthorized", "Job \"ship\" unauthorized"));
    }

    @Test
    void aFailedWorkflowEndsTheRunEvenWhileAnotherStillRuns() throws Exception {
        circle.script(NEXT, workflows(workflow("build", "failed", job("test", "failed")),
                workflow("docs", "running", job("site", "running"))));
        h.trigger(null);
        assertEnd(h.poll(), false, "CircleCI pipeline 1 failed: workflow \"build\" failed (job \"test\" (#1) failed)",
                List.of("Workflow \"build\" failed", "Job \"test\" (#1) failed", "Workflow \"docs\" is running", "Job \"site\" (#2) running"));
    }

    @Test
    void notRunIsAFailureByDefault() throws Exception {
        circle.script(NEXT, workflows(workflow("build", "success", job("test", "success")),
                workflow("nightly", "not_run", job("report", "not_run"))));
        h.trigger(null);
        assertEnd(h.poll(), false, "CircleCI pipeline 1 failed: workflow \"nightly\" not_run",
                List.of("Workflow \"build\" success", "Job \"test\" (#1) success", "Workflow \"nightly\" not_run", "Job \"report\" not_run"));
    }

    @Test
    void notRunCanBeAcceptedWithAParam() throws Exception {
        circle.script(NEXT, workflows(workflow("build", "success", job("test", "success")),
                workflow("nightly", "not_run", job("report", "not_run"))));
        h.trigger(JSON.createObjectNode().put("notRunIsFailure", "false")); // jq-rendered params may be strings
        assertEnd(h.poll(), true, "CircleCI pipeline 1 succeeded (workflows: build) (not run: nightly)",
                List.of("Workflow \"build\" success", "Job \"test\" (#1) success", "Workflow \"nightly\" not_run", "Job \"report\" not_run"));
    }

    @Test
    void zeroWorkflowsFailsOnlyAfterTheGracePeriod() throws Exception {
        h.trigger(null); // unscripted: created, never a workflow
        assertInProgress(h.poll(), "pipeline 1: created (waiting for workflows)", List.of());
        h.clock.advance(Duration.ofSeconds(119));
        assertInProgress(h.poll(), "pipeline 1: created (waiting for workflows)", List.of());
        h.clock.advance(Duration.ofSeconds(1));
        PollResult r = h.poll();
        assertEnd(r, false, "CircleCI pipeline 1: no workflow started within 120s (pipeline state: created);"
                + " check the workflows' branch/tag filters and the pipeline parameters", List.of());
        assertEquals("no workflow started", r.statusLabel());
    }

    @Test
    void graceSecondsComeFromParams() throws Exception {
        h.trigger(JSON.createObjectNode().put("noWorkflowGraceSeconds", "30"));
        assertNull(h.poll().terminal());
        h.clock.advance(Duration.ofSeconds(30));
        assertTrue(h.poll().terminal().summary().contains("no workflow started within 30s"));
    }

    @Test
    void workflowsAndJobsArePagedThroughNextPageToken() throws Exception {
        circle.pageSize(1);
        circle.script(NEXT, workflows(
                workflow("a", "success", job("a1", "success"), job("a2", "success")),
                workflow("b", "success", job("b1", "success"), job("b2", "success")),
                workflow("c", "success", job("c1", "success"))));
        h.trigger(null);
        assertEnd(h.poll(), true, "CircleCI pipeline 1 succeeded (workflows: a, b, c)", List.of(
                "Workflow \"a\" success", "Job \"a1\" (#1) success", "Job \"a2\" (#2) success",
                "Workflow \"b\" success", "Job \"b1\" (#3) success", "Job \"b2\" (#4) success",
                "Workflow \"c\" success", "Job \"c1\" (#5) success"));
        assertEquals(2, circle.requests(req -> req.getUrl().contains("/workflow?page-token=")).size());
        assertEquals(0, circle.requests(req -> req.getUrl().contains("/job?page-token=")).size());
    }

    @Test
    void jobListsAreFollowedThroughNextPageTokenToo() throws Exception {
        // the fake never pages jobs (its spec has no page-token there), so a second page is served here
        circle.script(NEXT, workflows(workflow("build", "success", job("test", "success"))));
        h.trigger(null);
        TargetHttp real = h.http;
        List<String> jobUrls = new ArrayList<>();
        TargetHttp paging = new TargetHttp() {
            @Override
            public Response get(String url, Map<String, String> headers) throws Exception {
                if (!url.contains("/job")) {
                    return real.get(url, headers);
                }
                jobUrls.add(url);
                String body = url.contains("page-token=p%2F2")
                        ? "{\"items\":[{\"id\":\"j2\",\"name\":\"lint\",\"job_number\":8,\"type\":\"build\",\"status\":\"success\"}],\"next_page_token\":null}"
                        : "{\"items\":[{\"id\":\"j1\",\"name\":\"test\",\"job_number\":7,\"type\":\"build\",\"status\":\"success\"}],\"next_page_token\":\"p/2\"}";
                return new Response(200, body, Map.of("Content-Type", "application/json"));
            }

            @Override
            public Response post(String url, Map<String, String> headers, JsonNode body) {
                throw new UnsupportedOperationException();
            }
        };
        PollResult r = h.tracker.poll(h.state, h.authHeaders, paging);
        assertEquals(List.of("Workflow \"build\" success", "Job \"test\" (#7) success", "Job \"lint\" (#8) success"), r.newLogLines());
        assertEquals(2, jobUrls.size());
        assertTrue(jobUrls.get(1).endsWith("/job?page-token=p%2F2"), jobUrls.get(1));
    }

    @Test
    void aRejectedTokenIsATerminalFailure() throws Exception {
        h.trigger(null);
        h.authHeaders = Map.of("Circle-Token", "revoked");
        PollResult r = h.poll();
        assertEnd(r, false, "CircleCI rejected the token (HTTP 401: Invalid token provided.)", List.of());
        assertEquals(h.pipelineId(), r.externalRunId());
    }

    @Test
    void anUnknownPipelineIsATerminalFailure() throws Exception {
        h.trigger(null);
        String ghost = UUID.randomUUID().toString();
        h.state.put("pipelineId", ghost);
        assertEnd(h.poll(), false, "CircleCI pipeline " + ghost + " not found (HTTP 404: Pipeline not found)", List.of());
    }

    @Test
    void rateLimitsServerErrorsAndIoErrorsAreRetryableAndLoseNothing() throws Exception {
        circle.script(NEXT, workflows(workflow("build", "running", job("test", "running"))));
        h.trigger(null);
        circle.failNext(1, 429);
        TrackingException e = assertThrows(TrackingException.class, h::poll);
        assertTrue(e.retryable());
        assertTrue(e.getMessage().contains("429"), e.getMessage());
        circle.failNext(1, 502);
        assertTrue(assertThrows(TrackingException.class, h::poll).retryable());
        circle.setDown(true);
        assertTrue(assertThrows(TrackingException.class, h::poll).retryable());
        circle.setDown(false);
        assertInProgress(h.poll(), "build: running (0/1 jobs)", List.of("Workflow \"build\" is running", "Job \"test\" (#1) running"));
        assertEquals(List.of("Workflow \"build\" is running", "Job \"test\" (#1) running"), h.allLines);
    }

    @Test
    void theRecommendedRunEndpointIsFollowedWithTheSlugCircleCiReports() throws Exception {
        circle.script(NEXT, workflows(workflow("build", "success", job("test", "success"))));
        h.trigger("/project/github/acme/api/pipeline/run", "{\"definition_id\":\"2338d0ae-5541-4bbf-88a2-55e9f7281f80\","
                + "\"config\":{\"branch\":\"main\"},\"checkout\":{\"branch\":\"main\"},\"parameters\":{\"env\":\"prod\"}}", null);
        assertEquals("github/acme/api", h.state.get("projectSlug").asText());
        assertEquals(circle.rootUrl(), h.state.get("base").asText());
        PollResult r = h.poll();
        assertEquals(link(), r.link(), "the link uses project_slug from GET /pipeline (gh/…)");
        assertEquals("SUCCESS", r.terminal().status());
    }

    @Test
    void basicAuthOfTheTriggerWorksForFollowUps() throws Exception {
        circle.script(NEXT, workflows(workflow("build", "success", job("test", "success"))));
        h.trigger(null);
        h.authHeaders = Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString((TOKEN + ":").getBytes(StandardCharsets.UTF_8)),
                "X-Port-Run", "r_1");
        assertEquals("SUCCESS", h.poll().terminal().status());
        for (LoggedRequest get : circle.requests("GET", "/api/v2/")) {
            assertFalse(get.containsHeader("X-Port-Run"), "only credentials are forwarded");
        }
    }

    @Test
    void startNeedsAPipelineIdAndAnApiV2Url() {
        ObjectNode request = JSON.createObjectNode().put("method", "POST").put("url", circle.baseUrl() + "/project/gh%2Fa%2Fb/pipeline");
        TrackingException noId = assertThrows(TrackingException.class, () -> h.tracker.start(new TrackStart(JSON.createObjectNode(),
                request, Map.of(), 201, JSON.createObjectNode().put("state", "created"), JSON.createObjectNode())));
        assertFalse(noId.retryable());
        assertTrue(noId.getMessage().contains("no pipeline id"));
        TrackingException noBody = assertThrows(TrackingException.class, () -> h.tracker.start(new TrackStart(JSON.createObjectNode(),
                request, Map.of(), 201, null, JSON.createObjectNode())));
        assertFalse(noBody.retryable());
        ObjectNode other = JSON.createObjectNode().put("url", "https://example.com/hooks/x");
        assertFalse(assertThrows(TrackingException.class, () -> h.tracker.start(new TrackStart(JSON.createObjectNode(), other,
                Map.of(), 201, JSON.createObjectNode().put("id", "x"), JSON.createObjectNode()))).retryable());
    }

    @Test
    void slugIsDecodedFromEitherTriggerPath() {
        assertEquals("gh/my org/a+b", CircleCiTracker.slugFromTriggerPath("project/gh%2Fmy%20org%2Fa+b/pipeline"));
        assertEquals("gh/org/repo", CircleCiTracker.slugFromTriggerPath("project/gh/org/repo/pipeline?x=1"));
        assertEquals("circleci/123/456", CircleCiTracker.slugFromTriggerPath("project/circleci/123/456/pipeline/run"));
        assertNull(CircleCiTracker.slugFromTriggerPath("pipeline/abc"));
    }
}
