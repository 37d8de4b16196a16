package io.portcamel.agent.testsupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.common.Slf4jNotifier;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

/**
 * Base of the stateful fakes (Port, CircleCI, ...): a WireMock server on 127.0.0.1 whose single
 * catch-all stub hands every request to Java code, so a fake can keep state (runs, pipelines)
 * the way the real service does, instead of a pile of static stubs.
 *
 * <p>Every request is recorded in arrival order and validated against the vendor spec (if any),
 * before failure injection, so a test can assert both what the agent sent and what it did on errors.
 * Handlers run under one lock: the fakes are simple and tests need deterministic ordering.
 * Tests may still add their own WireMock stubs on {@link #server()}: the catch-all has low priority (10).
 */
public abstract class FakeHttpServer implements AutoCloseable {

    /** Shared mapper for request/response bodies (plain Jackson, not WireMock's shaded copy). */
    protected static final ObjectMapper JSON = new ObjectMapper();

    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** Handles one matched route; {@code call} gives access to the request and the regex groups. */
    @FunctionalInterface
    protected interface RouteHandler {
        ResponseDefinition handle(Call call);
    }

    private record Route(String method, Pattern path, RouteHandler handler) {
    }

    private final WireMockServer server;
    private final ContractValidator validator;
    private final List<Route> routes = new ArrayList<>();
    private final List<LoggedRequest> requests = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final Object lock = new Object();
    private int failNextCount;
    private int failNextStatus;
    private boolean down;
    private boolean unavailable;

    /** @param validator the vendor contract, or null to skip validation entirely */
    protected FakeHttpServer(ContractValidator validator) {
        this.validator = validator;
        String transformerName = getClass().getSimpleName() + "-" + System.identityHashCode(this);
        ResponseDefinitionTransformerV2 dispatcher = new ResponseDefinitionTransformerV2() {
            @Override
            public ResponseDefinition transform(ServeEvent serveEvent) {
                return dispatch(serveEvent.getRequest());
            }

            @Override
            public boolean applyGlobally() {
                return false; // only our catch-all stub, not stubs a test adds
            }

            @Override
            public String getName() {
                return transformerName;
            }
        };
        server = new WireMockServer(options()
                .bindAddress("127.0.0.1")
                .dynamicPort()
                .jettyAcceptors(1)
                .containerThreads(12)
                .notifier(new Slf4jNotifier(false))
                .extensions(dispatcher));
        server.start();
        server.stubFor(any(anyUrl()).atPriority(10).willReturn(aResponse().withTransformers(transformerName)));
    }

    // ---------------------------------------------------------------- for subclasses

    /** Registers a route; {@code pathRegex} is matched against the raw (undecoded) path, groups become {@link Call#param}. */
    protected final void route(String method, String pathRegex, RouteHandler handler) {
        routes.add(new Route(method, Pattern.compile("^" + pathRegex + "$"), handler));
    }

    /** Runs before routing (e.g. authentication); return a response to short-circuit, or null to continue. */
    protected ResponseDefinition beforeRoute(Call call) {
        return null;
    }

    /** Whether a request is checked against the contract (e.g. false for endpoints the spec lacks). */
    protected boolean shouldValidate(LoggedRequest request) {
        return true;
    }

    /** The vendor's error body for a given status (Port: {@code {ok:false,error,message}}, CircleCI: {@code {message}}). */
    protected abstract ObjectNode errorBody(int status, String error, String message);

    protected final ResponseDefinition json(int status, JsonNode body) {
        return ResponseDefinitionBuilder.responseDefinition()
                .withStatus(status)
                .withHeader("Content-Type", "application/json")
                .withBody(body.toString())
                .build();
    }

    protected final ResponseDefinition error(int status, String error, String message) {
        return json(status, errorBody(status, error, message));
    }

    protected static ObjectNode object() {
        return JSON.createObjectNode();
    }

