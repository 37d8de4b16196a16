package io.portcamel.agent.tracking.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.portcamel.agent.testsupport.FakeAzureDevOps;
import io.portcamel.agent.tracking.JdkTargetHttp;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.portcamel.agent.testsupport.FakeAzureDevOps.NEXT;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.completed;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.inProgress;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.stage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AzureDevOpsTrackerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PAT = "pat-123";
    private static final String BODY = "{\"resources\":{\"repositories\":{\"self\":{\"refName\":\"refs/heads/main\"}}},"
            + "\"templateParameters\":{\"env\":\"prod\"},\"variables\":{\"PORT_RUN_ID\":{\"value\":\"r_abc\",\"isSecret\":false}},"
            + "\"stagesToSkip\":[]}";

    private FakeAzureDevOps ado;
    private final TargetHttp http = new JdkTargetHttp();
    private final AzureDevOpsTracker tracker = new AzureDevOpsTracker(Clock.fixed(Instant.parse("2025-01-01T10:00:00Z"), ZoneOffset.UTC));
    private final List<String> allLines = new ArrayList<>();
    private Map<String, String> authHeaders;
    private ObjectNode state;
    private JsonNode run;

    @BeforeEach
    void start() {
        ado = new FakeAzureDevOps("acme", "Payments", PAT).pipeline(7, "deploy-service");
    }

    @AfterEach
    void stop() {
        try {
            ado.assertNoContractViolations();
        } finally {
            ado.close();
        }
    }

    /** Triggers pipeline 7 as the agent does and starts tracking the run. */
    private void trigger(ObjectNode params) throws Exception {
        String url = ado.runsUrl(7);
        TargetHttp.Response r = http.post(url, Map.of("Authorization", FakeAzureDevOps.basicAuth(PAT)), JSON.readTree(BODY));
        assertEquals(200, r.status(), r.body());
        run = r.json();
        authHeaders = new LinkedHashMap<>();
        authHeaders.put("Authorization", FakeAzureDevOps.basicAuth(PAT));
        authHeaders.put("Content-Type", "application/json");
        ObjectNode request = JSON.createObjectNode().put("method", "POST").put("url", url);
        ObjectNode h = request.putObject("headers");
        authHeaders.forEach(h::put);
        request.set("body", JSON.readTree(BODY));
        state = tracker.start(new TrackStart(JSON.createObjectNode(), request, authHeaders, 200, run,
                params == null ? JSON.createObjectNode() : params));
    }

    private PollResult poll() throws TrackingException {
        return poll(http);
    }

    private PollResult poll(TargetHttp with) throws TrackingException {
        PollResult r = tracker.poll(state, authHeaders, with);
        state = r.state();
        allLines.addAll(r.newLogLines());
        return r;
    }

    private String link() {
        return ado.rootUrl() + "/acme/" + ado.projectId() + "/_build/results?buildId=1000";
    }

    private String externalRunId() {
        return "ado_" + ado.projectId() + "_7_1000";
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
    void inProgressThroughStagesToSucceeded() throws Exception {
        ado.script(NEXT,
                inProgress(),
                inProgress(stage("Build", "inProgress"), stage("Test", "pending"), stage("Deploy", "pending")),
                inProgress(stage("Build", "completed", "succeeded"), stage("Test", "inProgress"), stage("Deploy", "pending")),
                inProgress(stage("Build", "completed", "succeeded"), stage("Test", "completed", "succeeded"), stage("Deploy", "inProgress")),
                completed("succeeded", stage("Build", "completed", "succeeded"), stage("Test", "completed", "succeeded"),
                        stage("Deploy", "completed", "succeeded")));
        trigger(null);
        assertEquals("Following Azure DevOps run 1000 of pipeline 7 (acme/Payments)", tracker.startMessage(state));
        assertEquals(ado.projectId(), state.get("projectId").asText(), "the project GUID comes from the Run's url");

        PollResult r = poll();
        assertInProgress(r, "run 1000: inProgress", List.of());
        assertEquals(link(), r.link());
        assertEquals(externalRunId(), r.externalRunId());
        assertInProgress(poll(), "Build: inProgress (0/3 stages done)", List.of("Stage \"Build\" is inProgress"));
        assertInProgress(poll(), "Test: inProgress (1/3 stages done)", List.of("Stage \"Build\" succeeded", "Stage \"Test\" is inProgress"));
        assertInProgress(poll(), "Deploy: inProgress (2/3 stages done)", List.of("Stage \"Test\" succeeded", "Stage \"Deploy\" is inProgress"));
        r = poll();
        assertEnd(r, true, "Azure DevOps run 1000 of pipeline 7 succeeded (stages: Build, Test, Deploy)", List.of("Stage \"Deploy\" succeeded"));
        assertEquals("succeeded", r.statusLabel());
        assertEquals(link(), r.link());
        assertEquals(externalRunId(), r.externalRunId());
        assertEquals("1000", r.facts().get("runId").asText());
        assertEquals("7", r.facts().get("pipelineId").asText());
        assertEquals("20250101.1", r.facts().get("runName").asText());
        assertEquals(link(), r.facts().get("jobUrl").asText());
        assertEquals(run.at("/resources/repositories/self/version").asText(), r.facts().get("commitSha").asText());
        assertEquals("main", r.facts().get("branch").asText());
        assertEquals(allLines.size(), allLines.stream().distinct().count(), allLines::toString);

        for (LoggedRequest get : ado.requests("GET", "/acme/")) {
            assertEquals(FakeAzureDevOps.basicAuth(PAT), get.getHeader("Authorization"));
            assertFalse(get.containsHeader("Content-Type"), get.getUrl());
            assertTrue(get.getUrl().endsWith("?api-version=7.1"), get.getUrl());
        }
        assertEquals(1, ado.requests(req -> req.getUrl().startsWith("/acme/Payments/_apis/build/builds/1000?")).size(),
                "the Build API result is read once, at the end");
    }

    @Test
    void failedStageFailsTheRun() throws Exception {
        ado.script(NEXT,
                inProgress(stage("Build", "inProgress"), stage("Deploy", "pending")),
                completed("failed", stage("Build", "completed", "succeeded"), stage("Deploy", "completed", "failed")));
        trigger(null);
        assertInProgress(poll(), "Build: inProgress (0/2 stages done)", List.of("Stage \"Build\" is inProgress"));
        PollResult r = poll();
        assertEnd(r, false, "Azure DevOps run 1000 of pipeline 7 failed (stage \"Deploy\" failed)",
                List.of("Stage \"Build\" succeeded", "Stage \"Deploy\" failed"));
        assertEquals("failed (stage \"Deploy\" failed)", r.statusLabel());
        assertEquals(link(), r.link());
        assertEquals(0, ado.requests(req -> req.getUrl().startsWith("/acme/Payments/_apis/build/builds/1000?")).size(),
                "a plain failure needs no Build API look");
    }

    @Test
    void cancelingThenCanceledFails() throws Exception {
        ado.script(NEXT,
                inProgress(stage("Build", "inProgress"), stage("Deploy", "pending")),
                new FakeAzureDevOps.Snapshot("canceling", null, null,
                        List.of(stage("Build", "completed", "succeeded"), stage("Deploy", "inProgress"))),
                completed("canceled", stage("Build", "completed", "succeeded"), stage("Deploy", "completed", "canceled")));
        trigger(null);
        poll();
        assertInProgress(poll(), "canceling (1/2 stages done)", List.of("Stage \"Build\" succeeded", "Stage \"Deploy\" is inProgress"));
        assertEnd(poll(), false, "Azure DevOps run 1000 of pipeline 7 was canceled (stage \"Deploy\" canceled)",
                List.of("Stage \"Deploy\" canceled"));
    }

    @Test
    void completedWithUnknownResultFails() throws Exception {
        ado.script(NEXT, completed("unknown", stage("Build", "completed", "abandoned")));
        trigger(null);
        assertEnd(poll(), false, "Azure DevOps run 1000 of pipeline 7 completed with result unknown (stage \"Build\" abandoned)",
                List.of("Stage \"Build\" abandoned"));
    }

    @Test
    void partiallySucceededIsAFailureByDefault() throws Exception {
        ado.script(NEXT, new FakeAzureDevOps.Snapshot("completed", "succeeded", "partiallySucceeded",
                List.of(stage("Build", "completed", "succeededWithIssues"))));
        trigger(null);
        assertEnd(poll(), false, "Azure DevOps run 1000 of pipeline 7 partially succeeded (counted as a failure: set"
                + " partiallySucceededIsSuccess to accept it)", List.of("Stage \"Build\" succeededWithIssues"));
    }

    @Test
    void partiallySucceededCanBeASuccess() throws Exception {
        ado.script(NEXT, new FakeAzureDevOps.Snapshot("completed", "succeeded", "partiallySucceeded",
                List.of(stage("Build", "completed", "succeededWithIssues"))));
        trigger(JSON.createObjectNode().put("partiallySucceededIsSuccess", "true"));
        assertEnd(poll(), true, "Azure DevOps run 1000 of pipeline 7 partially succeeded (stages: Build)",
                List.of("Stage \"Build\" succeededWithIssues"));
    }

    @Test
    void aBadPatIsASignInRedirectAndATerminalFailure() throws Exception {
        trigger(null);
        authHeaders = Map.of("Authorization", FakeAzureDevOps.basicAuth("expired"));
        PollResult r = poll();
        assertEnd(r, false, "Azure DevOps rejected the credentials (sign-in redirect)", List.of());
        assertEquals(externalRunId(), r.externalRunId());
    }

    @Test
    void theSignInPageItselfIsAlsoUnauthorized() throws Exception {
        // camel-http follows redirects by default: the tracker then sees the HTML sign-in page with a 200
        trigger(null);
        authHeaders = Map.of("Authorization", FakeAzureDevOps.basicAuth("expired"));
        TargetHttp following = new TargetHttp() {
            @Override
            public Response get(String url, Map<String, String> headers) throws Exception {
                Response r = http.get(url, headers);
                return r.status() == 302 ? http.get(r.headers().get("location"), Map.of()) : r;
            }

            @Override
            public Response post(String url, Map<String, String> headers, JsonNode body) {
                throw new UnsupportedOperationException();
            }
        };
        assertEnd(poll(following), false, "Azure DevOps rejected the credentials (sign-in redirect)", List.of());
        assertEquals(1, ado.requests("GET", "/_signin").size());
    }

    @Test
    void anUnknownPipelineIsATerminalFailureWithItsMessage() throws Exception {
        trigger(null);
        state.put("pipelineId", "999999");
        assertEnd(poll(), false, "Azure DevOps: The pipeline '999999' does not exist (PipelineNotFoundException)", List.of());
    }

    @Test
    void anUnknownRunIsATerminalFailure() throws Exception {
        trigger(null);
        state.put("runId", "4242");
        assertEnd(poll(), false, "Azure DevOps: Run 4242 of pipeline 7 was not found. (PipelineRunNotFoundException)", List.of());
    }

    @Test
    void throttlingUnavailabilityUntypedServerErrorsAndIoAreRetryable() throws Exception {
        ado.script(NEXT, inProgress(stage("Build", "inProgress")));
        trigger(null);
        for (int status : new int[]{429, 503, 500}) {
            ado.failNext(1, status);
            TrackingException e = assertThrows(TrackingException.class, this::poll);
            assertTrue(e.retryable(), e.getMessage());
            assertTrue(e.getMessage().contains(String.valueOf(status)), e.getMessage());
        }
        ado.setDown(true);
        assertTrue(assertThrows(TrackingException.class, this::poll).retryable());
        ado.setDown(false);
        assertInProgress(poll(), "Build: inProgress (0/1 stages done)", List.of("Stage \"Build\" is inProgress"));
        assertEquals(List.of("Stage \"Build\" is inProgress"), allLines);
    }

    @Test
    void startParsesTheTriggerUrlAndNeedsARunId() throws Exception {
        String url = "https://dev.azure.com/acme/Payments/_apis/pipelines/7/runs?api-version=7.1";
        ObjectNode request = JSON.createObjectNode().put("method", "POST").put("url", url);
        JsonNode response = JSON.readTree("{\"id\":55,\"state\":\"inProgress\",\"pipeline\":{\"id\":7},"
                + "\"_links\":{\"web\":{\"href\":\"https://dev.azure.com/acme/Payments/_build/results?buildId=55\"}}}");
        ObjectNode s = tracker.start(new TrackStart(JSON.createObjectNode(), request, Map.of(), 200, response,
                JSON.createObjectNode().put("projectId", "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c")));
        assertEquals("https://dev.azure.com", s.get("base").asText());
        assertEquals("acme", s.get("org").asText());
        assertEquals("Payments", s.get("project").asText());
        assertEquals("7", s.get("pipelineId").asText());
        assertEquals("55", s.get("runId").asText());
        assertEquals("6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c", s.get("projectId").asText(), "from params when the Run has no url");
        assertEquals("https://dev.azure.com/acme/Payments/_build/results?buildId=55", s.get("link").asText());
        assertEquals("Payments", tracker.start(new TrackStart(JSON.createObjectNode(), request, Map.of(), 200, response,
                JSON.createObjectNode())).get("projectId").asText(), "else the project as in the URL");

        TrackingException noId = assertThrows(TrackingException.class, () -> tracker.start(new TrackStart(JSON.createObjectNode(),
                request, Map.of(), 200, JSON.readTree("{\"state\":\"inProgress\"}"), JSON.createObjectNode())));
        assertFalse(noId.retryable());
        assertTrue(noId.getMessage().contains("no run id"));
        ObjectNode webhook = JSON.createObjectNode().put("url",
                "https://dev.azure.com/acme/_apis/public/distributedtask/webhooks/port?api-version=6.0-preview");
        assertFalse(assertThrows(TrackingException.class, () -> tracker.start(new TrackStart(JSON.createObjectNode(), webhook,
                Map.of(), 200, response, JSON.createObjectNode()))).retryable());
    }

    @Test
    void labelBeforeAndBetweenStages() {
        ObjectNode done = JSON.createObjectNode().put("name", "Build").put("state", "completed").put("result", "succeeded");
        ObjectNode next = JSON.createObjectNode().put("name", "Deploy").put("state", "pending");
        assertEquals("run 5: unknown", AzureDevOpsTracker.label("5", "unknown", List.of()));
        assertEquals("Deploy: pending (1/2 stages done)", AzureDevOpsTracker.label("5", "inProgress", List.of(done, next)));
    }
}
