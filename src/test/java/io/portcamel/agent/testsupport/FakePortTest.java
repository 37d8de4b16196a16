package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static io.portcamel.agent.testsupport.TestHttp.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FakePortTest {

    private FakePort port;

    @BeforeEach
    void start() {
        port = new FakePort("id-1", "secret-1");
    }

    @AfterEach
    void stop() {
        if (port != null) {
            port.close();
        }
    }

    private String token() throws Exception {
        TestHttp.Reply r = send("POST", port.baseUrl() + "/v1/auth/access_token",
                "{\"clientId\":\"id-1\",\"clientSecret\":\"secret-1\"}");
        assertEquals(200, r.status(), r.body());
        return r.json().get("accessToken").asText();
    }

    private TestHttp.Reply call(String method, String path, String body, String token) throws Exception {
        return send(method, port.baseUrl() + path, body, "Authorization", "Bearer " + token);
    }

    @Test
    void tokenIsStableUntilExpiredAndWrongCredentialsGet401() throws Exception {
        TestHttp.Reply ok = send("POST", port.baseUrl() + "/v1/auth/access_token",
                "{\"clientId\":\"id-1\",\"clientSecret\":\"secret-1\"}");
        assertEquals(200, ok.status());
        JsonNode body = ok.json();
        assertTrue(body.get("ok").asBoolean());
        assertEquals(10800, body.get("expiresIn").asInt());
        assertEquals("Bearer", body.get("tokenType").asText());
        String first = body.get("accessToken").asText();
        assertEquals(first, token(), "one active token per credential set");

        TestHttp.Reply bad = send("POST", port.baseUrl() + "/v1/auth/access_token",
                "{\"clientId\":\"id-1\",\"clientSecret\":\"wrong\"}");
        assertEquals(401, bad.status());
        assertFalse(bad.json().get("ok").asBoolean());
        assertEquals("unauthorized", bad.json().get("error").asText());

        port.expireTokens();
        assertEquals(401, call("GET", "/v1/actions/runs/r_1", null, first).status(), "expired token is rejected");
        String second = token();
        assertNotEquals(first, second);
        assertEquals(200, call("GET", "/v1/actions/runs/r_1", null, second).status());
        assertEquals(4, port.tokenRequests());
        port.assertNoContractViolations();
    }

    @Test
    void callsWithoutOrWithWrongBearerGet401() throws Exception {
        TestHttp.Reply none = send("POST", port.baseUrl() + "/v1/actions/runs/r_1/logs", "{\"message\":\"hi\"}");
        assertEquals(401, none.status());
        assertEquals("unauthorized", none.json().get("error").asText());
        token();
        assertEquals(401, call("GET", "/v1/kafka-credentials", null, "not-the-token").status());
        assertTrue(port.logs("r_1").isEmpty(), "rejected logs are not stored");
    }

    @Test
    void logsAreStoredInOrderAndTerminationEndsTheRunOnce() throws Exception {
        String t = token();
        TestHttp.Reply first = call("POST", "/v1/actions/runs/r_1/logs", "{\"message\":\"An action message has been received\"}", t);
        assertEquals(201, first.status(), first.body());
        JsonNode runLog = first.json().get("runLog");
        assertTrue(runLog.get("id").asText().startsWith("log_"));
        assertEquals("r_1", runLog.get("runId").asText());
        assertEquals("An action message has been received", runLog.get("message").asText());
        assertEquals("IN_PROGRESS", port.run("r_1").get("status").asText());

        assertEquals(201, call("POST", "/v1/actions/runs/r_1/logs",
                "{\"message\":\"done\",\"terminationStatus\":\"SUCCESS\",\"statusLabel\":\"Finished\"}", t).status());
        ObjectNode run = port.run("r_1");
        assertEquals("SUCCESS", run.get("status").asText());
        assertEquals("Finished", run.get("statusLabel").asText());
        assertFalse(run.get("endedAt").isNull());

        TestHttp.Reply again = call("POST", "/v1/actions/runs/r_1/logs",
                "{\"message\":\"again\",\"terminationStatus\":\"FAILURE\"}", t);
        assertEquals(422, again.status());
        assertEquals("run_already_ended", again.json().get("error").asText());
        assertEquals(201, call("POST", "/v1/actions/runs/r_1/logs", "{\"message\":\"after the end\"}", t).status(),
                "a plain log is still accepted after the end");
        assertEquals(List.of("An action message has been received", "done", "after the end"), port.logMessages("r_1"));
        assertEquals("SUCCESS", port.run("r_1").get("status").asText());
        port.awaitLog("r_1", m -> m.startsWith("after"), Duration.ofSeconds(1));
        port.assertNoContractViolations();
    }

    @Test
    void patchReplacesKeysEndsTheRunAndThenGets422() throws Exception {
        String t = token();
        assertEquals(200, call("PATCH", "/v1/actions/runs/r_2",
                "{\"statusLabel\":\"Triggered\",\"link\":\"https://ci/1\",\"externalRunId\":\"42\"}", t).status());
        ObjectNode run = port.run("r_2");
        assertEquals("IN_PROGRESS", run.get("status").asText(), "a label-only patch keeps the run going");
        assertEquals("Triggered", run.get("statusLabel").asText());

        TestHttp.Reply done = call("PATCH", "/v1/actions/runs/r_2",
                "{\"status\":\"FAILURE\",\"link\":[\"https://ci/1\",\"https://ci/2\"],\"summary\":\"boom\"}", t);
        assertEquals(200, done.status(), done.body());
        assertEquals("FAILURE", done.json().at("/run/status").asText());
        run = port.run("r_2");
        assertEquals("FAILURE", run.get("status").asText());
        assertEquals(2, run.get("link").size(), "last link wins");
        assertEquals("Triggered", run.get("statusLabel").asText(), "keys not sent are kept");
        assertEquals("42", run.get("externalRunId").asText());
        assertEquals("boom", run.get("summary").asText());
        assertFalse(run.get("endedAt").isNull());

        TestHttp.Reply late = call("PATCH", "/v1/actions/runs/r_2", "{\"statusLabel\":\"late\"}", t);
        assertEquals(422, late.status());
        assertEquals("run_already_ended", late.json().get("error").asText());
        assertEquals(2, port.patches("r_2").size(), "rejected patches are not stored");

        JsonNode got = call("GET", "/v1/actions/runs/r_2?version=v2", null, t).json();
        assertEquals("FAILURE", got.at("/run/status").asText());
        port.awaitStatus("r_2", "FAILURE", Duration.ofSeconds(1));
        port.assertNoContractViolations();
    }

    @Test
    void unknownPatchKeysAndBadStatusAre422AndFlaggedAsContractViolations() throws Exception {
        String t = token();
        TestHttp.Reply unknown = call("PATCH", "/v1/actions/runs/r_3", "{\"state\":\"SUCCESS\"}", t);
        assertEquals(422, unknown.status());
        assertFalse(unknown.json().get("ok").asBoolean());
        TestHttp.Reply done = call("PATCH", "/v1/actions/runs/r_3", "{\"status\":\"DONE\"}", t);
        assertEquals(422, done.status());
        assertEquals("IN_PROGRESS", port.run("r_3").get("status").asText());

        List<String> violations = port.contractViolations();
        assertEquals(2, violations.size(), String.join("\n", violations));
        assertTrue(violations.get(0).contains("state"), violations.get(0));
        assertTrue(violations.get(1).contains("DONE"), violations.get(1));
        assertThrows(AssertionError.class, port::assertNoContractViolations);
    }

    @Test
    void validPatchHasNoViolationButInvalidLogBodyHas() throws Exception {
        String t = token();
        call("PATCH", "/v1/actions/runs/r_4", "{\"status\":\"SUCCESS\",\"statusLabel\":\"ok\"}", t);
        assertTrue(port.contractViolations().isEmpty(), port.contractViolations().toString());
        call("POST", "/v1/actions/runs/r_5/logs", "{\"terminationStatus\":\"SUCCESS\"}", t); // message missing
        assertEquals(1, port.contractViolations().size(), port.contractViolations().toString());
    }

    @Test
    void awaitStatusFailsWithWhatPortReceived() throws Exception {
        String t = token();
        call("POST", "/v1/actions/runs/r_6/logs", "{\"message\":\"still working\"}", t);
        AssertionError e = assertThrows(AssertionError.class,
                () -> port.awaitStatus("r_6", "SUCCESS", Duration.ofMillis(200)));
        assertTrue(e.getMessage().contains("still working"), e.getMessage());
        assertTrue(e.getMessage().contains("POST /v1/actions/runs/r_6/logs"), e.getMessage());
    }

    @Test
    void internalEndpointsPollingAckCredentialsOrganizationResponseAndEntities() throws Exception {
        String t = token();
        port.setKafkaCredentials(List.of("127.0.0.1:1234"), "user", "pass");
        JsonNode creds = call("GET", "/v1/kafka-credentials", null, t).json().get("credentials");
        assertEquals("127.0.0.1:1234", creds.get("brokers").get(0).asText());
        assertEquals("user", creds.get("username").asText());

        assertEquals(200, call("PATCH", "/v1/organization", "{\"settings\":{\"portAgentStreamerName\":\"KAFKA\"}}", t).status());
        assertEquals("KAFKA", port.organizationPatches().get(0).at("/settings/portAgentStreamerName").asText());

        for (int i = 1; i <= 3; i++) {
            port.enqueuePolledRun(TestHttp.JSON.createObjectNode().put("id", "r_p" + i));
        }
        String claim = "{\"installationId\":\"_PORT_EXEC_AGENT\",\"limit\":2,\"invocationMethod\":\"WEBHOOK\"}";
        assertEquals(400, call("POST", "/v1/actions/runs/claim-pending", claim, t).status(), "reserved-usage header required");
        JsonNode runs = send("POST", port.baseUrl() + "/v1/actions/runs/claim-pending", claim,
                "Authorization", "Bearer " + t, "x-port-reserved-usage", "true").json().get("runs");
        assertEquals(2, runs.size());
        assertEquals("r_p1", runs.get(0).get("id").asText());
        JsonNode rest = send("POST", port.baseUrl() + "/v1/actions/runs/claim-pending", claim,
                "Authorization", "Bearer " + t, "x-port-reserved-usage", "true").json().get("runs");
        assertEquals(1, rest.size());

        JsonNode acked = call("PATCH", "/v1/actions/runs/ack", "{\"runIds\":[\"r_p1\",\"r_p2\"]}", t).json();
        assertEquals(2, acked.get("ackedCount").asInt());
        assertEquals(List.of("r_p1", "r_p2"), port.ackedRunIds());

        assertEquals(200, call("PATCH", "/v1/actions/runs/r_p1/response", "{\"response\":{\"a\":1}}", t).status());
        assertEquals(1, port.responses("r_p1").get(0).at("/response/a").asInt());

        TestHttp.Reply up = call("POST", "/v1/blueprints/microservice/entities?upsert=true&run_id=r_p1",
                "{\"identifier\":\"svc\",\"title\":\"svc\",\"properties\":{\"region\":\"eu-west-1\"}}", t);
        assertEquals(201, up.status(), up.body());
        FakePort.EntityUpsert u = port.entityUpserts().get(0);
        assertEquals("microservice", u.blueprint());
        assertEquals("r_p1", u.runId());
        assertEquals("svc", u.body().get("identifier").asText());

        port.assertNoContractViolations(); // internal endpoints are skipped, the rest conform
    }

    @Test
    void failureInjection() throws Exception {
        String t = token();
        port.failNext(2, 503);
        assertEquals(503, call("GET", "/v1/actions/runs/r_7", null, t).status());
        assertEquals(503, call("GET", "/v1/actions/runs/r_7", null, t).status());
        assertEquals(200, call("GET", "/v1/actions/runs/r_7", null, t).status());

        port.setUnavailable(true);
        assertEquals(503, call("GET", "/v1/actions/runs/r_7", null, t).status());
        port.setUnavailable(false);

        port.setDown(true);
        assertThrows(IOException.class, () -> call("GET", "/v1/actions/runs/r_7", null, t));
        port.setDown(false);
        assertEquals(200, call("GET", "/v1/actions/runs/r_7", null, t).status());
        assertTrue(port.requestCount() >= 6);
        assertEquals(port.requestCount(), port.allRequests().size());
    }

    @Test
    void malformedBodiesAre422AndPutRunSeedsState() throws Exception {
        assertEquals(422, send("POST", port.baseUrl() + "/v1/auth/access_token", "{\"clientId\":\"id-1\"}").status());
        String t = token();
        assertEquals(422, call("PATCH", "/v1/actions/runs/r_8", "{\"link\":42}", t).status());
        assertEquals(422, call("PATCH", "/v1/actions/runs/r_8", "not json", t).status());
        assertEquals(422, call("POST", "/v1/actions/runs/r_8/logs", "{\"terminationStatus\":\"SUCCESS\"}", t).status());
        assertEquals("IN_PROGRESS", port.run("r_8").get("status").asText());
        assertTrue(port.patches("r_8").isEmpty());

        port.putRun("r_9", TestHttp.JSON.createObjectNode().put("status", "WAITING_FOR_APPROVAL"));
        assertEquals("WAITING_FOR_APPROVAL", call("GET", "/v1/actions/runs/r_9", null, t).json().at("/run/status").asText());
        assertEquals(404, call("GET", "/v1/not-an-endpoint", null, t).status());
    }
}
