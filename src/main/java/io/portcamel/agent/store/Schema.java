package io.portcamel.agent.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The store's tables, created or brought up to date at start-up. Migrations are ordered and never edited once
 * released: a change is a new entry at the end of {@link #MIGRATIONS}. The SQL is written once for H2 and PostgreSQL
 * (VARCHAR, INT, BIGINT epoch millis for times); the one difference is the type of large text, {@code ${TEXT}}: CLOB
 * on H2 (whose TEXT is a VARCHAR capped at 1,000,000 characters, less than a 1 MiB Port message) and TEXT on
 * PostgreSQL. DDL uses IF NOT EXISTS because H2 commits DDL at once: a migration cut short is simply run again.
 */
final class Schema {
    private static final Logger LOG = LoggerFactory.getLogger(Schema.class);

    /** Any constant will do: it only has to be the same for every replica (pg_advisory_lock key). */
    private static final long MIGRATION_LOCK = 0x706f727463616d6cL;

    record Migration(int version, String description, List<String> statements) { }

    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, "tracked_run", List.of("""
                    CREATE TABLE IF NOT EXISTS tracked_run (
                        run_id           VARCHAR(200) NOT NULL PRIMARY KEY,
                        run_kind         VARCHAR(40)  NOT NULL CHECK (run_kind IN ('ACTION_RUN', 'WORKFLOW_NODE_RUN')),
                        tracker_type     VARCHAR(100) NOT NULL,
                        state_json       ${TEXT}      NOT NULL,
                        auth_enc         ${TEXT}      NOT NULL,
                        message_json     ${TEXT}      NOT NULL,
                        mapping_index    INT          NOT NULL,
                        status           VARCHAR(20)  NOT NULL CHECK (status IN ('TRACKING', 'ENDED')),
                        next_poll_at     BIGINT       NOT NULL,
                        poll_interval_ms BIGINT       NOT NULL,
                        poll_count       INT          NOT NULL,
                        deadline_at      BIGINT       NOT NULL,
                        created_at       BIGINT       NOT NULL,
                        updated_at       BIGINT       NOT NULL,
                        lease_owner      VARCHAR(200),
                        lease_until      BIGINT,
                        poll_now         INT          DEFAULT 0 NOT NULL,
                        reported_json    ${TEXT}      NOT NULL,
                        end_status       VARCHAR(20),
                        end_summary      ${TEXT}
                    )""",
                    "CREATE INDEX IF NOT EXISTS tracked_run_due ON tracked_run (status, next_poll_at)")),
            // the dedupe key of every run the agent accepted: a redelivered or replayed message never triggers twice
            new Migration(2, "accepted_run", List.of("""
                    CREATE TABLE IF NOT EXISTS accepted_run (
                        run_key      VARCHAR(200) NOT NULL PRIMARY KEY,
                        accepted_at  BIGINT       NOT NULL,
                        replica      VARCHAR(200) NOT NULL,
                        state        VARCHAR(20)  DEFAULT 'ACCEPTED' NOT NULL CHECK (state IN ('ACCEPTED', 'DONE'))
                    )""")),
            // messages the agent could not take (invalid JSON, oversize, bad signature…), kept for an operator
            new Migration(3, "dead_letter", List.of("""
                    CREATE TABLE IF NOT EXISTS dead_letter (
                        id           VARCHAR(64)  NOT NULL PRIMARY KEY,
                        received_at  BIGINT       NOT NULL,
                        origin       VARCHAR(500) NOT NULL,
                        reason       VARCHAR(2000) NOT NULL,
                        run_id       VARCHAR(200),
                        payload      ${TEXT}
                    )""")));

    private Schema() {
    }

    /** Brings the schema to the latest version; returns that version. Replicas starting together take turns. */
    static int migrate(Connection c, String dialect) throws SQLException {
        boolean pg = "postgresql".equals(dialect);
        try (Statement s = c.createStatement()) {
            if (pg) {
                // session lock: two replicas starting at once must not both create tables (PG's CREATE TABLE IF NOT
                // EXISTS is not safe against a concurrent one). An embedded H2 file has a single process anyway.
                s.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
            }
            try {
                s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY, "
                        + "description VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
                int current = current(s);
                int latest = MIGRATIONS.get(MIGRATIONS.size() - 1).version();
                if (current > latest) {
                    // migrations only add, so an older agent (a rollback, a rolling deploy) can still run
                    LOG.warn("Tracking store schema is at version {}, newer than this agent's {}", current, latest);
                    return current;
                }
                for (Migration m : MIGRATIONS) {
                    if (m.version() > current) {
                        apply(c, m, pg);
                        LOG.info("Tracking store schema: applied migration {} ({})", m.version(), m.description());
                    }
                }
                return latest;
            } finally {
                if (pg) {
                    s.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
                }
            }
        }
    }

    private static int current(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void apply(Connection c, Migration m, boolean pg) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement();
             PreparedStatement record = c.prepareStatement("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
            for (String sql : m.statements()) {
                s.execute(sql.replace("${TEXT}", pg ? "TEXT" : "CLOB"));
            }
            record.setInt(1, m.version());
            record.setString(2, m.description());
            record.setLong(3, System.currentTimeMillis());
            record.executeUpdate();
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
