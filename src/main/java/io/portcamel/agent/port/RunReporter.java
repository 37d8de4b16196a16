package io.portcamel.agent.port;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.run.RunContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a run tells Port, whatever kind of run it is: action runs and workflow-node runs have different endpoints
 * and shapes, change-log events have nowhere to report to. Log lines never stop a run (as in port-agent); a failed
 * log call is logged locally with the run id.
 */
public class RunReporter {
    private static final Logger LOG = LoggerFactory.getLogger(RunReporter.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PortApi port;

    public RunReporter(PortApi port) {
        this.port = port;
    }

    /**
     * A line for the run's log, kept with the run until {@link #flush} (or any other update of the run): the dispatch
     * writes port-agent's lines before and after the target call as one outbox entry each, not one per line.
     */
    public void logLater(RunContext run, String message) {
        if (run.kind() == RunContext.Kind.ACTION_RUN) {
            run.pendingLines().add(message);
        } else {
            log(run, message);
        }
    }

    /** Queues the lines kept by {@link #logLater} (one log call, one line each in Port's run log). */
    public void flush(RunContext run) {
        if (run.pendingLines().isEmpty()) {
            return;
        }
        send(run, String.join("\n", run.pendingLines()));
        run.pendingLines().clear(); // only once queued: after a store failure the lines are still here
    }

    /** A line in the run's log in Port (after any lines kept for it). */
    public void log(RunContext run, String message) {
        flush(run);
        send(run, message);
    }

    private void send(RunContext run, String message) {
        try {
            switch (run.kind()) {
                case ACTION_RUN -> port.postRunLog(run.runId(), message, null, null);
                case WORKFLOW_NODE_RUN -> port.postWorkflowNodeLog(run.runId(), "INFO", message);
                case UNREPORTED -> { }
            }
        } catch (PortApiException e) {
            LOG.warn("run {}: could not add the log line \"{}\" to Port: {}", run.label(), message, e.getMessage());
        }
    }

    /** The synchronized target response, shown on the run page (action runs only, as port-agent). */
    public void response(RunContext run, JsonNode response) {
        flush(run);
        if (run.kind() == RunContext.Kind.ACTION_RUN) {
            port.patchRunResponse(run.runId(), response);
        }
    }

    /**
     * The report PATCH (status, statusLabel, link, summary, externalRunId). Workflow-node runs ignore the report
     * as in port-agent; they get COMPLETED with SUCCESS/FAILED instead.
     */
    public void patch(RunContext run, ObjectNode patch) {
        flush(run);
        if (patch.isEmpty()) {
            return;
        }
        switch (run.kind()) {
            case ACTION_RUN -> port.patchRun(run.runId(), patch);
            case WORKFLOW_NODE_RUN -> {
                String status = patch.path("status").asText("");
                if (!status.isEmpty()) {
                    finishNode(run, "SUCCESS".equals(status), patch.path("summary").asText(null));
                }
            }
            case UNREPORTED -> { }
        }
    }

    /** Ends the run FAILURE with a summary that says why (what port-agent never does for its own failures). */
    public void fail(RunContext run, String summary) {
        flush(run);
        switch (run.kind()) {
            case ACTION_RUN -> port.patchRun(run.runId(), JSON.createObjectNode().put("status", "FAILURE").put("summary", summary));
            case WORKFLOW_NODE_RUN -> {
                log(run, summary);
                finishNode(run, false, summary);
            }
            case UNREPORTED -> LOG.warn("{}: {}", run.label(), summary);
        }
    }

    /** Workflow-node runs that were synchronized carry the target's answer as their output. */
    public void completeNode(RunContext run, boolean success, JsonNode responseData) {
        flush(run);
        ObjectNode patch = JSON.createObjectNode().put("status", "COMPLETED").put("result", success ? "SUCCESS" : "FAILED");
        if (responseData != null) {
            ObjectNode response = patch.putObject("output").putObject("response");
            response.put("status", run.statusCode());
            response.set("data", responseData);
        }
        port.patchWorkflowNodeRun(run.runId(), patch);
    }

    private void finishNode(RunContext run, boolean success, String summary) {
        ObjectNode patch = JSON.createObjectNode().put("status", "COMPLETED").put("result", success ? "SUCCESS" : "FAILED");
        if (summary != null) {
            patch.putObject("output").put("summary", summary);
        }
        port.patchWorkflowNodeRun(run.runId(), patch);
    }
}
