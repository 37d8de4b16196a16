package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.portcamel.agent.testsupport.TestHttp.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FakeWorkOrderTest {

    private static final String[] AUTH = {"Authorization", "Bearer tok"};
    private static final String RUN_BODY = "{\"branch\":\"master\",\"webhook\":\"http://172.23.20.137:8005/release/querystate\"}";

    private FakeWorkOrder paas;

    @BeforeEach
    void start() {
        paas = new FakeWorkOrder("tok");
        paas.addApp("web");
    }

    @AfterEach
    void stop() {
        paas.close();
    }

    private String project() {
        return paas.host() + "/v3/project/c-64wdm:p-5tfq9";
    }

    @Test
    void runCreatesAnExecutionThatProgressesOneStepPerGet() throws Exception {
        TestHttp.Reply run = send("POST", paas.runUrl("p-tpk2x"), RUN_BODY, AUTH);
        assertEquals(200, run.status(), run.body());
        JsonNode e = run.json();
        assertEquals("p-5tfq9:p-tpk2x-10", e.get("id").asText());
        assertEquals(10, e.get("run").asInt());
        assertEquals("active", e.get("state").asText());
        assertEquals("c-64wdm:p-5tfq9", e.get("projectId").asText());
        assertEquals("p-5tfq9:p-tpk2x-11",
                send("POST", paas.runUrl("p-tpk2x"), RUN_BODY, AUTH).json().get("id").asText());

        String url = project() + "/pipelineExecutions/p-5tfq9:p-tpk2x-10";
        JsonNode w = send("GET", url, null, AUTH).json();
        assertEquals("Waiting", w.get("executionState").asText());
        assertEquals("Unknown", w.at("/conditions/0/status").asText());
        assertEquals("Clone", w.at("/pipelineConfig/stages/0/name").asText());
        assertFalse(w.at("/stages/0").has("name"), "stages have no name upstream");
        assertEquals(url, w.at("/links/self").asText());
        JsonNode b = send("GET", url, null, AUTH).json();
        assertEquals("Building", b.get("executionState").asText());
        assertEquals("Success", b.at("/stages/0/state").asText());
        assertEquals("Building", b.at("/stages/1/state").asText());
        JsonNode s = send("GET", url, null, AUTH).json();
        assertEquals("Success", s.get("executionState").asText());
        assertEquals("Built", s.at("/conditions/2/type").asText());
        assertEquals("True", s.at("/conditions/2/status").asText());
        assertEquals("master-10-3f2a9c1", s.get("versionTag").asText());
        assertEquals("harbor.example/p-5tfq9/p-tpk2x", s.get("dockerImage").asText());
        assertEquals("Success", send("GET", url, null, AUTH).json().get("executionState").asText(), "last step repeats");
        assertEquals("master", paas.runs().get(0).body().get("branch").asText());
    }

    @Test
    void failedAndEarlyFalseScripts() throws Exception {
        paas.nextBuild(FakeWorkOrder.BuildScript.FAILED);
        send("POST", paas.runUrl("p-tpk2x"), RUN_BODY, AUTH);
        paas.nextBuild(FakeWorkOrder.BuildScript.PROVISION_FAILED);
        send("POST", paas.runUrl("p-tpk2x"), RUN_BODY, AUTH);
        String failed = project() + "/pipelineExecutions/p-5tfq9:p-tpk2x-10";
        for (int i = 0; i < 2; i++) {
            send("GET", failed, null, AUTH);
        }
        JsonNode f = send("GET", failed, null, AUTH).json();
        assertEquals("Failed", f.get("executionState").asText());
        assertEquals("Buildinfo got FAILED status", f.at("/conditions/2/message").asText());
        assertEquals("False", f.at("/conditions/2/status").asText());

        String early = project() + "/pipelineExecutions/p-5tfq9:p-tpk2x-11";
        send("GET", early, null, AUTH);
        JsonNode p = send("GET", early, null, AUTH).json();
        assertEquals("Waiting", p.get("executionState").asText());
        assertEquals("no available executor", p.at("/conditions/1/message").asText());
    }

    @Test
    void runRequiresTokenBranchAndTheRunAction() throws Exception {
        TestHttp.Reply noToken = send("POST", paas.runUrl("p-tpk2x"), RUN_BODY);
        assertEquals(401, noToken.status());
        assertEquals("error", noToken.json().get("type").asText());
        assertEquals("Unauthorized", noToken.json().get("code").asText());
        assertEquals(401, send("POST", paas.runUrl("p-tpk2x"), RUN_BODY, "Authorization", "Bearer nope").status());

        TestHttp.Reply noBranch = send("POST", paas.runUrl("p-tpk2x"), "{\"webhook\":\"http://x\"}", AUTH);
        assertEquals(422, noBranch.status());
        assertEquals("InvalidBodyContent", noBranch.json().get("code").asText());
        assertEquals("422", noBranch.json().get("status").asText());
        assertEquals(422, send("POST", paas.runUrl("p-tpk2x").replace("action=run", "action=stop"), RUN_BODY, AUTH)
                .status());
        assertEquals(403, send("POST", paas.host() + "/v3/project/c-other:p-x/pipelines/p-x:p-1?action=run", RUN_BODY,
                AUTH).status());
        assertEquals(404, send("GET", project() + "/pipelineExecutions/p-5tfq9:p-tpk2x-99", null, AUTH).status());

        paas.rejectBranch("dev", "condition is not match, no build is triggered");
        TestHttp.Reply rejected = send("POST", paas.runUrl("p-tpk2x"), "{\"branch\":\"dev\"}", AUTH);
        assertEquals(500, rejected.status());
        assertEquals("condition is not match, no build is triggered", rejected.json().get("message").asText());
        assertTrue(paas.runs().isEmpty());
    }

    @Test
    void upgradeNeedsAVersionTagThenRollsOut() throws Exception {
        String app = project() + "/apps/p-5tfq9:web";
        JsonNode before = send("GET", app, null, AUTH).json();
        assertEquals(FakeWorkOrder.PREVIOUS_RELEASE_TIME, before.at("/conditions/0/lastUpdateTime").asText());

        TestHttp.Reply noTag = send("POST", app + "?action=upgradeoutter", "{}", AUTH);
        assertEquals(422, noTag.status());
        assertEquals("InvalidBodyContent", noTag.json().get("code").asText());
        assertEquals(422, send("POST", app + "?action=rollback", "{\"versionTag\":\"v1\"}", AUTH).status());
        assertEquals(404, send("POST", project() + "/apps/p-5tfq9:nope?action=upgradeoutter", "{\"versionTag\":\"v1\"}",
                AUTH).status());

        assertEquals(200, send("POST", app + "?action=upgradeoutter", "{\"versionTag\":\"v1\"}", AUTH).status());
        assertEquals("v1", paas.upgrades().get(0).body().get("versionTag").asText());
        assertEquals("upgradeoutter", paas.upgrades().get(0).action());
        JsonNode updating = send("GET", app, null, AUTH).json();
        assertEquals("Unknown", updating.at("/conditions/1/status").asText());
        assertEquals("workloads are updating", updating.at("/conditions/1/message").asText());
        JsonNode done = send("GET", app, null, AUTH).json();
        assertEquals("True", done.at("/conditions/0/status").asText());
        assertEquals("True", done.at("/conditions/1/status").asText());
        assertEquals("v1", paas.appVersionTag("web"));

        paas.nextRelease(FakeWorkOrder.ReleaseScript.HELM_FAILED);
        send("POST", app + "?action=upgradeoutter", "{\"versionTag\":\"v2\"}", AUTH);
        send("GET", app, null, AUTH);
        JsonNode helm = send("GET", app, null, AUTH).json();
        assertEquals("False", helm.at("/conditions/0/status").asText());
        assertTrue(helm.at("/conditions/0/message").asText().startsWith("failed to install app web. "));
    }

    @Test
    void deployLogsAreTextUnlessScriptedOtherwise() throws Exception {
        String logs = project() + "/deployLogs/p-5tfq9:web";
        TestHttp.Reply text = send("GET", logs, null, AUTH);
        assertEquals(200, text.status());
        assertEquals(FakeWorkOrder.DEPLOY_LOG_TEXT, text.body());
        paas.deployLogs("web", 404, "application/json", "");
        assertEquals(404, send("GET", logs, null, AUTH).status());
        assertEquals(404, send("GET", project() + "/deployLogs/p-5tfq9:nope", null, AUTH).status());
    }
}
