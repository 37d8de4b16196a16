package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Azure DevOps Runs API 7.1 and the Build API calls a tracker needs (REFERENCE.md §6.2), as a stateful fake:
 * {@code POST /{org}/{project}/_apis/pipelines/{id}/runs} (trigger), {@code GET …/runs/{runId}},
 * {@code GET /{org}/{project}/_apis/build/builds/{id}} and {@code …/builds/{id}/timeline}. Served at the root like
 * {@code https://dev.azure.com}, so {@link #rootUrl()} replaces that host.
 *
 * <p>The observed quirks are reproduced because they are what a tracker gets wrong: a wrong or missing PAT is a
 * <b>302 to an HTML sign-in page</b> (served at {@code /_signin}), an unknown pipeline a <b>500
 * PipelineNotFoundException</b>, errors use the ADO envelope {@code {$id,innerException,message,typeName,typeKey,
 * errorCode,eventId}}. Runs are scripted like {@link FakeCircleCi}: {@link #script} gives a run (or the next one
 * triggered) a list of {@link Snapshot}s; every {@code GET …/runs/{runId}} advances by one (the last stays), the
 * build and timeline show the current one. An unscripted run stays {@code inProgress} with no stage.
 *
 * <p>Requests are validated against {@code pipelines_7.1} (runs) and {@code build_7.1} (build, timeline). The spec only
 * has {@code …/timeline/{timelineId}}, with {@code x-ms-required: false} on the id: the real service serves the
 * latest timeline without it, so such a request is validated as if it carried an (all-zero) timeline id.
 */
public class FakeAzureDevOps extends FakeHttpServer {

    public static final String PIPELINES_SPEC = "specs/azure-devops/pipelines_7.1_pipelines.json";
    public static final String BUILD_SPEC = "specs/azure-devops/build_7.1_build.json";
    public static final String NEXT = "next";
    private static final String NO_TIMELINE_ID = "00000000-0000-0000-0000-000000000000";

    /** A stage of the timeline: {@code state} pending/inProgress/completed, {@code result} when completed. */
    public record Stage(String name, String state, String result) {
    }

    /**
     * The run at one poll: Runs API state/result, the Build API result (null: derived from the run's) and the stages
     * in their order.
     */
    public record Snapshot(String state, String result, String buildResult, List<Stage> stages) {
    }

    /** One accepted trigger: raw URL, headers, body and the run created. */
    public record Trigger(String rawUrl, Map<String, List<String>> headers, JsonNode body, int pipelineId, int runId) {
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    // ---------------------------------------------------------------- script builders

    public static Stage stage(String name, String state) {
        return new Stage(name, state, null);
    }

    public static Stage stage(String name, String state, String result) {
        return new Stage(name, state, result);
    }

    public static Snapshot inProgress(Stage... stages) {
        return new Snapshot("inProgress", null, null, List.of(stages));
    }

    public static Snapshot completed(String result, Stage... stages) {
        return new Snapshot("completed", result, null, List.of(stages));
    }

    // ---------------------------------------------------------------- state

    private static final class Run {
        final ObjectNode run;
        final int pipelineId;
        List<Snapshot> script = List.of(inProgress());
        int cursor = -1;
        final Map<String, String> stageIds = new HashMap<>();

        Run(ObjectNode run, int pipelineId) {
            this.run = run;
            this.pipelineId = pipelineId;
        }

        Snapshot current() {
            return script.get(Math.max(cursor, 0));
        }
    }

    private final String org;
    private final String project;
    private final String projectId = UUID.randomUUID().toString();
    private final String pat;
    private final ContractValidator buildValidator = ContractValidator.fromClasspath(BUILD_SPEC);
    private final List<String> buildViolations = new ArrayList<>();
    private final Map<Integer, String> pipelineNames = new LinkedHashMap<>();
    private final Map<Integer, Run> runs = new LinkedHashMap<>();
    private final List<Trigger> triggers = new ArrayList<>();
    private final Deque<List<Snapshot>> nextScripts = new ArrayDeque<>();
    private int nextRunId = 1000;

    /** Azure DevOps for one organization and project, accepting this PAT (any user name, as the real service). */
    public FakeAzureDevOps(String org, String project, String pat) {
        super(ContractValidator.fromClasspath(PIPELINES_SPEC));
        this.org = Objects.requireNonNull(org);
        this.project = Objects.requireNonNull(project);
        this.pat = Objects.requireNonNull(pat);
        String p = "/(?<org>[^/]+)/(?<project>[^/]+)/_apis";
        route("POST", p + "/pipelines/(?<pipelineId>[^/]+)/runs", this::trigger);
        route("GET", p + "/pipelines/(?<pipelineId>[^/]+)/runs/(?<runId>[^/]+)", this::getRun);
        route("GET", p + "/build/builds/(?<buildId>[^/]+)", this::getBuild);
        route("GET", p + "/build/builds/(?<buildId>[^/]+)/timeline(?:/[^/]+)?", this::getTimeline);
        route("GET", "/_signin", c -> ResponseDefinitionBuilder.responseDefinition().withStatus(200)
                .withHeader("Content-Type", "text/html; charset=utf-8")
                .withBody("<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>Azure DevOps</body></html>")
                .build());
    }

    /** Declares a pipeline (id → name); runs of other ids get 500 PipelineNotFoundException. */
    public FakeAzureDevOps pipeline(int id, String name) {
        locked(() -> pipelineNames.put(id, name));
        return this;
    }

    /** {@code {rootUrl}/{org}/{project}/_apis/pipelines/{id}/runs?api-version=7.1}: the trigger URL. */
    public String runsUrl(int pipelineId) {
        return rootUrl() + "/" + enc(org) + "/" + enc(project) + "/_apis/pipelines/" + pipelineId + "/runs?api-version=7.1";
    }

    /** {@code Basic base64(":" + pat)}, the header the agent sends. */
    public static String basicAuth(String pat) {
        return "Basic " + Base64.getEncoder().encodeToString((":" + pat).getBytes(StandardCharsets.UTF_8));
    }

    public String projectId() {
        return projectId;
    }

    public List<Trigger> triggers() {
        return locked(() -> List.copyOf(triggers));
    }

    /** Scripts a run (its id as text) or, with {@link #NEXT}, the next run triggered (several are used in order). */
    public void script(String runIdOrNext, List<Snapshot> snapshots) {
        if (snapshots.isEmpty()) {
            throw new IllegalArgumentException("a script needs at least one snapshot");
        }
        locked(() -> {
            if (NEXT.equals(runIdOrNext)) {
                nextScripts.addLast(List.copyOf(snapshots));
            } else {
                Run run = runs.get(Integer.parseInt(runIdOrNext));
                if (run == null) {
                    throw new IllegalArgumentException("no run " + runIdOrNext);
                }
                run.script = List.copyOf(snapshots);
                run.cursor = -1;
            }
            return null;
        });
    }

    public void script(String runIdOrNext, Snapshot... snapshots) {
        script(runIdOrNext, Arrays.asList(snapshots));
    }

    @Override
    public List<String> contractViolations() {
        return locked(() -> {
            List<String> all = new ArrayList<>(super.contractViolations());
            all.addAll(buildViolations);
            return all;
        });
    }

    // ---------------------------------------------------------------- validation and auth

    @Override
    protected boolean shouldValidate(LoggedRequest request) {
        return request.getUrl().contains("/_apis/pipelines/"); // the Build API is checked in onReceived, /_signin not at all
    }

    @Override
    protected void onReceived(LoggedRequest request) {
        String url = request.getUrl();
        if (!url.contains("/_apis/build/")) {
            return;
        }
        int q = url.indexOf('?');
        String path = q < 0 ? url : url.substring(0, q);
        if (path.endsWith("/timeline")) {
            url = path + "/" + NO_TIMELINE_ID + (q < 0 ? "" : url.substring(q));
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (HttpHeader h : request.getHeaders().all()) {
            headers.put(h.key(), h.values());
        }
        try {
            buildViolations.addAll(buildValidator.validate(request.getMethod().getName(), url, headers, request.getBodyAsString()));
        } catch (RuntimeException e) {
            buildViolations.add(request.getMethod().getName() + " " + url + ": validator failed: " + e);
        }
    }

    @Override
    protected ResponseDefinition beforeRoute(Call call) {
        if (call.rawPath().equals("/_signin")) {
            return null;
        }
        String auth = call.header("Authorization");
        boolean ok = false;
        if (auth != null && auth.startsWith("Basic ")) {
            try {
                String decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
                ok = decoded.indexOf(':') >= 0 && pat.equals(decoded.substring(decoded.indexOf(':') + 1));
            } catch (IllegalArgumentException e) {
                ok = false;
            }
        }
        if (!ok) { // what dev.azure.com does for a bad PAT: no 401, a redirect to the sign-in page
            return ResponseDefinitionBuilder.responseDefinition().withStatus(302)
                    .withHeader("Location", rootUrl() + "/_signin?realm=dev.azure.com&reply_to="
                            + URLEncoder.encode(rootUrl() + call.request().getUrl(), StandardCharsets.UTF_8))
                    .withHeader("Content-Type", "text/html; charset=utf-8")
                    .withBody("<html><head><title>Object moved</title></head><body><h2>Object moved to <a href=\"/_signin\">here</a>.</h2></body></html>")
                    .build();
        }
        return null;
    }

    @Override
    protected ObjectNode errorBody(int status, String error, String message) {
        return envelope(error, message);
    }

    private static ObjectNode envelope(String typeKey, String message) {
        ObjectNode o = object().put("$id", "1").putNull("innerException").put("message", message)
                .put("typeName", "Microsoft.Azure.Pipelines.WebApi." + typeKey + ", Microsoft.Azure.Pipelines.WebApi")
                .put("typeKey", typeKey).put("errorCode", 0).put("eventId", 3000);
        return o;
    }

    // ---------------------------------------------------------------- routes

    private ResponseDefinition checkScope(Call c) {
        if (!org.equals(c.param("org"))) {
            return json(404, envelope("AccountNotFoundException", "Organization '" + c.param("org") + "' not found."));
        }
        if (!project.equals(c.param("project")) && !projectId.equals(c.param("project"))) {
            return json(404, envelope("ProjectDoesNotExistWithNameException",
                    "The following project does not exist: " + c.param("project") + "."));
        }
        return null;
    }

    private ResponseDefinition trigger(Call c) {
        ResponseDefinition scope = checkScope(c);
        if (scope != null) {
            return scope;
        }
        int pipelineId = Integer.parseInt(c.param("pipelineId"));
        String name = pipelineNames.get(pipelineId);
        if (name == null) {
            return pipelineNotFound(pipelineId);
        }
        ObjectNode body = c.jsonObject(400);
        int id = nextRunId++;
        String ref = body.path("resources").path("repositories").path("self").path("refName").asText("refs/heads/main");
        ObjectNode run = runJson(pipelineId, name, id, ref, body.path("templateParameters"));
        Run r = new Run(run, pipelineId);
        if (!nextScripts.isEmpty()) {
            r.script = nextScripts.removeFirst();
        }
        runs.put(id, r);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (HttpHeader h : c.request().getHeaders().all()) {
            headers.put(h.key(), List.copyOf(h.values()));
        }
        triggers.add(new Trigger(c.request().getUrl(), headers, body.deepCopy(), pipelineId, id));
        return json(200, run);
    }

    private ResponseDefinition getRun(Call c) {
        ResponseDefinition scope = checkScope(c);
        if (scope != null) {
            return scope;
        }
        int pipelineId = Integer.parseInt(c.param("pipelineId"));
        if (!pipelineNames.containsKey(pipelineId)) {
            return pipelineNotFound(pipelineId);
        }
        Run r = runs.get(Integer.parseInt(c.param("runId")));
        if (r == null || r.pipelineId != pipelineId) {
            return json(404, envelope("PipelineRunNotFoundException", "Run " + c.param("runId") + " of pipeline " + pipelineId
                    + " was not found."));
        }
        r.cursor = Math.min(r.cursor + 1, r.script.size() - 1);
        Snapshot s = r.current();
        ObjectNode run = r.run.deepCopy();
        run.put("state", s.state());
        if (s.result() != null) {
            run.put("result", s.result());
        }
        if ("completed".equals(s.state())) {
            run.put("finishedDate", now());
        }
        return json(200, run);
    }

    private ResponseDefinition getBuild(Call c) {
        ResponseDefinition scope = checkScope(c);
        if (scope != null) {
            return scope;
        }
        Run r = runs.get(Integer.parseInt(c.param("buildId")));
        if (r == null) {
            return json(404, envelope("BuildNotFoundException", "The requested build " + c.param("buildId") + " could not be found."));
        }
        Snapshot s = r.current();
        String status = switch (s.state()) {
            case "completed" -> "completed";
            case "canceling" -> "cancelling";
            default -> "inProgress";
        };
        String result = s.buildResult() != null ? s.buildResult() : s.result() == null || "unknown".equals(s.result()) ? "none" : s.result();
        ObjectNode b = object().put("id", r.run.get("id").asInt()).put("buildNumber", r.run.get("name").asText())
                .put("status", status).put("result", result)
                .put("url", r.run.get("url").asText().replace("/_apis/Pipelines/" + r.pipelineId + "/runs/", "/_apis/build/Builds/"));
        b.putObject("definition").put("id", r.pipelineId).put("name", pipelineNames.get(r.pipelineId));
        b.putObject("project").put("id", projectId).put("name", project);
        b.put("sourceBranch", r.run.at("/resources/repositories/self/refName").asText());
        b.put("sourceVersion", r.run.at("/resources/repositories/self/version").asText());
        return json(200, b);
    }

    private ResponseDefinition getTimeline(Call c) {
        ResponseDefinition scope = checkScope(c);
        if (scope != null) {
            return scope;
        }
        Run r = runs.get(Integer.parseInt(c.param("buildId")));
        if (r == null) {
            return json(404, envelope("BuildNotFoundException", "The requested build " + c.param("buildId") + " could not be found."));
        }
        ObjectNode t = object().put("id", UUID.nameUUIDFromBytes(("t" + r.run.get("id")).getBytes(StandardCharsets.UTF_8)).toString())
                .put("changeId", r.cursor + 1).put("lastChangedOn", now());
        ArrayNode records = t.putArray("records");
        List<Stage> stages = r.current().stages();
        // listed last stage first, with Job records in between: the order a tracker must use is the "order" field
        for (int i = stages.size() - 1; i >= 0; i--) {
            Stage s = stages.get(i);
            String sid = r.stageIds.computeIfAbsent(s.name(), n -> UUID.randomUUID().toString());
            records.add(record(sid, null, "Stage", s.name(), i + 1, s));
            if (!"pending".equals(s.state())) {
                records.add(record(UUID.randomUUID().toString(), sid, "Job", s.name() + " job", 1, s));
            }
        }
        return json(200, t);
    }

    private ObjectNode record(String id, String parentId, String type, String name, int order, Stage s) {
        ObjectNode o = object().put("id", id).put("type", type).put("name", name).put("identifier", name)
                .put("order", order).put("state", s.state()).put("attempt", 1).put("errorCount", "failed".equals(s.result()) ? 1 : 0)
                .put("warningCount", 0);
        if (parentId == null) {
            o.putNull("parentId");
        } else {
            o.put("parentId", parentId);
        }
        if (s.result() != null) {
            o.put("result", s.result());
        } else {
            o.putNull("result");
        }
        if (!"pending".equals(s.state())) {
            o.put("startTime", now());
        } else {
            o.putNull("startTime");
        }
        if ("completed".equals(s.state())) {
            o.put("finishTime", now());
        } else {
            o.putNull("finishTime");
        }
        o.putArray("issues");
        o.putNull("log");
        return o;
    }

    private ResponseDefinition pipelineNotFound(int pipelineId) {
        return json(500, envelope("PipelineNotFoundException", "The pipeline '" + pipelineId + "' does not exist"));
    }

    private ObjectNode runJson(int pipelineId, String name, int id, String ref, JsonNode templateParameters) {
        String projectApi = rootUrl() + "/" + enc(org) + "/" + projectId + "/_apis";
        String web = rootUrl() + "/" + enc(org) + "/" + projectId;
        ObjectNode run = object();
        ObjectNode links = run.putObject("_links");
        links.putObject("self").put("href", projectApi + "/Pipelines/" + pipelineId + "/runs/" + id);
        links.putObject("web").put("href", web + "/_build/results?buildId=" + id);
        links.putObject("pipeline.web").put("href", web + "/_build/definition?definitionId=" + pipelineId);
        links.putObject("pipeline").put("href", projectApi + "/Pipelines/" + pipelineId + "?revision=3");
        run.putObject("templateParameters").setAll(templateParameters.isObject() ? (ObjectNode) templateParameters : object());
        ObjectNode p = run.putObject("pipeline");
        p.put("url", projectApi + "/Pipelines/" + pipelineId + "?revision=3").put("id", pipelineId).put("revision", 3)
                .put("name", name).put("folder", "\\");
        run.put("state", "inProgress").put("createdDate", now());
        run.put("url", projectApi + "/Pipelines/" + pipelineId + "/runs/" + id);
        ObjectNode self = run.putObject("resources").putObject("repositories").putObject("self");
        self.putObject("repository").put("id", UUID.nameUUIDFromBytes(project.getBytes(StandardCharsets.UTF_8)).toString())
                .put("type", "azureReposGit");
        self.put("refName", ref).put("version", String.format("%040x", (long) id * 7919L + 0xc0ffeeL));
        run.put("id", id).put("name", "20250101." + (id - 999));
        return run;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
