package io.portcamel.agent.tracking.azure;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TrackStart;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AzureWebhookTrackerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theWebhookRunCannotBeFollowedAndSaysSo() throws Exception {
        AzureWebhookTracker tracker = new AzureWebhookTracker();
        assertEquals("azure-devops-webhook", tracker.type());
        String url = "https://dev.azure.com/acme/_apis/public/distributedtask/webhooks/port?api-version=6.0-preview";
        ObjectNode state = tracker.start(new TrackStart(JSON.createObjectNode(), JSON.createObjectNode().put("url", url),
                Map.of(), 200, null, JSON.createObjectNode()));
        assertEquals(url, state.get("webhookUrl").asText());
        assertEquals("Azure DevOps incoming webhooks return no run id: this run cannot be followed; the pipeline must report"
                + " to Port itself (PATCH /v1/actions/runs/{runId}), or the run ends FAILURE at its deadline", tracker.startMessage(state));

        PollResult r = tracker.poll(state, Map.of(), null); // no HTTP at all
        assertEquals(state, r.state());
        assertTrue(r.newLogLines().isEmpty());
        assertNull(r.statusLabel());
        assertNull(r.link());
        assertNull(r.externalRunId());
        assertNull(r.terminal(), "only the deadline ends such a run");
        assertTrue(r.facts().isEmpty());
    }

    @Test
    void signatureMatchesTheGoldenVector() {
        byte[] body = "{\"resource\":{\"message\":{\"title\":\"Hello, world!\",\"subtitle\":\"I'm using WebHooks!\"}}}"
                .getBytes(StandardCharsets.UTF_8);
        assertEquals("750D33212D3AD4932CC390819050734831A0A94F", AzureWebhookSignature.hmacSha1Hex("secret", body));
        byte[] pretty = "{ \"resource\":{\"message\":{\"title\":\"Hello, world!\",\"subtitle\":\"I'm using WebHooks!\"}}}"
                .getBytes(StandardCharsets.UTF_8);
        assertNotEquals("750D33212D3AD4932CC390819050734831A0A94F", AzureWebhookSignature.hmacSha1Hex("secret", pretty),
                "the checksum is over the exact bytes: send minified JSON");
    }
}
