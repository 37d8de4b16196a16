package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
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
 * CircleCI API v2 as a stateful fake (REFERENCE.md §5): triggers (classic {@code POST /project/{slug}/pipeline} and
 * {@code POST /project/{provider}/{org}/{project}/pipeline/run}) and the calls that follow a pipeline
 * ({@code GET /pipeline/{id}}, {@code GET /pipeline/{id}/workflow}, {@code GET /workflow/{id}},
 * {@code GET /workflow/{id}/job}), all in the spec's shapes and with {@code next_page_token} paging.
 *
 * <p>What a pipeline does is scripted, because a tracker test needs a progression, not one answer: {@link #script}
 * gives a pipeline (or the next one triggered) a list of {@link Snapshot}s. The first {@code GET /pipeline/{id}}
 * shows the first snapshot and every further one advances by one (the last stays), so one tracker poll (pipeline,
 * then workflows, then jobs) sees one consistent snapshot. Workflow and job ids, {@code created_at} and job numbers
 * are kept per name across snapshots, as on the real service. Unscripted pipelines stay {@code created} with no
 * workflow.
 *
 * <p>Served under {@code /api/v2} like the real host, so the spec's server path is the base path and
 * {@link #baseUrl()} is what the agent should use in place of {@code https://circleci.com/api/v2}.
 * The slug's {@code /} may be sent as {@code %2F} or raw; the recorded raw URL shows which.
 * Auth: header {@code Circle-Token}, or HTTP basic with the token as user name (the spec's schemes; the deprecated
 * {@code ?circle-token=} is not accepted here).
 */
public class FakeCircleCi extends FakeHttpServer {

    public static final String SPEC = "specs/circleci/openapi.subset.pipelines-workflows.json";
    public static final String BASE_PATH = "/api/v2";
    /** Key for {@link #script(String, List)}: the script is used by the next pipeline triggered. */
    public static final String NEXT = "next";

    /** One accepted trigger: the raw URL as sent, the decoded slug, headers, body and what was created. */
    public record Trigger(String rawUrl, String projectSlug, Map<String, List<String>> headers, JsonNode body,
                          String pipelineId, long number) {
        /** First value of a header, case-insensitive, or null. */
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    /** A job of a workflow; {@code type} is build or approval. */
    public record Job(String name, String status, String type) {
    }

    /** A workflow with its jobs, in the order the API lists them. */
    public record Workflow(String name, String status, List<Job> jobs) {
    }

    /** What the pipeline looks like at one poll: its setup state, errors (type, message) and workflows. */
    public record Snapshot(String pipelineState, List<String[]> errors, List<Workflow> workflows) {
    }

    // ---------------------------------------------------------------- script builders

    public static Job job(String name, String status) {
        return new Job(name, status, "build");
    }

    public static Job approval(String name, String status) {
        return new Job(name, status, "approval");
    }

    public static Workflow workflow(String name, String status, Job... jobs) {
        return new Workflow(name, status, List.of(jobs));
    }

    /** A snapshot of a pipeline that was set up ({@code created}) and runs these workflows. */
    public static Snapshot workflows(Workflow... workflows) {
        return new Snapshot("created", List.of(), List.of(workflows));
    }

    /** A pipeline still in setup ({@code setup-pending}, {@code created}…) with no workflow (yet). */
    public static Snapshot noWorkflows(String pipelineState) {
        return new Snapshot(pipelineState, List.of(), List.of());
    }

    /** A pipeline that errored in setup, e.g. {@code errored("config", "Config does not conform to schema")}. */
    public static Snapshot errored(String type, String message) {
        return new Snapshot("errored", List.<String[]>of(new String[]{type, message}), List.of());
    }

    // ---------------------------------------------------------------- state

    private static final class PipelineRun {
        final ObjectNode pipeline;
        List<Snapshot> script = List.of(noWorkflows("created"));
        int cursor = -1;
        final Map<String, ObjectNode> workflowsByName = new LinkedHashMap<>();

        PipelineRun(ObjectNode pipeline) {
            this.pipeline = pipeline;
        }

        Snapshot current() {
            return script.get(Math.max(cursor, 0));
        }
    }

    private final String token;
    private final List<Trigger> triggers = new ArrayList<>();
    private final Map<String, ObjectNode> pipelines = new LinkedHashMap<>();
    private final Map<String, PipelineRun> runs = new HashMap<>();
    /** workflow id → [pipeline id, workflow name]. */
    private final Map<String, String[]> workflowIndex = new HashMap<>();
    /** workflow id + job name → job id / job number. */
    private final Map<String, String> jobIds = new HashMap<>();
    private final Map<String, Long> jobNumbers = new HashMap<>();
    private final Map<String, Long> lastNumberBySlug = new LinkedHashMap<>();
    private final Map<String, Long> lastJobNumberBySlug = new HashMap<>();
    private final Deque<List<Snapshot>> nextScripts = new ArrayDeque<>();
    private final Map<String, List<Snapshot>> projectScripts = new java.util.HashMap<>();
    private int pageSize = 20;
    private long clockTick;

    /** Starts CircleCI on a free port of 127.0.0.1 accepting only this personal token. */
    public FakeCircleCi(String token) {
        super(ContractValidator.fromClasspath(SPEC));
        this.token = Objects.requireNonNull(token);
        route("POST", BASE_PATH + "/project/(?<provider>[^/]+)/(?<org>[^/]+)/(?<project>[^/]+)/pipeline/run", this::runPipeline);
        route("POST", BASE_PATH + "/project/(?<slug>.+)/pipeline", this::triggerPipeline);
        route("GET", BASE_PATH + "/pipeline/(?<id>[^/]+)", this::getPipeline);
        route("GET", BASE_PATH + "/pipeline/(?<id>[^/]+)/workflow", this::listWorkflows);
        route("GET", BASE_PATH + "/workflow/(?<id>[^/]+)", this::getWorkflow);
        route("GET", BASE_PATH + "/workflow/(?<id>[^/]+)/job", this::listJobs);
    }

    /** {@code http://127.0.0.1:<port>/api/v2}, the counterpart of {@code https://circleci.com/api/v2}. */
    public String baseUrl() {
        return rootUrl() + BASE_PATH;
    }

    /** Pipelines triggered so far, oldest first. */
    public List<Trigger> triggers() {
        return locked(() -> List.copyOf(triggers));
    }

    /** A created pipeline's state ({@code id,number,state,created_at,project_slug,...}) or null. */
    public ObjectNode pipeline(String pipelineId) {
        return locked(() -> pipelines.containsKey(pipelineId) ? pipelines.get(pipelineId).deepCopy() : null);
    }

    /**
     * Scripts a pipeline: {@code pipelineId} of one already triggered, or {@link #NEXT} for the next one triggered
     * (several NEXT scripts are used in order). The first GET of the pipeline shows {@code snapshots[0]}, each further
     * GET the next one; the last one stays.
     */
    public void script(String pipelineIdOrNext, List<Snapshot> snapshots) {
        if (snapshots.isEmpty()) {
            throw new IllegalArgumentException("a script needs at least one snapshot");
        }
        locked(() -> {
            if (NEXT.equals(pipelineIdOrNext)) {
                nextScripts.addLast(List.copyOf(snapshots));
            } else {
                PipelineRun run = runs.get(pipelineIdOrNext);
                if (run == null) {
                    throw new IllegalArgumentException("no pipeline " + pipelineIdOrNext);
                }
                run.script = List.copyOf(snapshots);
                run.cursor = -1;
            }
            return null;
        });
    }

    public void script(String pipelineIdOrNext, Snapshot... snapshots) {
        script(pipelineIdOrNext, Arrays.asList(snapshots));
    }

    /**
     * Scripts the next pipeline triggered for a project (before any {@link #NEXT} script): the agent handles runs
     * concurrently, so the order in which two projects' pipelines are triggered is not the order their runs were sent.
     */
    public void scriptProject(String projectSlug, Snapshot... snapshots) {
        locked(() -> projectScripts.put(projectSlug, List.of(snapshots)));
    }

    /**
     * Items per page of workflow lists (default 20); 1 makes every list paged. Job lists are never paged: the spec has
     * no {@code page-token} on {@code /workflow/{id}/job}, so a client sending one would be a contract violation.
     */
    public void pageSize(int size) {
        locked(() -> pageSize = Math.max(1, size));
    }

    @Override
    protected ObjectNode errorBody(int status, String error, String message) {
        return object().put("message", message); // CircleCI errors are always {"message"}
    }

    @Override
    protected ResponseDefinition beforeRoute(Call call) {
        String basic = "Basic " + Base64.getEncoder().encodeToString((token + ":").getBytes(StandardCharsets.UTF_8));
        if (!token.equals(call.header("Circle-Token")) && !basic.equals(call.header("Authorization"))) {
            return error(401, "unauthorized", "Invalid token provided.");
        }
        return null;
    }

    // ---------------------------------------------------------------- triggers

    private ResponseDefinition triggerPipeline(Call c) {
        ObjectNode body = c.request().getBodyAsString().isBlank() ? object() : c.jsonObject(400);
        if (body.has("branch") && body.has("tag")) {
            return error(400, "bad_request", "Only one of branch or tag may be specified.");
        }
        return create(c, c.param("slug"), c.param("slug"), body, body.path("branch").asText(null), body.path("tag").asText(null));
    }

    private ResponseDefinition runPipeline(Call c) {
        ObjectNode body = c.request().getBodyAsString().isBlank() ? object() : c.jsonObject(400);
        String provider = c.param("provider");
        String shortProvider = switch (provider) {
            case "github" -> "gh";
            case "bitbucket" -> "bb";
            default -> provider;
        };
        String slug = shortProvider + "/" + c.param("org") + "/" + c.param("project");
        JsonNode checkout = body.path("checkout").isObject() ? body.path("checkout") : body.path("config");
        return create(c, provider + "/" + c.param("org") + "/" + c.param("project"), slug, body,
                checkout.path("branch").asText(null), checkout.path("tag").asText(null));
    }

    private ResponseDefinition create(Call c, String triggerSlug, String projectSlug, ObjectNode body, String branch, String tag) {
        long number = lastNumberBySlug.merge(projectSlug, 1L, Long::sum);
        String id = UUID.randomUUID().toString();
        String createdAt = now();
        ObjectNode created = object().put("id", id).put("state", "created").put("number", number)
                .put("created_at", createdAt);
        ObjectNode pipeline = created.deepCopy().put("project_slug", projectSlug);
        ObjectNode vcs = pipeline.putObject("vcs").put("provider_name", "GitHub")
                .put("origin_repository_url", "https://github.com/" + projectSlug.substring(projectSlug.indexOf('/') + 1))
                .put("target_repository_url", "https://github.com/" + projectSlug.substring(projectSlug.indexOf('/') + 1))
                .put("revision", sha(id));
        if (tag != null) {
            vcs.put("tag", tag);
        } else {
            vcs.put("branch", branch == null ? "main" : branch);
        }
        pipelines.put(id, pipeline);
        PipelineRun run = new PipelineRun(pipeline);
        List<Snapshot> forProject = projectScripts.remove(projectSlug);
        if (forProject != null) {
            run.script = forProject;
        } else if (!nextScripts.isEmpty()) {
            run.script = nextScripts.removeFirst();
        }
        runs.put(id, run);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (HttpHeader h : c.request().getHeaders().all()) {
            headers.put(h.key(), List.copyOf(h.values()));
        }
        triggers.add(new Trigger(c.request().getUrl(), triggerSlug, headers, body.deepCopy(), id, number));
        return json(201, created);
    }

    // ---------------------------------------------------------------- following a pipeline

    private ResponseDefinition getPipeline(Call c) {
        PipelineRun run = runs.get(c.param("id"));
        if (run == null) {
            return error(404, "not_found", "Pipeline not found");
        }
        run.cursor = Math.min(run.cursor + 1, run.script.size() - 1);
        Snapshot s = run.current();
        ObjectNode p = run.pipeline.deepCopy();
        p.put("state", s.pipelineState());
        p.put("updated_at", now());
        ArrayNode errors = p.putArray("errors");
        for (String[] e : s.errors()) {
            errors.addObject().put("type", e[0]).put("message", e[1]);
        }
        p.putObject("trigger").put("type", "api").put("received_at", run.pipeline.path("created_at").asText())
                .putObject("actor").put("login", "port-agent").putNull("avatar_url");
        p.putObject("trigger_parameters");
        return json(200, p);
    }

    private ResponseDefinition listWorkflows(Call c) {
        PipelineRun run = runs.get(c.param("id"));
        if (run == null) {
            return error(404, "not_found", "Pipeline not found");
        }
        List<JsonNode> items = new ArrayList<>();
        for (Workflow w : run.current().workflows()) {
            items.add(workflowJson(run, w));
        }
        return page(c, items);
    }

    private ResponseDefinition getWorkflow(Call c) {
        Found f = findWorkflow(c.param("id"));
        return f == null ? error(404, "not_found", "Workflow not found") : json(200, workflowJson(f.run, f.workflow));
    }

    private ResponseDefinition listJobs(Call c) {
        String wid = c.param("id");
        Found f = findWorkflow(wid);
        if (f == null) {
            return error(404, "not_found", "Workflow not found");
        }
        String slug = f.run.pipeline.path("project_slug").asText();
        List<JsonNode> items = new ArrayList<>();
        List<String> previous = new ArrayList<>();
        for (Job j : f.workflow.jobs()) {
            String key = wid + "/" + j.name();
            ObjectNode o = object().put("id", jobIds.computeIfAbsent(key, k -> UUID.randomUUID().toString()))
                    .put("name", j.name()).put("type", j.type()).put("status", j.status()).put("project_slug", slug);
            boolean started = !List.of("blocked", "queued", "not_running", "on_hold", "not_run", "unauthorized").contains(j.status());
            if ("build".equals(j.type()) && (started || jobNumbers.containsKey(key))) {
                o.put("job_number", jobNumbers.computeIfAbsent(key, k -> lastJobNumberBySlug.merge(slug, 1L, Long::sum)));
            }
            if ("approval".equals(j.type())) {
                o.put("approval_request_id", o.get("id").asText());
            }
            ArrayNode deps = o.putArray("dependencies");
            previous.forEach(deps::add); // a simple chain: each job requires the ones listed before it
            if (started) {
                o.put("started_at", now());
            } else {
                o.putNull("started_at");
            }
            if (List.of("success", "failed", "canceled", "infrastructure_fail", "timedout").contains(j.status())) {
                o.put("stopped_at", now());
            } else {
                o.putNull("stopped_at");
            }
            previous = List.of(o.get("id").asText());
            items.add(o);
        }
        // never paged: the spec declares no page-token on this endpoint (its next_page_token stays null)
        ObjectNode body = object();
        items.forEach(body.putArray("items")::add);
        body.putNull("next_page_token");
        return json(200, body);
    }

    private record Found(PipelineRun run, Workflow workflow) {
    }

    private Found findWorkflow(String wid) {
        String[] where = workflowIndex.get(wid);
        if (where == null) {
            return null;
        }
        PipelineRun run = runs.get(where[0]);
        return run.current().workflows().stream().filter(w -> w.name().equals(where[1])).findFirst()
                .map(w -> new Found(run, w)).orElse(null);
    }

    private ObjectNode workflowJson(PipelineRun run, Workflow w) {
        ObjectNode known = run.workflowsByName.computeIfAbsent(w.name(), n -> {
            String wid = UUID.randomUUID().toString();
            workflowIndex.put(wid, new String[]{run.pipeline.path("id").asText(), n});
            // strictly increasing, so "oldest first" is well defined even within one millisecond
            String createdAt = Instant.parse(run.pipeline.path("created_at").asText()).plusMillis(++clockTick).toString();
            return object().put("id", wid).put("created_at", createdAt);
        });
        ObjectNode o = object().put("pipeline_id", run.pipeline.path("id").asText()).put("id", known.get("id").asText())
                .put("name", w.name()).put("project_slug", run.pipeline.path("project_slug").asText())
                .put("status", w.status()).put("started_by", "7c1d2a5b-0b0e-4b5c-9a4f-2f4a0f6f9a11")
                .put("pipeline_number", run.pipeline.path("number").asLong())
                .put("created_at", known.get("created_at").asText());
        if (List.of("running", "failing", "on_hold").contains(w.status())) {
            o.putNull("stopped_at");
        } else {
            o.put("stopped_at", now());
        }
        return o;
    }

    /** One page of {@code items} per {@code ?page-token=} (an opaque offset) with {@code next_page_token}. */
    private ResponseDefinition page(Call c, List<JsonNode> items) {
        String tokenParam = c.query("page-token");
        int from = 0;
        if (tokenParam != null) {
            try {
                from = Integer.parseInt(new String(Base64.getUrlDecoder().decode(tokenParam), StandardCharsets.UTF_8)
                        .substring("offset:".length()));
            } catch (RuntimeException e) {
                return error(400, "bad_request", "Invalid page-token.");
            }
        }
        int to = Math.min(items.size(), from + pageSize);
        ObjectNode body = object();
        ArrayNode arr = body.putArray("items");
        items.subList(Math.min(from, items.size()), to).forEach(arr::add);
        if (to < items.size()) {
            body.put("next_page_token", Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(("offset:" + to).getBytes(StandardCharsets.UTF_8)));
        } else {
            body.putNull("next_page_token");
        }
        return json(200, body);
    }

    private static String sha(String seed) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 40; i++) {
            sb.append(Integer.toHexString((seed + i).hashCode() & 0xfffffff | 0x10000000));
        }
        return sb.substring(0, 40);
    }
}
