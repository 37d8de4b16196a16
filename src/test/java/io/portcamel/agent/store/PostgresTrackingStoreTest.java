package io.portcamel.agent.store;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The contract on PostgreSQL, in a schema of its own that is dropped afterwards. Skipped only when no server
 * answers (a connection error); any other failure fails. TRACKING_TEST_PG_URL overrides the server.
 */
class PostgresTrackingStoreTest extends TrackingStoreContract {
    static final String BASE_URL = System.getenv().getOrDefault("TRACKING_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

    private final List<String> schemas = new ArrayList<>();
    private String schema;
    private String unreachable;

    @BeforeAll
    void createSchema() throws SQLException {
        try {
            schema = newSchema();
        } catch (SQLException e) {
            if (e.getSQLState() == null || !e.getSQLState().startsWith("08")) {
                throw e; // a server that answers wrongly is a failure, not a reason to skip
            }
            unreachable = "PostgreSQL is not reachable at " + BASE_URL + ": " + e.getMessage();
        }
    }

    @Override
    void assumeDatabase() {
        Assumptions.assumeTrue(unreachable == null, unreachable);
    }

    @AfterAll
    void dropSchemas() throws SQLException {
        if (schemas.isEmpty()) {
            return;
        }
        try (Connection c = DriverManager.getConnection(BASE_URL); Statement s = c.createStatement()) {
            for (String name : schemas) {
                s.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
            }
        }
    }

    private String newSchema() throws SQLException {
        String name = "store_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        DriverManager.setLoginTimeout(5);
        try (Connection c = DriverManager.getConnection(BASE_URL); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + name);
        }
        schemas.add(name);
        return name;
    }

    static String url(String schema) {
        return BASE_URL + (BASE_URL.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    @Override
    String jdbcUrl() {
        return url(schema);
    }

    @Override
    String expectedDialect() {
        return "postgresql";
    }

    /** Replicas starting together on an empty schema: one creates the tables, the others find them. */
    @Test
    void replicasStartingAtOnceMigrateOnce() throws Exception {
        String fresh = newSchema();
        ExecutorService threads = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<TrackingStore>> stores = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String replica = "replica-" + i;
            stores.add(threads.submit(() -> {
                start.await();
                return TrackingStore.open(new StoreSettings(url(fresh), null, null, 50, 60, 1, replica), SECRET, Clock.systemUTC());
            }));
        }
        start.countDown();
        for (Future<TrackingStore> f : stores) {
            f.get(60, TimeUnit.SECONDS).close();
        }
        threads.shutdown();
        try (Connection c = DriverManager.getConnection(url(fresh)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM schema_version")) {
            rs.next();
            assertEquals(Schema.MIGRATIONS.size(), rs.getInt(1));
        }
    }
}
