package io.portcamel.agent.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.cli.RenderCommand;
import net.thisptr.jackson.jq.Scope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.portcamel.agent.mapping.Fixtures.json;
import static io.portcamel.agent.mapping.Fixtures.parse;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Differential test against the real jq 1.6 binary (CI installs it): every mapping fixture over every event fixture,
 * and a table of expressions whose output format matters.
 */
class JqDifferentialTest {

    static final Path JQ = Path.of("/usr/bin/jq");
    static final JsonNodeFactory NF = JsonNodeFactory.instance;

    /** The environment both engines see (jq 1.6 reads `env` from its process environment). */
    static final Map<String, String> ENV = new LinkedHashMap<>();

    static {
        ENV.put("CIRCLE_CI_TOKEN", "cci-token");
        ENV.put("ARGO_WORKFLOW_TOKEN", "argo-token");
        ENV.put("OPSGENIE_API_KEY", "genie");
        ENV.put("TF_TOKEN", "tf");
        ENV.put("WINDMILL_TOKEN", "wm");
        ENV.put("group_project", "gl-trigger-token");
        ENV.put("PATH", "/usr/bin:/bin");
    }

    static final Scope SCOPE = JqEnvironment.rootScope(JqEnvironment.mappingEnv(ENV));

    @BeforeAll
    static void requireJq() {
        assumeTrue(Files.isExecutable(JQ), "jq binary not installed");
    }

    // ------------------------------------------------------------------ events and mappings

    static Map<String, ObjectNode> events() {
        Map<String, ObjectNode> ev = new LinkedHashMap<>();
        ev.put("incoming-run", json("event-docs-incoming-run.json"));
        ev.put("webhook-signed", RenderCommand.toRunMessage(json("event-test-kafka-run-webhook-signed.json")));
        ev.put("gitlab-legacy", RenderCommand.toRunMessage(json("event-test-kafka-run-gitlab-legacy.json")));
        ev.put("changelog", json("event-test-kafka-changelog.json"));
        ev.put("decrypt-basic", json("event-docs-decrypt-basic.json"));
        ev.put("polling-1", RenderCommand.toRunMessage(json("polling-claimed-action-run-sample.json")));
        ev.put("polling-2", RenderCommand.toRunMessage(json("polling-claimed-action-run-sample-2.json")));

        ObjectNode cci = json("event-docs-incoming-run.json");
        cci.put("action", "trigger_circle_ci_pipeline");
        ((ObjectNode) cci.path("payload").path("entity").path("properties")).put("project_slug", "gh/my org/my repo");
        ObjectNode props = (ObjectNode) cci.path("payload").path("properties");
        props.put("branch", "feature/x y");
        props.put("count", 3);
        props.put("ratio", 1.5);
        props.put("at", 1670417632.916);
        props.put("big", 1e17);
        props.put("flag", true);
        props.putArray("list").add(1).add("b");
        props.put("unicode", "héllo ✓");
        ev.put("circleci", cci);

        ObjectNode cciOmit = cci.deepCopy();
        ((ObjectNode) cciOmit.path("payload").path("action").path("invocationMethod")).put("omitUserInputs", true);
        ev.put("circleci-omit", cciOmit);

        ObjectNode cciEmpty = cci.deepCopy();
        ((ObjectNode) cciEmpty.path("payload")).putObject("properties");
        ev.put("circleci-empty-props", cciEmpty);

        ObjectNode argo = json("event-docs-incoming-run.json");
        argo.put("action", "trigger_a_workflow");
        ((ObjectNode) argo.path("payload")).putObject("properties").put("namespace", "argo").put("memoized", false);
        ev.put("argo", argo);

        ObjectNode genie = json("event-docs-incoming-run.json");
        genie.put("action", "create_opsgenie_incident");
        ((ObjectNode) genie.path("payload").path("action")).put("url", "https://api.opsgenie.com/v2/alerts");
        ((ObjectNode) genie.path("payload")).putObject("properties").put("message", "m").put("description", "d")
                .put("priority", "P3").putObject("details").put("k", 2.0);
        ev.put("opsgenie", genie);

        ObjectNode tf = json("event-docs-incoming-run.json");
        tf.put("action", "trigger_tf_run");
        ((ObjectNode) tf.path("payload").path("entity").path("properties")).put("workspace_id", "ws-1");
        ((ObjectNode) tf.path("payload")).putObject("properties").put("region", "eu").put("size", 2);
        ev.put("terraform", tf);

        ObjectNode wm = json("event-docs-incoming-run.json");
        wm.put("action", "trigger_windmill_pipeline");
        ((ObjectNode) wm.path("payload")).putObject("properties").put("workspace", "ws").put("file_path", "f/a b")
                .putObject("job_data").put("x", 1.25);
        ev.put("windmill", wm);
        return ev;
    }

