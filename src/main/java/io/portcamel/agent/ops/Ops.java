package io.portcamel.agent.ops;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.portcamel.agent.config.AgentSettings;
import io.portcamel.agent.ingress.PortPolling;
import io.portcamel.agent.port.PortTokenCache;
import io.portcamel.agent.store.TrackingStore;

import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.spi.Registry;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;

/**
 * Binds the operations beans (metrics, health checks) into Camel's registry; called from AgentConfiguration. The
 * management server itself (port, paths) is configured in application.properties ({@code camel.management.*}).
 */
public final class Ops {
    /** The registry name camel-micrometer-prometheus looks up first; ours, so the agent's meters share its scrape. */
    static final String METER_REGISTRY_BEAN = "metricsRegistry";
    /** The route whose timer the liveness check watches (routes/tracking.camel.yaml). */
    static final String TRACKING_ROUTE = "tracking-poll";

    private Ops() { }

    /** The Prometheus meter registry and the agent's metrics on it, bound as {@code metricsRegistry}, {@code agentMetrics}. */
    public static AgentMetrics metrics(CamelContext context) {
        Registry r = context.getRegistry();
        PrometheusMeterRegistry existing = r.lookupByNameAndType(METER_REGISTRY_BEAN, PrometheusMeterRegistry.class);
        PrometheusMeterRegistry meters = existing != null ? existing : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        r.bind(METER_REGISTRY_BEAN, meters);
        AgentMetrics metrics = new AgentMetrics(meters);
        r.bind(AgentMetrics.BEAN, metrics);
        return metrics;
    }

    /**
     * The readiness and liveness checks, the Kafka partition listener ({@code subscribeAdapter}), the tracking-timer
     * watch, the in-flight gauge, and the platform-http engine that keeps the routes on the main server
     * ({@link MainServerHttpEngine}). Probe intervals: {@code agent.health.port-auth-cache-seconds} (30) and
     * {@code agent.health.store-cache-seconds} (5).
     */
    public static void management(CamelContext context, AgentMetrics metrics, AgentSettings settings, TrackingStore store,
                              PortTokenCache tokens, PortPolling polling, Clock clock) {
        Registry r = context.getRegistry();
        if (r.lookupByName(MainServerHttpEngine.BEAN) == null) {
            r.bind(MainServerHttpEngine.BEAN, new MainServerHttpEngine());
        }
        ExecutorService probes = context.getExecutorServiceManager().newFixedThreadPool(Ops.class, "agent-health", 2);
        KafkaAssignments kafka = new KafkaAssignments(clock);
        r.bind(KafkaAssignments.BEAN, kafka);
        RouteTicks ticks = new RouteTicks(TRACKING_ROUTE, clock);
        context.getManagementStrategy().addEventNotifier(ticks);
        context.getManagementStrategy().addEventNotifier(new PortRedeliveries(metrics));
        Duration portTtl = Duration.ofSeconds(seconds(context, "agent.health.port-auth-cache-seconds", 30));
        Duration storeTtl = Duration.ofSeconds(seconds(context, "agent.health.store-cache-seconds", 5));
        for (HealthCheck check : AgentHealthChecks.create(settings, polling, kafka, store, tokens, ticks, clock, probes,
                portTtl, storeTtl)) {
            r.bind("health-" + check.getId(), HealthCheck.class, check);
        }
        // countTracking() is a COUNT(*) over the store: refreshed every 10 s in the background, never on the scrape
        CachedProbe<Integer> tracking = new CachedProbe<>("tracking-count", Duration.ofSeconds(10), clock, store::countTracking, probes);
        tracking.get(Duration.ZERO); // the first count now, so the first scrape has a value
        metrics.trackingGauge(() -> {
            CachedProbe.Result<Integer> res = tracking.get(Duration.ZERO);
            return res == null ? null : res.value();
        });
    }

    private static long seconds(CamelContext context, String key, long dflt) {
        try {
            return context.getPropertiesComponent().resolveProperty(key).map(String::trim).map(Long::parseLong).orElse(dflt);
        } catch (RuntimeException e) {
            return dflt;
        }
    }
}
