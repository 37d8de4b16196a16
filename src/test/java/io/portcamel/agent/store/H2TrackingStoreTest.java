package io.portcamel.agent.store;

import io.portcamel.agent.store.TrackingStore.TrackedRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The contract on the default: an embedded H2 file with the default URL's options, plus what only a file must show. */
class H2TrackingStoreTest extends TrackingStoreContract {
    @TempDir
    static Path dir;

    static String fileUrl(Path file) {
        return StoreSettings.DEFAULT_JDBC_URL.replace("./data/port-camel-agent", file.toString());
    }

    @Override
    String jdbcUrl() {
        return fileUrl(dir.resolve("contract"));
    }

    @Override
    String expectedDialect() {
        return "h2";
    }

    @Test
    void dataSurvivesCloseAndReopen() {
        Path file = dir.resolve("reopen");
        StoreSettings settings = new StoreSettings(fileUrl(file), null, null, 50, 60, 2, "replica-a");
        TrackedRun saved;
        try (TrackingStore first = TrackingStore.open(settings, SECRET, clock)) {
            first.insert(run("r-1", T0));
            first.insert(run("r-2", T0));
            first.leaseDue(1);
            first.reschedule("r-1", JSON.createObjectNode().put("phase", "running"), JSON.createObjectNode().put("link", "https://ci/1"),
                    T0 + 5_000, 5_000);
            first.end("r-2", "FAILURE", "Pipeline failed", null);
            saved = first.find("r-1").orElseThrow();
        }
        try (TrackingStore second = TrackingStore.open(settings, SECRET, clock)) {
            assertEquals(saved, second.find("r-1").orElseThrow());
            assertEquals(Map.of("Circle-Token", TOKEN), second.find("r-1").orElseThrow().authHeaders());
            assertEquals("ENDED", second.status("r-2").orElseThrow().status());
            assertEquals(1, second.countTracking());
        }
    }

    /** A kill -9 right after the commits: WRITE_DELAY=0 must have put them in the file (H2's default loses them). */
    @Test
    void commitsSurviveAKilledProcess() throws Exception {
        Path file = dir.resolve("crash");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), H2CrashChild.class.getName(), fileUrl(file))
                .redirectErrorStream(true).start();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not finish");
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(137, child.exitValue(), output);
        assertTrue(output.contains("COMMITTED"), output);

        try (TrackingStore after = TrackingStore.open(new StoreSettings(fileUrl(file), null, null, 50, 60, 2, "replica-b"), SECRET, clock)) {
            assertEquals(H2CrashChild.RUNS, after.countTracking());
            TrackedRun last = after.find("crash-" + (H2CrashChild.RUNS - 1)).orElseThrow();
            assertEquals(1, last.pollCount());
            assertEquals("running", last.state().get("phase").asText());
            assertEquals(Map.of("Circle-Token", TOKEN), last.authHeaders());
        }
    }

    @Test
    void writeDelayIsZeroEvenWhenTheUrlDoesNotSaySo() throws SQLException {
        String url = "jdbc:h2:file:" + dir.resolve("plain") + ";AUTO_SERVER=FALSE";
        try (TrackingStore s = TrackingStore.open(new StoreSettings(url, null, null, 50, 60, 1, "r"), SECRET, Clock.systemUTC());
             Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'WRITE_DELAY'")) {
            assertTrue(rs.next());
            assertEquals("0", rs.getString(1));
            assertEquals(List.of(), s.leaseDue(5));
        }
    }
}
