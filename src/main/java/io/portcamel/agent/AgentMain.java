package io.portcamel.agent;

import io.portcamel.agent.cli.RenderCommand;
import io.portcamel.agent.config.AgentConfiguration;
import io.portcamel.agent.config.AgentSettings;
import io.portcamel.agent.config.ConfigException;
import io.portcamel.agent.config.DotEnv;
import io.portcamel.agent.mapping.JqEnvironment;
import io.portcamel.agent.mapping.MappingException;
import io.portcamel.agent.mapping.MappingRegistry;
import io.portcamel.agent.store.StoreSettings;
import io.portcamel.agent.store.TrackingStore;

import net.thisptr.jackson.jq.Scope;

import org.apache.camel.main.Main;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;

/**
 * {@code java -jar port-camel-agent.jar} runs the agent; {@code … render --mapping F --event F} previews a mapping.
 * Settings and mappings are validated before Camel starts, so a bad one costs one clear line, not a stack trace.
 */
public final class AgentMain {
    private AgentMain() { }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("render")) {
            System.exit(RenderCommand.run(Arrays.copyOfRange(args, 1, args.length), DotEnv.environment(Path.of(".env")),
                    System.out, System.err));
        }
        Map<String, String> env = DotEnv.environment(Path.of(".env"));
        Main main;
        try {
            AgentSettings settings = AgentSettings.from(env);
            configureLogging(settings.slf4jLevel());
            Proxies.toSystemProperties(env);
            main = createMain(settings, Clock.systemUTC());
        } catch (ConfigException | MappingException e) {
            System.err.println("port-camel-agent: cannot start: " + e.getMessage());
            System.exit(2);
            return;
        }
        main.run();
    }

    /** The Camel Main for these settings, not started; shared by {@link #main} and the tests. */
    public static Main createMain(AgentSettings settings, Clock clock) throws MappingException {
        Scope jq = JqEnvironment.rootScope(JqEnvironment.mappingEnv(settings.env()));
        MappingRegistry mappings = new MappingRegistry(settings.mappingFile(), jq);
        TrackingStore store = TrackingStore.open(StoreSettings.from(settings.env()), settings.clientSecret(), clock);
        Main main = new Main();
        // the working directory's application.properties wins over the jar's copy (the first location that has a key wins)
        main.setPropertyPlaceholderLocations(
                "file:application.properties;optional=true,classpath:application.properties;optional=true");
        main.setInitialProperties(settings.routeProperties());
        main.configure().addConfiguration(new AgentConfiguration(settings, mappings, jq, clock, store));
        main.addMainListener(new org.apache.camel.main.MainListenerSupport() {
            @Override
            public void afterStop(org.apache.camel.main.BaseMainSupport m) {
                store.close();
            }
        });
        return main;
    }

    /** LOG_LEVEL as port-agent spells it, applied before the first logger exists. */
    static void configureLogging(String level) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
    }
}
