package io.portcamel.agent.ingress;

import io.portcamel.agent.security.PortSignature;

import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;

/** Port calling the agent over HTTP: only correctly signed, fresh requests get through; the rest get 401. */
public class WebhookIngress {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookIngress.class);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final PortSignature signature;
    private final Clock clock;
    private final long maxSkewSeconds;

    public WebhookIngress(PortSignature signature, Clock clock, long maxSkewSeconds) {
        this.signature = signature;
        this.clock = clock;
        this.maxSkewSeconds = maxSkewSeconds;
    }

    /** Sets the variable {@code signed}; when the request is not signed by Port, the reason is in {@code refusal}. */
    public void verify(Exchange exchange) {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        PortSignature.Verdict v = signature.verifyWebhook(
                exchange.getMessage().getHeader(PortSignature.SIGNATURE_HEADER, String.class),
                exchange.getMessage().getHeader(PortSignature.TIMESTAMP_HEADER, String.class),
                body == null ? new byte[0] : body, clock.instant().getEpochSecond(), maxSkewSeconds);
        if (!v.valid()) {
            LOG.warn("refused a webhook call from {}: {}", exchange.getMessage().getHeader("CamelHttpRemoteAddress",
                    exchange.getMessage().getHeader("X-Forwarded-For", "?", String.class), String.class), v.reason());
            exchange.setVariable("refusal", v.reason());
        }
        // keep the raw bytes for the dispatch (signature checked over exactly these)
        exchange.getMessage().setBody(body);
        exchange.setVariable("signed", v.valid());
    }

    /** The 401 answer, with the reason (JSON-escaped). */
    public String refusalBody(Exchange exchange) {
        return JSON.createObjectNode().put("ok", false).put("error", "unauthorized")
                .put("message", exchange.getVariable("refusal", "", String.class)).toString();
    }
}
