package io.portcamel.agent.targets;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.portcamel.agent.mapping.RenderedRequest;
import io.portcamel.agent.run.RunContext;
import io.portcamel.agent.run.RunFailure;
import io.portcamel.agent.security.PortSignature;
import io.portcamel.agent.security.PythonJson;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a rendered request into the exchange the {@code invoke-target} route hands to camel-http, and reads the
 * answer back. The body is sent as compact, ASCII-escaped JSON, and X-Port-Signature is computed over exactly those
 * bytes (port-agent signs one serialisation and sends another).
 */
public class TargetCall {
    private final PortSignature signature;
    private final Clock clock;
    private final Map<String, String> env;
    private final int maxRetries;

    public TargetCall(PortSignature signature, Clock clock, Map<String, String> env, int maxRetries) {
        this.signature = signature;
        this.clock = clock;
        this.env = env;
        this.maxRetries = maxRetries;
    }

    public void prepare(Exchange exchange) {
        RunContext run = exchange.getVariable("run", RunContext.class);
        RenderedRequest req = run.request();
        Message m = exchange.getMessage();
        m.removeHeaders("*");

        byte[] body = req.body() == null ? new byte[0] : PythonJson.dumps(req.body(), true).getBytes(StandardCharsets.UTF_8);
        String timestamp = Long.toString(clock.instant().getEpochSecond());
        Map<String, String> headers = new LinkedHashMap<>(req.headers());
        if (req.body() != null && headers.keySet().stream().noneMatch(h -> h.equalsIgnoreCase("Content-Type"))) {
            headers.put("Content-Type", "application/json");
        }
        headers.put(PortSignature.TIMESTAMP_HEADER, timestamp);
        headers.put(PortSignature.SIGNATURE_HEADER, signature.signOutgoing(timestamp, body));
        run.mapping().bodySignature().ifPresent(bs -> {
            String value = bs.sign(body, env);
            if (value == null) {
                throw new RunFailure("bodySignature: " + bs.secretEnv() + " is not set, the target would refuse the call; nothing was sent");
            }
            headers.put(bs.header(), value);
        });
        headers.forEach(m::setHeader);

        String url = withQuery(req.url(), req.query());
        m.setHeader(Exchange.HTTP_METHOD, httpMethod(req.method()));
        m.setHeader(Exchange.HTTP_URI, url);
        m.setBody(req.body() == null ? null : body);

        // what the report's jq sees as `.request` (port-agent: method, url, body, headers incl. X-Port-*, query)
        ObjectNode sent = req.toJson();
        ObjectNode sentHeaders = sent.putObject("headers");
        headers.forEach(sentHeaders::put);
        run.requestAsSent(sent);
    }

    /**
     * 429 and 503 mean the target refused the request without processing it: raise, so the error handler sends it
     * again after a back-off — or after the target's Retry-After (seconds or an HTTP date), capped at
     * {@link #MAX_RETRY_AFTER_MILLIS}. Anything else (including 502/504 and timeouts, whose outcome is unknown) is
     * final: a trigger is never sent twice when it may have been processed.
     */
    public void raiseIfRetryable(Exchange exchange) {
        Message m = exchange.getMessage();
        int status = m.getHeader(Exchange.HTTP_RESPONSE_CODE, -1, Integer.class);
        if (status != 429 && status != 503) {
            return;
        }
        Long retryAfter = retryAfterMillis(m.getHeader("Retry-After", String.class), clock);
        if (retryAfter != null) {
            m.setHeader(Exchange.REDELIVERY_DELAY, Math.min(retryAfter, MAX_RETRY_AFTER_MILLIS));
        } else {
            m.removeHeader(Exchange.REDELIVERY_DELAY);
        }
        throw new RetryableTargetResponse(status, retryAfter == null ? null : "Retry-After " + m.getHeader("Retry-After"));
    }

    /** A Retry-After longer than this is not waited for on a consumer thread: the back-off cap applies. */
    static final long MAX_RETRY_AFTER_MILLIS = 60_000;

    static Long retryAfterMillis(String value, Clock clock) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Math.max(0, Long.parseLong(value.trim()) * 1000);
        } catch (NumberFormatException notSeconds) {
            try {
                java.time.ZonedDateTime at = java.time.ZonedDateTime.parse(value.trim(), java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, at.toInstant().toEpochMilli() - clock.millis());
            } catch (java.time.format.DateTimeParseException notADate) {
                return null;
            }
        }
    }

    /** The call failed for good after its retries (refused connection…): the dispatch ends the run with the reason. */
    public void unreachable(Exchange exchange) {
        RunContext run = exchange.getVariable("run", RunContext.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        // reached only once every attempt failed (the error handler retried maxRetries times)
        int attempts = maxRetries + 1;
        run.targetFailure(describe(cause) + (attempts > 1 ? " (" + attempts + " attempts)" : ""));
    }

    public void capture(Exchange exchange) {
        RunContext run = exchange.getVariable("run", RunContext.class);
        Message m = exchange.getMessage();
        int status = m.getHeader(Exchange.HTTP_RESPONSE_CODE, -1, Integer.class);
        Map<String, String> headers = new LinkedHashMap<>();
        m.getHeaders().forEach((k, v) -> {
            if (!k.startsWith("Camel") && v != null) {
                headers.put(k, v.toString());
            }
        });
        String text = m.getBody(String.class);
        run.response(status, headers, text == null ? "" : text);
    }

    /** Appends the mapping's query to the URL (keeping any query the URL already has, as requests does). */
    static String withQuery(String url, Map<String, String> query) {
        if (query == null || query.isEmpty()) {
            return url;
        }
        StringBuilder sb = new StringBuilder(url);
        int hash = url.indexOf('#');
        if (hash >= 0) {
            sb.setLength(hash);
        }
        char sep = sb.indexOf("?") >= 0 ? '&' : '?';
        for (Map.Entry<String, String> e : query.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            sb.append(sep).append(form(e.getKey())).append('=').append(form(e.getValue()));
            sep = '&';
        }
        return sb.toString();
    }

    private static String form(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** A sentence for the run's summary when the call itself failed (port-agent leaves those runs IN_PROGRESS). */
    public static String describe(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && !(c instanceof IOException)) {
            c = c.getCause();
        }
        if (c instanceof SocketTimeoutException || c.getClass().getSimpleName().contains("Timeout")) {
            return "The target did not answer in time (" + c.getMessage() + "); the request may or may not have been processed";
        }
        if (c instanceof ConnectException) {
            return "The agent could not connect to the target: " + c.getMessage();
        }
        if (c instanceof UnknownHostException) {
            return "The target host is unknown: " + c.getMessage();
        }
        if (c instanceof javax.net.ssl.SSLException) {
            return "TLS with the target failed: " + c.getMessage() + " (set WEBHOOK_VERIFY_SSL=false only for a trusted test target)";
        }
        if (c instanceof IOException) {
            return "The call to the target failed: " + c;
        }
        return "The agent failed to process the run: " + c;
    }

    /**
     * camel-http reads CamelHttpMethod as its enum; given a String, Camel's enum conversion looks the converter up by
     * reflection on every call (a tenth of a run's CPU in the benchmark profile), so the enum is set directly.
     */
    public static Object httpMethod(String method) {
        String upper = method.toUpperCase(Locale.ROOT);
        try {
            return org.apache.camel.component.http.HttpMethods.valueOf(upper);
        } catch (IllegalArgumentException notAnHttpMethod) {
            return upper; // camel-http reports it
        }
    }
}
