package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static io.portcamel.agent.testsupport.TestHttp.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FakeCircleCiTest {

    private FakeCircleCi circle;

    @BeforeEach
    void start() {
        circle = new FakeCircleCi("cci-token");
    }

    @AfterEach
    void stop() {
        if (circle != null) {
            circle.close();
        }
    }

    @Test
    void triggerKeepsTheEncodedSlugAndNumbersPipelinesPerProject() throws Exception {
        String url = circle.baseUrl() + "/project/gh%2Fmy%20org%2Fmy-repo/pipeline";
        String body = "{\"branch\":\"main\",\"parameters\":{\"service\":\"svc\"}}";
        TestHttp.Reply first = send("POST", url, body, "Circle-Token", "cci-token");
        assertEquals(201, first.status(), first.body());
        JsonNode created = first.json();
        UUID.fromString(created.get("id").asText());
        assertEquals("created", created.get("state").asText());
        assertEquals(1, created.get("number").asLong());
        assertNotNull(created.get("created_at").asText());
        assertEquals(2, send("POST", url, body, "Circle-Token", "cci-token").json().get("number").asLong());

        FakeCircleCi.Trigger t = circle.triggers().get(0);
        assertEquals("/api/v2/project/gh%2Fmy%20org%2Fmy-repo/pipeline", t.rawUrl(), "%2F must reach CircleCI encoded");
        assertEquals("gh/my org/my-repo", t.projectSlug());
        assertEquals("cci-token", t.header("circle-token"));
        assertEquals("svc", t.body().at("/parameters/service").asText());
        assertEquals("gh/my org/my-repo", circle.pipeline(t.pipelineId()).get("project_slug").asText());
        circle.assertNoContractViolations();
    }

    @Test
    void wrongOrMissingTokenGets401WithCircleCiErrorBody() throws Exception {
        String url = circle.baseUrl() + "/project/gh%2Fo%2Fr/pipeline";
        TestHttp.Reply wrong = send("POST", url, "{\"branch\":\"main\"}", "Circle-Token", "nope");
        assertEquals(401, wrong.status());
        assertEquals("Invalid token provided.", wrong.json().get("message").asText());
        assertEquals(401, send("POST", url, "{\"branch\":\"main\"}").status());
        assertTrue(circle.triggers().isEmpty());
        assertEquals(2, circle.requestCount());
    }

    @Test
    void branchAndTagTogetherIsRejectedAndBadParametersAreViolations() throws Exception {
        String url = circle.baseUrl() + "/project/gh%2Fo%2Fr/pipeline";
        TestHttp.Reply both = send("POST", url, "{\"branch\":\"main\",\"tag\":\"v1\"}", "Circle-Token", "cci-token");
        assertEquals(400, both.status());
        assertTrue(both.json().has("message"));
        send("POST", url, "{\"branch\":\"main\",\"parameters\":{\"x\":[1]}}", "Circle-Token", "cci-token");
        assertFalse(circle.contractViolations().isEmpty());
    }
}