    static Stream<String> mappingFixtures() {
        return Stream.of("mapping-argo-workflow.json", "mapping-circleci.json", "mapping-decrypt-array.json",
                "mapping-decrypt-basic.json", "mapping-default-control_the_payload_config.json",
                "mapping-docs-argocd-values-default.json", "mapping-docs-generic-example.json",
                "mapping-fragment-forward-headers.json", "mapping-fragment-partial-body.json", "mapping-opsgenie.json",
                "mapping-terraform-cloud.json", "mapping-test-kafka-conftest.json", "mapping-windmill-async.json",
                "mapping-windmill-sync.json");
    }

    static String mappingText(String fixture) {
        String t = Fixtures.text(fixture).trim();
        return t.startsWith("[") ? t : "[" + t + "]"; // fragments are single mappings
    }

    @ParameterizedTest
    @MethodSource("mappingFixtures")
    void mappingFixtureMatchesJqOnEveryEvent(String fixture) throws Exception {
        ArrayNode raw = (ArrayNode) parse(mappingText(fixture));
        MappingSet set = MappingSet.parse(mappingText(fixture), fixture, SCOPE);
        int compared = 0;
        for (Map.Entry<String, ObjectNode> e : events().entrySet()) {
            String what = fixture + " x " + e.getKey();
            ObjectNode msg = e.getValue();
            List<String> programs = new ArrayList<>();
            for (JsonNode m : raw) {
                for (String f : List.of("enabled", "url", "method", "headers", "query", "body")) {
                    if (m.has(f)) {
                        collectPrograms(m.get(f), programs);
                    }
                }
            }
            List<JsonNode> results = runJqLeaves(programs, msg);
            Map<String, JsonNode> byProgram = new LinkedHashMap<>();
            for (int i = 0; i < programs.size(); i++) {
                byProgram.put(programs.get(i), results.get(i));
            }
            Optional<Integer> expectedIndex = expectedSelection(raw, byProgram);
            Optional<Mapping> selected = set.select(msg);
            assertEquals(expectedIndex, selected.map(Mapping::index), what + ": selected mapping");
            if (selected.isEmpty()) {
                continue;
            }
            ObjectNode m = (ObjectNode) raw.get(selected.get().index());
            if (usesErroringJq(m, byProgram)) {
                // port-agent would send null here; we fail the run instead (tested in MappingSemanticsTest)
                assertThrows(MappingEvaluationException.class, () -> selected.get().render(msg), what);
                continue;
            }
            ObjectNode expected = expectedRequest(m, msg, byProgram);
            if (expected.get("url").isNull() || !expected.get("headers").isObject() || !expected.get("query").isObject()) {
                // port-agent would crash or send to "None"; we refuse with a clear error
                assertThrows(MappingEvaluationException.class, () -> selected.get().render(msg), what);
                continue;
            }
            RenderedRequest ours = selected.get().render(msg);
            assertEquals(expected.get("url").asText(), ours.url(), what + ": url");
            assertEquals(expected.get("method").asText(), ours.method(), what + ": method");
            assertEquals(stringMap(expected.get("headers")), ours.headers(), what + ": headers");
            assertEquals(stringMap(expected.get("query")), ours.query(), what + ": query");
            JsonNode expBody = expected.get("body").isNull() ? null : expected.get("body");
            if (expBody == null) {
                assertNull(ours.body(), what + ": body");
            } else {
                assertTrue(expBody.equals(NUMERIC, ours.body()), what + ": body\n jq:   " + expBody + "\n ours: " + ours.body());
            }
            compared++;
        }
        assertTrue(compared > 0, fixture + " matched no event");
    }

