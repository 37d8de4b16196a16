package io.portcamel.agent.store;

import io.portcamel.agent.config.ConfigException;

import java.net.InetAddress;
import java.util.Map;
import java.util.UUID;

/**
 * Where tracked runs live and how they are leased, from {@code TRACKING_*} environment variables.
 *
 * <p>The default is an embedded H2 file, opened with options chosen for a process that may be killed at any moment:
 * <ul>
 *   <li>{@code WRITE_DELAY=0}: every commit is written to the file before the statement returns. H2's default (500 ms)
 *       keeps recent commits in memory, and a {@code kill -9} loses them (measured: all 200 rows of a test were lost);
 *       the store also sets it at start-up for H2 URLs that do not say so.</li>
 *   <li>{@code DB_CLOSE_ON_EXIT=FALSE}: H2's shutdown hook would otherwise close the database while Camel still drains
 *       the poll route; the store's {@link TrackingStore#close()} closes it in order instead (and a crash without
 *       a close is covered by {@code WRITE_DELAY=0}).</li>
 *   <li>no {@code DB_CLOSE_DELAY}: the database closes with the pool's last connection, so nothing stays open
 *       after {@code close()}; {@code AUTO_SERVER=FALSE} and H2's default file lock: one process owns the file, a
 *       second agent on the same file fails at start instead of sharing it (several replicas need PostgreSQL).</li>
 *   <li>{@code LOCK_TIMEOUT=10000}: poll threads that meet on one row wait instead of failing after H2's 1 s.</li>
 * </ul>
 *
 * @param password   never logged; {@link #toString()} masks it
 * @param replicaId  this process's name in {@code lease_owner}: host, pid and a random part, unique per process
 */
public record StoreSettings(String jdbcUrl, String user, String password, int batchSize, int leaseSeconds, int poolSize,
                            String replicaId) {

    public static final String DEFAULT_JDBC_URL =
            "jdbc:h2:file:./data/port-camel-agent;AUTO_SERVER=FALSE;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=10000";

    public static StoreSettings from(Map<String, String> env) {
        String url = value(env, "TRACKING_JDBC_URL", DEFAULT_JDBC_URL);
        if (!url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:postgresql:")) {
            throw new ConfigException("TRACKING_JDBC_URL", maskUrl(url), "is not supported: use a jdbc:h2: or jdbc:postgresql: URL");
        }
        return new StoreSettings(url,
                value(env, "TRACKING_JDBC_USER", null),
                value(env, "TRACKING_JDBC_PASSWORD", null),
                integer(env, "TRACKING_BATCH_SIZE", 50, 1, 1000),
                integer(env, "TRACKING_LEASE_SECONDS", 60, 5, 86_400),
                integer(env, "TRACKING_POOL_SIZE", 4, 1, 64),
                newReplicaId(env.get("HOSTNAME")));
    }

    /** "h2" or "postgresql". */
    public String dialect() {
        return jdbcUrl.startsWith("jdbc:postgresql:") ? "postgresql" : "h2";
    }

    @Override
    public String toString() {
        return "StoreSettings[jdbcUrl=" + maskUrl(jdbcUrl) + ", user=" + user + ", password=" + (password == null ? "null" : "***")
                + ", batchSize=" + batchSize + ", leaseSeconds=" + leaseSeconds + ", poolSize=" + poolSize + ", replicaId=" + replicaId + "]";
    }

    /** A URL fit for a log line or an error: a password given in the URL itself is masked. */
    static String maskUrl(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }

    static String newReplicaId(String hostname) {
        String host = hostname == null || hostname.isBlank() ? localHostName() : hostname.trim();
        if (host.length() > 100) {
            host = host.substring(0, 100);
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "agent";
        }
    }

    /** Blank counts as unset: Helm charts often render an empty string for a value nobody gave. */
    private static String value(Map<String, String> env, String name, String dflt) {
        String v = env.get(name);
        return v == null || v.isBlank() ? dflt : v.trim();
    }

    private static int integer(Map<String, String> env, String name, int dflt, int min, int max) {
        String v = value(env, name, null);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(name, v, "must be a whole number from " + min + " to " + max);
    }
}
