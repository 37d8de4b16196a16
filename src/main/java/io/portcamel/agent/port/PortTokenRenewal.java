package io.portcamel.agent.port;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** Before the one retry of a Port call that got 401: drop the cached token and sign the call with a new one. */
public class PortTokenRenewal implements Processor {
    private final PortTokenCache tokens;

    public PortTokenRenewal(PortTokenCache tokens) {
        this.tokens = tokens;
    }

    @Override
    public void process(Exchange exchange) {
        String rejected = exchange.getMessage().getHeader("Authorization", String.class);
        if (rejected != null) {
            exchange.getMessage().setHeader("Authorization", tokens.renew(rejected));
        }
    }
}
