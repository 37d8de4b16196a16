package io.portcamel.agent.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

import io.portcamel.agent.mapping.Mapping;
import io.portcamel.agent.port.PortApiException;
import io.portcamel.agent.run.RunContext;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The agent's own metrics, scraped in Prometheus format at {@code /observe/metrics} on the management port (next to
 * Camel's route and JVM metrics). The rest of the code calls these methods with one line each; a run is counted
 * by the mapping that handled it (its index in invocations.json) and the target type:
 * {@code circleci}, {@code azure-devops}, {@code workorder} (the mapping's {@code track.type}) or {@code webhook}
 * (a mapping without {@code track}).
 *
 * <pre>
 * port_agent_runs_received_total{ingress}               runs accepted by the intake (kafka, polling, webhook)
 * port_agent_runs_triggered_total{mapping,target}       target calls answered 2xx
 * port_agent_runs_succeeded_total{mapping,target}       runs the agent ended SUCCESS (at once or after tracking)
 * port_agent_runs_failed_total{mapping,target}          runs the agent ended FAILURE
 * port_agent_runs_tracking                              tracked runs not ended yet (whole store, refreshed every 10 s)
 * port_agent_runs_dead_letter_total                     runs given up without a Port update (none today: stays 0)
 * port_agent_tracking_poll_seconds{target,outcome}      one tracker poll of a CI/CD API (outcome ok, retry, error)
 * port_agent_port_errors_total{status}                  failed Port API calls (401, 4xx, 5xx, io, other)
 * port_agent_port_retries_total{reason}                 Port calls repeated: token-refresh (a 401, retried with a new
 *                                                       token), redelivery (429, 5xx, I/O, retried with back-off)
 * </pre>
 */
public class AgentMetrics {
    /** The registry name the routes and {@link #of} look it up by. */
    public static final String BEAN = "agentMetrics";
    /** For code running without the agent's registry (unit tests): counts nothing. */
    public static final AgentMetrics NONE = new AgentMetrics(new CompositeMeterRegistry());

    private final MeterRegistry registry;
    private final Counter deadLetters;

    public AgentMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.deadLetters = Counter.builder("port.agent.runs.dead.letter")
                .description("Runs given up without a Port update").register(registry);
        // series without labels to guess exist from the start, so dashboards and alerts see 0 rather than no data
        for (String reason : new String[] {"token-refresh", "redelivery"}) {
            Counter.builder("port.agent.port.retries").tag("reason", reason)
                    .description("Port API calls repeated by the agent").register(registry);
        }
    }

    /** The agent's metrics in this Camel context, or {@link #NONE}. */
    public static AgentMetrics of(CamelContext context) {
        AgentMetrics m = context == null ? null : context.getRegistry().lookupByNameAndType(BEAN, AgentMetrics.class);
        return m != null ? m : NONE;
    }

    public static AgentMetrics of(Exchange exchange) {
        return of(exchange.getContext());
    }

    public MeterRegistry registry() {
        return registry;
    }

    // ------------------------------------------------------------------------------------------------ runs

    /** A run passed the intake (signature, agent filter) and is about to be handled. */
    public void received(RunContext run) {
        received(run == null || run.origin() == null ? "unknown" : run.origin().ingress());
    }

    public void received(String ingress) {
        Counter.builder("port.agent.runs.received").tag("ingress", ingress)
                .description("Runs accepted by the intake").register(registry).increment();
    }

    /** The target answered; counts a trigger when it answered 2xx. */
    public void targetAnswered(RunContext run) {
        if (run.succeeded()) {
            triggered(mappingIndex(run.mapping()), target(run.mapping()));
        }
    }

    public void triggered(int mappingIndex, String target) {
        Counter.builder("port.agent.runs.triggered").tags("mapping", String.valueOf(mappingIndex), "target", target)
                .description("Target calls answered 2xx").register(registry).increment();
    }

    /** The dispatch ended the run (its report carried a terminal status, or it failed). */
    public void ended(RunContext run, boolean success) {
        ended(success, mappingIndex(run == null ? null : run.mapping()), run == null ? "webhook" : target(run.mapping()));
    }

    /** The dispatch's report PATCH went through: counts an end when it carried SUCCESS or FAILURE. */
    public void reported(RunContext run, com.fasterxml.jackson.databind.JsonNode patch) {
        String status = patch == null ? "" : patch.path("status").asText("");
        if (status.equals("SUCCESS") || status.equals("FAILURE")) {
            ended(run, status.equals("SUCCESS"));
        }
    }

    /** Tracking ended the run; {@code trackerType} is the mapping's {@code track.type}. */
    public void ended(boolean success, int mappingIndex, String trackerType) {
        Counter.builder(success ? "port.agent.runs.succeeded" : "port.agent.runs.failed")
                .tags("mapping", String.valueOf(mappingIndex), "target", targetOf(trackerType))
                .description(success ? "Runs the agent ended SUCCESS" : "Runs the agent ended FAILURE")
                .register(registry).increment();
    }

    public void ended(boolean success, String target) {
        ended(success, -1, target);
    }

    /** A run the agent could neither handle nor report (nothing dead-letters today). */
    public void deadLettered() {
        deadLetters.increment();
    }

    /** Tracked runs in flight, read from {@code supplier} (called on scrape: give it a cached value). */
    public void trackingGauge(Supplier<Number> supplier) {
        Gauge.builder("port.agent.runs.tracking", supplier, s -> {
            Number n = s.get();
            return n == null ? Double.NaN : n.doubleValue();
        }).description("Tracked runs not ended yet (all replicas)").strongReference(true).register(registry);
    }

    // ------------------------------------------------------------------------------------------------ polls

    /** One tracker poll of a CI/CD API; {@code outcome} is ok, retry (transient trouble) or error. */
    public void pollLatency(String trackerType, String outcome, Duration duration) {
        Timer.builder("port.agent.tracking.poll").tags("target", targetOf(trackerType), "outcome", outcome)
                .description("Tracker polls of CI/CD APIs").register(registry).record(duration);
    }

    public void pollLatency(Duration duration) {
        pollLatency("unknown", "ok", duration);
    }

    // ------------------------------------------------------------------------------------------------ Port

    /** A Port API call failed (after the agent's own retry); returns {@code e}, to be thrown. */
    public <T extends Throwable> T portError(T e) {
        String status;
        if (e instanceof PortApiException p && p.status() > 0) {
            int s = p.status();
            status = s == 401 || s == 403 || s == 404 || s == 422 || s == 429 ? String.valueOf(s) : (s / 100) + "xx";
        } else if (e instanceof PortApiException p && p.getCause() instanceof java.io.IOException) {
            status = "io";
        } else {
            status = "other";
        }
        Counter.builder("port.agent.port.errors").tag("status", status).description("Failed Port API calls")
                .register(registry).increment();
        return e;
    }

    /** A Port call is repeated: a 401 dropped the token and the call is retried once with a new one. */
    public void portRetry() {
        portRetry("token-refresh");
    }

    /** A Port call is repeated: {@code token-refresh} (after a 401) or {@code redelivery} (429, 5xx, I/O; port-api route). */
    public void portRetry(String reason) {
        Counter.builder("port.agent.port.retries").tag("reason", reason)
                .description("Port API calls repeated by the agent").register(registry).increment();
    }

    // ------------------------------------------------------------------------------------------------ tags

    /** The target-type tag of a mapping: its track.type folded to circleci / azure-devops / workorder, else webhook. */
    public static String target(Mapping mapping) {
        return mapping == null ? "webhook" : targetOf(mapping.track().map(t -> t.type()).orElse(null));
    }

    static String targetOf(String trackType) {
        if (trackType == null || trackType.isBlank()) {
            return "webhook";
        }
        return trackType.startsWith("azure-devops") ? "azure-devops" : trackType;
    }

    private static int mappingIndex(Mapping mapping) {
        return mapping == null ? -1 : mapping.index();
    }
}
