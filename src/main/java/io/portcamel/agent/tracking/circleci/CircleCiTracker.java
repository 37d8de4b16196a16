package io.portcamel.agent.tracking.circleci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TargetTracker;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Follows a CircleCI pipeline (REFERENCE §5) from its trigger response to the end of its workflows, mapped per §8.
 *
 * <p>Why it reads workflows, not the pipeline: a pipeline's {@code state} only covers setup and never says "finished";
 * only {@code errored} is final. The outcome is the aggregate of all workflows (all pages): any
 * failed/error/canceled/unauthorized (and not_run unless {@code notRunIsFailure=false}) is FAILURE at once, all terminal
 * and all success is SUCCESS, anything else is IN_PROGRESS with a label. A pipeline whose workflows are all filtered
 * out never gets one, so zero workflows after {@code noWorkflowGraceSeconds} is FAILURE (otherwise only the deadline
 * would end the run, with a worse message).
 *
 * <p>Jobs are read only for the run log: each new workflow status and job status is logged once, in order; the
 * statuses already logged live in the state, so any replica can take the next poll. Log line formats:
 * {@code Workflow "build" is running} (non-terminal), {@code Workflow "build" success} (terminal),
 * {@code Job "test" (#12) success}, {@code Job "hold" (approval) on_hold}; a job first seen {@code blocked} is not
 * logged (that is where every job starts).
 *
 * <p>Params ({@code track.params}): {@code notRunIsFailure} (default true), {@code noWorkflowGraceSeconds}
 * (default 120). Follow-up calls reuse the trigger's {@code Circle-Token} / {@code Authorization} header, and go to the
 * API base the trigger used (everything before {@code /api/v2/}), so a proxy or a fake works the same way.
 */
public class CircleCiTracker implements TargetTracker {

    public static final String TYPE = "circleci";
    public static final String PARAM_NOT_RUN_IS_FAILURE = "notRunIsFailure";
    public static final String PARAM_NO_WORKFLOW_GRACE_SECONDS = "noWorkflowGraceSeconds";
    static final long DEFAULT_GRACE_SECONDS = 120;
    /** Guards against a server that keeps returning a next_page_token. */
    static final int MAX_PAGES = 50;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String API = "/api/v2/";
    private static final Set<String> WORKFLOW_FAILED = Set.of("failed", "error", "canceled", "unauthorized");
    private static final Set<String> WORKFLOW_TERMINAL = Set.of("success", "failed", "error", "canceled", "unauthorized", "not_run");
    private static final Set<String> JOB_DONE = Set.of("success", "failed", "not_run", "retried", "infrastructure_fail",
            "timedout", "terminated-unknown", "canceled", "unauthorized");
    private static final Set<String> JOB_FAILED = Set.of("failed", "infrastructure_fail", "timedout", "terminated-unknown",
            "canceled", "unauthorized");

    private final Clock clock;

    /** With the system clock (UTC). */
    public CircleCiTracker() {
        this(Clock.systemUTC());
    }

    /** @param clock gives the start time and "now" for the no-workflow grace period (a fixed/mutable clock in tests) */
    public CircleCiTracker(Clock clock) {
        this.clock = Objects.requireNonNull(clock);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ObjectNode start(TrackStart trigger) throws TrackingException {
        String url = trigger.request() == null ? "" : trigger.request().path("url").asText("");
        int api = url.indexOf(API);
        if (api < 0) {
            throw new TrackingException("not a CircleCI API v2 trigger URL: " + url, false);
        }
        JsonNode response = trigger.response();
        String id = response == null ? "" : response.path("id").asText("");
        if (id.isBlank()) {
            throw new TrackingException("the CircleCI trigger response has no pipeline id", false);
        }
        ObjectNode state = JSON.createObjectNode();
        state.put("base", url.substring(0, api));
        state.put("pipelineId", id);
        if (response.hasNonNull("number")) {
            state.put("number", response.get("number").asLong());
        }
        state.put("pipelineState", response.path("state").asText(""));
        String slug = slugFromTriggerPath(url.substring(api + API.length()));
        if (slug != null) {
            state.put("projectSlug", slug);
        }
        ObjectNode params = trigger.params();
        state.put("notRunIsFailure", bool(params == null ? null : params.get(PARAM_NOT_RUN_IS_FAILURE), true));
        state.put("graceSeconds", number(params == null ? null : params.get(PARAM_NO_WORKFLOW_GRACE_SECONDS), DEFAULT_GRACE_SECONDS));
        state.put("startedAt", clock.millis());
        state.putObject("workflows");
        state.putObject("jobs");
        return state;
    }

    @Override
    public String startMessage(ObjectNode state) {
        String slug = state.path("projectSlug").asText("");
        return "Following CircleCI pipeline " + (state.has("number") ? state.get("number").asText() : state.path("pipelineId").asText())
                + (slug.isEmpty() ? "" : " of " + slug);
    }

    @Override
    public PollResult poll(ObjectNode previous, Map<String, String> authHeaders, TargetHttp http) throws TrackingException {
        ObjectNode state = previous.deepCopy();
        Map<String, String> headers = followUpHeaders(authHeaders);
        String base = state.path("base").asText() + "/api/v2";
        String pipelineId = state.path("pipelineId").asText();

        // 1. the pipeline: setup state, errors, slug/number for the link, vcs for facts
        Call p = get(http, base + "/pipeline/" + enc(pipelineId), headers, "pipeline " + pipelineId);
        if (p.failure != null) {
            return terminal(state, List.of(), p.failure, null, false);
        }
        JsonNode pipeline = p.json;
        String slug = pipeline.path("project_slug").asText(state.path("projectSlug").asText(""));
        long number = pipeline.hasNonNull("number") ? pipeline.get("number").asLong() : state.path("number").asLong();
        state.put("projectSlug", slug);
        state.put("number", number);
        String pipelineState = pipeline.path("state").asText("");
        state.put("pipelineState", pipelineState);
        String link = "https://app.circleci.com/pipelines/" + slug + "/" + number;
        ObjectNode facts = facts(pipelineId, number, link, pipeline.path("vcs"));
        List<String> lines = new ArrayList<>();

        if ("errored".equals(pipelineState)) {
            List<String> messages = new ArrayList<>();
            pipeline.path("errors").forEach(e -> messages.add(e.path("message").asText(e.path("type").asText("error"))));
            String why = messages.isEmpty() ? "pipeline errored" : String.join("; ", messages);
            if (!"errored".equals(previous.path("loggedPipelineState").asText())) {
                lines.add("Pipeline " + number + " errored: " + why);
                state.put("loggedPipelineState", "errored");
            }
            return result(state, lines, why, link, pipelineId,
                    new PollResult.Terminal(false, "CircleCI pipeline " + number + " errored: " + why), facts);
        }

        // 2. all workflows, all pages, oldest first
        Paged wfPages = pages(http, base + "/pipeline/" + enc(pipelineId) + "/workflow", headers,
                "workflows of pipeline " + pipelineId);
        if (wfPages.failure != null) {
            return terminal(state, lines, wfPages.failure, link, false);
        }
        List<JsonNode> workflows = wfPages.items;
        workflows.sort(Comparator.comparing(w -> w.path("created_at").asText("")));

        if (workflows.isEmpty()) {
            long waitedMs = clock.millis() - state.path("startedAt").asLong(clock.millis());
            long grace = state.path("graceSeconds").asLong(DEFAULT_GRACE_SECONDS);
            if (waitedMs >= grace * 1000) {
                String why = "no workflow started within " + grace + "s (pipeline state: " + pipelineState
                        + "); check the workflows' branch/tag filters and the pipeline parameters";
                return result(state, lines, "no workflow started", link, pipelineId,
                        new PollResult.Terminal(false, "CircleCI pipeline " + number + ": " + why), facts);
            }
            return result(state, lines, "pipeline " + number + ": " + pipelineState + " (waiting for workflows)",
                    link, pipelineId, null, facts);
        }

        // 3. transitions, in order: each workflow's new status, then its jobs' new statuses
        ObjectNode seenWf = state.withObjectProperty("workflows");
        ObjectNode seenJobs = state.withObjectProperty("jobs");
        List<Workflow> all = new ArrayList<>();
        for (JsonNode w : workflows) {
            String wid = w.path("id").asText();
            String name = w.path("name").asText(wid);
            String status = w.path("status").asText("");
            String before = seenWf.path(wid).asText(null);
            boolean settled = status.equals(before) && WORKFLOW_TERMINAL.contains(status)
                    && previous.path("jobsSettled").path(wid).asBoolean(false);
            List<JsonNode> jobs = List.of();
            if (!settled) { // a workflow that was already terminal and fully logged cannot change any more
                Paged jobPages = pages(http, base + "/workflow/" + enc(wid) + "/job", headers, "jobs of workflow " + name);
                if (jobPages.failure != null) {
                    return terminal(state, lines, jobPages.failure, link, false);
                }
                jobs = jobPages.items;
            }
            if (!status.equals(before)) {
                lines.add("Workflow \"" + name + "\" " + (WORKFLOW_TERMINAL.contains(status) ? "" : "is ") + status);
                seenWf.put(wid, status);
            }
            for (JsonNode j : jobs) {
                String jid = j.path("id").asText(j.path("name").asText());
                String jstatus = j.path("status").asText("");
                String jbefore = seenJobs.path(jid).asText(null);
                if (!jstatus.equals(jbefore)) {
                    seenJobs.put(jid, jstatus);
                    if (!(jbefore == null && "blocked".equals(jstatus))) {
                        lines.add("Job " + jobRef(j) + " " + jstatus);
                    }
                }
            }
            if (!settled && WORKFLOW_TERMINAL.contains(status)) {
                state.withObjectProperty("jobsSettled").put(wid, true);
            }
            all.add(new Workflow(name, status, settled ? null : jobs));
        }

        // 4. the aggregate (§8)
        boolean notRunIsFailure = state.path("notRunIsFailure").asBoolean(true);
        List<String> failures = new ArrayList<>();
        for (Workflow w : all) {
            if (WORKFLOW_FAILED.contains(w.status) || (notRunIsFailure && "not_run".equals(w.status))) {
                failures.add(w.describeFailure());
            }
        }
        if (!failures.isEmpty()) {
            String why = String.join("; ", failures);
            return result(state, lines, why, link, pipelineId,
                    new PollResult.Terminal(false, "CircleCI pipeline " + number + " failed: " + why), facts);
        }
        if (all.stream().allMatch(w -> WORKFLOW_TERMINAL.contains(w.status))) {
            List<String> ok = all.stream().filter(w -> "success".equals(w.status)).map(w -> w.name).toList();
            List<String> skipped = all.stream().filter(w -> "not_run".equals(w.status)).map(w -> w.name).toList();
            String summary = "CircleCI pipeline " + number + " succeeded (workflows: " + String.join(", ", ok) + ")"
                    + (skipped.isEmpty() ? "" : " (not run: " + String.join(", ", skipped) + ")");
            return result(state, lines, "success", link, pipelineId, new PollResult.Terminal(true, summary), facts);
        }
        List<String> labels = new ArrayList<>();
        for (Workflow w : all) {
            if (!WORKFLOW_TERMINAL.contains(w.status)) {
                labels.add(w.label());
            }
        }
        return result(state, lines, String.join("; ", labels), link, pipelineId, null, facts);
    }

    // ---------------------------------------------------------------- aggregation helpers

    private record Workflow(String name, String status, List<JsonNode> jobs) {
        /** {@code build: running (2/5 jobs)}, {@code deploy: on_hold (approval)}. */
        String label() {
            if ("on_hold".equals(status)) {
                return name + ": on_hold (approval)";
            }
            if (jobs == null || jobs.isEmpty()) {
                return name + ": " + status;
            }
            long done = jobs.stream().filter(j -> JOB_DONE.contains(j.path("status").asText())).count();
            return name + ": " + status + " (" + done + "/" + jobs.size() + " jobs)";
        }

        /** {@code workflow "build" failed (job "test" (#12) failed)}. */
        String describeFailure() {
            List<String> failedJobs = new ArrayList<>();
            if (jobs != null) {
                for (JsonNode j : jobs) {
                    if (JOB_FAILED.contains(j.path("status").asText())) {
                        failedJobs.add("job " + jobRef(j) + " " + j.path("status").asText());
                    }
                }
            }
            return "workflow \"" + name + "\" " + status + (failedJobs.isEmpty() ? "" : " (" + String.join(", ", failedJobs) + ")");
        }
    }

    private static String jobRef(JsonNode j) {
        String name = "\"" + j.path("name").asText() + "\"";
        if (j.hasNonNull("job_number")) {
            return name + " (#" + j.get("job_number").asText() + ")";
        }
        return "approval".equals(j.path("type").asText()) ? name + " (approval)" : name;
    }

    private static ObjectNode facts(String pipelineId, long number, String link, JsonNode vcs) {
        ObjectNode f = JSON.createObjectNode();
        f.put("pipelineId", pipelineId);
        f.put("pipelineNumber", number);
        f.put("jobUrl", link);
        if (vcs.hasNonNull("revision")) {
            f.put("commitSha", vcs.get("revision").asText());
        }
        if (vcs.hasNonNull("branch")) {
            f.put("branch", vcs.get("branch").asText());
        }
        if (vcs.hasNonNull("tag")) {
            f.put("tag", vcs.get("tag").asText());
        }
        return f;
    }

    private static PollResult result(ObjectNode state, List<String> lines, String label, String link, String externalRunId,
                                     PollResult.Terminal terminal, ObjectNode facts) {
        return new PollResult(state, List.copyOf(lines), label, link, externalRunId, terminal, facts, false);
    }

    private static PollResult terminal(ObjectNode state, List<String> lines, String why, String link, boolean success) {
        return new PollResult(state, List.copyOf(lines), why, link, state.path("pipelineId").asText(null),
                new PollResult.Terminal(success, why), JSON.createObjectNode(), false);
    }

    // ---------------------------------------------------------------- HTTP

    /** A 2xx JSON body, or (for what cannot get better) the reason the run failed; transient trouble is thrown. */
    private record Call(JsonNode json, String failure) {
    }

    /** All items of a paged list, or the reason the run failed. */
    private record Paged(List<JsonNode> items, String failure) {
    }

    private Call get(TargetHttp http, String url, Map<String, String> headers, String what) throws TrackingException {
        TargetHttp.Response r;
        try {
            r = http.get(url, headers);
        } catch (IOException e) {
            throw new TrackingException("CircleCI unreachable (" + what + "): " + e, true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TrackingException("interrupted while asking CircleCI for " + what, true, e);
        } catch (Exception e) {
            throw new TrackingException("CircleCI call failed (" + what + "): " + e, true, e);
        }
        int s = r.status();
        String message = r.json() == null ? "" : r.json().path("message").asText("");
        if (s == 401 || s == 403) {
            return new Call(null, "CircleCI rejected the token (HTTP " + s + (message.isEmpty() ? "" : ": " + message) + ")");
        }
        if (s == 404) {
            return new Call(null, "CircleCI " + what + " not found (HTTP 404" + (message.isEmpty() ? "" : ": " + message) + ")");
        }
        if (s == 429 || s >= 500) {
            String retryAfter = header(r, "Retry-After");
            throw new TrackingException("CircleCI answered " + s + " for " + what + (message.isEmpty() ? "" : ": " + message)
                    + (retryAfter == null ? "" : " (Retry-After " + retryAfter + ")"), true);
        }
        if (!r.ok()) {
            return new Call(null, "CircleCI answered " + s + " for " + what + (message.isEmpty() ? "" : ": " + message));
        }
        if (r.json() == null) {
            throw new TrackingException("CircleCI answered " + s + " without JSON for " + what, true);
        }
        return new Call(r.json(), null);
    }

    private Paged pages(TargetHttp http, String url, Map<String, String> headers, String what) throws TrackingException {
        List<JsonNode> items = new ArrayList<>();
        String token = null;
        for (int page = 0; page < MAX_PAGES; page++) {
            Call c = get(http, token == null ? url : url + "?page-token=" + URLEncoder.encode(token, StandardCharsets.UTF_8),
                    headers, what);
            if (c.failure != null) {
                return new Paged(null, c.failure);
            }
            c.json.path("items").forEach(items::add);
            JsonNode next = c.json.get("next_page_token");
            if (next == null || next.isNull() || next.asText().isEmpty()) {
                return new Paged(items, null);
            }
            token = next.asText();
        }
        throw new TrackingException("CircleCI kept paging " + what + " beyond " + MAX_PAGES + " pages", true);
    }

    /** Only the credentials: the trigger's other headers (Content-Type, signatures…) do not belong on a GET. */
    static Map<String, String> followUpHeaders(Map<String, String> authHeaders) {
        Map<String, String> h = new LinkedHashMap<>();
        if (authHeaders != null) {
            authHeaders.forEach((k, v) -> {
                String key = k.toLowerCase(Locale.ROOT);
                if (key.equals("circle-token") || key.equals("authorization")) {
                    h.put(k, v);
                }
            });
        }
        h.put("Accept", "application/json");
        return h;
    }

    private static String header(TargetHttp.Response r, String name) {
        if (r.headers() == null) {
            return null;
        }
        return r.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                .map(Map.Entry::getValue).findFirst().orElse(null);
    }

    // ---------------------------------------------------------------- parsing

    /**
     * The project slug from the path after {@code /api/v2/}: {@code project/{slug}/pipeline} (slug with raw or
     * {@code %2F} slashes) or {@code project/{provider}/{org}/{project}/pipeline/run}.
     */
    static String slugFromTriggerPath(String pathAfterApi) {
        String path = pathAfterApi;
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        if (!path.startsWith("project/")) {
            return null;
        }
        path = path.substring("project/".length());
        if (path.endsWith("/pipeline/run")) {
            path = path.substring(0, path.length() - "/pipeline/run".length());
        } else if (path.endsWith("/pipeline")) {
            path = path.substring(0, path.length() - "/pipeline".length());
        } else {
            return null;
        }
        return URLDecoder.decode(path.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String enc(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static boolean bool(JsonNode v, boolean dflt) {
        if (v == null || v.isNull() || v.isMissingNode() || v.asText().isBlank()) {
            return dflt;
        }
        return v.isBoolean() ? v.asBoolean() : Boolean.parseBoolean(v.asText().trim());
    }

    private static long number(JsonNode v, long dflt) {
        if (v == null || v.isNull() || v.isMissingNode() || v.asText().isBlank()) {
            return dflt;
        }
        try {
            return v.isNumber() ? v.asLong() : Long.parseLong(v.asText().trim());
        } catch (NumberFormatException e) {
            return dflt;
        }
    }
}
