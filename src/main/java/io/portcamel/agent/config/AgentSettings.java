package io.portcamel.agent.config;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The agent's settings, read from the same environment variables as port-agent (v0.8.9) with the same
 * names and defaults, so a platform team can swap agents without touching its Helm values.
 * Everything is validated here, before Camel starts, so a bad setting stops start-up with one line that names it.
 */
public record AgentSettings(
        String orgId,
        String clientId,
        String clientSecret,
        String portApiBaseUrl,
        Streamer streamer,
        String logLevel,
        boolean detailedLogging,
        boolean usingLocalPortInstance,
        String kafkaBootstrapServers,
        String kafkaSecurityProtocol,
        String kafkaAuthenticationMechanism,
        int kafkaSessionTimeoutMs,
        String kafkaAutoOffsetReset,
        String kafkaGroupId,
        String kafkaUsername,
        String kafkaPassword,
        String runsTopic,
        String changeLogTopic,
        int pollingIntervalSeconds,
        int pollingBatchSize,
        double pollingInitialBackoffSeconds,
        double pollingBackoffFactor,
        double pollingMaxBackoffSeconds,
        double pollingBackoffJitterFactor,
        int pollingMaxFailureDurationSeconds,
        Path mappingFile,
        double webhookInvokerTimeoutSeconds,
        boolean webhookVerifySsl,
        boolean webhookIngressEnabled,
        String webhookIngressPath,
        int webhookMaxSkewSeconds,
        Map<String, String> env) {

    public enum Streamer { KAFKA, POLLING }

    /** port-agent's default file name; we default to ./invocations.json (the name port-agent's docs and Helm use). */
    public static final String DEFAULT_MAPPING_FILE = "invocations.json";

    private static final Set<String> TRUE = Set.of("true", "1", "yes", "on", "y", "t");
    private static final Set<String> FALSE = Set.of("false", "0", "no", "off", "n", "f");

    /** Reads and validates every setting; throws {@link ConfigException} naming the first bad one. */
    public static AgentSettings from(Map<String, String> env) {
        Env e = new Env(env);
        String orgId = e.required("PORT_ORG_ID", "your Port organization id (org_…)");
        String clientId = e.required("PORT_CLIENT_ID", "the Port client id of the agent's credentials");
        String clientSecret = e.required("PORT_CLIENT_SECRET", "the Port client secret (also the signature and decryption key)");
        String baseUrl = stripSlash(e.url("PORT_API_BASE_URL", "https://api.getport.io"));

        Streamer streamer = e.oneOf("STREAMER_NAME", "KAFKA", Streamer.class);
        boolean local = e.bool("USING_LOCAL_PORT_INSTANCE", false);
        // port-agent reads KAFKA_CONSUMER_BOOTSTRAP_SERVERS; its docs and the seed's Helm command still pass the
        // pre-0.7 KAFKA_CONSUMER_BROKERS/USERNAME/PASSWORD — both are honoured, the new name wins.
        String bootstrap = e.get("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", "");
        if (bootstrap.isBlank()) {
            bootstrap = e.get("KAFKA_CONSUMER_BROKERS", "");
        }
        String protocol = e.oneOfText("KAFKA_CONSUMER_SECURITY_PROTOCOL", "plaintext",
                Set.of("plaintext", "ssl", "sasl_plaintext", "sasl_ssl")).toUpperCase(Locale.ROOT);
        String mechanism = e.oneOfText("KAFKA_CONSUMER_AUTHENTICATION_MECHANISM", "none",
                Set.of("none", "plain", "scram-sha-256", "scram-sha-512")).toUpperCase(Locale.ROOT);
        String reset = switch (e.oneOfText("KAFKA_CONSUMER_AUTO_OFFSET_RESET", "earliest",
                Set.of("earliest", "latest", "smallest", "largest", "beginning", "end", "none"))) {
            // librdkafka aliases (port-agent's Helm chart and docs say "largest") mapped to the Java client's names
            case "smallest", "beginning" -> "earliest";
            case "largest", "end" -> "latest";
            default -> e.get("KAFKA_CONSUMER_AUTO_OFFSET_RESET", "earliest").toLowerCase(Locale.ROOT);
        };

        String mappingPath = e.get("CONTROL_THE_PAYLOAD_CONFIG_PATH", DEFAULT_MAPPING_FILE);
        double timeout = e.positiveDouble("WEBHOOK_INVOKER_TIMEOUT", 30);

        String webhookPath = e.get("WEBHOOK_INGRESS_PATH", "/port/runs");
        if (!webhookPath.startsWith("/")) {
            throw new ConfigException("WEBHOOK_INGRESS_PATH", webhookPath, "must start with '/'");
        }

        trackingSettings(env); // validated now, so a bad value stops start-up
        e.bool("AGENT_LIVE_EDITS", true);
        allowedHosts(env); // validated now
        targetMaxRetries(env);
        Concurrency.from(env); // validated now
        return new AgentSettings(orgId, clientId, clientSecret, baseUrl, streamer,
                e.oneOfText("LOG_LEVEL", "INFO", Set.of("trace", "debug", "info", "warning", "warn", "error", "critical")),
                e.bool("DETAILED_LOGGING", true), local, bootstrap.trim(), protocol, mechanism,
                e.positiveInt("KAFKA_CONSUMER_SESSION_TIMEOUT_MS", 45000), reset,
                e.get("KAFKA_CONSUMER_GROUP_ID", ""),
                e.get("KAFKA_CONSUMER_USERNAME", ""), e.get("KAFKA_CONSUMER_PASSWORD", ""),
                e.get("KAFKA_RUNS_TOPIC", orgId + ".runs"),
                e.get("KAFKA_CHANGE_LOG_TOPIC", orgId + ".change.log"),
                e.positiveInt("POLLING_INTERVAL_SECONDS", 10),
                e.positiveInt("POLLING_RUNS_BATCH_SIZE", 100),
                e.positiveDouble("POLLING_INITIAL_BACKOFF_SECONDS", 1),
                e.positiveDouble("POLLING_BACKOFF_FACTOR", 2.0),
                e.positiveDouble("POLLING_MAX_BACKOFF_SECONDS", 300),
                e.fraction("POLLING_BACKOFF_JITTER_FACTOR", 0.1),
                e.positiveInt("POLLING_MAX_FAILURE_DURATION_SECONDS", 3600),
                Path.of(mappingPath), timeout,
                e.bool("WEBHOOK_VERIFY_SSL", true),
                e.bool("WEBHOOK_INGRESS_ENABLED", true), webhookPath,
                e.positiveInt("WEBHOOK_MAX_SKEW_SECONDS", 300),
                Map.copyOf(env));
    }

    /** Defaults for tracked runs (a mapping's track field can override deadline and interval). */
    public io.portcamel.agent.tracking.TrackingService.Settings trackingSettings() {
        return trackingSettings(env);
    }

    static io.portcamel.agent.tracking.TrackingService.Settings trackingSettings(Map<String, String> env) {
        Env e = new Env(env);
        int interval = e.positiveInt("TRACKING_POLL_INTERVAL_SECONDS", 10);
        int max = e.positiveInt("TRACKING_MAX_POLL_INTERVAL_SECONDS", 60);
        if (max < interval) {
            throw new ConfigException("TRACKING_MAX_POLL_INTERVAL_SECONDS", String.valueOf(max),
                    "must not be below TRACKING_POLL_INTERVAL_SECONDS (" + interval + ")");
        }
        return new io.portcamel.agent.tracking.TrackingService.Settings(
                e.positiveInt("TRACKING_DEFAULT_DEADLINE_SECONDS", 7200), interval, max,
                e.positiveInt("TRACKING_BATCH_SIZE", 50));
    }

    /** TARGET_ALLOWED_HOSTS: comma-separated hosts every target request must go to (empty: any, as port-agent). */
    public java.util.List<String> targetAllowedHosts() {
        return allowedHosts(env);
    }

    /** The longest a target call can take with all its retries and back-offs (1 s, 2 s, 4 s … at most 30 s each). */
    public long longestTargetCallMillis() {
        int retries = targetMaxRetries();
        long backoff = 0;
        for (int i = 0; i < retries; i++) {
            backoff += Math.min(1000L << i, 30_000L);
        }
        return Math.round(webhookInvokerTimeoutSeconds * 1000) * (retries + 1) + backoff;
    }

    public Concurrency concurrency() {
        return Concurrency.from(env);
    }

    public int targetMaxRetries() {
        return targetMaxRetries(env);
    }

    /** TARGET_MAX_RETRIES (3): re-sends of a target call that was certainly not processed (refused, 429, 503). */
    static int targetMaxRetries(Map<String, String> env) {
        String v = env.getOrDefault("TARGET_MAX_RETRIES", "3").trim();
        try {
            int n = Integer.parseInt(v);
            if (n >= 0 && n <= 10) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new ConfigException("TARGET_MAX_RETRIES", v, "must be a whole number from 0 to 10");
    }

    static java.util.List<String> allowedHosts(Map<String, String> env) {
        String v = env.getOrDefault("TARGET_ALLOWED_HOSTS", "").trim();
        if (v.isEmpty()) {
            return java.util.List.of();
        }
        java.util.List<String> hosts = java.util.Arrays.stream(v.split(",")).map(String::trim).filter(h -> !h.isEmpty()).toList();
        for (String h : hosts) {
            if (h.contains("/")) {
                throw new ConfigException("TARGET_ALLOWED_HOSTS", v, "must list host names (e.g. circleci.com,*.example.com), not URLs");
            }
        }
        return hosts;
    }

    /** AGENT_LIVE_EDITS (default true): routes/*.yaml and the mapping file are reloaded when they change. */
    public boolean liveEdits() {
        return new Env(env).bool("AGENT_LIVE_EDITS", true);
    }

    /** Kafka brokers given locally (local mode or explicit servers) instead of fetched from Port. */
    public boolean kafkaBrokersGivenLocally() {
        return usingLocalPortInstance || !kafkaBootstrapServers.isBlank();
    }

    /** Values for the {{agent.*}} placeholders of the YAML routes. No secret goes here. */
    public Properties routeProperties() {
        Properties p = new Properties();
        p.setProperty("agent.org-id", orgId);
        p.setProperty("agent.port.base-url", portApiBaseUrl);
        p.setProperty("agent.kafka.enabled", String.valueOf(streamer == Streamer.KAFKA));
        p.setProperty("agent.kafka.topics", runsTopic + "," + changeLogTopic);
        p.setProperty("agent.kafka.runs-topic", runsTopic);
        p.setProperty("agent.kafka.change-log-topic", changeLogTopic);
        p.setProperty("agent.kafka.auto-offset-reset", kafkaAutoOffsetReset);
        p.setProperty("agent.kafka.session-timeout-ms", String.valueOf(kafkaSessionTimeoutMs));
        p.setProperty("agent.polling.enabled", String.valueOf(streamer == Streamer.POLLING));
        p.setProperty("agent.polling.interval-ms", String.valueOf(pollingIntervalSeconds * 1000L));
        p.setProperty("agent.target.timeout-ms", String.valueOf(Math.round(webhookInvokerTimeoutSeconds * 1000)));
        p.setProperty("agent.target.max-retries", String.valueOf(targetMaxRetries(env)));
        p.setProperty("agent.webhook.enabled", String.valueOf(webhookIngressEnabled));
        p.setProperty("agent.webhook.path", webhookIngressPath);
        p.setProperty("agent.live-edits", String.valueOf(liveEdits()));
        // replicas started together would tick in step, and the one ticking first would lease nearly every run that
        // comes due: a random phase within the 250 ms tick spreads the polls between them
        p.setProperty("agent.tracking.first-tick-ms", String.valueOf(1000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(250)));
        Concurrency c = concurrency();
        p.setProperty("agent.runs.concurrency", String.valueOf(c.runs()));
        p.setProperty("agent.port.concurrency", String.valueOf(c.port()));
        p.setProperty("agent.http.connections-per-host",
                String.valueOf(c.connectionsPerHost(io.portcamel.agent.store.StoreSettings.from(env).poolSize())));
        p.setProperty("agent.http.connections-total", String.valueOf(c.connectionsTotal()));
        return p;
    }

    /** slf4j-simple level for port-agent's LOG_LEVEL (Python names). */
    public String slf4jLevel() {
        return slf4jLevel(logLevel);
    }

    public static String slf4jLevel(String pythonLevel) {
        return switch (pythonLevel.toLowerCase(Locale.ROOT)) {
            case "trace" -> "trace";
            case "debug" -> "debug";
            case "warning", "warn" -> "warn";
            case "error", "critical" -> "error";
            default -> "info";
        };
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** Typed, validating access to the environment; every failure names the variable. */
    private record Env(Map<String, String> env) {
        String get(String name, String def) {
            String v = env.get(name);
            return v == null ? def : v.trim();
        }

        String required(String name, String what) {
            String v = get(name, "");
            if (v.isEmpty()) {
                throw new ConfigException(name, null, "is required (" + what + ")");
            }
            return v;
        }

        String url(String name, String def) {
            String v = get(name, def);
            if (!(v.startsWith("http://") || v.startsWith("https://")) || v.length() < 10) {
                throw new ConfigException(name, v, "must be an http:// or https:// URL");
            }
            return v;
        }

        boolean bool(String name, boolean def) {
            String v = get(name, String.valueOf(def)).toLowerCase(Locale.ROOT);
            if (TRUE.contains(v)) return true;
            if (FALSE.contains(v)) return false;
            throw new ConfigException(name, v, "must be true or false");
        }

        int positiveInt(String name, int def) {
            String v = get(name, String.valueOf(def));
            try {
                int i = Integer.parseInt(v);
                if (i > 0) return i;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new ConfigException(name, v, "must be a positive whole number");
        }

        double positiveDouble(String name, double def) {
            String v = get(name, String.valueOf(def));
            try {
                double d = Double.parseDouble(v);
                if (d > 0 && Double.isFinite(d)) return d;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new ConfigException(name, v, "must be a positive number");
        }

        double fraction(String name, double def) {
            String v = get(name, String.valueOf(def));
            try {
                double d = Double.parseDouble(v);
                if (d >= 0 && d <= 1) return d;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new ConfigException(name, v, "must be a number between 0 and 1");
        }

        String oneOfText(String name, String def, Set<String> allowed) {
            String v = get(name, def);
            if (!allowed.contains(v.toLowerCase(Locale.ROOT))) {
                throw new ConfigException(name, v, "must be one of " + new java.util.TreeSet<>(allowed));
            }
            return v.toLowerCase(Locale.ROOT);
        }

        <E extends Enum<E>> E oneOf(String name, String def, Class<E> type) {
            String v = get(name, def);
            try {
                return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException ex) {
                throw new ConfigException(name, v, "must be one of " + java.util.Arrays.toString(type.getEnumConstants()));
            }
        }
    }
}
