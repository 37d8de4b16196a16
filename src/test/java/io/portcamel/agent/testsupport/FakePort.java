package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Port's REST API as a stateful fake, so a test can assert what a user would see on the run page
 * (status, label, links, logs) rather than which HTTP calls happened.
 *
 * <p>Behaviour follows REFERENCE.md §2 and the Port OpenAPI extract. Where Port's behaviour is
 * unverified, this fake picks the strict reading (documented per method) so agent bugs surface:
 * <ul>
 *   <li>Changing an ended run (PATCH, or a log carrying {@code terminationStatus}/{@code statusLabel})
 *       gets 422 {@code run_already_ended}; plain log messages are still accepted after the end
 *       (port-agent logs "finished processing" after its final PATCH).</li>
 *   <li>Unknown runs are created IN_PROGRESS on first touch.</li>
 *   <li>Entity upserts with a {@code run_id} of an ended run get 422 {@code run_already_ended}.</li>
 *   <li>{@code claim-pending} without {@code x-port-reserved-usage: true} gets 400.</li>
 *   <li>Body validation errors are 422 {@code {ok:false,error:"invalid_request",message}}.</li>
 * </ul>
 * Every request is validated against {@code specs/port/action-runs-extract.json}, except the
 * internal endpoints that spec lacks: {@code /v1/kafka-credentials}, {@code /v1/organization},
 * {@code /v1/actions/runs/claim-pending}, {@code /v1/actions/runs/ack} and
 * {@code /v1/actions/runs/{id}/response} (ack would otherwise be mis-read as PATCH of a run named "ack").
 */
public final class FakePort extends FakeHttpServer {

    public static final String SPEC = "specs/port/action-runs-extract.json";

    private static final Set<String> PATCH_KEYS = Set.of("status", "statusLabel", "link", "summary", "externalRunId", "message");
    private static final Set<String> LOG_KEYS = Set.of("message", "terminationStatus", "statusLabel");
    private static final Set<String> TERMINAL = Set.of("SUCCESS", "FAILURE");
    private static final String RUN = "/v1/actions/runs/(?<runId>[^/]+)";

    /** An entity upsert Port received, with the run it was tied to (null if none). */
    public record EntityUpsert(String blueprint, JsonNode body, String runId) {
    }

    private final String clientId;
    private final String clientSecret;
    private final AtomicInteger tokenSeq = new AtomicInteger();
    private String currentToken;
    private int tokenRequests;

    private final Map<String, ObjectNode> runs = new LinkedHashMap<>();
    private final Map<String, List<JsonNode>> logs = new LinkedHashMap<>();
    private final Map<String, List<JsonNode>> patches = new LinkedHashMap<>();
    private final Map<String, List<JsonNode>> responses = new LinkedHashMap<>();
    private final Deque<JsonNode> pendingRuns = new ArrayDeque<>();
    private final List<JsonNode> claimRequests = new ArrayList<>();
    private final List<String> ackedRunIds = new ArrayList<>();
    private final List<EntityUpsert> upserts = new ArrayList<>();
    private final List<JsonNode> organizationPatches = new ArrayList<>();
    private List<String> kafkaBrokers = List.of("localhost:9092");
    private String kafkaUsername = "org_test";
    private String kafkaPassword = "kafka-secret";

    /** Starts Port on a free port of 127.0.0.1 accepting exactly these credentials. */
    public FakePort(String clientId, String clientSecret) {
        this(clientId, clientSecret, true);
    }

    /**
     * @param checkContract false skips the OpenAPI check of each request (the benchmark: there the fake shares two CPUs
     *                      with the agent, and the check costs more than the agent's own reporting)
     */
    public FakePort(String clientId, String clientSecret, boolean checkContract) {
        super(checkContract ? ContractValidator.fromClasspath(SPEC) : null);
        this.clientId = Objects.requireNonNull(clientId);
        this.clientSecret = Objects.requireNonNull(clientSecret);
        route("POST", "/v1/auth/access_token", this::accessToken);
        route("POST", "/v1/actions/runs/claim-pending", this::claimPending);
        route("PATCH", "/v1/actions/runs/ack", this::ack);
        route("POST", RUN + "/logs", this::postLog);
        route("GET", RUN + "/logs", this::getLogs);
        route("PATCH", RUN + "/response", this::patchResponse);
        route("PATCH", RUN, this::patchRun);
        route("GET", RUN, this::getRun);
        route("GET", "/v1/kafka-credentials", c -> json(200, kafkaCredentials()));
        route("PATCH", "/v1/organization", this::patchOrganization);
        route("POST", "/v1/blueprints/(?<bp>[^/]+)/entities", this::upsertEntity);
    }

