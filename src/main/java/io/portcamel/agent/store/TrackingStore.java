package io.portcamel.agent.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The durable list of pipelines being followed. A tracked run lives here from its trigger to its end, so a restart,
 * a crash or another replica resumes it from the last saved poll: the tracker's state, what Port already shows, and
 * the next poll time. Replicas share the work through leases: a run is polled by the replica that leased it, and a
 * dead replica's lease expires so another one takes the run over.
 *
 * <p>All times are epoch millis from the {@link Clock} given to {@link #open}. Thread-safe.
 */
public final class TrackingStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TrackingStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> RUN_KINDS = Set.of("ACTION_RUN", "WORKFLOW_NODE_RUN");
    private static final String COLUMNS = "run_id, run_kind, tracker_type, state_json, auth_enc, message_json, mapping_index, "
            + "next_poll_at, poll_interval_ms, poll_count, deadline_at, created_at, reported_json";

    /**
     * One followed pipeline.
     *
     * @param runKind     ACTION_RUN or WORKFLOW_NODE_RUN
     * @param authHeaders decrypted headers for follow-up calls; <b>null</b> when they cannot be decrypted (the
     *                    encryption secret changed): end such a run FAILURE rather than poll without credentials
     * @param message     the Port message, for rendering the entity at the end
     * @param reported    what Port already shows ({"statusLabel", "link", "externalRunId"}), so only changes are sent
     */
    public record TrackedRun(String runId, String runKind, String trackerType, ObjectNode state, Map<String, String> authHeaders,
                             ObjectNode message, int mappingIndex, long nextPollAt, long pollIntervalMs, int pollCount,
                             long deadlineAt, long createdAt, ObjectNode reported) {
    }

    /** Where a run stands: TRACKING or ENDED (with its end), and who holds its lease until when (0: nobody). */
    public record RunStatus(String status, String endStatus, String endSummary, String leaseOwner, long leaseUntil) {
    }

    private final HikariDataSource pool;
    private final StoreSettings settings;
    private final String dialect;
    private final AuthCipher cipher;
    private final Clock clock;
    private final long leaseMillis;

    private TrackingStore(HikariDataSource pool, StoreSettings settings, AuthCipher cipher, Clock clock) {
        this.pool = pool;
        this.settings = settings;
        this.dialect = settings.dialect();
        this.cipher = cipher;
        this.clock = clock;
        this.leaseMillis = settings.leaseSeconds() * 1000L;
    }

    public static TrackingStore open(StoreSettings settings, String encryptionSecret) {
        return open(settings, encryptionSecret, Clock.systemUTC());
    }

    /** Opens the pool and creates or migrates the schema; fails (and closes the pool) if the database is unusable. */
    public static TrackingStore open(StoreSettings settings, String encryptionSecret, Clock clock) {
        AuthCipher cipher = new AuthCipher(encryptionSecret);
        HikariConfig config = new HikariConfig();
        config.setPoolName("tracking-store");
        config.setJdbcUrl(settings.jdbcUrl());
        if (settings.user() != null) {
            config.setUsername(settings.user());
        }
        if (settings.password() != null) {
            config.setPassword(settings.password());
        }
        config.setMaximumPoolSize(settings.poolSize());
        config.setConnectionTimeout(10_000);
        HikariDataSource pool = new HikariDataSource(config);
        try {
            TrackingStore store = new TrackingStore(pool, settings, cipher, clock);
            int version;
            try (Connection c = pool.getConnection()) {
                if (store.dialect.equals("h2")) {
                    durableH2(c);
                }
                version = Schema.migrate(c, store.dialect);
                if (store.dialect.equals("h2")) {
                    // one process at a time opens an H2 file: any lease in it belongs to a process that died
                    try (Statement s = c.createStatement()) {
                        s.executeUpdate("UPDATE tracked_run SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL");
                        s.executeUpdate("UPDATE port_outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL");
                    }
                }
            }
            LOG.info("Tracking store: {} (schema v{}, pool {}, lease {} s, replica {})", store.dialect, version,
                    settings.poolSize(), settings.leaseSeconds(), settings.replicaId());
            return store;
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw new IllegalStateException("The tracking store cannot be opened (" + StoreSettings.maskUrl(settings.jdbcUrl())
                    + "): " + e.getMessage(), e);
        }
    }

    /** Commits reach the file before they return, whatever the URL said (see {@link StoreSettings}); persistent in H2. */
    private static void durableH2(Connection c) {
        try (Statement s = c.createStatement()) {
            s.execute("SET WRITE_DELAY 0");
        } catch (SQLException e) {
            LOG.warn("Tracking store: cannot SET WRITE_DELAY 0 on H2 ({}); commits of the last half second may be lost in a crash",
                    e.getMessage());
        }
    }

    /** "h2" or "postgresql". */
    public String dialect() {
        return dialect;
    }

    public String replicaId() {
        return settings.replicaId();
    }

    /**
     * Records that this run was accepted for processing; false if it already was (by this or another replica, before
     * or after a restart). Backs the dispatch route's idempotent consumer.
     */
    public boolean accept(String runKey) {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO accepted_run (run_key, accepted_at, replica) VALUES (?, ?, ?)")) {
            ps.setString(1, runKey);
            ps.setLong(2, clock.millis());
            ps.setString(3, settings.replicaId());
            ps.executeUpdate();
            return true;
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                return false;
            }
            throw failure("accept " + runKey, e);
        }
    }

    public boolean isAccepted(String runKey) {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM accepted_run WHERE run_key = ?")) {
            ps.setString(1, runKey);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw failure("look up " + runKey, e);
        }
    }

    // --- the Port outbox -----------------------------------------------------------------------------------

    /** One pending update for Port. */
    public record OutboxItem(long id, String runId, String method, String path, String body, int attempts, long nextAttemptAt) { }

    /** Queues an update for Port; it is delivered after every earlier update of the same run. */
    public void outboxAdd(String runId, String method, String path, String body) {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO port_outbox (run_id, method, path, body, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            long now = clock.millis();
            ps.setString(1, runId);
            ps.setString(2, method);
            ps.setString(3, path);
            ps.setString(4, body);
            ps.setLong(5, now);
            ps.setLong(6, now);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw failure("queue a Port update of " + runId, e);
        }
    }

    /** Runs with updates waiting, oldest first (at most {@code limit}). */
    public List<String> outboxRuns(int limit) {
        List<String> runs = new java.util.ArrayList<>();
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT run_id, MIN(id) AS head FROM port_outbox WHERE status = 'PENDING' GROUP BY run_id ORDER BY head")) {
            ps.setMaxRows(limit);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    runs.add(rs.getString(1));
                }
            }
            return runs;
        } catch (SQLException e) {
            throw failure("list pending Port updates", e);
        }
    }

    /**
     * The run's pending updates, oldest first (at most {@code limit}), if the oldest is due and this replica could lease
     * it (no other replica holds it). Only the holder of a run's oldest update delivers: updates of one run are
     * delivered in order, and the ones after the head ride along (several log lines in one call). Empty otherwise.
     */
    public List<OutboxItem> outboxLeaseHead(String runId, int limit) {
        long now = clock.millis();
        List<OutboxItem> items = new java.util.ArrayList<>();
        try (Connection c = pool.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, run_id, method, path, body, attempts, next_attempt_at "
                    + "FROM port_outbox WHERE run_id = ? AND status = 'PENDING' ORDER BY id")) {
                ps.setString(1, runId);
                ps.setMaxRows(limit);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        items.add(new OutboxItem(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                                rs.getInt(6), rs.getLong(7)));
                    }
                }
            }
            if (items.isEmpty() || items.get(0).nextAttemptAt() > now) {
                return List.of();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE port_outbox SET lease_owner = ?, lease_until = ? WHERE id = ? "
                    + "AND status = 'PENDING' AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)")) {
                ps.setString(1, settings.replicaId());
                ps.setLong(2, now + leaseMillis);
                ps.setLong(3, items.get(0).id());
                ps.setLong(4, now);
                ps.setString(5, settings.replicaId());
                return ps.executeUpdate() == 1 ? items : List.of();
            }
        } catch (SQLException e) {
            throw failure("lease the Port updates of " + runId, e);
        }
    }

    /** Port took the update: it leaves the outbox. */
    public void outboxDelivered(long id) {
        update("deliver outbox " + id, "DELETE FROM port_outbox WHERE id = ?", id);
    }

    /** Port took these updates (log lines sent in one call): they leave the outbox. */
    public void outboxDelivered(List<Long> ids) {
        if (ids.size() == 1) {
            outboxDelivered(ids.get(0));
            return;
        }
        String marks = String.join(",", java.util.Collections.nCopies(ids.size(), "?"));
        update("deliver outbox " + ids, "DELETE FROM port_outbox WHERE id IN (" + marks + ")", ids.toArray());
    }

    /** Port refused the update for good (e.g. 422 for an ended run): kept with the reason, not retried. */
    public void outboxDropped(long id, String error) {
        update("drop outbox " + id, "UPDATE port_outbox SET status = 'DROPPED', last_error = ?, lease_owner = NULL, lease_until = NULL "
                + "WHERE id = ?", truncate(error, 2000), id);
    }

    /** Port could not be reached: try again at {@code nextAttemptAt}; later updates of the run wait. */
    public void outboxRetryLater(long id, long nextAttemptAt, String error) {
        update("reschedule outbox " + id, "UPDATE port_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
                + "lease_owner = NULL, lease_until = NULL WHERE id = ?", nextAttemptAt, truncate(error, 2000), id);
    }

    /** Updates not delivered yet (all replicas). */
    public int outboxPending() {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM port_outbox WHERE status = 'PENDING'")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw failure("count pending Port updates", e);
        }
    }

    /** Keeps a message the agent could not take, with where it came from and why; returns its id. */
    public String deadLetter(String origin, String reason, String runId, String payload) {
        String id = java.util.UUID.randomUUID().toString();
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO dead_letter (id, received_at, origin, reason, run_id, payload) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setLong(2, clock.millis());
            ps.setString(3, truncate(origin, 500));
            ps.setString(4, truncate(reason, 2000));
            ps.setString(5, runId == null ? null : truncate(runId, 200));
            ps.setString(6, payload);
            ps.executeUpdate();
            return id;
        } catch (SQLException e) {
            throw failure("dead-letter a message from " + origin, e);
        }
    }

    /** Dead letters kept so far (for metrics and tests): reason per id, oldest first. */
    public List<Map<String, String>> deadLetters() {
        List<Map<String, String>> out = new java.util.ArrayList<>();
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT id, origin, reason, run_id FROM dead_letter ORDER BY received_at")) {
            while (rs.next()) {
                Map<String, String> row = new java.util.LinkedHashMap<>();
                row.put("id", rs.getString(1));
                row.put("origin", rs.getString(2));
                row.put("reason", rs.getString(3));
                row.put("runId", rs.getString(4));
                out.add(row);
            }
            return out;
        } catch (SQLException e) {
            throw failure("read dead letters", e);
        }
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    /** This replica is alive (called every tick); other replicas read it to tell a dead replica's work. */
    public void heartbeat() {
        long now = clock.millis();
        if (update("heartbeat", "UPDATE replica_heartbeat SET seen_at = ? WHERE replica = ?", now, settings.replicaId()) == 0) {
            try {
                update("heartbeat", "INSERT INTO replica_heartbeat (replica, seen_at) VALUES (?, ?)", settings.replicaId(), now);
            } catch (IllegalStateException raced) {
                // inserted by a concurrent tick of this replica: fine
            }
        }
    }

    /**
     * Runs accepted more than {@code olderThanMillis} ago and never finished, by a replica that is gone (another
     * replica id whose heartbeat is older than {@code deadAfterMillis}; with an H2 file every other replica id is a
     * previous process). Each is claimed (marked done) by exactly one caller, which must end it: the agent died
     * between trigger and report, so its outcome is unknown.
     */
    public List<String> claimCutOffRuns(long olderThanMillis, long deadAfterMillis, int limit) {
        return claimCutOffRuns(olderThanMillis, deadAfterMillis, limit, java.util.Set.of());
    }

    /**
     * As above, also for this replica's own acceptances that are no longer being processed here (their processing
     * failed part-way, e.g. while the database restarted): {@code inFlightHere} names the ones still in progress.
     */
    public List<String> claimCutOffRuns(long olderThanMillis, long deadAfterMillis, int limit, java.util.Set<String> inFlightHere) {
        long now = clock.millis();
        List<String> candidates = new java.util.ArrayList<>();
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT a.run_key FROM accepted_run a LEFT JOIN replica_heartbeat h ON h.replica = a.replica "
                        + "WHERE a.state = 'ACCEPTED' AND a.accepted_at < ? "
                        + "AND (a.replica = ? OR ? OR h.seen_at IS NULL OR h.seen_at < ?) ORDER BY a.accepted_at")) {
            ps.setLong(1, now - olderThanMillis);
            ps.setString(2, settings.replicaId());
            ps.setBoolean(3, "h2".equals(dialect));
            ps.setLong(4, now - deadAfterMillis);
            ps.setMaxRows(limit);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    candidates.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw failure("look for cut-off runs", e);
        }
        List<String> claimed = new java.util.ArrayList<>();
        for (String key : candidates) {
            if (inFlightHere.contains(key)) {
                continue;
            }
            if (update("claim cut-off " + key, "UPDATE accepted_run SET state = 'DONE' WHERE run_key = ? AND state = 'ACCEPTED'", key) == 1) {
                claimed.add(key);
            }
        }
        return claimed;
    }

    /** The run was handled to the end (triggered and reported, or failed and reported). */
    public boolean markDone(String runKey) {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE accepted_run SET state = 'DONE' WHERE run_key = ?")) {
            ps.setString(1, runKey);
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw failure("mark done " + runKey, e);
        }
    }

    /** When an accepted run was accepted, and whether it was handled to the end; empty if never accepted. */
    public Optional<Accepted> accepted(String runKey) {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT accepted_at, replica, state FROM accepted_run WHERE run_key = ?")) {
            ps.setString(1, runKey);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Accepted(rs.getLong(1), rs.getString(2), "DONE".equals(rs.getString(3))))
                        : Optional.empty();
            }
        } catch (SQLException e) {
            throw failure("look up " + runKey, e);
        }
    }

    public record Accepted(long acceptedAt, String replica, boolean done) { }

    /** Forgets an accepted run (its processing failed before anything was sent), so a redelivery may try again. */
    public boolean forget(String runKey) {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement("DELETE FROM accepted_run WHERE run_key = ?")) {
            ps.setString(1, runKey);
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw failure("forget " + runKey, e);
        }
    }

    /** Stores a new run, due at its nextPollAt. False (and nothing changed) if the run id is already stored. */
    public boolean insert(TrackedRun run) {
        if (!RUN_KINDS.contains(run.runKind())) {
            throw new IllegalArgumentException("runKind must be one of " + RUN_KINDS + ", not " + run.runKind());
        }
        String sql = "INSERT INTO tracked_run (" + COLUMNS + ", status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'TRACKING', ?)";
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, run.runId());
            ps.setString(2, run.runKind());
            ps.setString(3, run.trackerType());
            ps.setString(4, json(run.state()));
            ps.setString(5, cipher.encrypt(json(run.authHeaders() == null ? Map.of() : run.authHeaders()), run.runId()));
            ps.setString(6, json(run.message()));
            ps.setInt(7, run.mappingIndex());
            ps.setLong(8, run.nextPollAt());
            ps.setLong(9, run.pollIntervalMs());
            ps.setInt(10, run.pollCount());
            ps.setLong(11, run.deadlineAt());
            ps.setLong(12, run.createdAt());
            ps.setString(13, json(run.reported()));
            ps.setLong(14, clock.millis());
            ps.executeUpdate();
            return true;
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) { // unique violation, the same code on H2 and PostgreSQL
                return false;
            }
            throw failure("insert " + run.runId(), e);
        }
    }

    /**
     * Leases up to {@code limit} due runs to this replica for the lease time, oldest nextPollAt first.
     *
     * <p>How: read candidate ids (twice the limit), then claim the first {@code limit} of them with one conditional
     * UPDATE that re-checks "still due, still tracking, no live lease" for each row, and read back the rows this very
     * claim took — they carry this replica's id and a {@code lease_until} no other claim of this store has used (see
     * {@link #nextLeaseUntil}). Both databases re-check an UPDATE's WHERE against the committed row after taking its
     * row lock, so when replicas race for a run exactly one UPDATE changes it. If others took some of the candidates,
     * the next ones are claimed the same way (up to three claims); a replica may still lease fewer runs than due under
     * contention — the next lease takes the rest. Chosen over {@code SELECT … FOR UPDATE SKIP LOCKED} because it is
     * one code path, tested on H2 and PostgreSQL alike, holds no lock beyond one autocommit statement, and does not
     * depend on the isolation level. A claim per batch, not per run: at 1,000 polls a second a statement per run was
     * a thousand commits a second (on H2, each one a write of the file). A claim that loses a deadlock to another
     * replica's (the database rolls it back) leases nothing this time. The rows are read back after the claim, so
     * the state returned is the one saved by the last reschedule.
     */
    public List<TrackedRun> leaseDue(int limit) {
        if (limit <= 0) {
            return List.of();
        }
        long now = clock.millis();
        long until = nextLeaseUntil(now);
        try (Connection c = pool.getConnection()) {
            List<String> candidates = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT run_id FROM tracked_run WHERE status = 'TRACKING' AND next_poll_at <= ? "
                    + "AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_poll_at, run_id FETCH FIRST ? ROWS ONLY")) {
                ps.setLong(1, now);
                ps.setLong(2, now);
                ps.setInt(3, Math.min(limit * 2, limit + 500));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        candidates.add(rs.getString(1));
                    }
                }
            }
            List<String> tried = new ArrayList<>();
            int leased = 0;
            for (int claim = 0; claim < 3 && leased < limit && tried.size() < candidates.size(); claim++) {
                List<String> batch = candidates.subList(tried.size(), Math.min(candidates.size(), tried.size() + limit - leased));
                try {
                    leased += claim(c, batch, now, until);
                } catch (SQLException e) {
                    if (!LOST_RACE.contains(e.getSQLState())) {
                        throw e;
                    }
                    // rolled back: this claim took nothing (earlier ones, committed, are read back below)
                    LOG.debug("lease due runs: a claim lost a race with another replica: {}", e.getMessage());
                    break;
                }
                tried.addAll(batch);
            }
            return leased == 0 ? List.of() : read(c, tried, until);
        } catch (SQLException e) {
            throw failure("lease due runs", e);
        }
    }

    /** Deadlock (PostgreSQL 40P01, H2 40001) or lock timeout (H2 HYT00): the claim was rolled back. */
    private static final Set<String> LOST_RACE = Set.of("40P01", "40001", "HYT00");

    /** One conditional UPDATE for a batch of candidates; how many rows it claimed. */
    private int claim(Connection c, List<String> runIds, long now, long until) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE tracked_run SET lease_owner = ?, lease_until = ?, poll_now = 0 "
                + "WHERE run_id IN (" + String.join(", ", Collections.nCopies(runIds.size(), "?")) + ") "
                + "AND status = 'TRACKING' AND next_poll_at <= ? AND (lease_until IS NULL OR lease_until < ?)")) {
            int i = 1;
            ps.setString(i++, settings.replicaId());
            ps.setLong(i++, until);
            for (String runId : runIds) {
                ps.setString(i++, runId);
            }
            ps.setLong(i++, now);
            ps.setLong(i, now);
            return ps.executeUpdate();
        }
    }

    /**
     * The {@code lease_until} of a new lease: the lease time from now, and above every value this store handed out
     * before, so (replica id, lease_until) names one claim — even two claims of one replica in the same millisecond.
     */
    private long nextLeaseUntil(long now) {
        return lastLeaseUntil.updateAndGet(previous -> Math.max(previous + 1, now + leaseMillis));
    }

    private final java.util.concurrent.atomic.AtomicLong lastLeaseUntil = new java.util.concurrent.atomic.AtomicLong();

    /** The runs among {@code runIds} that the claim with this {@code lease_until} took, oldest nextPollAt first. */
    private List<TrackedRun> read(Connection c, List<String> runIds, long leaseUntil) throws SQLException {
        String in = String.join(", ", Collections.nCopies(runIds.size(), "?"));
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM tracked_run WHERE run_id IN (" + in + ") "
                + "AND lease_owner = ? AND lease_until = ? ORDER BY next_poll_at, run_id")) {
            int i = 1;
            for (String runId : runIds) {
                ps.setString(i++, runId);
            }
            ps.setString(i++, settings.replicaId());
            ps.setLong(i, leaseUntil);
            List<TrackedRun> runs = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    runs.add(row(rs));
                }
            }
            return runs;
        }
    }

    private List<TrackedRun> read(Connection c, List<String> runIds) throws SQLException {
        String in = String.join(", ", Collections.nCopies(runIds.size(), "?"));
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM tracked_run WHERE run_id IN (" + in + ") "
                + "ORDER BY next_poll_at, run_id")) {
            for (int i = 0; i < runIds.size(); i++) {
                ps.setString(i + 1, runIds.get(i));
            }
            List<TrackedRun> runs = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    runs.add(row(rs));
                }
            }
            return runs;
        }
    }

    /**
     * Extends this replica's lease on a run before it tells Port anything; false when the lease is gone (it expired
     * and another replica may be polling the run), and then this replica must not report.
     */
    public boolean renewLease(String runId) {
        long now = clock.millis();
        return update("renew lease " + runId, "UPDATE tracked_run SET lease_until = ? WHERE run_id = ? AND status = 'TRACKING' "
                + "AND lease_owner = ? AND lease_until >= ?", now + leaseMillis, runId, settings.replicaId(), now) == 1;
    }

    /**
     * Saves a poll's outcome, counts the poll and releases the lease. False (nothing saved) when this replica no
     * longer holds the run: its lease expired and another replica took it, or the run ended meanwhile. If
     * {@link #pollNow} was called during the poll, the run stays due now: the poll may have looked too early.
     *
     * @param newState the tracker's state after the poll; null keeps the stored one (a poll that found nothing new:
     *                 the JSON columns are not rewritten, which on H2 would replace their CLOBs on every poll)
     * @param reported what Port shows now; null keeps the stored value
     */
    public boolean reschedule(String runId, ObjectNode newState, ObjectNode reported, long nextPollAt, long pollIntervalMs) {
        long now = clock.millis();
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder("UPDATE tracked_run SET ");
        if (newState != null) {
            sql.append("state_json = ?, ");
            params.add(json(newState));
        }
        if (reported != null) {
            sql.append("reported_json = ?, ");
            params.add(json(reported));
        }
        sql.append("next_poll_at = CASE WHEN poll_now = 1 THEN ? ELSE ? END, poll_now = 0, poll_interval_ms = ?, "
                + "poll_count = poll_count + 1, updated_at = ?, lease_owner = NULL, lease_until = NULL "
                + "WHERE run_id = ? AND status = 'TRACKING' AND lease_owner = ?");
        params.addAll(List.of(Math.min(nextPollAt, now), nextPollAt, pollIntervalMs, now, runId, settings.replicaId()));
        return update("reschedule " + runId, sql.toString(), params.toArray()) == 1;
    }

    /**
     * Ends a run (no more polls) and releases its lease, whoever held it, so a watchdog may end a run past its
     * deadline. True only for the call that ended it: send the terminal status to Port only then.
     *
     * @param reported what Port shows at the end; null keeps the stored value
     */
    public boolean end(String runId, String endStatus, String endSummary, ObjectNode reported) {
        long now = clock.millis();
        String where = " WHERE run_id = ? AND status = 'TRACKING'";
        String set = "UPDATE tracked_run SET status = 'ENDED', end_status = ?, end_summary = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL";
        int n = reported == null
                ? update("end " + runId, set + where, endStatus, endSummary, now, runId)
                : update("end " + runId, set + ", reported_json = ?" + where, endStatus, endSummary, now, json(reported), runId);
        return n == 1;
    }

    /**
     * Makes a run due now (a pipeline's callback says something changed). False if the run is unknown or ended.
     * For a run being polled right now, the flag {@code poll_now} makes its {@link #reschedule} keep it due.
     */
    public boolean pollNow(String runId) {
        long now = clock.millis();
        return update("poll " + runId + " now", "UPDATE tracked_run SET next_poll_at = LEAST(next_poll_at, ?), updated_at = ?, "
                + "poll_now = CASE WHEN lease_owner IS NULL THEN 0 ELSE 1 END WHERE run_id = ? AND status = 'TRACKING'", now, now, runId) == 1;
    }

    /** A run in any status. */
    public Optional<TrackedRun> find(String runId) {
        try (Connection c = pool.getConnection()) {
            List<TrackedRun> runs = read(c, List.of(runId));
            return runs.isEmpty() ? Optional.empty() : Optional.of(runs.get(0));
        } catch (SQLException e) {
            throw failure("find " + runId, e);
        }
    }

    public Optional<RunStatus> status(String runId) {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT status, end_status, end_summary, lease_owner, lease_until FROM tracked_run WHERE run_id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new RunStatus(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5)))
                        : Optional.empty();
            }
        } catch (SQLException e) {
            throw failure("status of " + runId, e);
        }
    }

    /** Runs not ended yet (for metrics and health). */
    public int countTracking() {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM tracked_run WHERE status = 'TRACKING'")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw failure("count tracked runs", e);
        }
    }

    /** For the health check: a pooled connection answers {@code SELECT 1} within a few seconds. Never throws. */
    public boolean isReachable() {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(3);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                return rs.next();
            }
        } catch (Exception e) {
            LOG.debug("Tracking store not reachable: {}", e.toString());
            return false;
        }
    }

    @Override
    public void close() {
        pool.close();
    }

    private int update(String what, String sql, Object... params) {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    private TrackedRun row(ResultSet rs) throws SQLException {
        String runId = rs.getString("run_id");
        return new TrackedRun(runId, rs.getString("run_kind"), rs.getString("tracker_type"), object(rs.getString("state_json")),
                auth(runId, rs.getString("auth_enc")), object(rs.getString("message_json")), rs.getInt("mapping_index"),
                rs.getLong("next_poll_at"), rs.getLong("poll_interval_ms"), rs.getInt("poll_count"), rs.getLong("deadline_at"),
                rs.getLong("created_at"), object(rs.getString("reported_json")));
    }

    private Map<String, String> auth(String runId, String stored) {
        try {
            return JSON.readValue(cipher.decrypt(stored, runId), new TypeReference<LinkedHashMap<String, String>>() { });
        } catch (GeneralSecurityException | JsonProcessingException e) {
            LOG.warn("run {}: the stored auth headers cannot be decrypted (was the encryption secret changed?)", runId);
            return null;
        }
    }

    private static ObjectNode object(String text) {
        try {
            JsonNode node = text == null ? null : JSON.readTree(text);
            return node instanceof ObjectNode o ? o : JSON.createObjectNode();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is not readable: " + e.getOriginalMessage(), e);
        }
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value == null ? JSON.createObjectNode() : value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serializable as JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static StoreUnavailableException failure(String what, SQLException e) {
        return new StoreUnavailableException("Tracking store: " + what + " failed: " + e.getMessage(), e);
    }
}
