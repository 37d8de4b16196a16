package io.portcamel.agent.config;

import java.util.Map;

/**
 * How much the agent does at once. Runs from Kafka are handled by {@code runs} workers (one partition's records in
 * parallel, offsets still committed in order); each target host gets at most {@code perTarget} of them at a time, so
 * a burst cannot flood one CI API; Port updates are delivered for {@code port} runs at a time.
 *
 * @param runs      AGENT_RUN_CONCURRENCY (64): runs handled at once; 1 gives port-agent's one-at-a-time, in order
 * @param perTarget TARGET_MAX_CONCURRENCY (64): calls in flight to one target host (scheme://host:port)
 * @param port      PORT_MAX_CONCURRENCY (8): runs whose Port updates are delivered at once
 */
public record Concurrency(int runs, int perTarget, int port) {

    public static Concurrency from(Map<String, String> env) {
        return new Concurrency(
                between(env, "AGENT_RUN_CONCURRENCY", 64, 1, 1024),
                between(env, "TARGET_MAX_CONCURRENCY", 64, 1, 1024),
                between(env, "PORT_MAX_CONCURRENCY", 8, 1, 64));
    }

    /**
     * HttpClient's pool (one for all camel-http endpoints): every worker may hold a connection to one host — a target,
     * Port, or the CI API the {@code trackingPool} polls (camel-http's default, 20 per host, would be the limit).
     */
    public int connectionsPerHost(int trackingPool) {
        return Math.max(Math.max(perTarget, port), Math.max(trackingPool, 20));
    }

    public int connectionsTotal() {
        return Math.max(runs + port + 64, 200);
    }

    private static int between(Map<String, String> env, String name, int def, int min, int max) {
        String v = env.getOrDefault(name, String.valueOf(def)).trim();
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new ConfigException(name, v, "must be a whole number from " + min + " to " + max);
    }
}
