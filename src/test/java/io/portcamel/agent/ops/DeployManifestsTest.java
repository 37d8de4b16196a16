package io.portcamel.agent.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/kubernetes/*.yaml agree with the agent: probes on the management port and health paths of
 * application.properties, container ports = the HTTP and management ports, every environment variable one the agent
 * knows (README configuration table, AgentSettings, variables the shipped mappings read), no real secret committed.
 */
class DeployManifestsTest {
    private static final Path DIR = Path.of("deploy/kubernetes");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** What a committed secret value may be: empty or an obvious placeholder. */
    private static final Pattern PLACEHOLDER = Pattern.compile("|REPLACE_ME|<[^>]+>|changeme");

    static List<JsonNode> docs = new ArrayList<>();
    static Properties props = new Properties();

    @BeforeAll
    static void load() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                try (YAMLParser parser = new YAMLFactory().createParser(f.toFile())) {
                    for (JsonNode doc : YAML.readValues(parser, JsonNode.class).readAll()) {
                        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                            docs.add(doc);
                        }
                    }
                }
            }
        }
        try (var in = Files.newBufferedReader(Path.of("application.properties"))) {
            props.load(in);
        }
    }

    // ---------------------------------------------------------------------------------------------- tests

    @Test
    void probesUseTheManagementPortAndHealthPaths() {
        JsonNode container = container();
        String health = props.getProperty("camel.management.health-path", "/observe/health").trim();
        int management = defaultPort("camel.management.port", "AGENT_MANAGEMENT_PORT");
        assertEquals(9876, management, "AGENT_MANAGEMENT_PORT default");
        assertEquals(management, containerPort(container, "management"));
        assertEquals(health + "/live", container.at("/livenessProbe/httpGet/path").asText());
        assertEquals(health + "/ready", container.at("/readinessProbe/httpGet/path").asText());
        assertEquals(health + "/live", container.at("/startupProbe/httpGet/path").asText());
        for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
            assertEquals(management, resolvePort(container, container.path(probe).at("/httpGet/port")), probe + " port");
        }
        // the env ConfigMap, when it sets the port, agrees
        String fromEnv = envConfigMap().path("AGENT_MANAGEMENT_PORT").asText(String.valueOf(management));
        assertEquals(String.valueOf(management), fromEnv);
    }

    @Test
    void containerAndServicePortsMatchTheAgent() {
        JsonNode container = container();
        int http = defaultPort("camel.server.port", "AGENT_HTTP_PORT");
        assertEquals(http, containerPort(container, "http"));
        assertEquals(String.valueOf(http), envConfigMap().path("AGENT_HTTP_PORT").asText(String.valueOf(http)));
        JsonNode service = kind("Service").get(0);
        Set<String> targets = new TreeSet<>();
        for (JsonNode p : service.at("/spec/ports")) {
            String target = p.path("targetPort").asText();
            assertTrue(containerPort(container, target) > 0 || target.matches("\\d+"), "Service targetPort " + target);
            targets.add(target);
        }
        assertEquals(Set.of("http", "management"), targets);
        assertEquals(String.valueOf(defaultPort("camel.management.port", "AGENT_MANAGEMENT_PORT")),
                service.at("/metadata/annotations/prometheus.io~1port").asText());
        assertEquals(props.getProperty("camel.metrics.path", "/observe/metrics").trim(),
                service.at("/metadata/annotations/prometheus.io~1path").asText());
        // selectors find the pods
        JsonNode labels = kind("Deployment").get(0).at("/spec/template/metadata/labels");
        service.at("/spec/selector").fields().forEachRemaining(e ->
                assertEquals(e.getValue().asText(), labels.path(e.getKey()).asText(), "selector " + e.getKey()));
    }

    @Test
    void everyEnvironmentVariableIsOneTheAgentKnows() throws IOException {
        Set<String> known = knownVariables();
        Map<String, String> used = new LinkedHashMap<>();
        envConfigMap().fieldNames().forEachRemaining(n -> used.put(n, "ConfigMap"));
        for (JsonNode s : kind("Secret")) {
            s.path("stringData").fieldNames().forEachRemaining(n -> used.put(n, "Secret " + s.at("/metadata/name").asText()));
            s.path("data").fieldNames().forEachRemaining(n -> used.put(n, "Secret " + s.at("/metadata/name").asText()));
        }
        for (JsonNode e : container().path("env")) {
            used.put(e.path("name").asText(), "Deployment env");
        }
        assertFalse(used.isEmpty());
        List<String> unknown = used.keySet().stream().filter(n -> !known.contains(n)).map(n -> n + " (" + used.get(n) + ")").toList();
        assertEquals(List.of(), unknown, "variables the agent does not read; known: " + known);
    }

    @Test
    void noRealSecretIsCommitted() {
        for (JsonNode s : kind("Secret")) {
            String name = s.at("/metadata/name").asText();
            assertTrue(s.path("data").isMissingNode() || s.path("data").isEmpty(), name + ": base64 data must not be committed");
            s.path("stringData").fields().forEachRemaining(e -> assertTrue(PLACEHOLDER.matcher(e.getValue().asText()).matches(),
                    name + "." + e.getKey() + " holds a value, not a placeholder"));
        }
        // credentials never sit in the ConfigMap
        envConfigMap().fields().forEachRemaining(e -> {
            boolean secretName = e.getKey().matches(".*(SECRET|TOKEN|PASSWORD|_PAT|_USER|USERNAME|CLIENT_ID)$");
            assertFalse(secretName, e.getKey() + " belongs in the Secret, not the ConfigMap");
        });
        // and the Deployment takes the Secret by reference
        assertTrue(container().path("envFrom").findValuesAsText("name").contains("port-camel-agent-credentials"));
    }

    @Test
    void mountsMatchTheAgentsPaths() {
        JsonNode container = container();
        Map<String, String> mounts = new LinkedHashMap<>();
        for (JsonNode m : container.path("volumeMounts")) {
            mounts.put(m.path("mountPath").asText(), m.path("name").asText());
        }
        JsonNode env = envConfigMap();
        // routes are read from the working directory /app (camel.main.routes-include-pattern = file:routes/*.yaml)
        assertTrue(props.getProperty("camel.main.routes-include-pattern").trim().startsWith("file:routes/"));
        assertTrue(mounts.containsKey("/app/routes"), mounts.toString());
        String mapping = env.path("CONTROL_THE_PAYLOAD_CONFIG_PATH").asText();
        assertTrue(mounts.containsKey(Path.of(mapping).getParent().toString()), mapping + " is not under a mount: " + mounts);
        assertTrue(mounts.containsKey(env.path("CA_CERTS_DIR").asText("/app/certs")), mounts.toString());
        assertTrue(mounts.containsKey("/app/data"), "the H2 store under ./data needs a writable volume: " + mounts);
        assertTrue(mounts.containsKey("/tmp"), "read-only root filesystem: /tmp must be writable");
        assertTrue(container.at("/securityContext/readOnlyRootFilesystem").asBoolean());
        JsonNode pod = kind("Deployment").get(0).at("/spec/template/spec/securityContext");
        assertTrue(pod.path("runAsNonRoot").asBoolean());
        assertTrue(pod.path("runAsUser").asInt() > 0);
    }

    // ---------------------------------------------------------------------------------------------- helpers

    /** README configuration table, AgentSettings' variable names, and what the shipped mappings read (env.X). */
    static Set<String> knownVariables() throws IOException {
        Set<String> known = new TreeSet<>();
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("## Configuration");
        int end = readme.indexOf("\n## ", start + 5);
        for (String line : readme.substring(start, end < 0 ? readme.length() : end).lines().toList()) {
            if (line.startsWith("| `")) {
                String first = line.substring(1, line.indexOf('|', 1));
                Matcher m = Pattern.compile("`([A-Z][A-Z0-9_]+)`").matcher(first);
                while (m.find()) {
                    known.add(m.group(1));
                }
            }
        }
        Matcher m = Pattern.compile("\"([A-Z][A-Z0-9_]{2,})\"").matcher(
                Files.readString(Path.of("src/main/java/io/portcamel/agent/config/AgentSettings.java")));
        while (m.find()) {
            known.add(m.group(1));
        }
        Matcher refs = Pattern.compile("(?:\\benv|\\$ENV)\\.([A-Z][A-Z0-9_]+)").matcher(Files.readString(Path.of("invocations.json")));
        while (refs.find()) {
            known.add(refs.group(1));
        }
        assertTrue(known.contains("PORT_CLIENT_SECRET") && known.contains("AGENT_MANAGEMENT_PORT"), known.toString());
        return known;
    }

    /** The default of a {@code {{env:NAME:default}}} port property. */
    static int defaultPort(String key, String envName) {
        String v = props.getProperty(key);
        assertNotNull(v, key + " missing from application.properties");
        Matcher m = Pattern.compile("\\{\\{env:" + envName + ":(\\d+)}}").matcher(v.trim());
        assertTrue(m.matches(), key + " = " + v + " should be {{env:" + envName + ":<port>}}");
        return Integer.parseInt(m.group(1));
    }

    static List<JsonNode> kind(String kind) {
        List<JsonNode> found = docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
        assertFalse(found.isEmpty(), "no " + kind + " in " + DIR);
        return found;
    }

    static JsonNode container() {
        JsonNode containers = kind("Deployment").get(0).at("/spec/template/spec/containers");
        assertEquals(1, containers.size());
        return containers.get(0);
    }

    static JsonNode envConfigMap() {
        return kind("ConfigMap").stream().filter(c -> c.at("/metadata/name").asText().endsWith("-env")).findFirst()
                .map(c -> c.path("data")).orElse(MissingNode.getInstance());
    }

    static int containerPort(JsonNode container, String name) {
        for (JsonNode p : container.path("ports")) {
            if (name.equals(p.path("name").asText())) {
                return p.path("containerPort").asInt();
            }
        }
        return -1;
    }

    static int resolvePort(JsonNode container, JsonNode port) {
        return port.isInt() ? port.asInt() : containerPort(container, port.asText());
    }
}
