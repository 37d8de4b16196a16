package io.portcamel.agent.tracking.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TargetTracker;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows an Azure DevOps pipeline run started with the Runs API 7.1 (REFERENCE §6.2), mapped per §8.
 *
 * <p>Why these calls: the run ({@code GET …/pipelines/{pipelineId}/runs/{runId}}) is the only source of the outcome
 * (success ⇔ {@code completed}+{@code succeeded}, as in Port Ocean). Its result has no {@code partiallySucceeded}, so
 * once a run is completed and not plainly failed/canceled the Build API build ({@code _apis/build/builds/{runId}}, the
 * run id is the build id) is read once to tell it apart ({@code partiallySucceededIsSuccess}, default false). The
 * build timeline's {@code Stage} records only feed the run log (each new state/result once, in {@code order}) and the
 * label, e.g. {@code Deploy: inProgress (1/3 stages done)}; a missing timeline is not an error.
 *
 * <p>Why a 302 or HTML is "unauthorized": a bad or expired PAT is answered with a redirect to the sign-in page (or,
 * through a client that follows redirects, that page itself), never a 401. An unknown pipeline is a 500
 * {@code PipelineNotFoundException}: 5xx are only retried when they are not such a typed, permanent error.
 *
 * <p>Log lines: {@code Stage "Build" is inProgress} while not completed (a stage first seen {@code pending} is not
 * logged), {@code Stage "Build" succeeded} / {@code failed} / {@code skipped}… when completed. externalRunId is
 * {@code ado_{projectId}_{pipelineId}_{runId}} (Port Ocean's form); the project id is taken from the Run's
 * {@code url} (ADO puts the project GUID there), else {@code track.params.projectId}, else the project as in the URL.
 */
public class AzureDevOpsTracker implements TargetTracker {

    public static final String TYPE = "azure-devops";
    public static final String PARAM_PARTIALLY_SUCCEEDED_IS_SUCCESS = "partiallySucceededIsSuccess";
    public static final String PARAM_PROJECT_ID = "projectId";
    static final String API_VERSION = "api-version=7.1";
    static final String UNAUTHORIZED = "Azure DevOps rejected the credentials (sign-in redirect)";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TRIGGER = Pattern.compile(
            "^(?<base>.*?)/(?<org>[^/?]+)/(?<project>[^/?]+)/_apis/pipelines/(?<pipelineId>\\d+)/runs/?(?:\\?.*)?$");
    private static final Pattern RUN_URL = Pattern.compile("/[^/]+/(?<projectId>[0-9a-fA-F-]{36})/_apis/", Pattern.CASE_INSENSITIVE);
    /** Typed errors that no retry will fix, even when sent with a 5xx. */
    private static final Set<String> PERMANENT_5XX = Set.of("PipelineNotFoundException", "PipelineRunNotFoundException",
            "BuildNotFoundException", "ProjectDoesNotExistWithNameException", "ProjectDoesNotExistException");

    private final Clock clock;

    /** With the system clock (UTC). */
    public AzureDevOpsTracker() {
        this(Clock.systemUTC());
    }

    /** @param clock stamps the start time kept in the state */
    public AzureDevOpsTracker(Clock clock) {
        this.clock = Objects.requireNonNull(clock);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ObjectNode start(TrackStart trigger) throws TrackingException {
        String url = trigger.request() == null ? "" : trigger.request().path("url").asText("");
        Matcher m = TRIGGER.matcher(url);
        if (!m.matches()) {
            throw new TrackingException("not an Azure DevOps Runs API trigger URL (…/{org}/{project}/_apis/pipelines/{id}/runs): "
                    + url, false);
        }
        JsonNode run = trigger.response();
        if (run == null || !run.hasNonNull("id") || run.get("id").asText().isBlank()) {
            throw new TrackingException("the Azure DevOps trigger response has no run id", false);
        }
        ObjectNode state = JSON.createObjectNode();
        state.put("base", m.group("base"));
        state.put("org", m.group("org"));
        state.put("project", m.group("project"));
        String pipelineId = run.path("pipeline").hasNonNull("id") ? run.path("pipeline").get("id").asText() : m.group("pipelineId");
        state.put("pipelineId", pipelineId);
        state.put("runId", run.get("id").asText());
        String projectId = projectIdFromRunUrl(run.path("url").asText(""));
        ObjectNode params = trigger.params();
        if (projectId == null && params != null && params.hasNonNull(PARAM_PROJECT_ID) && !params.get(PARAM_PROJECT_ID).asText().isBlank()) {
            projectId = params.get(PARAM_PROJECT_ID).asText();
        }
        state.put("projectId", projectId != null ? projectId : m.group("project"));
        String web = run.path("_links").path("web").path("href").asText("");
        if (!web.isEmpty()) {
            state.put("link", web);
        }
        state.put("runName", run.path("name").asText(""));
        state.put("partiallySucceededIsSuccess", bool(params == null ? null : params.get(PARAM_PARTIALLY_SUCCEEDED_IS_SUCCESS), false));
        state.put("startedAt", clock.millis());
        state.putObject("stages");
        return state;
    }

    @Override
    public String startMessage(ObjectNode state) {
        return "Following Azure DevOps run " + state.path("runId").asText() + " of pipeline " + state.path("pipelineId").asText()
                + " (" + state.path("org").asText() + "/" + state.path("project").asText() + ")";
    }

    @Override
    public PollResult poll(ObjectNode previous, Map<String, String> authHeaders, TargetHttp http) throws TrackingException {
        ObjectNode state = previous.deepCopy();
        Map<String, String> headers = followUpHeaders(authHeaders);
        String projectUrl = state.path("base").asText() + "/" + state.path("org").asText() + "/" + state.path("project").asText();
        String pipelineId = state.path("pipelineId").asText();
        String runId = state.path("runId").asText();
        String externalRunId = "ado_" + state.path("projectId").asText() + "_" + pipelineId + "_" + runId;

        Call runCall = get(http, projectUrl + "/_apis/pipelines/" + pipelineId + "/runs/" + runId + "?" + API_VERSION,
                headers, "run " + runId, true);
        if (runCall.failure != null) {
            return done(state, List.of(), runCall.failure, state.path("link").asText(null), externalRunId, false, runCall.failure,
                    JSON.createObjectNode());
        }
        JsonNode run = runCall.json;
        String link = run.path("_links").path("web").path("href").asText(state.path("link").asText(""));
        if (!link.isEmpty()) {
            state.put("link", link);
        }
        String runState = run.path("state").asText("unknown");
        String result = run.hasNonNull("result") ? run.get("result").asText() : null;
        ObjectNode facts = facts(state, run, link);

        // stages: log and label only
        List<String> lines = new ArrayList<>();
        List<JsonNode> stages = stages(http, projectUrl, runId, headers);
        ObjectNode seen = state.withObjectProperty("stages");
        for (JsonNode s : stages) {
            String id = s.path("id").asText(s.path("name").asText());
            String st = s.path("state").asText("pending");
            String res = s.hasNonNull("result") ? s.get("result").asText() : null;
            String now = "completed".equals(st) ? "completed/" + (res == null ? "unknown" : res) : st;
            String before = seen.path(id).asText(null);
            if (!now.equals(before)) {
                seen.put(id, now);
                if (!(before == null && "pending".equals(st))) {
                    lines.add("Stage \"" + s.path("name").asText() + "\" "
                            + ("completed".equals(st) ? (res == null ? "completed" : res) : "is " + st));
                }
            }
        }
        String name = "Azure DevOps run " + runId + " of pipeline " + pipelineId;

        if (!"completed".equals(runState)) { // inProgress, canceling, unknown
            return new PollResult(state, List.copyOf(lines), label(runId, runState, stages), nullIfEmpty(link), externalRunId,
                    null, facts, false);
        }

        // completed: the Runs API result, refined by the Build API for partiallySucceeded
        String outcome = result == null ? "unknown" : result;
        if (!"failed".equals(outcome) && !"canceled".equals(outcome)) {
            Call build = get(http, projectUrl + "/_apis/build/builds/" + runId + "?" + API_VERSION, headers, "build " + runId, false);
            if (build.failure == null) {
                String buildResult = build.json.path("result").asText("");
                if (!buildResult.isEmpty() && !"none".equals(buildResult)) {
                    outcome = buildResult;
                }
            } else if (build.unauthorized) {
                return done(state, lines, build.failure, link, externalRunId, false, build.failure, facts);
            }
        }
        List<String> failedStages = stages.stream()
                .filter(s -> Set.of("failed", "canceled", "abandoned").contains(s.path("result").asText()))
                .map(s -> "stage \"" + s.path("name").asText() + "\" " + s.path("result").asText()).toList();
        String detail = failedStages.isEmpty() ? "" : " (" + String.join(", ", failedStages) + ")";
        boolean partialOk = state.path("partiallySucceededIsSuccess").asBoolean(false);
        List<String> stageNames = stages.stream().map(s -> s.path("name").asText()).toList();
        String stagesPart = stageNames.isEmpty() ? "" : " (stages: " + String.join(", ", stageNames) + ")";
        return switch (outcome) {
            case "succeeded" -> done(state, lines, "succeeded", link, externalRunId, true, name + " succeeded" + stagesPart, facts);
            case "partiallySucceeded" -> partialOk
                    ? done(state, lines, "partiallySucceeded", link, externalRunId, true, name + " partially succeeded" + stagesPart, facts)
                    : done(state, lines, "partiallySucceeded", link, externalRunId, false,
                    name + " partially succeeded (counted as a failure: set " + PARAM_PARTIALLY_SUCCEEDED_IS_SUCCESS + " to accept it)"
                            + detail, facts);
            case "canceled" -> done(state, lines, "canceled" + detail, link, externalRunId, false, name + " was canceled" + detail, facts);
            case "failed" -> done(state, lines, "failed" + detail, link, externalRunId, false, name + " failed" + detail, facts);
            default -> done(state, lines, "completed: " + outcome, link, externalRunId, false,
                    name + " completed with result " + outcome + detail, facts);
        };
    }

    // ---------------------------------------------------------------- helpers

    /** {@code Deploy: inProgress (1/3 stages done)}; before any stage, {@code run 42: inProgress}. */
    static String label(String runId, String runState, List<JsonNode> stages) {
        if (stages.isEmpty()) {
            return "run " + runId + ": " + runState;
        }
        long done = stages.stream().filter(s -> "completed".equals(s.path("state").asText())).count();
        JsonNode current = stages.stream().filter(s -> "inProgress".equals(s.path("state").asText())).findFirst()
                .orElseGet(() -> stages.stream().filter(s -> !"completed".equals(s.path("state").asText())).findFirst()
                        .orElse(stages.get(stages.size() - 1)));
        String suffix = " (" + done + "/" + stages.size() + " stages done)";
        String st = current.path("state").asText();
        if ("canceling".equals(runState)) {
            return "canceling" + suffix;
        }
        return current.path("name").asText() + ": " + ("completed".equals(st) ? current.path("result").asText(st) : st) + suffix;
    }

    private List<JsonNode> stages(TargetHttp http, String projectUrl, String runId, Map<String, String> headers)
            throws TrackingException {
        Call c = get(http, projectUrl + "/_apis/build/builds/" + runId + "/timeline?" + API_VERSION, headers, "timeline of run " + runId, false);
        List<JsonNode> stages = new ArrayList<>();
        if (c.failure != null) {
            return stages; // no timeline (yet): stages are only for the log
        }
        c.json.path("records").forEach(r -> {
            if ("Stage".equalsIgnoreCase(r.path("type").asText())) {
                stages.add(r);
            }
        });
        stages.sort(Comparator.comparingInt(r -> r.path("order").asInt(Integer.MAX_VALUE)));
        return stages;
    }

    private static ObjectNode facts(ObjectNode state, JsonNode run, String link) {
        ObjectNode f = JSON.createObjectNode();
        f.put("runId", state.path("runId").asText());
        f.put("pipelineId", state.path("pipelineId").asText());
        if (run.hasNonNull("name")) {
            f.put("runName", run.get("name").asText());
        }
        if (!link.isEmpty()) {
            f.put("jobUrl", link);
        }
        JsonNode self = run.path("resources").path("repositories").path("self");
        if (self.hasNonNull("version")) {
            f.put("commitSha", self.get("version").asText());
        }
        if (self.hasNonNull("refName")) {
            f.put("branch", self.get("refName").asText().replaceFirst("^refs/heads/", ""));
        }
        return f;
    }

    private static PollResult done(ObjectNode state, List<String> lines, String label, String link, String externalRunId,
                                   boolean success, String summary, ObjectNode facts) {
        return new PollResult(state, List.copyOf(lines), label, nullIfEmpty(link), externalRunId,
                new PollResult.Terminal(success, summary), facts, false);
    }

    /** A 2xx JSON body, or why the run cannot go on; {@code unauthorized} marks a sign-in redirect / 401 / 403. */
    private record Call(JsonNode json, String failure, boolean unauthorized) {
    }

    /**
     * One GET. Transient trouble (I/O, 429, 5xx without a permanent typeKey) is thrown as retryable when
     * {@code essential}; for the timeline and build calls it is thrown too, except 404 which just means "none".
     */
    private Call get(TargetHttp http, String url, Map<String, String> headers, String what, boolean essential)
            throws TrackingException {
        TargetHttp.Response r;
        try {
            r = http.get(url, headers);
        } catch (IOException e) {
            throw new TrackingException("Azure DevOps unreachable (" + what + "): " + e, true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TrackingException("interrupted while asking Azure DevOps for " + what, true, e);
        } catch (Exception e) {
            throw new TrackingException("Azure DevOps call failed (" + what + "): " + e, true, e);
        }
        int s = r.status();
        JsonNode body = r.json();
        if ((s >= 300 && s < 400) || isHtml(r)) {
            return new Call(null, UNAUTHORIZED, true);
        }
        String message = body == null ? "" : body.path("message").asText("");
        String typeKey = body == null ? "" : body.path("typeKey").asText("");
        if (s == 401 || s == 403) {
            return new Call(null, "Azure DevOps rejected the credentials (HTTP " + s + (message.isEmpty() ? "" : ": " + message) + ")", true);
        }
        if (s == 404 || (s >= 500 && PERMANENT_5XX.contains(typeKey))) {
            String why = message.isEmpty() ? "Azure DevOps " + what + " not found (HTTP " + s + ")" : message;
            if (!essential) {
                return new Call(null, why, false);
            }
            return new Call(null, "Azure DevOps: " + why + (typeKey.isEmpty() ? "" : " (" + typeKey + ")"), false);
        }
        if (s == 429 || s >= 500) {
            String retryAfter = header(r, "Retry-After");
            throw new TrackingException("Azure DevOps answered " + s + " for " + what + (message.isEmpty() ? "" : ": " + message)
                    + (retryAfter == null ? "" : " (Retry-After " + retryAfter + ")"), true);
        }
        if (!r.ok()) {
            return new Call(null, "Azure DevOps answered " + s + " for " + what + (message.isEmpty() ? "" : ": " + message)
                    + (typeKey.isEmpty() ? "" : " (" + typeKey + ")"), false);
        }
        if (body == null) {
            if (!essential) {
                return new Call(null, "no JSON", false); // e.g. 204 for a build without a timeline yet
            }
            throw new TrackingException("Azure DevOps answered " + s + " without JSON for " + what, true);
        }
        return new Call(body, null, false);
    }

    private static boolean isHtml(TargetHttp.Response r) {
        String ct = header(r, "Content-Type");
        if (ct != null && ct.toLowerCase(Locale.ROOT).contains("text/html")) {
            return true;
        }
        String b = r.body() == null ? "" : r.body().stripLeading();
        return b.startsWith("<") && r.json() == null;
    }

    /** Only the credentials: the trigger's other headers (Content-Type, signatures…) do not belong on a GET. */
    static Map<String, String> followUpHeaders(Map<String, String> authHeaders) {
        Map<String, String> h = new LinkedHashMap<>();
        if (authHeaders != null) {
            authHeaders.forEach((k, v) -> {
                if (k.equalsIgnoreCase("authorization")) {
                    h.put(k, v);
                }
            });
        }
        h.put("Accept", "application/json");
        return h;
    }

    static String projectIdFromRunUrl(String runUrl) {
        Matcher m = RUN_URL.matcher(runUrl);
        return m.find() ? m.group("projectId") : null;
    }

    private static String header(TargetHttp.Response r, String name) {
        if (r.headers() == null) {
            return null;
        }
        return r.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                .map(Map.Entry::getValue).findFirst().orElse(null);
    }

    private static String nullIfEmpty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static boolean bool(JsonNode v, boolean dflt) {
        if (v == null || v.isNull() || v.isMissingNode() || v.asText().isBlank()) {
            return dflt;
        }
        return v.isBoolean() ? v.asBoolean() : Boolean.parseBoolean(v.asText().trim());
    }
}