    /** Default test credentials {@code test-client-id}/{@code test-client-secret}. */
    public FakePort() {
        this("test-client-id", "test-client-secret");
    }

    /** What to configure as the agent's Port API base URL ({@code http://127.0.0.1:<port>}). */
    public String baseUrl() {
        return rootUrl();
    }

    // ---------------------------------------------------------------- test controls

    /** Invalidates the current token: calls carrying it get 401 and the next token request issues a new one. */
    public void expireTokens() {
        locked(() -> currentToken = null);
    }

    /** The token Port currently accepts (null before the first token request or after {@link #expireTokens()}). */
    public String currentToken() {
        return locked(() -> currentToken);
    }

    /** Queues a run for {@code claim-pending} (shape of fixtures/port/polling-claimed-*.json). */
    public void enqueuePolledRun(JsonNode run) {
        locked(() -> pendingRuns.add(run.deepCopy()));
    }

    /** Brokers/credentials served by {@code GET /v1/kafka-credentials}, e.g. an {@link EmbeddedKafka}'s address. */
    public void setKafkaCredentials(List<String> brokers, String username, String password) {
        locked(() -> {
            kafkaBrokers = List.copyOf(brokers);
            kafkaUsername = username;
            kafkaPassword = password;
            return null;
        });
    }

    /** Pre-creates or overwrites a run's fields (e.g. {@code status: WAITING_FOR_APPROVAL}). */
    public void putRun(String runId, ObjectNode fields) {
        locked(() -> runState(runId).setAll(fields.deepCopy()));
    }

    // ---------------------------------------------------------------- assertions

    public int tokenRequests() {
        return locked(() -> tokenRequests);
    }

    /** The merged current state of a run as Port would show it (a copy; IN_PROGRESS if never touched). */
    public ObjectNode run(String runId) {
        return locked(() -> runs.containsKey(runId) ? runs.get(runId).deepCopy() : newRun(runId));
    }

    /**
     * Log lines of a run as Port's run page shows them, oldest first (only the ones Port accepted). A message of
     * several lines shows as several lines: the agent sends a run's queued lines in one call.
     */
    public List<String> logMessages(String runId) {
        return logs(runId).stream().flatMap(l -> java.util.Arrays.stream(l.path("message").asText().split("\n", -1))).toList();
    }

    /** Accepted log request bodies of a run, oldest first. */
    public List<JsonNode> logs(String runId) {
        return locked(() -> copies(logs.get(runId)));
    }

    /** Accepted PATCH bodies of a run, oldest first. */
    public List<JsonNode> patches(String runId) {
        return locked(() -> copies(patches.get(runId)));
    }

    /** Bodies of {@code PATCH /v1/actions/runs/{id}/response}, oldest first. */
    public List<JsonNode> responses(String runId) {
        return locked(() -> copies(responses.get(runId)));
    }

    public List<JsonNode> claimRequests() {
        return locked(() -> copies(claimRequests));
    }

    public List<String> ackedRunIds() {
        return locked(() -> List.copyOf(ackedRunIds));
    }

    public List<EntityUpsert> entityUpserts() {
        return locked(() -> List.copyOf(upserts));
    }

    public List<JsonNode> organizationPatches() {
        return locked(() -> copies(organizationPatches));
    }

    /** Waits until the run has {@code status}; fails showing the run, its logs and all requests. */
    public void awaitStatus(String runId, String status, Duration timeout) {
        await(timeout, () -> status.equals(run(runId).path("status").asText()),
                () -> "run " + runId + " did not reach status " + status + " within " + timeout + describe(runId));
    }

    /** Waits until some log message of the run matches; fails showing the run, its logs and all requests. */
    public void awaitLog(String runId, Predicate<String> message, Duration timeout) {
        await(timeout, () -> logMessages(runId).stream().anyMatch(message),
                () -> "run " + runId + " got no matching log within " + timeout + describe(runId));
    }

    /** Human-readable state of one run, for failure messages. */
    public String describe(String runId) {
        return "\n  run: " + run(runId) + "\n  logs: " + logMessages(runId) + "\n  patches: " + patches(runId);
    }

    // ---------------------------------------------------------------- FakeHttpServer hooks

    @Override
    protected ObjectNode errorBody(int status, String error, String message) {
        return object().put("ok", false).put("error", error).put("message", message);
    }

    @Override
    protected boolean shouldValidate(LoggedRequest r) {
        String path = r.getUrl().split("\\?", 2)[0];
        return !(path.equals("/v1/kafka-credentials")
                || path.equals("/v1/organization")
                || path.equals("/v1/actions/runs/claim-pending")
                || path.equals("/v1/actions/runs/ack")
                || path.matches(RUN + "/response"));
    }

