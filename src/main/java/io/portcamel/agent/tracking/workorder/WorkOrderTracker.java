package io.portcamel.agent.tracking.workorder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TargetTracker;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows the work-order build-and-release pipeline of the Rancher-based PaaS (REFERENCE.md §7, §8) from the
 * mapping's {@code ?action=run} trigger to the end of the release, as a phase machine kept in the state JSON so any
 * replica can carry on after a restart:
 * <ol>
 *   <li>{@code BUILD}: poll the pipeline execution until {@code Built=True} (or {@code Success}); any condition
 *       {@code "False"} fails at once, even while {@code executionState} still says Waiting, because that is how the
 *       PaaS reports e.g. "no available executor".</li>
 *   <li>{@code RELEASE}: one {@code ?action=upgradeoutter} call with the build's {@code versionTag}: the PaaS only
 *       tells which image it built in the execution, so the release must carry that very tag.</li>
 *   <li>{@code ROLLOUT}: poll the app's {@code Installed}/{@code Deployed} conditions. Right after the upgrade call
 *       the app may still show the previous release's conditions (the controller updates them asynchronously), so
 *       a verdict is only taken once the conditions are fresh: an {@code Unknown} was seen, a condition timestamp is
 *       not older than the upgrade call, or a settle window has passed.</li>
 *   <li>{@code LOGS}: best effort, one look at the (unspecified) deploy-log endpoint: the release already succeeded,
 *       so missing logs never turn the run into a failure.</li>
 * </ol>
 * Without a {@code deployName} the run ends SUCCESS after the build.
 *
 * <p>{@code track.params}: {@code deployName} (app to release; absent/null/blank: no release), {@code releaseAction}
 * (default {@code upgradeoutter}), {@code skippedIsFailure} (default true), {@code fetchDeployLogs} (default true),
 * {@code rolloutSettleSeconds} (default 30).
 */
public final class WorkOrderTracker implements TargetTracker {

    public static final String TYPE = "workorder";
    public static final String DEFAULT_RELEASE_ACTION = "upgradeoutter";
    public static final Duration DEFAULT_ROLLOUT_SETTLE = Duration.ofSeconds(30);
    /** Deploy logs added to the Port log: at most this many (last) lines ... */
    public static final int MAX_LOG_LINES = 50;
    /** ... and at most this many characters. */
    public static final int MAX_LOG_CHARS = 16 * 1024;
    /** Transient errors of the deploy-log call tolerated before giving up on the logs (the run still succeeds). */
    static final int LOG_FETCH_ATTEMPTS = 3;
    /** Clock skew tolerated when comparing the PaaS's condition timestamps with the time of the upgrade call. */
    static final Duration CLOCK_SKEW = Duration.ofSeconds(60);

    static final String TOKEN_REJECTED = "the PaaS rejected the token";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern RUN_URL = Pattern.compile(
            "^(?<host>https?://.+?)/v3/project/(?<cp>[^/?#]+)/pipelines/(?<pl>[^/?#]+)/?(?:[?#].*)?$");

    private enum Phase { BUILD, RELEASE, ROLLOUT, LOGS }

    private final Clock clock;

    /** Uses the system clock (UTC). */
    public WorkOrderTracker() {
        this(Clock.systemUTC());
    }

