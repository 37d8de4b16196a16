package io.portcamel.agent.tracking.azure;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TargetTracker;
import io.portcamel.agent.tracking.TrackStart;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Azure DevOps incoming-webhook trigger (REFERENCE §6.1, §8): its answer is a 200 without a body, so there is no
 * run id and nothing to poll. This tracker exists so such a mapping can still declare {@code track} and get an honest
 * run log: the pipeline itself must PATCH the Port run, or the tracking deadline ends the run FAILURE. Polls change
 * nothing and never end the run.
 */
public class AzureWebhookTracker implements TargetTracker {

    public static final String TYPE = "azure-devops-webhook";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;

    /** With the system clock (UTC). */
    public AzureWebhookTracker() {
        this(Clock.systemUTC());
    }

    /** @param clock stamps the start time kept in the state */
    public AzureWebhookTracker(Clock clock) {
        this.clock = Objects.requireNonNull(clock);
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** Keeps the webhook URL and status for the record; never fails (a non-2xx trigger is not tracked at all). */
    @Override
    public ObjectNode start(TrackStart trigger) {
        ObjectNode state = JSON.createObjectNode();
        state.put("webhookUrl", trigger.request() == null ? "" : trigger.request().path("url").asText(""));
        state.put("statusCode", trigger.statusCode());
        state.put("startedAt", clock.millis());
        return state;
    }

    @Override
    public String startMessage(ObjectNode state) {
        return "Azure DevOps incoming webhooks return no run id: this run cannot be followed; the pipeline must report to"
                + " Port itself (PATCH /v1/actions/runs/{runId}), or the run ends FAILURE at its deadline";
    }

    /** Nothing to ask: no new line, no label, no terminal status (the deadline, handled by the caller, ends the run). */
    @Override
    public PollResult poll(ObjectNode state, Map<String, String> authHeaders, TargetHttp http) {
        return new PollResult(state, List.of(), null, null, null, null, JSON.createObjectNode(), false);
    }
}