    @Override
    protected void onReceived(LoggedRequest r) {
        if (r.getUrl().startsWith("/v1/auth/access_token")) {
            tokenRequests++;
        }
    }

    @Override
    protected ResponseDefinition beforeRoute(Call call) {
        if (call.rawPath().equals("/v1/auth/access_token")) {
            return null;
        }
        String auth = call.header("Authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return error(401, "unauthorized", "missing bearer token");
        }
        if (currentToken == null || !auth.substring(7).trim().equals(currentToken)) {
            return error(401, "unauthorized", "the token is invalid or has expired");
        }
        return null;
    }

    // ---------------------------------------------------------------- handlers

    private ResponseDefinition accessToken(Call c) {
        ObjectNode body = c.jsonObject(422);
        if (!body.path("clientId").isTextual() || !body.path("clientSecret").isTextual()) {
            throw new BadRequest(422, "invalid_request", "clientId and clientSecret are required strings");
        }
        if (!clientId.equals(body.get("clientId").asText()) || !clientSecret.equals(body.get("clientSecret").asText())) {
            return error(401, "unauthorized", "invalid client credentials");
        }
        if (currentToken == null) { // one active token per credential set
            currentToken = "tok_" + tokenSeq.incrementAndGet() + "_" + UUID.randomUUID().toString().replace("-", "");
        }
        return json(200, object().put("ok", true).put("accessToken", currentToken)
                .put("expiresIn", 10800).put("tokenType", "Bearer"));
    }

