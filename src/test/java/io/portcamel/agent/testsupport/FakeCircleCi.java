package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * CircleCI API v2 as a stateful fake (REFERENCE.md §5). For now it only triggers pipelines
 * ({@code POST /api/v2/project/{slug}/pipeline}); pipelines are kept by id in {@link #pipeline(String)}
 * so pipeline/workflow/job polling can be added as further {@link #route} calls in the constructor.
 *
 * <p>Served under {@code /api/v2} like the real host, so the spec's server path is the base path and
 * {@link #baseUrl()} is what the agent should use in place of {@code https://circleci.com/api/v2}.
 * The slug's {@code /} may be sent as {@code %2F} or raw; the recorded raw URL shows which.
 * Auth: header {@code Circle-Token} only (basic auth and {@code ?circle-token=} are not accepted here).
 */
public class FakeCircleCi extends FakeHttpServer {

    public static final String SPEC = "specs/circleci/openapi.subset.pipelines-workflows.json";
    public static final String BASE_PATH = "/api/v2";

    /** One accepted trigger: the raw URL as sent, the decoded slug, headers, body and what was created. */
    public record Trigger(String rawUrl, String projectSlug, Map<String, List<String>> headers, JsonNode body,
                          String pipelineId, long number) {
        /** First value of a header, case-insensitive, or null. */
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    private final String token;
    private final List<Trigger> triggers = new ArrayList<>();
    private final Map<String, ObjectNode> pipelines = new LinkedHashMap<>();
    private final Map<String, Long> lastNumberBySlug = new LinkedHashMap<>();

    /** Starts CircleCI on a free port of 127.0.0.1 accepting only this personal token. */
    public FakeCircleCi(String token) {
        super(ContractValidator.fromClasspath(SPEC));
        this.token = Objects.requireNonNull(token);
        route("POST", BASE_PATH + "/project/(?<slug>.+)/pipeline", this::triggerPipeline);
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

    @Override
    protected ObjectNode errorBody(int status, String error, String message) {
        return object().put("message", message); // CircleCI errors are always {"message"}
    }

    @Override
    protected ResponseDefinition beforeRoute(Call call) {
        if (!token.equals(call.header("Circle-Token"))) {
            return error(401, "unauthorized", "Invalid token provided.");
        }
        return null;
    }

    private ResponseDefinition triggerPipeline(Call c) {
        String slug = c.param("slug");
        ObjectNode body = c.request().getBodyAsString().isBlank() ? object() : c.jsonObject(400);
        if (body.has("branch") && body.has("tag")) {
            return error(400, "bad_request", "Only one of branch or tag may be specified.");
        }
        long number = lastNumberBySlug.merge(slug, 1L, Long::sum);
        String id = UUID.randomUUID().toString();
        String createdAt = now();
        ObjectNode created = object().put("id", id).put("state", "created").put("number", number)
                .put("created_at", createdAt);
        pipelines.put(id, created.deepCopy().put("project_slug", slug));
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (HttpHeader h : c.request().getHeaders().all()) {
            headers.put(h.key(), List.copyOf(h.values()));
        }
        triggers.add(new Trigger(c.request().getUrl(), slug, headers, body.deepCopy(), id, number));
        return json(201, created);
    }
}
