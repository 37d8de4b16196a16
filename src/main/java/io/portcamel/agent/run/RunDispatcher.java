package io.portcamel.agent.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import io.portcamel.agent.mapping.Mapping;
import io.portcamel.agent.mapping.MappingEvaluationException;
import io.portcamel.agent.mapping.MappingRegistry;
import io.portcamel.agent.mapping.ReportBuilder;
import io.portcamel.agent.port.PortApiException;
import io.portcamel.agent.port.RunReporter;
import io.portcamel.agent.security.FieldDecryptor;
import io.portcamel.agent.security.HostAllowlist;
import io.portcamel.agent.security.SecretMasker;
import io.portcamel.agent.targets.TargetCall;
import io.portcamel.agent.tracking.TrackingService;

import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The steps of one run around the target call, with port-agent's log lines (same texts, same order) so a run looks
 * the same in Port whichever agent handled it. Where port-agent gives up silently, we end the run FAILURE.
 */
public class RunDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(RunDispatcher.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MappingRegistry mappings;
    private final FieldDecryptor decryptor;
    private final RunReporter reporter;
    private final SecretMasker masker;
    private final boolean detailedLogging;
    private final TrackingService tracking;
    private List<String> allowedHosts = List.of();

    public RunDispatcher(MappingRegistry mappings, FieldDecryptor decryptor, RunReporter reporter, SecretMasker masker,
                         boolean detailedLogging, TrackingService tracking) {
        this.mappings = mappings;
        this.decryptor = decryptor;
        this.reporter = reporter;
        this.masker = masker;
        this.detailedLogging = detailedLogging;
        this.tracking = tracking;
    }

    /** TARGET_ALLOWED_HOSTS: the hosts any mapping may call (empty: any host, as port-agent). */
    public void setAllowedHosts(List<String> hosts) {
        this.allowedHosts = List.copyOf(hosts);
    }

    /** Chooses the mapping and renders the request; throws {@link RunFailure} when it cannot. */
    public void prepare(Exchange exchange) {
        RunContext run = exchange.getVariable("run", RunContext.class);
        io.portcamel.agent.ops.AgentMetrics.of(exchange).received(run);
        reporter.logLater(run, "An action message has been received");
        if (detailedLogging) {
            LOG.info("run {}: message {}", run.label(), masker.maskJson(run.message()));
        }
        reporter.logLater(run, "Preparing the payload for the request");
        // port-agent evaluates `enabled` before decrypting, so a mapping cannot select on secret values
        Mapping mapping = mappings.current().select(run.message())
                .orElseThrow(() -> new RunFailure("No mapping in " + mappings.source() + " matched this run (action '"
                        + run.message().path("action").asText("?") + "', " + mappings.current().mappings().size()
                        + " mappings tried); nothing was sent"));
        run.mapping(mapping);
        List<String> paths = mapping.fieldsToDecryptPaths();
        if (!paths.isEmpty()) {
            for (String warning : decryptor.decrypt(run.message(), paths)) {
                LOG.warn("run {}: {}", run.label(), warning);
                reporter.logLater(run, "Warning: " + warning);
            }
        }
        try {
            run.request(mapping.render(run.message()));
        } catch (MappingEvaluationException e) {
            throw new RunFailure("Could not build the request with mapping #" + mapping.index() + ": " + e.getMessage()
                    + "; nothing was sent", e);
        }
        String refusal = HostAllowlist.refusal(run.request().url(), allowedHosts, mapping.allowedHosts());
        if (refusal != null) {
            throw new RunFailure("The request of mapping #" + mapping.index() + " was refused: " + refusal + "; nothing was sent");
        }
        LOG.info("run {}: mapping #{} selected, {} {}", run.label(), mapping.index(), run.request().method(),
                masker.mask(run.request().url()));
        reporter.logLater(run, "Sending the request");
        // the lines so far are in the store before anything is sent
        reporter.flush(run);
    }

    /** After the target answered: the port-agent log lines, the synchronized response, the report PATCH. */
    public void report(Exchange exchange) {
        RunContext run = exchange.getVariable("run", RunContext.class);
        run.pendingLines().clear(); // a report resumed after a store outage writes its lines again
        if (run.targetFailure() != null) {
            throw new RunFailure(run.targetFailure());
        }
        int status = run.statusCode();
        String text = run.responseText() == null ? "" : run.responseText();
        LOG.info("run {}: target answered {}", run.label(), status);
        io.portcamel.agent.ops.AgentMetrics.of(exchange).targetAnswered(run);
        if (detailedLogging) {
            LOG.info("run {}: response {}", run.label(), masker.mask(text));
        }
        String detail = detailedLogging && !text.isEmpty() ? ", response: " + masker.mask(text) : "";
        reporter.logLater(run, run.succeeded()
                ? "Action invocation has completed successfully with status code: " + status + detail
                : "Action invocation failed with status code: " + status + detail);

        JsonNode responseJson = parseOrNull(text);
        if (run.kind() == RunContext.Kind.WORKFLOW_NODE_RUN) {
            // port-agent: node runs ignore `report`; synchronized ones complete with the response as output
            if (!run.succeeded() || run.synchronizedRun()) {
                reporter.completeNode(run, run.succeeded(), run.synchronizedRun()
                        ? (responseJson != null ? responseJson : TextNode.valueOf(text)) : null);
                io.portcamel.agent.ops.AgentMetrics.of(exchange).ended(run, run.succeeded());
            }
            reporter.flush(run);
            return;
        }
        if (run.synchronizedRun() && !text.isEmpty()) {
            reporter.logLater(run, "Reporting the run response");
            reporter.response(run, responseJson != null ? responseJson : TextNode.valueOf(text));
            reporter.logLater(run, "The run response was reported successfully ");
        }
        ObjectNode patch = ReportBuilder.build(run.mapping(), run.message(), run.requestAsSent(), status,
                run.responseHeaders(), text, run.synchronizedRun(), detailedLogging);
        if (!run.succeeded() && !patch.has("status")) {
            // port-agent lets a null report field erase the FAILURE and the run hangs; a failed call ends the run
            patch.put("status", "FAILURE");
            if (!patch.has("summary")) {
                patch.put("summary", "Failed to invoke the webhook with status code: " + status + ".");
            }
        }
        boolean tracked = run.succeeded() && !patch.has("status") && run.mapping().track().isPresent();
        if (run.succeeded() && !tracked) {
            // port-agent writes this line after its PATCH; queued before it, the run's last lines and the PATCH are two
            // Port calls instead of three (Port shows logs and status apart, so nothing looks different)
            reporter.logLater(run, "Port agent finished processing the action run");
        }
        if (!patch.isEmpty()) {
            reporter.patch(run, patch);
            LOG.info("run {}: reported {}", run.label(), masker.maskJson(patch));
            io.portcamel.agent.ops.AgentMetrics.of(exchange).reported(run, patch);
        }
        if (tracked) {
            // our extension: the pipeline is followed to its end instead of being left IN_PROGRESS
            tracking.start(run);
            reporter.logLater(run, "Port agent finished processing the action run");
        }
        reporter.flush(run);
    }

    /** Ends the run FAILURE with a summary that says why; called by the routes' error handler. */
    public void fail(Exchange exchange) {
        RunContext run = exchange.getVariable("run", RunContext.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String summary = summary(cause);
        if (run == null) {
            LOG.error("a message failed before it could be read as a run: {}", summary, cause);
            return;
        }
        LOG.warn("run {}: FAILURE: {}", run.label(), summary);
        io.portcamel.agent.ops.AgentMetrics.of(exchange).ended(run, false);
        try {
            reporter.log(run, summary);
            reporter.fail(run, summary);
        } catch (PortApiException e) {
            LOG.error("run {}: could not tell Port the run failed ({}); reason was: {}", run.label(), e.getMessage(), summary);
        }
    }

    private String summary(Throwable cause) {
        if (cause == null) {
            return "The agent failed to process the run";
        }
        if (cause instanceof RunFailure) {
            return masker.mask(cause.getMessage());
        }
        if (cause instanceof PortApiException) {
            return masker.mask("The agent could not report to Port: " + cause.getMessage());
        }
        return masker.mask(TargetCall.describe(cause));
    }

    private static JsonNode parseOrNull(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            return null;
        }
    }
}
