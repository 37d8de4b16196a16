package io.portcamel.agent;

import io.portcamel.agent.config.AgentSettings;

import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The agent started in the test JVM exactly as {@link AgentMain} starts it (same Main, same routes/ and
 * application.properties from the checkout), with an environment given as a map instead of the process's.
 */
public final class RunningAgent implements AutoCloseable {
    private final Main main;
    private final int httpPort;
    private int managementPort;

    private RunningAgent(Main main, int httpPort) {
        this.main = main;
        this.httpPort = httpPort;
    }

    public static RunningAgent start(Map<String, String> env) throws Exception {
        return start(env, Map.of());
    }

    public static RunningAgent start(Map<String, String> env, Map<String, String> camelOverrides) throws Exception {
        int port = env.containsKey("AGENT_HTTP_PORT") ? Integer.parseInt(env.get("AGENT_HTTP_PORT")) : freePort();
        Main main = AgentMain.createMain(AgentSettings.from(env), Clock.systemUTC());
        Properties overrides = new Properties();
        overrides.setProperty("camel.server.port", String.valueOf(port));
        overrides.setProperty("camel.server.host", "127.0.0.1");
        int management = freePort(); // several agents in one JVM
        overrides.setProperty("camel.management.port", String.valueOf(management));
        overrides.setProperty("camel.management.host", "127.0.0.1");
        overrides.putAll(camelOverrides);
        main.setOverrideProperties(overrides);
        main.start();
        RunningAgent agent = new RunningAgent(main, port);
        agent.managementPort = management;
        return agent;
    }

    /** The minimal environment every test starts from (Port on the given base URL). */
    public static Map<String, String> baseEnv(String portBaseUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("PORT_ORG_ID", "org_test");
        env.put("PORT_CLIENT_ID", "test-client-id");
        env.put("PORT_CLIENT_SECRET", TestSecrets.CLIENT_SECRET);
        env.put("PORT_API_BASE_URL", portBaseUrl);
        env.put("DETAILED_LOGGING", "true");
        // each in-JVM agent its own store (the default H2 file under ./data admits one process at a time)
        env.put("TRACKING_JDBC_URL", "jdbc:h2:mem:agent-" + java.util.UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        return env;
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    /** Health at /observe/health, metrics at /observe/metrics. */
    public int managementPort() {
        return managementPort;
    }

    public int httpPort() {
        return httpPort;
    }

    @Override
    public void close() throws Exception {
        main.stop();
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
