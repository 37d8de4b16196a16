package io.portcamel.agent.port;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.security.SecretMasker;

import org.apache.camel.CamelExecutionException;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.http.base.HttpOperationFailedException;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Typed calls to Port's REST API. The HTTP mechanics (base URL, token, one retry on 401, timeouts) live in the
 * {@code port-api} route (routes/port-api.camel.yaml); this class only names the calls and their bodies.
 */
public class PortApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ProducerTemplate template;
    private final SecretMasker masker;

    public PortApi(ProducerTemplate template, SecretMasker masker) {
        this.template = template;
        this.masker = masker;
    }

    public JsonNode call(String method, String path, JsonNode body) {
        String what = method + " " + path;
        try {
            Exchange ex = template.request("direct:port-api", e -> {
                e.setVariable("portMethod", io.portcamel.agent.targets.TargetCall.httpMethod(method));
                e.setVariable("portPath", path);
                e.getMessage().setBody(body == null ? null : JSON.writeValueAsString(body));
            });
            if (ex.getException() != null) {
                throw ex.getException();
            }
            String text = ex.getMessage().getBody(String.class);
            return text == null || text.isBlank() ? NullNode.getInstance() : JSON.readTree(text);
        } catch (PortApiException e) {
            io.portcamel.agent.ops.AgentMetrics.of(template.getCamelContext()).portError(e);
            throw e;
        } catch (Exception e) {
            throw io.portcamel.agent.ops.AgentMetrics.of(template.getCamelContext()).portError(translate(what, e));
        }
    }

    private PortOutbox outbox;

    /** From now on run updates go through the durable outbox instead of straight to Port. */
    public void useOutbox(PortOutbox outbox) {
        this.outbox = outbox;
        outbox.deliverWith(this);
    }

    /** A run update: queued in the outbox (delivered in order, survives outages and restarts), or sent at once. */
    private void update(String runId, String method, String path, JsonNode body) {
        if (outbox != null) {
            outbox.enqueue(runId, method, path, body);
        } else {
            call(method, path, body);
        }
    }

    // --- action runs -------------------------------------------------------------------------------------

    public void postRunLog(String runId, String message, String terminationStatus, String statusLabel) {
        ObjectNode body = JSON.createObjectNode().put("message", message);
        if (terminationStatus != null) body.put("terminationStatus", terminationStatus);
        if (statusLabel != null) body.put("statusLabel", statusLabel);
        update(runId, "POST", "/v1/actions/runs/" + enc(runId) + "/logs", body);
    }

    public void patchRun(String runId, ObjectNode patch) {
        update(runId, "PATCH", "/v1/actions/runs/" + enc(runId), patch);
    }

    /** Port-agent's undocumented call for synchronized runs: the target's answer shown on the run. */
    public void patchRunResponse(String runId, JsonNode response) {
        update(runId, "PATCH", "/v1/actions/runs/" + enc(runId) + "/response", JSON.createObjectNode().set("response", response));
    }

    /** Upserts an entity under the run (Port lists it on the run page; only while the run is IN_PROGRESS). */
    public void upsertEntity(String blueprint, ObjectNode entity, String runId) {
        update(runId, "POST", "/v1/blueprints/" + enc(blueprint) + "/entities?upsert=true&merge=true&run_id=" + enc(runId), entity);
    }

    // --- workflow-node runs (context.runId starting with wfnr_) -----------------------------------------------

    public void postWorkflowNodeLog(String nodeRunId, String level, String message) {
        ObjectNode log = JSON.createObjectNode().put("level", level).put("message", message);
        ObjectNode body = JSON.createObjectNode();
        body.putArray("logs").add(log);
        update(nodeRunId, "POST", "/v1/workflows/nodes/runs/" + enc(nodeRunId) + "/logs", body);
    }

    public void patchWorkflowNodeRun(String nodeRunId, ObjectNode patch) {
        update(nodeRunId, "PATCH", "/v1/workflows/nodes/runs/" + enc(nodeRunId), patch);
    }

    // --- agent plumbing ------------------------------------------------------------------------------------

    public JsonNode kafkaCredentials() {
        return call("GET", "/v1/kafka-credentials", null).path("credentials");
    }

    /** port-agent's claim for POLLING mode (internal endpoint, header x-port-reserved-usage set by the route). */
    public ArrayNode claimPendingRuns(int limit) {
        ObjectNode body = JSON.createObjectNode().put("installationId", "_PORT_EXEC_AGENT").put("limit", limit)
                .put("invocationMethod", "WEBHOOK");
        JsonNode runs = call("POST", "/v1/actions/runs/claim-pending", body).path("runs");
        return runs instanceof ArrayNode a ? a : JSON.createArrayNode();
    }

    public void ackRuns(List<String> runIds) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode ids = body.putArray("runIds");
        runIds.forEach(ids::add);
        call("PATCH", "/v1/actions/runs/ack", body);
    }

    public void announceStreamer(String streamerName) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("settings").put("portAgentStreamerName", streamerName);
        call("PATCH", "/v1/organization", body);
    }

    public String mask(String text) {
        return masker.mask(text);
    }

    private static String enc(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Turns what Camel threw into a PortApiException that says which call failed and why (masked). */
    static PortApiException translate(String what, Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CamelExecutionException || cause instanceof org.apache.camel.RuntimeCamelException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof HttpOperationFailedException h) {
            String body = h.getResponseBody() == null ? "" : h.getResponseBody();
            if (body.length() > 500) body = body.substring(0, 500) + "…";
            return new PortApiException("Port answered " + h.getStatusCode() + " to " + what + ": " + body, h.getStatusCode(), h);
        }
        if (cause instanceof IOException io) {
            return new PortApiException("Port could not be reached for " + what + ": " + io, -1, io);
        }
        return new PortApiException("Port call " + what + " failed: " + cause, -1, cause);
    }
}
