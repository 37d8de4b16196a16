package io.portcamel.agent.ops;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TargetTracker;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A tracker whose polls are timed into {@code port_agent_tracking_poll_seconds{target,outcome}}. */
public final class TimedTracker implements TargetTracker {
    private final TargetTracker delegate;
    private final AgentMetrics metrics;

    public TimedTracker(TargetTracker delegate, AgentMetrics metrics) {
        this.delegate = delegate;
        this.metrics = metrics;
    }

    /** Each tracker of the list, timed. */
    public static List<TargetTracker> all(List<TargetTracker> trackers, AgentMetrics metrics) {
        return trackers.stream().<TargetTracker>map(t -> new TimedTracker(t, metrics)).toList();
    }

    @Override
    public String type() {
        return delegate.type();
    }

    @Override
    public ObjectNode start(TrackStart trigger) throws TrackingException {
        return delegate.start(trigger);
    }

    @Override
    public PollResult poll(ObjectNode state, Map<String, String> authHeaders, TargetHttp http) throws TrackingException {
        long t0 = System.nanoTime();
        String outcome = "error";
        try {
            PollResult r = delegate.poll(state, authHeaders, http);
            outcome = "ok";
            return r;
        } catch (TrackingException e) {
            outcome = e.retryable() ? "retry" : "error";
            throw e;
        } finally {
            metrics.pollLatency(delegate.type(), outcome, Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    @Override
    public String startMessage(ObjectNode state) {
        return delegate.startMessage(state);
    }
}
