package io.portcamel.agent.ops;

import io.portcamel.agent.config.AgentSettings;
import io.portcamel.agent.ingress.PortPolling;
import io.portcamel.agent.port.PortTokenCache;
import io.portcamel.agent.store.TrackingStore;

import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;

/**
 * The agent's own health checks, next to Camel's (context, routes, the Kafka consumer's connection) at
 * {@code /observe/health} on the management port. Readiness means "runs can be received and reported":
 * <ul>
 *   <li>{@code agent-ingress}: KAFKA — the consumer holds at least one partition; POLLING — the last successful
 *       claim is at most 3 × POLLING_INTERVAL_SECONDS old (5 s at least)</li>
 *   <li>{@code agent-tracking-store}: the tracking store answers {@code SELECT 1} (checked every 5 s)</li>
 *   <li>{@code agent-port-auth}: a Port access token is held or can be obtained (checked every 30 s, every 10 s
 *       while failing; the cached token is reused, so Port is asked only when the agent needs a new token anyway)</li>
 * </ul>
 * Liveness ({@code agent-liveness}): the Camel context is started and the tracking timer fired within the last
 * 60 s — a wedged timer thread gets the container restarted.
 */
public final class AgentHealthChecks {
    static final String GROUP = "agent";
    static final Duration FIRST_WAIT = Duration.ofSeconds(2);

    private AgentHealthChecks() { }

    /** The readiness and liveness checks of one agent; bind them in the registry (Camel registers HealthCheck beans). */
    public static List<HealthCheck> create(AgentSettings settings, PortPolling polling, KafkaAssignments kafka,
                                           TrackingStore store, PortTokenCache tokens, RouteTicks trackingTicks,
                                           Clock clock, ExecutorService probes, Duration portAuthTtl, Duration storeTtl) {
        return List.of(
                new IngressCheck(settings, polling, kafka, clock),
                new StoreCheck(store, clock, probes, storeTtl),
                new PortAuthCheck(tokens, clock, probes, portAuthTtl),
                new LivenessCheck(trackingTicks, clock, Duration.ofSeconds(60)));
    }

    private static String age(Instant then, Clock clock) {
        return then == null ? "never" : Duration.between(then, clock.instant()).toSeconds() + " s ago";
    }

    /** KAFKA: partitions held; POLLING: a recent successful claim. Readiness only. */
    static final class IngressCheck extends AbstractHealthCheck {
        private final AgentSettings settings;
        private final PortPolling polling;
        private final KafkaAssignments kafka;
        private final Clock clock;

        IngressCheck(AgentSettings settings, PortPolling polling, KafkaAssignments kafka, Clock clock) {
            super(GROUP, "agent-ingress");
            this.settings = settings;
            this.polling = polling;
            this.kafka = kafka;
            this.clock = clock;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            builder.detail("streamer", settings.streamer().name());
            if (settings.streamer() == AgentSettings.Streamer.KAFKA) {
                var partitions = kafka.assigned();
                builder.detail("topics", settings.runsTopic() + "," + settings.changeLogTopic());
                builder.detail("assigned.partitions", String.join(",", partitions));
                builder.detail("last.rebalance", age(kafka.lastRebalance(), clock));
                if (partitions.isEmpty()) {
                    builder.message(kafka.subscribed() ? "the Kafka consumer holds no partition (joining the group, or more "
                            + "consumers than partitions)" : "the Kafka consumer has not subscribed yet");
                    builder.down();
                } else {
                    builder.message("the Kafka consumer holds " + partitions.size() + " partition(s)");
                    builder.up();
                }
                return;
            }
            long maxAge = Math.max(3L * settings.pollingIntervalSeconds(), 5);
            Instant last = polling.lastSuccess();
            builder.detail("last.claim", age(last, clock));
            builder.detail("max.age.seconds", maxAge);
            if (last == null || Duration.between(last, clock.instant()).toSeconds() > maxAge) {
                builder.message(last == null ? "no successful claim from Port yet"
                        : "no successful claim from Port for " + Duration.between(last, clock.instant()).toSeconds() + " s");
                builder.down();
            } else {
                builder.message("claiming runs from Port");
                builder.up();
            }
        }
    }

