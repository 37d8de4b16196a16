package io.portcamel.agent.config;

import io.portcamel.agent.ingress.KafkaOffsets;
import io.portcamel.agent.ingress.PortKafkaClientFactory;
import io.portcamel.agent.ingress.PortPolling;
import io.portcamel.agent.ingress.WebhookIngress;
import io.portcamel.agent.mapping.MappingRegistry;
import io.portcamel.agent.ops.AgentMetrics;
import io.portcamel.agent.ops.Ops;
import io.portcamel.agent.ops.TimedTracker;
import io.portcamel.agent.port.PortApi;
import io.portcamel.agent.port.PortTokenCache;
import io.portcamel.agent.port.RunReporter;
import io.portcamel.agent.run.RunDispatcher;
import io.portcamel.agent.run.RunIntake;
import io.portcamel.agent.security.FieldDecryptor;
import io.portcamel.agent.security.PortSignature;
import io.portcamel.agent.security.SecretMasker;
import io.portcamel.agent.store.TrackingStore;
import io.portcamel.agent.targets.TargetCall;
import io.portcamel.agent.tracking.CamelTargetHttp;
import io.portcamel.agent.tracking.TrackingService;
import io.portcamel.agent.tracking.azure.AzureDevOpsTracker;
import io.portcamel.agent.tracking.azure.AzureWebhookTracker;
import io.portcamel.agent.tracking.circleci.CircleCiTracker;
import io.portcamel.agent.tracking.workorder.WorkOrderTracker;

import net.thisptr.jackson.jq.Scope;

import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.apache.camel.support.jsse.TrustManagersParameters;
import org.apache.hc.client5.http.ssl.DefaultHostnameVerifier;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;

import javax.net.ssl.X509TrustManager;

/**
 * Wires the agent's beans into Camel's registry under the names the YAML routes use
 * ({@code bean: {ref: dispatcher, ...}}). Settings and mappings arrive already validated.
 */
public class AgentConfiguration implements CamelConfiguration {
    private final AgentSettings settings;
    private final MappingRegistry mappings;
    private final Scope jqScope;
    private final Clock clock;
    private final TrackingStore store;

    public AgentConfiguration(AgentSettings settings, MappingRegistry mappings, Scope jqScope, Clock clock, TrackingStore store) {
        this.settings = settings;
        this.mappings = mappings;
        this.jqScope = jqScope;
        this.clock = clock;
        this.store = store;
    }

    @Override
    public void configure(CamelContext context) {
        Registry r = context.getRegistry();
        ProducerTemplate template = context.createProducerTemplate();
        SecretMasker masker = new SecretMasker(settings.env());
        PortSignature signature = new PortSignature(settings.clientSecret());
        PortApi portApi = new PortApi(template, masker);
        io.portcamel.agent.port.PortOutbox outbox = new io.portcamel.agent.port.PortOutbox(store, clock);
        portApi.useOutbox(outbox); // run updates are durable first, delivered in order by the port-outbox route
        RunReporter reporter = new RunReporter(portApi);
        AgentMetrics metrics = Ops.metrics(context); // Prometheus registry (/observe/metrics) and the agent's counters

        r.bind("agentSettings", settings);
        // camel-jq uses a registry Scope as its root scope: routes' jq sees the same functions as the mappings
        r.bind("jqScope", Scope.class, jqScope);
        r.bind("mappings", mappings);
        r.bind("masker", masker);
        PortTokenCache tokens = new PortTokenCache(template, settings.clientId(), settings.clientSecret(), clock);
        r.bind("portToken", tokens);
        r.bind("portTokenRenewal", new io.portcamel.agent.port.PortTokenRenewal(tokens));
        r.bind("portApi", portApi);
        r.bind("portOutbox", outbox);
        r.bind("portOutboxPool", context.getExecutorServiceManager().newFixedThreadPool(this, "port-outbox", settings.concurrency().port()));
        r.bind("runReporter", reporter);
        r.bind("intake", new RunIntake(signature, settings.runsTopic(), store));
        TrackingService tracking = new TrackingService(store, TimedTracker.all(List.of(new CircleCiTracker(clock), new AzureDevOpsTracker(clock),
                new AzureWebhookTracker(clock), new WorkOrderTracker(clock)), metrics), new CamelTargetHttp(template), reporter, portApi,
                mappings, settings.trackingSettings(), clock);
        r.bind("trackingStore", store);
        io.portcamel.agent.store.AcceptedRuns acceptedRuns = new io.portcamel.agent.store.AcceptedRuns(store);
        r.bind("acceptedRuns", acceptedRuns);
        r.bind("tracking", tracking.metrics(metrics));
        tracking.setCutOffAfterMillis(settings.longestTargetCallMillis() + 10_000);
        tracking.setInFlight(acceptedRuns::inFlight);
        // polls run in parallel on a bounded pool: a slow CI API delays its own runs, not the others
        r.bind("trackingPool", context.getExecutorServiceManager().newFixedThreadPool(this, "tracking", io.portcamel.agent.store.StoreSettings.from(settings.env()).poolSize()));
        RunDispatcher dispatcher = new RunDispatcher(mappings, new FieldDecryptor(settings.clientSecret()), reporter, masker,
                settings.detailedLogging(), tracking);
        dispatcher.setAllowedHosts(settings.targetAllowedHosts());
        r.bind("dispatcher", dispatcher);
        r.bind("targetCall", new TargetCall(signature, clock, settings.env(), settings.targetMaxRetries()));
        r.bind("targetLimits", new io.portcamel.agent.targets.TargetLimits(settings.concurrency().perTarget()));
        KafkaOffsets offsets = new KafkaOffsets();
        r.bind("kafkaOffsets", offsets);
        r.bind("portKafkaClientFactory", new PortKafkaClientFactory(settings, portApi, offsets));
        PortPolling polling = new PortPolling(portApi, settings, clock, () -> stopAgent(context));
        r.bind("portPolling", polling);
        Ops.management(context, metrics, settings, store, tokens, polling, clock); // health checks, in-flight gauge
        r.bind("webhookIngress", new WebhookIngress(signature, clock, settings.webhookMaxSkewSeconds()));
        bindTargetTls(r);
        if (settings.liveEdits()) {
            try {
                context.addService(new RouteFilesWatcher(context,
                        java.nio.file.Path.of(settings.env().getOrDefault("AGENT_ROUTES_DIR", "routes")), 2000));
            } catch (Exception e) {
                throw new IllegalStateException("cannot watch the route files", e);
            }
        }
    }

    /** WEBHOOK_VERIFY_SSL applies to target calls only, as in port-agent; Port itself is always verified. */
    private void bindTargetTls(Registry r) {
        SSLContextParameters tls = new SSLContextParameters();
        if (settings.webhookVerifySsl()) {
            r.bind("targetHostnameVerifier", new DefaultHostnameVerifier());
        } else {
            TrustManagersParameters trustAll = new TrustManagersParameters();
            trustAll.setTrustManager(new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) { }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) { }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            });
            tls.setTrustManagers(trustAll);
            r.bind("targetHostnameVerifier", NoopHostnameVerifier.INSTANCE);
        }
        r.bind("targetTls", tls);
    }

    private static void stopAgent(CamelContext context) {
        Thread t = new Thread(() -> {
            context.stop();
            System.exit(3);
        }, "agent-give-up");
        t.setDaemon(false);
        t.start();
    }
}