    /** @param clock times the upgrade call and the rollout settle window (tests move it by hand) */
    public WorkOrderTracker(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String type() {
        return TYPE;
    }

    // ------------------------------------------------------------------------------------------------ start

    @Override
    public ObjectNode start(TrackStart trigger) throws TrackingException {
        String url = trigger.request() == null ? null : text(trigger.request(), "url");
        if (url == null) {
            throw new TrackingException("work-order: the trigger request has no url", false);
        }
        Matcher m = RUN_URL.matcher(url);
        if (!m.matches()) {
            throw new TrackingException("work-order: the trigger url is not {host}/v3/project/{clusterId}:{projectId}"
                    + "/pipelines/{projectId}:{pipelineId}?action=run: " + url, false);
        }
        String cp = decode(m.group("cp"));
        String pl = decode(m.group("pl"));
        int c = cp.indexOf(':');
        if (c <= 0 || c == cp.length() - 1) {
            throw new TrackingException("work-order: expected {clusterId}:{projectId} in the trigger url, got " + cp, false);
        }
        String clusterId = cp.substring(0, c);
        String projectId = cp.substring(c + 1);
        String pipelineId = pl.contains(":") ? pl.substring(pl.indexOf(':') + 1) : pl;
        JsonNode resp = trigger.response();
        if (trigger.statusCode() < 200 || trigger.statusCode() >= 300) {
            throw new TrackingException("work-order: the PaaS refused to run pipeline " + pl + " (HTTP "
                    + trigger.statusCode() + "): " + normanMessage(resp, null), false);
        }
        String executionId = resp == null ? null : text(resp, "id");
        if (executionId == null) {
            throw new TrackingException("work-order: the run response has no execution id", false);
        }

        ObjectNode params = trigger.params() == null ? JSON.createObjectNode() : trigger.params();
        ObjectNode s = JSON.createObjectNode();
        s.put("phase", Phase.BUILD.name());
        s.put("host", m.group("host"));
        s.put("clusterId", clusterId);
        s.put("projectId", projectId);
        s.put("pipelineId", pipelineId);
        s.put("executionId", executionId);
        s.put("run", resp.hasNonNull("run") ? resp.get("run").asText() : runFromId(executionId));
        JsonNode body = trigger.request().get("body");
        if (body != null && body.isTextual()) {
            try {
                body = JSON.readTree(body.asText());
            } catch (Exception e) {
                body = null;
            }
        }
        String branch = body == null ? null : text(body, "branch");
        if (branch != null) {
            s.put("branch", branch);
        }
        String deployName = text(params, "deployName");
        if (deployName != null) {
            s.put("deployName", deployName);
        }
        String action = text(params, "releaseAction");
        s.put("releaseAction", action == null ? DEFAULT_RELEASE_ACTION : action);
        s.put("skippedIsFailure", bool(params, "skippedIsFailure", true));
        s.put("fetchDeployLogs", bool(params, "fetchDeployLogs", true));
        long settle = DEFAULT_ROLLOUT_SETTLE.toSeconds();
        String settleText = text(params, "rolloutSettleSeconds");
        if (settleText != null) {
            try {
                settle = Long.parseLong(settleText);
            } catch (NumberFormatException e) {
                throw new TrackingException("work-order: rolloutSettleSeconds is not a number: " + settleText, false);
            }
        }
        s.put("rolloutSettleSeconds", settle);
        s.put("link", executionUrl(s));
        s.putObject("stagesLogged");
        s.putObject("appLogged");
        s.putObject("facts").put("executionId", executionId);
        return s;
    }

    @Override
    public String startMessage(ObjectNode state) {
        String deploy = text(state, "deployName");
        return "Following work-order build " + text(state, "executionId") + " (run " + text(state, "run")
                + ") of pipeline " + text(state, "pipelineId")
                + (text(state, "branch") == null ? "" : " on branch " + text(state, "branch"))
                + (deploy == null ? "" : ", then releasing " + deploy);
    }

    // ------------------------------------------------------------------------------------------------ poll

    @Override
    public PollResult poll(ObjectNode state, Map<String, String> authHeaders, TargetHttp http) throws TrackingException {
        Poll p = new Poll(state.deepCopy(), authHeaders == null ? Map.of() : authHeaders, http);
        Phase phase = Phase.valueOf(state.path("phase").asText(Phase.BUILD.name()));
        switch (phase) {
            case BUILD -> p.build();
            case RELEASE -> p.release();
            case ROLLOUT -> p.rollout();
            case LOGS -> p.logs();
        }
        return p.result();
    }

    /** One poll: the state being updated and what it found. */
    private final class Poll {
        final ObjectNode s;
        final Map<String, String> auth;
        final TargetHttp http;
        final List<String> lines = new ArrayList<>();
        String label;
        PollResult.Terminal terminal;
        boolean pollSoon;

        Poll(ObjectNode s, Map<String, String> auth, TargetHttp http) {
            this.s = s;
            this.auth = auth;
            this.http = http;
        }

        PollResult result() {
            return new PollResult(s, List.copyOf(lines), label, text(s, "link"), text(s, "executionId"), terminal,
                    ((ObjectNode) s.get("facts")).deepCopy(), pollSoon);
        }

        void fail(String summary, String label) {
            this.terminal = new PollResult.Terminal(false, summary);
            this.label = label;
        }

        void succeed(String summary) {
            this.terminal = new PollResult.Terminal(true, summary);
            this.label = summary;
        }

        String buildName() {
            return "build #" + text(s, "run");
        }

        String deployName() {
            return text(s, "deployName");
        }

        // ------------------------------------------------------------------------------------- BUILD

        void build() throws TrackingException {
            String url = executionUrl(s);
            TargetHttp.Response r = send("reading " + buildName(), () -> http.get(url, headers()), false);
            if (r == null) {
                return; // terminal already set
            }
            if (!r.ok()) {
                if (r.status() == 404) {
                    fail("work-order build " + text(s, "executionId") + " not found (HTTP 404)", buildName() + ": not found");
                } else {
                    fail("reading " + buildName() + " failed (HTTP " + r.status() + "): " + normanMessage(r.json(), r.body()),
                            buildName() + ": HTTP " + r.status());
                }
                return;
            }
            JsonNode ex = r.json();
            if (ex == null || !ex.isObject()) {
                throw new TrackingException("work-order: " + buildName() + " answered 200 without a JSON execution", true);
            }
            String self = ex.path("links").path("self").asText("");
            if (!self.isBlank()) {
                s.put("link", self);
            }
            if (ex.hasNonNull("run")) {
                s.put("run", ex.get("run").asText());
            }
            String execState = ex.path("executionState").asText("");
            JsonNode falseCond = firstCondition(ex.path("conditions"), "False");
            boolean built = isTrue(condition(ex.path("conditions"), "Built")) || execState.equals("Success");
            boolean running = execState.isEmpty() || execState.equals("Waiting") || execState.equals("Building")
                    || execState.equals("Queueing") || execState.equals("Pending");
            boolean ending = falseCond != null || !running || built;

            if (!ending) {
                logExecState(execState);
                logStages(ex);
                label = runningLabel(ex, execState);
                return;
            }
            logStages(ex);
            logExecState(execState);
            if (falseCond != null) {
                String type = falseCond.path("type").asText("condition");
                String msg = conditionText(falseCond, type + " is False");
                lines.add(buildName() + ": " + type + "=False: " + msg);
                fail(buildName() + " failed: " + msg, msg);
                return;
            }
            switch (execState) {
                case "Failed", "Aborted", "Denied" -> {
                    fail(buildName() + " ended " + execState, buildName() + ": " + execState);
                    return;
                }
                case "Skipped" -> {
                    if (s.path("skippedIsFailure").asBoolean(true)) {
                        fail(buildName() + " was skipped", buildName() + ": Skipped");
                    } else {
                        succeed(buildName() + " was skipped" + (deployName() == null ? "" : "; nothing released"));
                    }
                    return;
                }
                default -> {
                }
            }
            if (!built) {
                fail(buildName() + " ended in an unexpected state: " + execState, buildName() + ": " + execState);
                return;
            }
            builtDone(ex);
        }

        void builtDone(JsonNode ex) {
            String dockerImage = text(ex, "dockerImage");
            String versionTag = text(ex, "versionTag");
            lines.add("Built dockerImage " + (dockerImage == null ? "(none)" : dockerImage)
                    + " versionTag " + (versionTag == null ? "(none)" : versionTag));
            ObjectNode facts = (ObjectNode) s.get("facts");
            putIf(facts, "imageTag", versionTag);
            putIf(facts, "dockerImage", dockerImage);
            putIf(facts, "versionTag", versionTag);
            facts.put("executionId", text(s, "executionId"));
            putIf(facts, "commitSha", text(ex, "commit"));
            String branch = text(ex, "branch");
            putIf(facts, "branch", branch == null ? text(s, "branch") : branch);
            putIf(s, "dockerImage", dockerImage);
            putIf(s, "versionTag", versionTag);
            if (deployName() == null) {
                succeed("Built " + artifact());
                return;
            }
            if (versionTag == null) {
                fail(buildName() + " succeeded but the PaaS returned no versionTag to release " + deployName() + " with",
                        buildName() + ": no versionTag");
                return;
            }
            s.put("phase", Phase.RELEASE.name());
            label = buildName() + ": Success; releasing " + deployName();
            pollSoon = true;
        }

        void logExecState(String execState) {
            if (!execState.isEmpty() && !execState.equals(text(s, "execStateLogged"))) {
                lines.add(buildName() + ": " + execState);
                s.put("execStateLogged", execState);
            }
        }

        void logStages(JsonNode ex) {
            ObjectNode logged = (ObjectNode) s.get("stagesLogged");
            JsonNode stages = ex.path("stages");
            for (int i = 0; i < stages.size(); i++) {
                String st = stages.get(i).path("state").asText("");
                if (st.isEmpty() || st.equals("Waiting") || st.equals(logged.path(String.valueOf(i)).asText(null))) {
                    continue;
                }
                lines.add("Stage \"" + stageName(ex, i) + "\": " + st);
                logged.put(String.valueOf(i), st);
            }
        }

        String runningLabel(JsonNode ex, String execState) {
            String base = buildName() + ": " + (execState.isEmpty() ? "Pending" : execState);
            JsonNode stages = ex.path("stages");
            for (int i = 0; i < stages.size(); i++) {
                if ("Building".equals(stages.get(i).path("state").asText())) {
                    return base + " (stage " + (i + 1) + "/" + stages.size() + ": " + stageName(ex, i) + ")";
                }
            }
            JsonNode unknown = firstCondition(ex.path("conditions"), "Unknown");
            String msg = unknown == null ? null : conditionText(unknown, null);
            return msg == null ? base : base + " (" + msg + ")";
        }

        // ------------------------------------------------------------------------------------- RELEASE

        void release() throws TrackingException {
            String url = appUrl(s, "apps") + "?action=" + encode(text(s, "releaseAction"));
            ObjectNode body = JSON.createObjectNode().put("versionTag", text(s, "versionTag"));
            TargetHttp.Response r = send("releasing " + deployName(), () -> http.post(url, headers(), body), true);
            if (r == null) {
                return;
            }
            if (!r.ok()) {
                JsonNode err = r.json();
                String code = err == null ? null : text(err, "code");
                String msg = normanMessage(err, r.body());
                fail("release of " + deployName() + " rejected (HTTP " + r.status() + (code == null ? "" : " " + code)
                        + "): " + msg, msg);
                return;
            }
            lines.add("Release " + deployName() + ": " + text(s, "releaseAction") + " to versionTag "
                    + text(s, "versionTag") + " requested");
            s.put("phase", Phase.ROLLOUT.name());
            s.put("releasedAt", clock.instant().toString());
            label = "release " + deployName() + ": upgrade requested";
        }

        // ------------------------------------------------------------------------------------- ROLLOUT

        void rollout() throws TrackingException {
            String url = appUrl(s, "apps");
            TargetHttp.Response r = send("reading app " + deployName(), () -> http.get(url, headers()), false);
            if (r == null) {
                return;
            }
            if (!r.ok()) {
                fail(r.status() == 404 ? "app " + deployName() + " not found (HTTP 404)"
                                : "reading app " + deployName() + " failed (HTTP " + r.status() + "): "
                                + normanMessage(r.json(), r.body()),
                        "release " + deployName() + ": HTTP " + r.status());
                return;
            }
            JsonNode app = r.json();
            if (app == null || !app.isObject()) {
                throw new TrackingException("work-order: app " + deployName() + " answered 200 without JSON", true);
            }
            JsonNode conds = app.path("conditions");
            if (!conds.isArray()) {
                conds = app.path("status").path("conditions");
            }
            JsonNode installed = condition(conds, "Installed");
            JsonNode deployed = condition(conds, "Deployed");
            String inst = installed == null ? "" : installed.path("status").asText("");
            String dep = deployed == null ? "" : deployed.path("status").asText("");
            boolean updating = inst.equals("Unknown") || dep.equals("Unknown");
            if (updating) {
                s.put("sawUpdating", true);
            }
            if (!fresh(installed, deployed)) {
                label = "release " + deployName() + ": waiting for the upgrade to start";
                return;
            }
            logAppCondition(installed, "Installed");
            logAppCondition(deployed, "Deployed");
            JsonNode failed = inst.equals("False") ? installed : dep.equals("False") ? deployed : null;
            if (failed != null) {
                String msg = conditionText(failed, failed.path("type").asText() + " is False");
                fail("release of " + deployName() + " failed: " + msg, msg);
                return;
            }
            if (updating) {
                JsonNode u = dep.equals("Unknown") ? deployed : installed;
                String msg = conditionText(u, "upgrading");
                label = "release " + deployName() + ": " + msg;
                return;
            }
            if (!inst.equals("True") || !dep.equals("True")) {
                label = "release " + deployName() + ": waiting for the app's conditions";
                return;
            }
            if (s.path("fetchDeployLogs").asBoolean(true)) {
                s.put("phase", Phase.LOGS.name());
                label = "release " + deployName() + ": deployed; fetching deploy logs";
                pollSoon = true;
            } else {
                succeed(successSummary());
            }
        }

        /** Whether the conditions belong to our upgrade rather than to the release before it. */
        boolean fresh(JsonNode installed, JsonNode deployed) {
            if (s.path("sawUpdating").asBoolean(false)) {
                return true;
            }
            Instant releasedAt = Instant.parse(text(s, "releasedAt"));
            Instant now = clock.instant();
            if (!now.isBefore(releasedAt.plusSeconds(s.path("rolloutSettleSeconds").asLong(30)))) {
                return true;
            }
            Instant notBefore = releasedAt.minus(CLOCK_SKEW);
            for (JsonNode c : new JsonNode[]{installed, deployed}) {
                if (c == null) {
                    continue;
                }
                for (String f : new String[]{"lastUpdateTime", "lastTransitionTime"}) {
                    Instant t = parseTime(text(c, f));
                    if (t != null && !t.isBefore(notBefore)) {
                        return true;
                    }
                }
            }
            return false;
        }

        void logAppCondition(JsonNode c, String type) {
            if (c == null) {
                return;
            }
            ObjectNode logged = (ObjectNode) s.get("appLogged");
            String st = c.path("status").asText("");
            if (st.isEmpty() || st.equals(logged.path(type).asText(null))) {
                return;
            }
            logged.put(type, st);
            String msg = st.equals("True") ? null : conditionText(c, null);
            lines.add("App \"" + deployName() + "\" " + type + ": " + st + (msg == null ? "" : " (" + msg + ")"));
        }

        // ------------------------------------------------------------------------------------- LOGS

        void logs() {
            String url = appUrl(s, "deployLogs");
            TargetHttp.Response r;
            String problem;
            try {
                r = http.get(url, headers());
                problem = r.status() == 429 || r.status() >= 500 && r.status() != 501 ? "HTTP " + r.status() : null;
            } catch (Exception e) {
                r = null;
                problem = e.toString();
            }
            if (problem != null) {
                int attempts = s.path("logAttempts").asInt(0) + 1;
                s.put("logAttempts", attempts);
                if (attempts < LOG_FETCH_ATTEMPTS) {
                    label = "release " + deployName() + ": deployed; deploy logs not ready (" + problem + ")";
                    return;
                }
                lines.add("deploy logs not available (" + problem + ")");
            } else if (r.status() == 404 || r.status() == 501) {
                lines.add("deploy logs not available");
            } else if (!r.ok()) {
                lines.add("deploy logs not available (HTTP " + r.status() + ": " + normanMessage(r.json(), r.body()) + ")");
            } else {
                lines.add(deployLogBlock(r.body()));
            }
            succeed(successSummary());
        }

        String successSummary() {
            return "Built " + artifact() + " and released " + deployName();
        }

        String artifact() {
            String image = text(s, "dockerImage");
            String tag = text(s, "versionTag");
            if (image != null && tag != null) {
                return image + ":" + tag;
            }
            if (image != null) {
                return image;
            }
            return tag != null ? "versionTag " + tag : buildName();
        }

        // ------------------------------------------------------------------------------------- HTTP

        Map<String, String> headers() {
            Map<String, String> h = new LinkedHashMap<>(auth);
            h.putIfAbsent("Accept", "application/json");
            return h;
        }

        /**
         * Sends a call; I/O, 429 and 5xx become a retryable exception, 401/403 a terminal FAILURE (returns null).
         * For the upgrade POST a 500 carrying a Norman error body is the PaaS's final answer (Rancher's action
         * handlers report permanent errors as 500 ServerError), so it is returned to the caller rather than retried.
         */
        TargetHttp.Response send(String what, HttpCall call, boolean normanServerErrorIsFinal) throws TrackingException {
            TargetHttp.Response r;
            try {
                r = call.send();
            } catch (Exception e) {
                throw new TrackingException("work-order: " + what + ": " + e, true, e);
            }
            if (r.status() == 401 || r.status() == 403) {
                fail(TOKEN_REJECTED + " (HTTP " + r.status() + " " + what + "): " + normanMessage(r.json(), r.body()),
                        TOKEN_REJECTED);
                return null;
            }
            boolean norman = r.json() != null && "error".equals(r.json().path("type").asText());
            if (r.status() == 429 || r.status() >= 500 && !(normanServerErrorIsFinal && r.status() == 500 && norman)) {
                throw new TrackingException("work-order: " + what + ": HTTP " + r.status() + ": "
                        + normanMessage(r.json(), r.body()), true);
            }
            return r;
        }
    }

    @FunctionalInterface
    private interface HttpCall {
        TargetHttp.Response send() throws Exception;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * The deploy logs as one Port log entry: the endpoint's format is unspecified, so accept {@code {data:[{message|log}]}},
     * a JSON array of strings or objects, a JSON string, or plain text; keep the last {@link #MAX_LOG_LINES} lines
     * within {@link #MAX_LOG_CHARS} characters (the tail is where a crashing pod says why).
     */
    static String deployLogBlock(String body) {
        List<String> all = deployLogLines(body);
        int from = Math.max(0, all.size() - MAX_LOG_LINES);
        List<String> kept = new ArrayList<>(all.subList(from, all.size()));
        int chars = 0;
        int keepFrom = kept.size();
        for (int i = kept.size() - 1; i >= 0; i--) {
            int len = kept.get(i).length() + 1;
            if (chars + len > MAX_LOG_CHARS) {
                if (i == kept.size() - 1) { // a single huge last line: keep its tail
                    String l = kept.get(i);
                    kept.set(i, "…" + l.substring(l.length() - (MAX_LOG_CHARS - 2)));
                    keepFrom = i;
                }
                break;
            }
            chars += len;
            keepFrom = i;
        }
        kept = kept.subList(keepFrom, kept.size());
        int omitted = all.size() - kept.size();
        StringBuilder sb = new StringBuilder("Deploy logs:");
        if (all.isEmpty()) {
            return sb.append(" (empty)").toString();
        }
        if (omitted > 0) {
            sb.append(" (last ").append(kept.size()).append(" of ").append(all.size()).append(" lines)");
        }
        for (String l : kept) {
            sb.append('\n').append(l);
        }
        return sb.toString();
    }

    static List<String> deployLogLines(String body) {
        List<String> out = new ArrayList<>();
        if (body == null || body.isBlank()) {
            return out;
        }
        JsonNode json = null;
        String t = body.strip();
        if (t.startsWith("{") || t.startsWith("[") || t.startsWith("\"")) {
            try {
                json = JSON.readTree(t);
            } catch (Exception e) {
                json = null; // plain text that happens to start with a bracket
            }
        }
        if (json == null) {
            addText(out, body);
        } else if (json.isObject()) {
            JsonNode data = json.has("data") ? json.get("data") : json.has("logs") ? json.get("logs")
                    : json.has("log") ? json.get("log") : json.get("message");
            addJson(out, data == null ? json : data);
        } else {
            addJson(out, json);
        }
        return out;
    }

    private static void addJson(List<String> out, JsonNode n) {
        if (n == null || n.isNull()) {
            return;
        }
        if (n.isArray()) {
            for (JsonNode e : (ArrayNode) n) {
                addJson(out, e);
            }
        } else if (n.isObject()) {
            for (String f : new String[]{"message", "log", "msg", "line", "text"}) {
                if (n.hasNonNull(f)) {
                    addText(out, n.get(f).asText());
                    return;
                }
            }
            out.add(n.toString());
        } else {
            addText(out, n.asText());
        }
    }

    private static void addText(List<String> out, String text) {
        String t = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        for (String l : t.split("\r?\n", -1)) {
            out.add(l);
        }
    }

    static String executionUrl(ObjectNode s) {
        return projectUrl(s) + "/pipelineExecutions/" + encode(text(s, "executionId"));
    }

    static String appUrl(ObjectNode s, String collection) {
        return projectUrl(s) + "/" + collection + "/" + encode(text(s, "projectId") + ":" + text(s, "deployName"));
    }

    private static String projectUrl(ObjectNode s) {
        return text(s, "host") + "/v3/project/" + encode(text(s, "clusterId") + ":" + text(s, "projectId"));
    }

    private static JsonNode condition(JsonNode conds, String type) {
        for (JsonNode c : conds) {
            if (type.equals(c.path("type").asText())) {
                return c;
            }
        }
        return null;
    }

    private static JsonNode firstCondition(JsonNode conds, String status) {
        for (JsonNode c : conds) {
            if (status.equals(c.path("status").asText())) {
                return c;
            }
        }
        return null;
    }

    private static boolean isTrue(JsonNode c) {
        return c != null && "True".equals(c.path("status").asText());
    }

    /** A condition's message, else its reason, else {@code fallback}. */
    private static String conditionText(JsonNode c, String fallback) {
        String m = text(c, "message");
        if (m == null) {
            m = text(c, "reason");
        }
        return m == null ? fallback : m.strip();
    }

    private static String stageName(JsonNode ex, int i) {
        String n = text(ex.path("pipelineConfig").path("stages").path(i), "name");
        return n == null ? (i == 0 ? "Clone" : "stage " + (i + 1)) : n;
    }

    /** The Norman error's message ({@code {type:error,status,code,message}}), else the body's start, else "no details". */
    static String normanMessage(JsonNode json, String body) {
        if (json != null && json.isObject()) {
            String m = text(json, "message");
            if (m == null) {
                m = text(json, "code");
            }
            if (m != null) {
                return m;
            }
        }
        if (body != null && !body.isBlank()) {
            String b = body.strip();
            return b.length() > 200 ? b.substring(0, 200) + "…" : b;
        }
        return json == null ? "no details" : json.toString();
    }

    private static String runFromId(String executionId) {
        int dash = executionId.lastIndexOf('-');
        return dash >= 0 ? executionId.substring(dash + 1) : executionId;
    }

    private static Instant parseTime(String t) {
        if (t == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (Exception e) {
            return null;
        }
    }

    /** Text of a field, or null when missing, null or blank. */
    static String text(JsonNode n, String field) {
        if (n == null) {
            return null;
        }
        JsonNode v = n.get(field);
        if (v == null || v.isNull() || v.isContainerNode()) {
            return null;
        }
        String t = v.asText();
        return t.isBlank() ? null : t;
    }

    private static boolean bool(JsonNode n, String field, boolean dflt) {
        String t = text(n, field);
        return t == null ? dflt : !t.equalsIgnoreCase("false");
    }

    private static void putIf(ObjectNode n, String field, String value) {
        if (value != null) {
            n.put(field, value);
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** Percent-encodes a path segment, keeping the unreserved characters and {@code :} of Rancher ids. */
    static String encode(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c < 0x80 && (Character.isLetterOrDigit(c) || "-._~:".indexOf(c) >= 0)) {
                sb.append(c);
            } else {
                sb.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return sb.toString();
    }
}