    /** The tracking store answers. Readiness only. */
    static final class StoreCheck extends AbstractHealthCheck {
        private final TrackingStore store;
        private final CachedProbe<Boolean> probe;

        StoreCheck(TrackingStore store, Clock clock, ExecutorService probes, Duration ttl) {
            super(GROUP, "agent-tracking-store");
            this.store = store;
            this.probe = new CachedProbe<>("tracking-store", ttl, clock, store::isReachable, probes);
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            builder.detail("dialect", store.dialect());
            builder.detail("replica", store.replicaId());
            CachedProbe.Result<Boolean> r = probe.get(FIRST_WAIT);
            if (r == null) {
                builder.message("the tracking store has not answered yet");
                builder.down();
            } else if (Boolean.TRUE.equals(r.value())) {
                builder.message("the tracking store answers");
                builder.up();
            } else {
                builder.message("the tracking store cannot be reached (TRACKING_JDBC_URL)");
                builder.down();
            }
        }
    }

    /** A Port token is held or obtainable. Readiness only. */
    static final class PortAuthCheck extends AbstractHealthCheck {
        private final CachedProbe<String> probe;

        PortAuthCheck(PortTokenCache tokens, Clock clock, ExecutorService probes, Duration ttl) {
            super(GROUP, "agent-port-auth");
            // null = a token is there; otherwise why not (Port's answer, never the credentials)
            // a failure is re-checked after 10 s at most (e.g. one taken while the routes were still starting)
            this.probe = new CachedProbe<>("port-auth", ttl, Duration.ofSeconds(10), java.util.Objects::isNull, clock, () -> {
                try {
                    tokens.authorization();
                    return null;
                } catch (RuntimeException e) {
                    return e.getMessage() == null ? e.toString() : e.getMessage();
                }
            }, probes);
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            CachedProbe.Result<String> r = probe.get(FIRST_WAIT);
            if (r == null) {
                builder.message("no Port token yet");
                builder.down();
                return;
            }
            builder.detail("checked", r.at().toString());
            if (r.value() == null) {
                builder.message("a Port access token is available");
                builder.up();
            } else {
                builder.message("cannot get a Port access token: " + r.value());
                builder.down();
            }
        }
    }

    /** The context is started and the tracking timer ticks. Liveness only. */
    static final class LivenessCheck extends AbstractHealthCheck {
        private final RouteTicks ticks;
        private final Clock clock;
        private final Duration maxSilence;
        private volatile Instant startedAt;

        LivenessCheck(RouteTicks ticks, Clock clock, Duration maxSilence) {
            super(GROUP, "agent-liveness");
            this.ticks = ticks;
            this.clock = clock;
            this.maxSilence = maxSilence;
        }

        @Override
        public boolean isLiveness() {
            return true;
        }

        @Override
        public boolean isReadiness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            CamelContext context = getCamelContext();
            boolean started = context != null && context.getStatus().isStarted();
            builder.detail("context.status", context == null ? "none" : context.getStatus().name());
            if (!started) {
                builder.message("the Camel context is not started");
                builder.down();
                return;
            }
            if (startedAt == null) {
                startedAt = clock.instant();
            }
            Instant last = ticks.last();
            builder.detail("tracking.last.tick", age(last, clock));
            Instant since = last != null ? last : startedAt;
            Duration silent = Duration.between(since, clock.instant());
            if (silent.compareTo(maxSilence) > 0) {
                builder.message("the tracking timer (route " + ticks.routeId() + ") has not fired for " + silent.toSeconds() + " s");
                builder.down();
            } else {
                builder.message("started; the tracking timer fires");
                builder.up();
            }
        }
    }
}
