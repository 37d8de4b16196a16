package io.portcamel.agent.it;

import io.portcamel.agent.TestSecrets;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A missing or invalid setting, or an invalid mapping file, stops {@code java -jar port-camel-agent.jar} before
 * Camel starts: exit code 2 and exactly one line on stderr that names the culprit, no stack trace.
 */
class StartupValidationIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    static Path workDir;

    @BeforeAll
    static void layOut() throws Exception {
        workDir = AgentProcess.workDir(tmp);
        Files.copy(AgentProcess.IT_RESOURCES.resolve("invalid-json.json"), workDir.resolve("invalid-json.json"));
        Files.copy(AgentProcess.IT_RESOURCES.resolve("invalid-jq-body-parameters.json"),
                workDir.resolve("invalid-jq-body-parameters.json"));
    }

    /** A complete, valid environment; each case breaks one thing. Port is never reached (nothing listens on :9). */
    private static Map<String, String> validEnv() {
        Map<String, String> env = AgentProcess.minimalEnv();
        env.put("PORT_ORG_ID", "org_test");
        env.put("PORT_CLIENT_ID", "test-client-id");
        env.put("PORT_CLIENT_SECRET", TestSecrets.CLIENT_SECRET);
        env.put("PORT_API_BASE_URL", "http://127.0.0.1:9");
        env.put("STREAMER_NAME", "POLLING");
        env.put("CAMEL_SERVER_PORT", "9");
        return env;
    }

    private static String refusedWith(Consumer<Map<String, String>> change) throws Exception {
        Map<String, String> env = validEnv();
        change.accept(env);
        AgentProcess.Result r = AgentProcess.run(workDir, env, TIMEOUT);
        assertEquals(2, r.exitCode(), () -> "exit code for a bad setting\n" + r);
        assertFalse(r.stderr().contains("\tat "), () -> "a stack trace was printed\n" + r);
        assertFalse(r.stdout().contains("\tat "), () -> "a stack trace was printed\n" + r);
        List<String> lines = r.stderr().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), () -> "exactly one line on stderr\n" + r);
        assertFalse(r.stdout().contains("Apache Camel"), () -> "Camel must not have started\n" + r);
        return lines.get(0);
    }

    private static void assertNames(String line, String... parts) {
        for (String p : parts) {
            assertTrue(line.contains(p), () -> "the stderr line should name '" + p + "': " + line);
        }
    }

    @Test
    void missingOrgId() throws Exception {
        assertNames(refusedWith(env -> env.remove("PORT_ORG_ID")), "PORT_ORG_ID");
    }

    @Test
    void unknownStreamer() throws Exception {
        assertNames(refusedWith(env -> env.put("STREAMER_NAME", "KAFKAX")), "STREAMER_NAME", "KAFKAX");
    }

    @Test
    void nonNumericInvokerTimeout() throws Exception {
        assertNames(refusedWith(env -> env.put("WEBHOOK_INVOKER_TIMEOUT", "abc")), "WEBHOOK_INVOKER_TIMEOUT", "abc");
    }

    @Test
    void nonHttpPortApiBaseUrl() throws Exception {
        assertNames(refusedWith(env -> env.put("PORT_API_BASE_URL", "ftp://x")), "PORT_API_BASE_URL", "ftp://x");
    }

    @Test
    void notABooleanDetailedLogging() throws Exception {
        assertNames(refusedWith(env -> env.put("DETAILED_LOGGING", "maybe")), "DETAILED_LOGGING", "maybe");
    }

    @Test
    void mappingFileWithInvalidJson() throws Exception {
        String line = refusedWith(env -> env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "invalid-json.json"));
        assertNames(line, "invalid-json.json", "invalid JSON");
    }

    @Test
    void mappingWithInvalidJqInBodyParameters() throws Exception {
        // mapping #0 is valid; mapping #1's body.parameters does not compile
        String line = refusedWith(env -> env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "invalid-jq-body-parameters.json"));
        assertNames(line, "invalid-jq-body-parameters.json", "mapping #1", "field \"body.parameters\"");
        assertFalse(line.contains("#0"), () -> "the valid mapping #0 must not be blamed: " + line);
    }

    @Test
    void missingMappingFile() throws Exception {
        String line = refusedWith(env -> env.put("CONTROL_THE_PAYLOAD_CONFIG_PATH", "no-such-invocations.json"));
        assertNames(line, "no-such-invocations.json", "not found");
    }

    @Test
    void missingDefaultMappingFile() throws Exception {
        Path empty = AgentProcess.workDir(tmp);
        Files.delete(empty.resolve("invocations.json"));
        AgentProcess.Result r = AgentProcess.run(empty, validEnv(), TIMEOUT);
        assertEquals(2, r.exitCode(), r::toString);
        assertFalse(r.stderr().contains("\tat "), r::toString);
        List<String> lines = r.stderr().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r::toString);
        assertNames(lines.get(0), "invocations.json", "not found");
    }
}
