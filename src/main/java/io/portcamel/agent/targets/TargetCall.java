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

    public TargetCall(PortSignature signature, Clock clock, Map<String, String> env) {
        this.signature = signature;
        this.clock = clock;
        this.env = env;
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
        m.setHeader(Exchange.HTTP_METHOD, req.method().toUpperCase(Locale.ROOT));
        m.setHeader(Exchange.HTTP_URI, url);
        m.setBody(req.body() == null ? null : body);

        // what the report's jq sees as `.request` (port-agent: method, url, body, headers incl. X-Port-*, query)
        ObjectNode sent = req.toJson();
        ObjectNode sentHeaders = sent.putObject("headers");
        headers.forEach(sentHeaders::put);
        run.requestAsSent(sent);
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
}
