package io.portcamel.agent.tracking.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcamel.agent.testsupport.FakeAzureDevOps;
import io.portcamel.agent.tracking.JdkTargetHttp;
import io.portcamel.agent.tracking.TargetHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.portcamel.agent.testsupport.FakeAzureDevOps.completed;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.inProgress;
import static io.portcamel.agent.testsupport.FakeAzureDevOps.stage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fake itself: shapes, quirks and request validation the tracker tests rely on. */
class FakeAzureDevOpsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PAT = "pat-1";
    private FakeAzureDevOps ado;
    private final TargetHttp http = new JdkTargetHttp();
    private final Map<String, String> auth = Map.of("Authorization", FakeAzureDevOps.basicAuth(PAT));

    @BeforeEach
    void start() {
        ado = new FakeAzureDevOps("acme", "Payments", PAT).pipeline(7, "deploy-service");
    }

    @AfterEach
    void stop() {
        ado.close();
    }

    @Test
    void triggerReturnsARunAndScriptedPollsAdvance() throws Exception {
        ado.script(FakeAzureDevOps.NEXT, inProgress(stage("Build", "inProgress"), stage("Deploy", "pending")),
                completed("succeeded", stage("Build", "completed", "succeeded"), stage("Deploy", "completed", "succeeded")));
        TargetHttp.Response r = http.post(ado.runsUrl(7), auth,
                JSON.readTree("{\"resources\":{\"repositories\":{\"self\":{\"refName\":\"refs/heads/dev\"}}},\"templateParameters\":{\"env\":\"qa\"}}"));
        assertEquals(200, r.status(), r.body());
        JsonNode run = r.json();
        assertEquals(1000, run.get("id").asInt());
        assertEquals("inProgress", run.get("state").asText());
        assertFalse(run.has("result"));
        assertEquals(7, run.at("/pipeline/id").asInt());
        assertTrue(run.at("/_links/web/href").asText().endsWith("/_build/results?buildId=1000"));
        assertEquals("qa", run.at("/templateParameters/env").asText());
        assertEquals("refs/heads/dev", ado.triggers().get(0).body().at("/resources/repositories/self/refName").asText());

        String runUrl = ado.rootUrl() + "/acme/Payments/_apis/pipelines/7/runs/1000?api-version=7.1";
        assertEquals("inProgress", http.get(runUrl, auth).json().get("state").asText());
        JsonNode timeline = http.get(ado.rootUrl() + "/acme/Payments/_apis/build/builds/1000/timeline?api-version=7.1", auth).json();
        List<String> stages = new ArrayList<>();
        timeline.get("records").forEach(rec -> stages.add(rec.get("type").asText() + ":" + rec.get("name").asText() + ":" + rec.get("order").asInt()));
        assertEquals(List.of("Stage:Deploy:2", "Stage:Build:1", "Job:Build job:1"), stages, "listed out of order, with Job records");
        JsonNode done = http.get(runUrl, auth).json();
        assertEquals("completed", done.get("state").asText());
        assertEquals("succeeded", done.get("result").asText());
        assertEquals("completed", http.get(runUrl, auth).json().get("state").asText(), "the last snapshot stays");
        JsonNode build = http.get(ado.rootUrl() + "/acme/Payments/_apis/build/builds/1000?api-version=7.1", auth).json();
        assertEquals("succeeded", build.get("result").asText());
        assertEquals("completed", build.get("status").asText());
        ado.assertNoContractViolations();
    }

    @Test
    void badPatIsA302ToAnHtmlSignInPage() throws Exception {
        TargetHttp.Response r = http.post(ado.runsUrl(7), Map.of("Authorization", FakeAzureDevOps.basicAuth("wrong")),
                JSON.readTree("{}"));
        assertEquals(302, r.status());
        String location = r.headers().get("location");
        assertTrue(location.startsWith(ado.rootUrl() + "/_signin?"), location);
        TargetHttp.Response page = http.get(location, Map.of());
        assertEquals(200, page.status());
        assertTrue(page.headers().get("content-type").startsWith("text/html"));
        assertEquals(302, http.get(ado.rootUrl() + "/acme/Payments/_apis/pipelines/7/runs/1000?api-version=7.1", Map.of()).status(),
                "no credentials: the same redirect");
        assertTrue(ado.triggers().isEmpty());
    }

    @Test
    void unknownPipelineIs500PipelineNotFoundException() throws Exception {
        TargetHttp.Response r = http.post(ado.runsUrl(999999), auth, JSON.readTree("{}"));
        assertEquals(500, r.status());
        assertEquals("PipelineNotFoundException", r.json().get("typeKey").asText());
        assertEquals("The pipeline '999999' does not exist", r.json().get("message").asText());
        assertTrue(r.json().has("$id") && r.json().has("eventId") && r.json().has("typeName"));
    }

    @Test
    void requestsOutsideTheSpecAreViolations() throws Exception {
        http.post(ado.runsUrl(7), auth, JSON.readTree("{\"templateParameters\":{\"env\":[1]}}"));
        http.get(ado.rootUrl() + "/acme/Payments/_apis/build/builds/1000/timeline", auth); // no api-version
        List<String> v = ado.contractViolations();
        assertEquals(2, v.size(), v::toString);
        assertTrue(v.get(0).contains("templateParameters") || v.get(0).contains("env"), v.get(0));
        assertTrue(v.get(1).contains("api-version"), v.get(1));
    }
}