    protected static String now() {
        return ISO_MILLIS.format(Instant.now());
    }

    /** Polls {@code condition} (under the fake's lock) until true or the timeout; then throws with {@code describe}. */
    protected final void await(Duration timeout, BooleanSupplier condition, Supplier<String> describe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            synchronized (lock) {
                if (condition.getAsBoolean()) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                String what;
                synchronized (lock) {
                    what = describe.get();
                }
                throw new AssertionError(what + "\n" + requestSummary());
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting", e);
            }
        }
    }

    /** Runs {@code r} under the lock that handlers use, so accessors see a consistent state. */
    protected final <T> T locked(Supplier<T> r) {
        synchronized (lock) {
            return r.get();
        }
    }

    // ---------------------------------------------------------------- public API

    /** The underlying server, e.g. to add an ad-hoc stub with a priority above 10. */
    public WireMockServer server() {
        return server;
    }

    public int port() {
        return server.port();
    }

    /** {@code http://127.0.0.1:<port>} with no trailing slash. */
    public String rootUrl() {
        return "http://127.0.0.1:" + server.port();
    }

    /** Number of requests received (including ones answered with an injected failure). */
    public int requestCount() {
        return locked(requests::size);
    }

    /** All requests received, oldest first. */
    public List<LoggedRequest> allRequests() {
        return locked(() -> List.copyOf(requests));
    }

    /** Requests matching a method and a raw path prefix, oldest first. */
    public List<LoggedRequest> requests(String method, String pathPrefix) {
        return requests(r -> r.getMethod().getName().equalsIgnoreCase(method) && r.getUrl().startsWith(pathPrefix));
    }

    public List<LoggedRequest> requests(Predicate<LoggedRequest> filter) {
        return locked(() -> requests.stream().filter(filter).toList());
    }

    /** Readable contract violations of every request received so far (empty if the fake has no spec). */
    public List<String> contractViolations() {
        return locked(() -> List.copyOf(violations));
    }

    public void assertNoContractViolations() {
        List<String> v = contractViolations();
        if (!v.isEmpty()) {
            throw new AssertionError(getClass().getSimpleName() + " received " + v.size()
                    + " request(s) violating " + validator.specPath() + ":\n  " + String.join("\n  ", v));
        }
    }

    /** The next {@code n} requests (any endpoint) get {@code status} with the vendor's error body. */
    public void failNext(int n, int status) {
        synchronized (lock) {
            failNextCount = n;
            failNextStatus = status;
        }
    }

    /** While down, every connection is reset by the server (an I/O error on the client side). */
    public void setDown(boolean down) {
        synchronized (lock) {
            this.down = down;
        }
    }

    /** While unavailable, every request gets 503 with the vendor's error body. */
    public void setUnavailable(boolean unavailable) {
        synchronized (lock) {
            this.unavailable = unavailable;
        }
    }

    /** One line per request, for failure messages. */
    public String requestSummary() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append(" received:");
        for (LoggedRequest r : allRequests()) {
            String body = r.getBodyAsString();
            sb.append("\n  ").append(r.getMethod().getName()).append(' ').append(r.getUrl());
            if (body != null && !body.isEmpty()) {
                sb.append(' ').append(body.length() > 300 ? body.substring(0, 300) + "..." : body);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        server.stop();
    }

    // ---------------------------------------------------------------- dispatch

    private ResponseDefinition dispatch(LoggedRequest request) {
        synchronized (lock) {
            requests.add(request);
            if (validator != null && shouldValidate(request)) {
                try {
                    violations.addAll(validator.validate(request));
                } catch (RuntimeException e) {
                    violations.add(request.getMethod().getName() + " " + request.getUrl() + ": validator failed: " + e);
                }
            }
            onReceived(request);
            if (down) {
                return ResponseDefinitionBuilder.responseDefinition().withFault(Fault.CONNECTION_RESET_BY_PEER).build();
            }
            if (unavailable) {
                return error(503, "service_unavailable", "injected: service unavailable");
            }
            if (failNextCount > 0) {
                failNextCount--;
                return error(failNextStatus, "injected_failure", "injected failure with status " + failNextStatus);
            }
            String path = request.getUrl();
            int q = path.indexOf('?');
            if (q >= 0) {
                path = path.substring(0, q);
            }
            try {
                Call call = new Call(request, path, null);
                ResponseDefinition early = beforeRoute(call);
                if (early != null) {
                    return early;
                }
                boolean pathKnown = false;
                for (Route r : routes) {
                    Matcher m = r.path.matcher(path);
                    if (m.matches()) {
                        pathKnown = true;
                        if (r.method.equalsIgnoreCase(request.getMethod().getName())) {
                            return r.handler.handle(new Call(request, path, m));
                        }
                    }
                }
                return pathKnown
                        ? error(405, "method_not_allowed", request.getMethod().getName() + " not allowed on " + path)
                        : error(404, "not_found", "no route for " + request.getMethod().getName() + " " + path);
            } catch (BadRequest e) {
                return error(e.status, e.error, e.getMessage());
            } catch (RuntimeException e) {
                e.printStackTrace();
                return error(500, "fake_error", "fake server bug: " + e);
            }
        }
    }

    /** Hook after recording, before failure injection (e.g. counting token requests). Runs under the lock. */
    protected void onReceived(LoggedRequest request) {
    }

    /** Thrown by handlers to answer with an error, e.g. a 422 for an invalid body. */
    protected static final class BadRequest extends RuntimeException {
        final int status;
        final String error;

        public BadRequest(int status, String error, String message) {
            super(message);
            this.status = status;
            this.error = error;
        }
    }

    /** One request as seen by a route handler. */
    protected static final class Call {
        private final LoggedRequest request;
        private final String rawPath;
        private final Matcher matcher;

        Call(LoggedRequest request, String rawPath, Matcher matcher) {
            this.request = request;
            this.rawPath = rawPath;
            this.matcher = matcher;
        }

        public LoggedRequest request() {
            return request;
        }

        public String method() {
            return request.getMethod().getName();
        }

        /** Path without query, exactly as sent (percent-encoding kept). */
        public String rawPath() {
            return rawPath;
        }

        /** A regex group of the route, percent-decoded ({@code +} stays a plus: this is a path, not a form). */
        public String param(String group) {
            return percentDecode(matcher.group(group));
        }

        /** A regex group of the route, exactly as sent. */
        public String rawParam(String group) {
            return matcher.group(group);
        }

        public String header(String name) {
            return request.containsHeader(name) ? request.getHeader(name) : null;
        }

        /** First value of a query parameter, decoded, or null. */
        public String query(String name) {
            String url = request.getUrl();
            int q = url.indexOf('?');
            if (q < 0) {
                return null;
            }
            for (String pair : url.substring(q + 1).split("&")) {
                int eq = pair.indexOf('=');
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                if (k.equals(name)) {
                    return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                }
            }
            return null;
        }

        /** The body as a JSON object; a missing or malformed body is a 422 as in Port/CircleCI validation errors. */
        public ObjectNode jsonObject(int statusOnError) {
            String body = request.getBodyAsString();
            if (body == null || body.isBlank()) {
                throw new BadRequest(statusOnError, "invalid_request", "request body is required");
            }
            try {
                JsonNode node = JSON.readTree(body);
                if (!(node instanceof ObjectNode o)) {
                    throw new BadRequest(statusOnError, "invalid_request", "body must be a JSON object");
                }
                return o;
            } catch (JsonProcessingException e) {
                throw new BadRequest(statusOnError, "invalid_request", "body is not valid JSON: " + e.getOriginalMessage());
            }
        }

        static String percentDecode(String s) {
            return s == null ? null : URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        }
    }
}
