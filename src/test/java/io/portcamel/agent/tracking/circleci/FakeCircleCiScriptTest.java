package io.portcamel.agent.tracking.circleci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.tracking.JdkTargetHttp;
import io.portcamel.agent.tracking.TargetHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import static io.portcamel.agent.testsupport.FakeCircleCi.approval;
import static io.portcamel.agent.testsupport.FakeCircleCi.job;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflow;
import static io.portcamel.agent.testsupport.FakeCircleCi.workflows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scripted side of FakeCircleCi: shapes, progression, ids kept across snapshots, paging, the run endpoint. */
class FakeCircleCiScriptTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private FakeCircleCi circle;
    private final TargetHttp http = new JdkTargetHttp();
    private final Map<String, String> auth = Map.of("Circle-Token", "t");

    @BeforeEach
    void start() {
        circle = new FakeCircleCi("t");
    }

    @AfterEach
    void stop() {
        try {
            circle.assertNoContractViolations();
        } finally {
            circle.close();
        }
    }

    private String trigger() throws Exception {
        return http.post(circle.baseUrl() + "/project/gh%2Facme%2Fapi/pipeline", auth, JSON.readTree("{\"branch\":\"main\"}"))
                .json().get("id").asText();
    }

    @Test
    void snapshotsAdvanceOnEachPipelineGetAndKeepIds() throws Exception {
        circle.script(FakeCircleCi.NEXT,
                workflows(workflow("build", "on_hold", approval("hold", "on_hold"), job("ship", "blocked"))),
                workflows(workflow("build", "success", approval("hold", "success"), job("ship", "success"))));
        String id = trigger();
        JsonNode p = http.get(circle.baseUrl() + "/pipeline/" + id, auth).json();
        assertEquals("created", p.get("state").asText());
        assertEquals("gh/acme/api", p.get("project_slug").asText());
        assertEquals(1, p.get("number").asInt());
        assertEquals("main", p.at("/vcs/branch").asText());
        assertEquals(40, p.at("/vcs/revision").asText().length());

        JsonNode wf = http.get(circle.baseUrl() + "/pipeline/" + id + "/workflow", auth).json();
        assertTrue(wf.get("next_page_token").isNull());
        JsonNode w = wf.get("items").get(0);
        assertEquals("on_hold", w.get("status").asText());
        assertTrue(w.get("stopped_at").isNull());
        assertEquals(id, w.get("pipeline_id").asText());
        JsonNode jobs = http.get(circle.baseUrl() + "/workflow/" + w.get("id").asText() + "/job", auth).json().get("items");
        assertEquals("approval", jobs.get(0).get("type").asText());
        assertFalse(jobs.get(0).has("job_number"));
        assertEquals("blocked", jobs.get(1).get("status").asText());
        assertFalse(jobs.get(1).has("job_number"), "a job gets its number when it starts");
        assertTrue(jobs.get(1).get("started_at").isNull());

        http.get(circle.baseUrl() + "/pipeline/" + id, auth); // advance
        JsonNode w2 = http.get(circle.baseUrl() + "/pipeline/" + id + "/workflow", auth).json().get("items").get(0);
        assertEquals(w.get("id").asText(), w2.get("id").asText(), "same workflow, new status");
        assertEquals("success", w2.get("status").asText());
        assertEquals("success", http.get(circle.baseUrl() + "/workflow/" + w2.get("id").asText(), auth).json().get("status").asText());
        JsonNode jobs2 = http.get(circle.baseUrl() + "/workflow/" + w2.get("id").asText() + "/job", auth).json().get("items");
        assertEquals(jobs.get(1).get("id").asText(), jobs2.get(1).get("id").asText());
        assertEquals(1, jobs2.get(1).get("job_number").asInt());
        http.get(circle.baseUrl() + "/pipeline/" + id, auth);
        assertEquals("success", http.get(circle.baseUrl() + "/pipeline/" + id + "/workflow", auth).json().at("/items/0/status").asText(),
                "the last snapshot stays");
    }

    @Test
    void erroredPipelineCarriesItsErrors() throws Exception {
        String id = trigger();
        circle.script(id, FakeCircleCi.errored("config-fetch", "Failed to fetch config"));
        JsonNode p = http.get(circle.baseUrl() + "/pipeline/" + id, auth).json();
        assertEquals("errored", p.get("state").asText());
        assertEquals("config-fetch", p.at("/errors/0/type").asText());
        assertEquals("Failed to fetch config", p.at("/errors/0/message").asText());
    }

    @Test
    void workflowListsArePagedWithAnOpaqueToken() throws Exception {
        circle.pageSize(2);
        circle.script(FakeCircleCi.NEXT, workflows(workflow("a", "success"), workflow("b", "success"), workflow("c", "running")));
        String id = trigger();
        JsonNode first = http.get(circle.baseUrl() + "/pipeline/" + id + "/workflow", auth).json();
        assertEquals(2, first.get("items").size());
        String token = first.get("next_page_token").asText();
        JsonNode second = http.get(circle.baseUrl() + "/pipeline/" + id + "/workflow?page-token=" + token, auth).json();
        assertEquals("c", second.at("/items/0/name").asText());
        assertTrue(second.get("next_page_token").isNull());
    }

    @Test
    void unknownPipelineOrWorkflowIs404AndBasicAuthIsAccepted() throws Exception {
        String basic = "Basic " + Base64.getEncoder().encodeToString("t:".getBytes(StandardCharsets.UTF_8));
        TargetHttp.Response r = http.get(circle.baseUrl() + "/pipeline/5034460f-c7c4-4c43-9457-de07e2029e7b",
                Map.of("Authorization", basic));
        assertEquals(404, r.status());
        assertEquals("Pipeline not found", r.json().get("message").asText());
        assertEquals(404, http.get(circle.baseUrl() + "/workflow/5034460f-c7c4-4c43-9457-de07e2029e7b/job", auth).status());
        assertEquals(401, http.get(circle.baseUrl() + "/pipeline/5034460f-c7c4-4c43-9457-de07e2029e7b",
                Map.of("Authorization", "Bearer t")).status());
    }

    @Test
    void theRunEndpointCreatesAPipelineWithTheShortProviderSlug() throws Exception {
        TargetHttp.Response r = http.post(circle.baseUrl() + "/project/github/acme/api/pipeline/run", auth,
                JSON.readTree("{\"definition_id\":\"2338d0ae-5541-4bbf-88a2-55e9f7281f80\",\"checkout\":{\"tag\":\"v1\"}}"));
        assertEquals(201, r.status(), r.body());
        String id = r.json().get("id").asText();
        assertEquals("github/acme/api", circle.triggers().get(0).projectSlug());
        JsonNode p = http.get(circle.baseUrl() + "/pipeline/" + id, auth).json();
        assertEquals("gh/acme/api", p.get("project_slug").asText());
        assertEquals("v1", p.at("/vcs/tag").asText());
        assertFalse(p.path("vcs").has("branch"));
    }
}
