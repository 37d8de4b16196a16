package io.portcamel.agent.ops;

import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.CamelEvent.ExchangeCreatedEvent;
import org.apache.camel.support.SimpleEventNotifierSupport;

import java.time.Clock;
import java.time.Instant;

/**
 * Remembers when a route's consumer last created an exchange: for the timer-driven {@code tracking-poll} route, the
 * last time the tracking timer fired. A timer thread stuck in a tick fires no more, so the liveness check sees it.
 */
public class RouteTicks extends SimpleEventNotifierSupport {
    private final String routeId;
    private final Clock clock;
    private volatile Instant last;

    public RouteTicks(String routeId, Clock clock) {
        this.routeId = routeId;
        this.clock = clock;
        // exchange-created events only
        setupIgnore(true);
        setIgnoreExchangeEvents(false);
        setIgnoreExchangeCreatedEvent(false);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof ExchangeCreatedEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof ExchangeCreatedEvent e && routeId.equals(e.getExchange().getFromRouteId())) {
            last = clock.instant();
        }
    }

    public String routeId() {
        return routeId;
    }

    /** The last tick, or null before the first. */
    public Instant last() {
        return last;
    }
}