    @Test
    void circleCiSlugWithSpacesAndSlashesIsEncodedLikeJq() throws Exception {
        MappingSet set = MappingSet.parse(mappingText("mapping-circleci.json"), "mapping-circleci.json", SCOPE);
        RenderedRequest r = set.select(events().get("circleci")).orElseThrow().render(events().get("circleci"));
        assertEquals("https://circleci.com/api/v2/project/gh%2Fmy%20org%2Fmy%20repo/pipeline", r.url());
        assertEquals(Map.of("Circle-Token", "cci-token"), r.headers());
        assertEquals("1670417632.916", r.body().path("parameters").path("at").asText());
        assertEquals("1e+17", r.body().path("parameters").path("big").asText());
        assertEquals("{}", set.select(events().get("circleci-omit")).orElseThrow()
                .render(events().get("circleci-omit")).body().path("parameters").toString());
    }

    /** Numbers equal when numerically equal (jq 1.6 has only doubles); everything else exact. */
    static final Comparator<JsonNode> NUMERIC = (a, b) -> {
        if (a.isNumber() && b.isNumber()) {
            return Double.compare(a.doubleValue(), b.doubleValue());
        }
        return a.equals(b) ? 0 : 1;
    };

    static Map<String, String> stringMap(JsonNode obj) {
        Map<String, String> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNull()) {
                m.put(e.getKey(), Mapping.pythonStr(JqEnvironment.pyjqNumbers(e.getValue())));
            }
        }
        return m;
    }

    // ------------------------------------------------------------------ port-agent model driven by the jq binary

    static void collectPrograms(JsonNode n, List<String> out) {
        if (n.isTextual()) {
            if (!out.contains(n.textValue())) {
                out.add(n.textValue());
            }
        } else if (n.isContainerNode()) {
            for (JsonNode c : n) {
                collectPrograms(c, out);
            }
        }
    }

    static Optional<Integer> expectedSelection(ArrayNode raw, Map<String, JsonNode> results) {
        for (int i = 0; i < raw.size(); i++) {
            JsonNode en = raw.get(i).get("enabled");
            if (en == null || (en.isBoolean() && en.booleanValue())) {
                return Optional.of(i);
            }
            if (en.isTextual()) {
                JsonNode r = results.get(en.textValue());
                if (r.has("ok") && r.get("ok").isBoolean() && r.get("ok").booleanValue()) {
                    return Optional.of(i);
                }
            }
        }
        return Optional.empty();
    }

    static boolean usesErroringJq(ObjectNode m, Map<String, JsonNode> results) {
        for (String f : List.of("url", "method", "headers", "query", "body")) {
            JsonNode v = m.get(f);
            if (v != null) {
                List<String> ps = new ArrayList<>();
                collectPrograms(v, ps);
                for (String p : ps) {
                    if (results.get(p).has("err")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    static JsonNode leaf(JsonNode template, Map<String, JsonNode> results) {
        if (template.isTextual()) {
            JsonNode r = results.get(template.textValue());
            return r.has("ok") ? r.get("ok") : NullNode.getInstance();
        }
        if (template.isObject()) {
            ObjectNode o = NF.objectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = template.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().isObject() && flattensToNothing(e.getValue())) {
                    continue; // flatten_dict drops empty nested dicts
                }
                o.set(e.getKey(), leaf(e.getValue(), results));
            }
            return o;
        }
        if (template.isArray()) {
            ArrayNode a = NF.arrayNode();
            template.forEach(t -> a.add(leaf(t, results)));
            return a;
        }
        return template;
    }

    static boolean flattensToNothing(JsonNode obj) {
        for (JsonNode c : obj) {
            if (!c.isObject() || !flattensToNothing(c)) {
                return false;
            }
        }
        return true;
    }

    static ObjectNode expectedRequest(ObjectNode m, JsonNode msg, Map<String, JsonNode> results) {
        JsonNode im = msg.path("payload").path("action").path("invocationMethod");
        ObjectNode req = NF.objectNode();
        req.put("method", im.path("method").asText("POST"));
        req.put("url", im.has("url") ? im.get("url").asText() : "");
        req.putObject("headers");
        req.putObject("query");
        req.set("body", msg);
        for (String f : List.of("url", "method", "headers", "query", "body")) {
            JsonNode v = m.get(f);
            if (v != null && !v.isNull()) {
                req.set(f, leaf(v, results));
            }
        }
        return req;
    }

    /** Runs all programs in one jq process: [ (try ([P] | {ok: .[0]}) catch {err: .}), ... ]. */
    static List<JsonNode> runJqLeaves(List<String> programs, JsonNode input) throws Exception {
        if (programs.isEmpty()) {
            return List.of();
        }
        StringBuilder p = new StringBuilder("[");
        for (int i = 0; i < programs.size(); i++) {
            if (i > 0) {
                p.append(",\n");
            }
            p.append("(try ([ (").append(programs.get(i)).append("\n) ] | {ok: .[0]}) catch {err: .})");
        }
        p.append("]");
        List<String> out = runJqRaw(p.toString(), input.toString(), ENV);
        List<JsonNode> list = new ArrayList<>();
        if (out.size() == 1 && !out.get(0).startsWith("ERROR")) {
            parse(out.get(0)).forEach(list::add);
            return list;
        }
        // a program that does not compile in jq 1.6 breaks the batch: evaluate one by one
        for (String prog : programs) {
            List<String> one = runJqRaw("[ (" + prog + "\n) ] | {ok: .[0]}", input.toString(), ENV);
            list.add(one.size() == 1 && !one.get(0).startsWith("ERROR") ? parse(one.get(0))
                    : NF.objectNode().put("err", String.join(" ", one)));
        }
        return list;
    }

    /** All outputs of jq -c (each parsed), or an error node {"jq_error": stderr}. */
    static List<JsonNode> runJq(String program, String inputJson, Map<String, String> env) throws IOException, InterruptedException {
        List<String> lines = runJqRaw(program, inputJson, env);
        List<JsonNode> out = new ArrayList<>();
        for (String l : lines) {
            out.add(parse(l));
        }
        return out;
    }

    static List<String> runJqRaw(String program, String inputJson, Map<String, String> env) throws IOException, InterruptedException {
        Path prog = Files.createTempFile("jqdiff", ".jq");
        try {
            Files.writeString(prog, program);
            ProcessBuilder pb = new ProcessBuilder(JQ.toString(), "-c", "-f", prog.toString());
            pb.environment().clear();
            pb.environment().putAll(env);
            pb.redirectErrorStream(false);
            Process proc = pb.start();
            proc.getOutputStream().write(inputJson.getBytes(StandardCharsets.UTF_8));
            proc.getOutputStream().close();
            String stdout = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String stderr = new String(proc.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(proc.waitFor(30, TimeUnit.SECONDS), "jq timed out");
            List<String> lines = new ArrayList<>(stdout.lines().toList());
            if (proc.exitValue() != 0) {
                lines.add("ERROR: " + stderr.trim());
            }
            return lines;
        } finally {
            Files.deleteIfExists(prog);
        }
    }

    // ------------------------------------------------------------------ expression table

    static Stream<String[]> expressions() {
        return Stream.of(
                new String[]{"1670417632.916 | tostring", "null"},
                new String[]{"[1e17, 1e-7, 3.0, 1.5, 0.1+0.2, 1e16, 1.5e16, 1e-5, 0.0001, 100, 1e1000] | map(tostring)", "null"},
                new String[]{"[1e17, 1e-7, 3.0, 1670417632.916] | tojson", "null"},
                new String[]{"\"\\(1670417632.916) \\(3.0) \\(1e-7) \\(1e17) \\([1.0, \"a\"]) \\(null) \\({\"a\": 2.50})\"", "null"},
                new String[]{"@text \"\\(3.0)\", @json \"v=\\(1.0)\"", "null"},
                new String[]{"(.trigger.at | fromdate), (1670417632 | todate), (1425599507.9 | todate)", "{\"trigger\":{\"at\":\"2022-12-07T12:53:52Z\"}}"},
                new String[]{"\"2015-03-05T23:51:47Z\" | fromdate, fromdateiso8601, (strptime(\"%Y-%m-%dT%H:%M:%SZ\") | mktime)", "null"},
                new String[]{"1425599507 | gmtime, todate, strftime(\"%A, %B %d, %Y %j %H:%M:%S %Z\")", "null"},
                new String[]{"@uri", "\"gh/my org/my repo é?&=+~*()!'\""},
                new String[]{"[range(5000)] | map(\"a \") | add | gsub(\" \"; \"_\") | length", "null"},
                new String[]{"isempty(empty), isempty(1, error(\"x\")), isempty(.[])", "[1]"},
                new String[]{"[tostream]", "{\"a\":[1,{\"b\":2}],\"c\":{}}"},
                new String[]{"fromstream(tostream)", "{\"a\":[1,{\"b\":2.5}],\"c\":[]}"},
                new String[]{"[1|truncate_stream([[0],1],[[1,0],2],[[1,0]],[[1]])]", "null"},
                new String[]{"(.[] | IN(2, 3)), IN(.[]; 5)", "[1,2]"},
                new String[]{"INDEX(.id), ([.[]] | INDEX(.[]; .id))", "[{\"id\":1},{\"id\":\"x\"}]"},
                new String[]{"join(\"-\")", "[1,null,\"a\",true,2.5]"},
                new String[]{"to_entries | map({(.key): (.value | tostring)}) | add", "{\"a\":1,\"b\":1.5,\"c\":true,\"d\":[1,2.0],\"e\":null}"},
                new String[]{"to_entries | map({(.key): (.value | tostring)}) | add", "{}"},
                new String[]{"[.[] | ascii_downcase], [splits(\", *\"; null)]?", "[\"AbC\"]"},
                new String[]{"\"a,b, c\" | [splits(\", *\")]", "null"},
                new String[]{"[limit(3; repeat(1))], ([3,1,2] | sort | bsearch(2)), (\"x\" | format(\"base64\"))", "null"},
                new String[]{"[.[] | trunc, fabs, significand, logb]", "[-2.5, 3.75]"},
                new String[]{"env.CIRCLE_CI_TOKEN, $ENV.CIRCLE_CI_TOKEN, (env | has(\"HOME\"))", "null"},
                new String[]{"\"\\u007f\\u0001é\\n\" | tojson", "null"},
                new String[]{"keys, keys_unsorted, length, (.b | tostring)", "{\"b\":1.0,\"a\":[1]}"}
        );
    }

    @ParameterizedTest
    @MethodSource("expressions")
    void expressionMatchesJq(String program, String input) throws Exception {
        List<String> expected = runJqRaw(program, input, ENV);
        List<String> actual = new ArrayList<>();
        try {
            List<JsonNode> outs = new ArrayList<>();
            JqEnvironment.compile(program).apply(Scope.newChildScope(SCOPE), parse(input), outs::add);
            outs.forEach(o -> actual.add(JqEnvironment.toJqJson(o)));
        } catch (Exception e) {
            actual.add("ERROR: " + e.getMessage());
        }
        assertEquals(expected, actual, program);
    }

    @Test
    void fromdateAcceptsMillisecondsWhereJq16Fails() throws Exception {
        List<String> jq = runJqRaw(".trigger.at | fromdate", "{\"trigger\":{\"at\":\"2022-12-07T12:53:52.916Z\"}}", ENV);
        assertTrue(jq.get(0).startsWith("ERROR"), "jq 1.6 rejects milliseconds: " + jq);
        List<JsonNode> ours = new ArrayList<>();
        JqEnvironment.compile(".trigger.at | fromdate | ., tostring, todate").apply(Scope.newChildScope(SCOPE),
                parse("{\"trigger\":{\"at\":\"2022-12-07T12:53:52.916Z\"}}"), ours::add);
        assertEquals(1670417632.916, ours.get(0).doubleValue());
        assertEquals("1670417632.916", ours.get(1).asText());
        assertEquals("2022-12-07T12:53:52Z", ours.get(2).asText());
    }

    @Test
    void interpolationRewriteKeepsStringsCommentsAndFormats() {
        assertEquals("\"a\\((.b)|tostring)c\"", JqEnvironment.rewriteInterpolation("\"a\\(.b)c\""));
        assertEquals("@base64 \"a\\(.b)\"", JqEnvironment.rewriteInterpolation("@base64 \"a\\(.b)\""));
        assertEquals("\"\\\\(x)\"", JqEnvironment.rewriteInterpolation("\"\\\\(x)\""));
        assertEquals(". # \"\\(x)\"", JqEnvironment.rewriteInterpolation(". # \"\\(x)\""));
    }
}
