package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The work-order build-and-release PaaS (Rancher v3 API plus the seed's additions, REFERENCE.md §7) as a stateful
 * fake. There is no spec to validate against, so the shapes the seed and upstream Rancher fix are checked by hand:
 * {@code ?action=run} needs a {@code branch} and an upgrade needs a {@code versionTag} ({@code 422 InvalidBodyContent}),
 * an unknown action is {@code 422 InvalidAction}, every call needs {@code Authorization: Bearer <token>}. Errors are
 * Norman bodies {@code {type:"error",status,code,message}}.
 *
 * <p>Builds and releases follow scripts advanced by each GET (the first GET shows the first step, the last step
 * repeats), so a test decides how a run unfolds with {@link #nextBuild} / {@link #nextRelease} before triggering it.
 * Apps exist once {@link #addApp} is called, showing the previous release's conditions (Installed/Deployed True with
 * old timestamps) until upgraded, as the real PaaS does right after an upgrade call.
 */
public class FakeWorkOrder extends FakeHttpServer {

    /** How a triggered build unfolds, one step per GET of its execution. */
    public enum BuildScript {
        /** Waiting (Initialized Unknown) → Building (Clone Success, Build Building) → Success, Built=True. */
        SUCCESS,
        /** Waiting → Building → Failed with Built=False "Buildinfo got FAILED status". */
        FAILED,
        /** Waiting (Provisioned Unknown) → still Waiting with Provisioned=False "no available executor". */
        PROVISION_FAILED,
        /** Waiting → Skipped. */
        SKIPPED,
        /** Waiting → Building → Aborted. */
        ABORTED,
        /** Like SUCCESS but the PaaS adds neither dockerImage nor versionTag. */
        SUCCESS_WITHOUT_TAG
    }

    /** How an app upgrade unfolds, one step per GET of the app after the upgrade call. */
    public enum ReleaseScript {
        /** Deployed Unknown "workloads are updating" → Installed True + Deployed True. */
        SUCCESS,
        /** Deployed Unknown → Installed False "failed to install app {name}. …". */
        HELM_FAILED,
        /** Two GETs still showing the previous release's conditions, then like SUCCESS. */
        SLOW_START
    }

    /** One accepted call: what it was, the decoded ids, the query action, the Authorization header and the body. */
    public record Recorded(String method, String rawUrl, String action, String authorization, JsonNode body) {
    }

    public static final String PREVIOUS_RELEASE_TIME = "2020-01-01T00:00:00Z";
    public static final String DEPLOY_LOG_TEXT = "starting app\nlistening on :8080\nready\n";

    private final String token;
    private final String clusterId;
    private final String projectId;
    private final List<String> stageNames;
    private final Map<String, Integer> lastRun = new LinkedHashMap<>();
    private final Map<String, Execution> executions = new LinkedHashMap<>();
    private final Map<String, App> apps = new LinkedHashMap<>();
    private final List<Recorded> runs = new ArrayList<>();
    private final List<Recorded> upgrades = new ArrayList<>();
    private final Map<String, String> rejectedBranches = new LinkedHashMap<>();
    private BuildScript nextBuild = BuildScript.SUCCESS;
    private ReleaseScript nextRelease = ReleaseScript.SUCCESS;

    private static final class Execution {
        ObjectNode base;
        List<ObjectNode> steps = new ArrayList<>();
        int gets;
    }

    private static final class App {
        String name;
        ObjectNode base;
        List<JsonNode> steps = new ArrayList<>(); // conditions arrays; empty until upgraded
        int gets;
        String versionTag;
        int logStatus = 200;
        String logContentType = "text/plain";
        String logBody = DEPLOY_LOG_TEXT;
    }

    /** The seed's cluster and project, stages Clone, Build, Publish, Deploy. */
    public FakeWorkOrder(String token) {
        this(token, "c-64wdm", "p-5tfq9", List.of("Clone", "Build", "Publish", "Deploy"));
    }

    /** @param stageNames the pipeline's stages as {@code pipelineConfig} lists them, Clone (added by Rancher) first */
    public FakeWorkOrder(String token, String clusterId, String projectId, List<String> stageNames) {
        super(null);
        this.token = Objects.requireNonNull(token);
        this.clusterId = clusterId;
        this.projectId = projectId;
        this.stageNames = List.copyOf(stageNames);
        String project = "/v3/project/(?<cp>[^/]+)";
        route("POST", project + "/pipelines/(?<pl>[^/]+)", this::run);
        route("GET", project + "/pipelineExecutions/(?<ex>[^/]+)", this::getExecution);
        route("POST", project + "/apps/(?<app>[^/]+)", this::appAction);
        route("GET", project + "/apps/(?<app>[^/]+)", this::getApp);
        route("GET", project + "/deployLogs/(?<app>[^/]+)", this::deployLogs);
    }

    // ------------------------------------------------------------------------------------------ test API

    /** {@code http://127.0.0.1:<port>}, the counterpart of {@code https://{host}}. */
    public String host() {
        return rootUrl();
    }

    /** The trigger URL for a pipeline of this fake's project. */
    public String runUrl(String pipelineId) {
        return host() + "/v3/project/" + clusterId + ":" + projectId + "/pipelines/" + projectId + ":" + pipelineId
                + "?action=run";
    }

    public String clusterId() {
        return clusterId;
    }

    public String projectId() {
        return projectId;
    }

    /** The script of the builds triggered from now on. */
    public void nextBuild(BuildScript script) {
        locked(() -> nextBuild = script);
    }

    /** The script of the upgrades requested from now on. */
    public void nextRelease(ReleaseScript script) {
        locked(() -> nextRelease = script);
    }

    /** Runs on this branch fail like upstream with 500 ServerError and this message. */
    public void rejectBranch(String branch, String message) {
        locked(() -> rejectedBranches.put(branch, message));
    }

    /** Creates an app showing the previous release (Installed/Deployed True, old timestamps). */
    public void addApp(String name) {
        locked(() -> {
            App a = new App();
            a.name = name;
            a.base = object().put("id", projectId + ":" + name).put("type", "app").put("name", name)
                    .put("projectId", clusterId + ":" + projectId).put("state", "active");
            a.base.set("conditions", conditions(cond("Installed", "True", PREVIOUS_RELEASE_TIME, null),
                    cond("Deployed", "True", PREVIOUS_RELEASE_TIME, null)));
            apps.put(name, a);
            return null;
        });
    }

    /** What the deploy-log endpoint of an app answers (default 200 text/plain {@link #DEPLOY_LOG_TEXT}). */
    public void deployLogs(String app, int status, String contentType, String body) {
        locked(() -> {
            App a = apps.get(app);
            a.logStatus = status;
            a.logContentType = contentType;
            a.logBody = body;
            return null;
        });
    }

    /** Accepted {@code ?action=run} calls, oldest first. */
    public List<Recorded> runs() {
        return locked(() -> List.copyOf(runs));
    }

    /** Accepted app actions (upgrades), oldest first. */
    public List<Recorded> upgrades() {
        return locked(() -> List.copyOf(upgrades));
    }

    /** The execution as the next GET would show it, or null. */
    public ObjectNode execution(String id) {
        return locked(() -> executions.containsKey(id) ? render(executions.get(id)) : null);
    }

    /** The versionTag an app was last upgraded to, or null. */
    public String appVersionTag(String app) {
        return locked(() -> apps.containsKey(app) ? apps.get(app).versionTag : null);
    }

    // ------------------------------------------------------------------------------------------ server

    @Override
    protected ObjectNode errorBody(int status, String error, String message) {
        String code = switch (error) {
            case "not_found" -> "NotFound";
            case "method_not_allowed" -> "MethodNotAllowed";
            case "invalid_request" -> "InvalidBodyContent";
            case "service_unavailable" -> "ServiceUnavailable";
            case "fake_error" -> "ServerError";
            default -> error;
        };
        return object().put("type", "error").put("status", String.valueOf(status)).put("code", code)
                .put("message", message);
    }

    @Override
    protected ResponseDefinition beforeRoute(Call call) {
        if (!("Bearer " + token).equals(call.header("Authorization"))) {
            return error(401, "Unauthorized", "must authenticate");
        }
        String[] parts = call.rawPath().split("/");
        String cp = parts.length > 3 && parts[1].equals("v3") && parts[2].equals("project")
                ? Call.percentDecode(parts[3]) : "";
        if (!cp.equals(clusterId + ":" + projectId)) {
            return error(403, "PermissionDenied", "project " + cp + " is not accessible with this token");
        }
        return null;
    }

    private ResponseDefinition run(Call c) {
        String pl = c.param("pl");
        if (!pl.startsWith(projectId + ":")) {
            return error(404, "not_found", "pipeline " + pl + " not found");
        }
        if (!"run".equals(c.query("action"))) {
            return error(422, "InvalidAction", "invalid action: " + c.query("action"));
        }
        ObjectNode body = c.jsonObject(422);
        String branch = body.path("branch").asText("");
        if (branch.isBlank()) {
            return error(422, "InvalidBodyContent", "Branch is required");
        }
        if (body.has("webhook") && !body.get("webhook").isTextual()) {
            return error(422, "InvalidBodyContent", "webhook must be a string");
        }
        if (rejectedBranches.containsKey(branch)) {
            return error(500, "ServerError", rejectedBranches.get(branch));
        }
        String pipelineId = pl.substring(pl.indexOf(':') + 1);
        int run = lastRun.merge(pl, 1, Integer::sum) + 9; // the seed's first example run is 10
        String id = pl + "-" + run;
        Execution e = new Execution();
        e.base = executionBase(c, id, pl, pipelineId, run, branch);
        e.steps = script(nextBuild, run, pipelineId);
        executions.put(id, e);
        runs.add(recorded(c, body));
        return json(200, render(e));
    }

    private ResponseDefinition getExecution(Call c) {
        Execution e = executions.get(c.param("ex"));
        if (e == null) {
            return error(404, "not_found", "pipelineExecutions \"" + c.param("ex") + "\" not found");
        }
        ObjectNode shown = render(e);
        e.gets++;
        return json(200, shown);
    }

    private ResponseDefinition appAction(Call c) {
        App a = app(c);
        if (a == null) {
            return error(404, "not_found", "apps \"" + c.param("app") + "\" not found");
        }
        String action = c.query("action");
        if (!"upgradeoutter".equals(action) && !"upgrade".equals(action)) {
            return error(422, "InvalidAction", "invalid action: " + action);
        }
        ObjectNode body = c.jsonObject(422);
        String tag = body.path("versionTag").asText("");
        if (tag.isBlank()) {
            return error(422, "InvalidBodyContent", "versionTag is required");
        }
        a.versionTag = tag;
        a.gets = 0;
        a.steps = release(nextRelease, a.name);
        upgrades.add(recorded(c, body));
        return json(200, renderApp(a));
    }

    private ResponseDefinition getApp(Call c) {
        App a = app(c);
        if (a == null) {
            return error(404, "not_found", "apps \"" + c.param("app") + "\" not found");
        }
        ObjectNode shown = renderApp(a);
        a.gets++;
        return json(200, shown);
    }

    private ResponseDefinition deployLogs(Call c) {
        App a = app(c);
        if (a == null) {
            return error(404, "not_found", "deployLogs \"" + c.param("app") + "\" not found");
        }
        if (a.logStatus >= 400) {
            return error(a.logStatus, a.logStatus == 404 ? "not_found" : "ServerError", "deploy logs: HTTP " + a.logStatus);
        }
        return ResponseDefinitionBuilder.responseDefinition().withStatus(a.logStatus)
                .withHeader("Content-Type", a.logContentType).withBody(a.logBody).build();
    }

    // ------------------------------------------------------------------------------------------ scripts

    private App app(Call c) {
        String id = c.param("app");
        if (!id.startsWith(projectId + ":")) {
            return null;
        }
        return apps.get(id.substring(projectId.length() + 1));
    }

    private ObjectNode executionBase(Call c, String id, String pl, String pipelineId, int run, String branch) {
        ObjectNode e = object().put("id", id).put("type", "pipelineExecution").put("name", pipelineId + "-" + run)
                .put("pipelineId", pl).put("projectId", clusterId + ":" + projectId).put("run", run)
                .put("state", "active").put("mergeRequestIid", 0).put("triggeredBy", "user")
                .put("branch", branch).put("ref", "refs/heads/" + branch)
                .put("commit", "3f2a9c1d0b7e" + String.format("%04d", run) + "aa11bb22cc33dd44ee55")
                .put("event", "push").put("message", "chnage harbor refer & correct\n").put("author", "dev")
                .put("repositoryUrl", "https://git.example/dev/app.git")
                .put("uuid", UUID.randomUUID().toString()).put("started", now());
        ObjectNode config = e.putObject("pipelineConfig").put("timeout", 60);
        ArrayNode stages = config.putArray("stages");
        for (String n : stageNames) {
            stages.addObject().put("name", n).putArray("steps");
        }
        String self = host() + "/v3/project/" + clusterId + ":" + projectId + "/pipelineExecutions/" + id;
        e.putObject("links").put("self", self).put("log", self.replace("/v3/", "/v3/ws/") + "/log");
        return e;
    }

    /** Each step: executionState, stage states (one per stage, missing → Waiting), conditions, extra fields. */
    private List<ObjectNode> script(BuildScript script, int run, String pipelineId) {
        String t = now();
        ObjectNode waiting = step("Waiting", List.of(), conditions(cond("Initialized", "Unknown", t, "Setting up jenkins")));
        ObjectNode provisioning = step("Waiting", List.of(), conditions(cond("Initialized", "True", t, null),
                cond("Provisioned", "Unknown", t, "Assigning jobs to pipeline engine")));
        ArrayNode upAndRunning = conditions(cond("Initialized", "True", t, null), cond("Provisioned", "True", t, null));
        ObjectNode building = step("Building", List.of("Success", "Building"), upAndRunning);
        List<String> allSuccess = stageNames.stream().map(n -> "Success").toList();
        ObjectNode success = step("Success", allSuccess, conditions(cond("Initialized", "True", t, null),
                cond("Provisioned", "True", t, null), cond("Built", "True", t, null)));
        String tag = "master-" + run + "-3f2a9c1";
        return switch (script) {
            case SUCCESS -> List.of(waiting, building,
                    success.put("dockerImage", "harbor.example/" + projectId + "/" + pipelineId).put("versionTag", tag));
            case SUCCESS_WITHOUT_TAG -> List.of(waiting, building, success);
            case FAILED -> List.of(waiting, building, step("Failed", List.of("Success", "Failed"),
                    conditions(cond("Initialized", "True", t, null), cond("Provisioned", "True", t, null),
                            cond("Built", "False", t, "Buildinfo got FAILED status"))));
            case PROVISION_FAILED -> List.of(provisioning, step("Waiting", List.of(), conditions(
                    cond("Initialized", "True", t, null), cond("Provisioned", "False", t, "no available executor"))));
            case SKIPPED -> List.of(waiting, step("Skipped", List.of(), upAndRunning));
            case ABORTED -> List.of(waiting, building, step("Aborted", List.of("Success", "Aborted"), upAndRunning));
        };
    }

    private ObjectNode step(String executionState, List<String> stageStates, ArrayNode conditions) {
        ObjectNode s = object().put("executionState", executionState);
        ArrayNode stages = s.putArray("stages");
        for (int i = 0; i < stageNames.size(); i++) {
            ObjectNode st = stages.addObject().put("state", i < stageStates.size() ? stageStates.get(i) : "Waiting");
            st.putArray("steps").addObject().put("state", st.get("state").asText());
        }
        s.set("conditions", conditions);
        return s;
    }

    private List<JsonNode> release(ReleaseScript script, String name) {
        String t = now();
        ArrayNode old = conditions(cond("Installed", "True", PREVIOUS_RELEASE_TIME, null),
                cond("Deployed", "True", PREVIOUS_RELEASE_TIME, null));
        ArrayNode updating = conditions(cond("Installed", "True", t, null),
                cond("Deployed", "Unknown", t, "workloads are updating"));
        ArrayNode done = conditions(cond("Installed", "True", t, null), cond("Deployed", "True", t, null));
        ArrayNode helm = conditions(cond("Installed", "False", t, "failed to install app " + name
                + ". Error: UPGRADE FAILED: template: app/templates/deployment.yaml:12: image is required"),
                cond("Deployed", "Unknown", t, "workloads are updating"));
        return switch (script) {
            case SUCCESS -> List.of(updating, done);
            case HELM_FAILED -> List.of(updating, helm);
            case SLOW_START -> List.of(old, old, updating, done);
        };
    }

    private ObjectNode render(Execution e) {
        ObjectNode shown = e.base.deepCopy();
        ObjectNode step = e.steps.get(Math.min(e.gets, e.steps.size() - 1));
        shown.setAll(step.deepCopy());
        String st = step.get("executionState").asText();
        if (!List.of("Waiting", "Building", "Queueing", "Pending").contains(st)) {
            shown.put("ended", now());
        }
        return shown;
    }

    private ObjectNode renderApp(App a) {
        ObjectNode shown = a.base.deepCopy();
        if (!a.steps.isEmpty()) {
            shown.set("conditions", a.steps.get(Math.min(a.gets, a.steps.size() - 1)).deepCopy());
        }
        if (a.versionTag != null) {
            shown.put("versionTag", a.versionTag);
        }
        return shown;
    }

    private static ObjectNode cond(String type, String status, String time, String message) {
        ObjectNode c = object().put("type", type).put("status", status).put("lastUpdateTime", time)
                .put("lastTransitionTime", time);
        if (message != null) {
            c.put("message", message);
        }
        return c;
    }

    private static ArrayNode conditions(ObjectNode... cs) {
        ArrayNode a = JSON.createArrayNode();
        for (ObjectNode c : cs) {
            a.add(c);
        }
        return a;
    }

    private static Recorded recorded(Call c, JsonNode body) {
        return new Recorded(c.method(), c.request().getUrl(), c.query("action"), c.header("Authorization"),
                body.deepCopy());
    }
}