    private ResponseDefinition postLog(Call c) {
        String runId = c.param("runId");
        ObjectNode body = c.jsonObject(422);
        rejectUnknownKeys(body, LOG_KEYS);
        if (!body.path("message").isTextual()) {
            throw new BadRequest(422, "invalid_request", "message is required and must be a string");
        }
        JsonNode termination = body.get("terminationStatus");
        if (termination != null && !TERMINAL.contains(termination.asText())) {
            throw new BadRequest(422, "invalid_request", "terminationStatus must be SUCCESS or FAILURE");
        }
        ObjectNode run = runState(runId);
        boolean changesRun = termination != null || body.has("statusLabel");
        if (changesRun && ended(run)) {
            return alreadyEnded(runId);
        }
        logs.computeIfAbsent(runId, k -> new ArrayList<>()).add(body.deepCopy());
        if (body.has("statusLabel")) {
            run.set("statusLabel", body.get("statusLabel"));
        }
        if (termination != null) {
            end(run, termination.asText());
        }
        touch(run);
        ObjectNode runLog = object()
                .put("id", "log_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16))
                .put("runId", runId)
                .put("message", body.get("message").asText())
                .put("createdBy", clientId)
                .put("createdAt", now());
        return json(201, object().put("ok", true).set("runLog", runLog));
    }

    private ResponseDefinition getLogs(Call c) {
        ArrayNode arr = JSON.createArrayNode();
        logs.getOrDefault(c.param("runId"), List.of()).forEach(l -> arr.add(object()
                .put("runId", c.param("runId")).set("message", l.get("message"))));
        return json(200, object().put("ok", true).set("runLogs", arr));
    }

    private ResponseDefinition patchRun(Call c) {
        String runId = c.param("runId");
        ObjectNode body = c.jsonObject(422);
        rejectUnknownKeys(body, PATCH_KEYS);
        JsonNode status = body.get("status");
        if (status != null && !TERMINAL.contains(status.asText())) {
            throw new BadRequest(422, "invalid_request", "status must be SUCCESS or FAILURE, got " + status);
        }
        JsonNode link = body.get("link");
        if (link != null && !link.isTextual() && !(link.isArray() && allTextual(link))) {
            throw new BadRequest(422, "invalid_request", "link must be a string or an array of strings");
        }
        ObjectNode run = runState(runId);
        if (ended(run)) {
            return alreadyEnded(runId);
        }
        patches.computeIfAbsent(runId, k -> new ArrayList<>()).add(body.deepCopy());
        for (String key : List.of("statusLabel", "link", "summary", "externalRunId")) {
            if (body.has(key)) { // each PATCH replaces the keys it sends
                run.set(key, body.get(key));
            }
        }
        if (status != null) {
            end(run, status.asText());
        }
        touch(run);
        return json(200, object().put("ok", true).set("run", run.deepCopy()));
    }

    private ResponseDefinition getRun(Call c) {
        return json(200, object().put("ok", true).set("run", runState(c.param("runId")).deepCopy()));
    }

    private ResponseDefinition patchResponse(Call c) {
        String runId = c.param("runId");
        ObjectNode body = c.jsonObject(422);
        if (!body.has("response")) {
            throw new BadRequest(422, "invalid_request", "response is required");
        }
        responses.computeIfAbsent(runId, k -> new ArrayList<>()).add(body.deepCopy());
        ObjectNode run = runState(runId);
        run.set("response", body.get("response"));
        touch(run);
        return json(200, object().put("ok", true).set("run", run.deepCopy()));
    }

    private ResponseDefinition claimPending(Call c) {
        if (!"true".equalsIgnoreCase(c.header("x-port-reserved-usage"))) {
            throw new BadRequest(400, "missing_header", "x-port-reserved-usage: true is required");
        }
        ObjectNode body = c.jsonObject(422);
        claimRequests.add(body.deepCopy());
        int limit = body.path("limit").asInt(100);
        ArrayNode out = JSON.createArrayNode();
        while (out.size() < limit && !pendingRuns.isEmpty()) {
            out.add(pendingRuns.poll());
        }
        return json(200, object().set("runs", out));
    }

    private ResponseDefinition ack(Call c) {
        ObjectNode body = c.jsonObject(422);
        JsonNode ids = body.get("runIds");
        if (ids == null || !ids.isArray() || !allTextual(ids)) {
            throw new BadRequest(422, "invalid_request", "runIds must be an array of strings");
        }
        ids.forEach(id -> ackedRunIds.add(id.asText()));
        return json(200, object().put("ackedCount", ids.size()));
    }

    private ResponseDefinition patchOrganization(Call c) {
        organizationPatches.add(c.jsonObject(422).deepCopy());
        return json(200, object().put("ok", true));
    }

    private ResponseDefinition upsertEntity(Call c) {
        String bp = c.param("bp");
        String runId = c.query("run_id");
        ObjectNode body = c.jsonObject(422);
        if (runId != null && ended(runState(runId))) {
            return alreadyEnded(runId);
        }
        upserts.add(new EntityUpsert(bp, body.deepCopy(), runId));
        ObjectNode entity = body.deepCopy().put("blueprint", bp);
        if (!entity.has("identifier")) {
            entity.put("identifier", "e_" + UUID.randomUUID().toString().substring(0, 8));
        }
        return json(201, object().put("ok", true).set("entity", entity));
    }

    private ObjectNode kafkaCredentials() {
        ArrayNode brokers = JSON.createArrayNode();
        kafkaBrokers.forEach(brokers::add);
        ObjectNode creds = object();
        creds.set("brokers", brokers);
        creds.put("username", kafkaUsername).put("password", kafkaPassword);
        return object().set("credentials", creds);
    }

    // ---------------------------------------------------------------- state helpers

    private ObjectNode runState(String runId) {
        return runs.computeIfAbsent(runId, FakePort::newRun);
    }

    private static ObjectNode newRun(String runId) {
        String now = now();
        ObjectNode run = object().put("id", runId).put("status", "IN_PROGRESS");
        for (String k : List.of("statusLabel", "link", "summary", "externalRunId", "endedAt")) {
            run.set(k, NullNode.getInstance());
        }
        return run.put("createdAt", now).put("updatedAt", now);
    }

    private static boolean ended(ObjectNode run) {
        return !run.path("endedAt").isNull() && !run.path("endedAt").isMissingNode();
    }

    private static void end(ObjectNode run, String status) {
        run.put("status", status).put("endedAt", now());
    }

    private static void touch(ObjectNode run) {
        run.put("updatedAt", now());
    }

    private ResponseDefinition alreadyEnded(String runId) {
        return error(422, "run_already_ended", "run " + runId + " has already ended and cannot be changed");
    }

    private static void rejectUnknownKeys(ObjectNode body, Set<String> allowed) {
        List<String> unknown = new ArrayList<>();
        body.fieldNames().forEachRemaining(k -> {
            if (!allowed.contains(k)) {
                unknown.add(k);
            }
        });
        if (!unknown.isEmpty()) {
            throw new BadRequest(422, "invalid_request", "unknown keys " + unknown + "; allowed " + allowed);
        }
    }

    private static boolean allTextual(JsonNode array) {
        for (JsonNode n : array) {
            if (!n.isTextual()) {
                return false;
            }
        }
        return true;
    }

    private static List<JsonNode> copies(List<JsonNode> list) {
        return list == null ? List.of() : list.stream().map(JsonNode::deepCopy).map(n -> (JsonNode) n).toList();
    }
}
