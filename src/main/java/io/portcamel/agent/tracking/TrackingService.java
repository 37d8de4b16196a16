package io.portcamel.agent.tracking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.mapping.Mapping;
import io.portcamel.agent.mapping.MappingEvaluationException;
import io.portcamel.agent.mapping.MappingRegistry;
import io.portcamel.agent.mapping.ReportBuilder;
import io.portcamel.agent.mapping.TrackSpec;
import io.portcamel.agent.port.PortApi;
import io.portcamel.agent.port.PortApiException;
import io.portcamel.agent.port.RunReporter;
import io.portcamel.agent.run.RunContext;
import io.portcamel.agent.run.RunFailure;
import io.portcamel.agent.store.TrackingStore;
import io.portcamel.agent.store.TrackingStore.TrackedRun;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Follows triggered pipelines to their end. A run whose mapping has {@code track} is stored after its trigger; the
 * {@code tracking-poll} route leases due runs and hands each to {@link #poll}, which asks the run's tracker what
 * changed and tells Port only that: new log lines once each, label/link/externalRunId when they differ, the terminal
 * status with a summary (and the mapping's entity on success). State is saved only after Port took the updates, so a
 * Port error or a crash repeats a poll instead of losing a line.
 */
public class TrackingService {
    private static final Logger LOG = LoggerFactory.getLogger(TrackingService.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Request headers that belong to one request, not to the credentials a follow-up call needs. */
    private static final Set<String> NOT_AUTH = Set.of("content-type", "content-length", "x-port-signature", "x-port-timestamp");

    /** Defaults for runs whose mapping does not say otherwise. */
    public record Settings(long defaultDeadlineSeconds, long pollIntervalSeconds, long maxPollIntervalSeconds, int batchSize) { }

    private final TrackingStore store;
    private final Map<String, TargetTracker> trackers;
    private final TargetHttp http;
    private final RunReporter reporter;
    private final PortApi port;
    private final MappingRegistry mappings;
    private final Settings settings;
    private final Clock clock;
    private io.portcamel.agent.ops.AgentMetrics metrics = io.portcamel.agent.ops.AgentMetrics.NONE;

    public TrackingService(TrackingStore store, List<TargetTracker> trackers, TargetHttp http, RunReporter reporter,
                           PortApi port, MappingRegistry mappings, Settings settings, Clock clock) {
        this.store = store;
        this.trackers = trackers.stream().collect(Collectors.toMap(TargetTracker::type, Function.identity()));
        this.http = http;
        this.reporter = reporter;
        this.port = port;
        this.mappings = mappings;
        this.settings = settings;
        this.clock = clock;
    }

    /** Counts ended runs into the agent's metrics (io.portcamel.agent.ops); returns this. */
    public TrackingService metrics(io.portcamel.agent.ops.AgentMetrics metrics) { this.metrics = metrics; return this; }

    /** After a successful trigger of a mapping with {@code track}: store the run and say so in the run log. */
    public void start(RunContext run) {
        Mapping mapping = run.mapping();
        TrackSpec spec = mapping.track().orElseThrow();
        TargetTracker tracker = trackers.get(spec.type());
        if (tracker == null) {
            throw new RunFailure("No tracker for track.type '" + spec.type() + "'");
        }
        if (run.runId() == null) {
            LOG.info("{}: not tracked (no runId to report to)", run.label());
            return;
        }
        ObjectNode params;
        try {
            params = mapping.renderTrackParams(run.message());
        } catch (MappingEvaluationException e) {
            throw new RunFailure("The pipeline was triggered but cannot be followed: " + e.getMessage(), e);
        }
        ObjectNode request = run.requestAsSent();
        Map<String, String> auth = new LinkedHashMap<>();
        request.path("headers").fields().forEachRemaining(h -> {
            if (!NOT_AUTH.contains(h.getKey().toLowerCase(java.util.Locale.ROOT))) {
                auth.put(h.getKey(), h.getValue().asText());
            }
        });
        ObjectNode state;
        try {
            state = tracker.start(new TrackStart(run.message(), request, auth, run.statusCode(), parse(run.responseText()), params));
        } catch (TrackingException e) {
            throw new RunFailure("The pipeline was triggered but cannot be followed: " + e.getMessage(), e);
        }
        long now = clock.millis();
        long interval = seconds(spec.pollIntervalSeconds(), settings.pollIntervalSeconds()) * 1000;
        long deadline = now + seconds(spec.deadlineSeconds(), settings.defaultDeadlineSeconds()) * 1000;
        TrackedRun tracked = new TrackedRun(run.runId(), run.kind().name(), spec.type(), state, auth, run.message(),
                mapping.index(), now + Math.min(interval, 2000), interval, 0, deadline, now, JSON.createObjectNode());
        if (!store.insert(tracked)) {
            LOG.info("run {}: already tracked", run.runId());
            return;
        }
        String startMessage = tracker.startMessage(state);
        reporter.log(run, startMessage != null ? startMessage
                : "Following the " + spec.type() + " pipeline until it ends (deadline " + Duration.ofMillis(deadline - now) + ")");
        LOG.info("run {}: tracking with {} (deadline in {} s)", run.runId(), spec.type(), (deadline - now) / 1000);
    }

    /** How long one tick of the tracking timer may go on leasing batches; the timer fires again at once after it. */
    static final long MAX_TICK_MILLIS = 10_000;
    /** The heartbeat and the watchdog run at most this often, however many batches a tick leases. */
    static final long WATCH_EVERY_MILLIS = 1_000;

    private final Object tickLock = new Object();
    /** Start of the current tick's leasing (-1: between ticks). */
    private long tickStartedAt = -1;
    private boolean lastLeaseFull;
    /** When the heartbeat and watchdog last ran (-1: never). */
    private long lastWatchAt = -1;

    /**
     * Up to {@code TRACKING_BATCH_SIZE} runs due for a poll, leased to this replica. At most once a second it also says
     * this replica is alive (heartbeat) and ends cut-off runs (watchdog).
     */
    public List<TrackedRun> leaseDue() {
        long now = clock.millis();
        boolean watch;
        synchronized (tickLock) {
            watch = lastWatchAt < 0 || now - lastWatchAt >= WATCH_EVERY_MILLIS || now < lastWatchAt;
            if (watch) {
                lastWatchAt = now;
            }
        }
        if (watch) {
            try {
                store.heartbeat();
                endCutOffRuns();
            } catch (RuntimeException e) {
                LOG.warn("watchdog: {}", e.getMessage());
            }
        }
        List<TrackedRun> leased;
        try {
            leased = store.leaseDue(settings.batchSize());
        } catch (RuntimeException e) {
            synchronized (tickLock) {
                tickStartedAt = -1; // the loop ends with the error: the next tick starts afresh
            }
            throw e;
        }
        synchronized (tickLock) {
            lastLeaseFull = leased.size() >= settings.batchSize();
        }
        return leased;
    }

    /**
     * The tracking timer's loop condition (routes/tracking.camel.yaml): lease another batch? True for the first batch
     * of a tick, then as long as the last lease was a full batch (more runs may be due) and the tick is younger than
     * {@value #MAX_TICK_MILLIS} ms. So a tick polls every run that is due, however many, one batch at a time: leases
     * are taken only for runs about to be polled, the pool's queue never holds more than a batch, and a slow CI API
     * slows the tick down instead of piling up leases that expire. One timer route calls it; it is not meant to be
     * shared by concurrent loops.
     */
    public boolean moreDue() {
        long now = clock.millis();
        synchronized (tickLock) {
            if (tickStartedAt < 0) {
                tickStartedAt = now;
                return true;
            }
            if (lastLeaseFull && now - tickStartedAt < MAX_TICK_MILLIS && now >= tickStartedAt) {
                return true;
            }
            tickStartedAt = -1;
            return false;
        }
    }

    /** How long a run may stay accepted-but-unfinished before the watchdog calls it cut off (set by the wiring). */
    private long cutOffAfterMillis = 180_000;

    public void setCutOffAfterMillis(long millis) {
        this.cutOffAfterMillis = millis;
    }

    /** The runs this process is processing right now (the dispatch's idempotent repository knows them). */
    private java.util.function.Supplier<java.util.Set<String>> inFlightHere = java.util.Set::of;

    public void setInFlight(java.util.function.Supplier<java.util.Set<String>> inFlight) {
        this.inFlightHere = inFlight;
    }

    /**
     * The one window no store closes: a replica died after accepting a run and before reporting it. Its outcome is
     * unknown (the trigger may have left), so the run is not sent again but ended FAILURE saying so — found here by
     * the watchdog, whether or not Kafka ever redelivers the message.
     */
    private void endCutOffRuns() {
        for (String key : store.claimCutOffRuns(cutOffAfterMillis, 15_000, 20, inFlightHere.get())) {
            if (key.startsWith("event:")) {
                continue; // a change-log event has no run to end
            }
            com.fasterxml.jackson.databind.node.ObjectNode stub = JSON.createObjectNode();
            stub.putObject("context").put("runId", key);
            RunContext run = new RunContext(new RunContext.Origin("watchdog", null), stub);
            String summary = "The agent stopped while handling this run; the request may or may not have reached the target, "
                    + "so it is not sent again: check the target and re-run the action if needed";
            LOG.warn("run {}: cut off by a crash before it was reported; ending it FAILURE", key);
            reporter.log(run, summary);
            reporter.fail(run, summary);
        }
    }

    /** One poll of one run; never throws (a failed poll is retried later, until the deadline). */
    public void poll(TrackedRun tracked) {
        RunContext run = new RunContext(new RunContext.Origin("tracking", tracked.trackerType()), tracked.message());
        long now = clock.millis();
        try {
            if (now >= tracked.deadlineAt()) {
                String label = tracked.reported().path("statusLabel").asText("");
                finish(run, tracked, false, "Timed out after " + human(tracked.deadlineAt() - tracked.createdAt())
                        + " while following the " + tracked.trackerType() + " pipeline" + (label.isEmpty() ? "" : " (last seen: " + label + ")"),
                        null, JSON.createObjectNode());
                return;
            }
            if (tracked.authHeaders() == null) {
                finish(run, tracked, false, "The stored credentials of this run cannot be decrypted (was PORT_CLIENT_SECRET "
                        + "changed?); the " + tracked.trackerType() + " pipeline can no longer be followed", null, JSON.createObjectNode());
                return;
            }
            TargetTracker tracker = trackers.get(tracked.trackerType());
            PollResult result;
            try {
                result = tracker.poll(tracked.state(), tracked.authHeaders(), http);
            } catch (TrackingException e) {
                if (!e.retryable()) {
                    finish(run, tracked, false, e.getMessage(), null, JSON.createObjectNode());
                    return;
                }
                long next = Math.min(tracked.pollIntervalMs() * 2, settings.maxPollIntervalSeconds() * 1000);
                LOG.warn("run {}: {} poll failed, next try in {} s: {}", run.runId(), tracked.trackerType(), next / 1000, e.getMessage());
                store.reschedule(run.runId(), null, null, now + next, next); // state and what Port shows: unchanged
                return;
            }
            ObjectNode reported = tracked.reported().deepCopy();
            ObjectNode patch = changes(result, reported);
            boolean news = !result.newLogLines().isEmpty() || !patch.isEmpty() || result.terminal() != null;
            // only news needs the lease checked first (a statement per poll saved on the common, unchanged poll): a
            // reschedule is saved only by the lease holder anyway, so a replica that lost the lease changes nothing
            if (news && !store.renewLease(run.runId())) {
                // the poll outlasted the lease: another replica may have the run now, so this one says nothing
                LOG.warn("run {}: lease lost during a slow poll; leaving the run to the replica that holds it", run.runId());
                return;
            }
            for (String line : result.newLogLines()) {
                logOrThrow(run, line);
            }
            if (result.terminal() != null) {
                finish(run, tracked, result.terminal().success(), result.terminal().summary(), result, patch);
                return;
            }
            if (!patch.isEmpty()) {
                reporter.patch(run, patch);
            }
            long base = seconds(null, settings.pollIntervalSeconds()) * 1000;
            long interval = result.pollSoon() ? 0 : news ? Math.min(base, tracked.pollIntervalMs())
                    : Math.min(Math.round(tracked.pollIntervalMs() * 1.5), settings.maxPollIntervalSeconds() * 1000);
            // unchanged JSON is not written again (null keeps the stored value): the common poll only moves the schedule
            store.reschedule(run.runId(), sameJson(result.state(), tracked.state()) ? null : result.state(),
                    sameJson(reported, tracked.reported()) ? null : reported, now + interval, Math.max(interval, base));
        } catch (PortApiException e) {
            // Port did not take the update: keep the old state, so the next poll finds the same news and says it again
            LOG.warn("run {}: Port update failed, the poll will be repeated: {}", run.runId(), e.getMessage());
            store.reschedule(run.runId(), null, null, now + tracked.pollIntervalMs(), tracked.pollIntervalMs());
        } catch (RuntimeException e) {
            LOG.error("run {}: tracking failed unexpectedly, will retry: {}", run.runId(), e.toString(), e);
            store.reschedule(run.runId(), null, null, now + tracked.pollIntervalMs(), tracked.pollIntervalMs());
        }
    }

    /** A pipeline's own callback (work-order webhook): poll that run at once. */
    public boolean pollNow(String runId) {
        return store.pollNow(runId);
    }

    private void finish(RunContext run, TrackedRun tracked, boolean success, String summary, PollResult result, ObjectNode patch) {
        if (!store.renewLease(run.runId())) {
            LOG.warn("run {}: lease lost before the end could be reported; leaving the run to the replica that holds it", run.runId());
            return;
        }
        if (success) {
            upsertEntity(run, tracked, result);
        }
        patch.put("status", success ? "SUCCESS" : "FAILURE");
        patch.put("summary", summary);
        reporter.log(run, (success ? "Pipeline succeeded: " : "Pipeline failed: ") + summary);
        if (run.kind() == RunContext.Kind.ACTION_RUN) {
            reporter.patch(run, patch);
        } else if (success) {
            reporter.patch(run, patch);
        } else {
            reporter.fail(run, summary);
        }
        store.end(run.runId(), patch.get("status").asText(), summary, patch);
        metrics.ended(success, tracked.mappingIndex(), tracked.trackerType());
        LOG.info("run {}: {} — {}", run.runId(), patch.get("status").asText(), summary);
    }

    /** The mapping's entity, rendered over {body, request, response, facts}, upserted with ?run_id= while the run is open. */
    private void upsertEntity(RunContext run, TrackedRun tracked, PollResult result) {
        List<Mapping> all = mappings.current().mappings();
        if (tracked.mappingIndex() >= all.size() || !all.get(tracked.mappingIndex()).hasEntity()) {
            return;
        }
        Mapping mapping = all.get(tracked.mappingIndex());
        ObjectNode context = ReportBuilder.context(tracked.message(), JSON.createObjectNode(), 200, Map.of(), "");
        ObjectNode facts = result == null || result.facts() == null ? JSON.createObjectNode() : result.facts().deepCopy();
        String link = result != null && result.link() != null ? result.link() : tracked.reported().path("link").asText(null);
        if (!facts.has("jobUrl") && link != null) {
            facts.put("jobUrl", link); // the pipeline's page, for entities that link back to the job
        }
        context.set("facts", facts);
        try {
            ObjectNode entity = mapping.renderEntity(context);
            String blueprint = entity.path("blueprint").asText("");
            entity.remove("blueprint");
            port.upsertEntity(blueprint, entity, run.runId());
            reporter.log(run, "Entity " + entity.path("identifier").asText() + " of blueprint " + blueprint + " updated");
        } catch (MappingEvaluationException e) {
            reporter.log(run, "Warning: the entity could not be built: " + e.getMessage());
        }
    }

    /** Fields Port does not show yet; {@code reported} is updated to what it will show. */
    private static ObjectNode changes(PollResult r, ObjectNode reported) {
        ObjectNode patch = JSON.createObjectNode();
        changed(patch, reported, "statusLabel", r.statusLabel());
        changed(patch, reported, "link", r.link());
        changed(patch, reported, "externalRunId", r.externalRunId());
        return patch;
    }

    private static void changed(ObjectNode patch, ObjectNode reported, String field, String value) {
        if (value != null && !value.equals(reported.path(field).asText(null))) {
            patch.put(field, value);
            reported.put(field, value);
        }
    }

    /**
     * Equal JSON, numbers compared by value: a state read back from the store has {@code 7} as an int where the
     * tracker may have put a long, and that is no change.
     */
    static boolean sameJson(JsonNode a, JsonNode b) {
        return a == b || a != null && b != null && a.equals(SAME_VALUE, b);
    }

    private static final java.util.Comparator<JsonNode> SAME_VALUE = (x, y) -> {
        if (x.equals(y)) {
            return 0;
        }
        if (x.isIntegralNumber() && y.isIntegralNumber()) {
            return x.bigIntegerValue().equals(y.bigIntegerValue()) ? 0 : 1;
        }
        if (x.isNumber() && y.isNumber()) {
            return x.decimalValue().compareTo(y.decimalValue()) == 0 ? 0 : 1;
        }
        return 1;
    };

    private void logOrThrow(RunContext run, String line) {
        switch (run.kind()) {
            case ACTION_RUN -> port.postRunLog(run.runId(), line, null, null);
            case WORKFLOW_NODE_RUN -> port.postWorkflowNodeLog(run.runId(), "INFO", line);
            case UNREPORTED -> { }
        }
    }

    private static long seconds(Long perMapping, long dflt) {
        return perMapping != null ? perMapping : dflt;
    }

    private static JsonNode parse(String text) {
        try {
            return text == null || text.isBlank() ? null : JSON.readTree(text);
        } catch (Exception e) {
            return null;
        }
    }

    static String human(long millis) {
        Duration d = Duration.ofMillis(millis);
        if (d.toHours() > 0) return d.toHours() + " h" + (d.toMinutesPart() > 0 ? " " + d.toMinutesPart() + " min" : "");
        if (d.toMinutes() > 0) return d.toMinutes() + " min" + (d.toSecondsPart() > 0 ? " " + d.toSecondsPart() + " s" : "");
        return d.toSeconds() + " s";
    }
}
