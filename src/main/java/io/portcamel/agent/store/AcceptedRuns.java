package io.portcamel.agent.store;

import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;

/**
 * The dispatch route's idempotent repository: run keys in the store's {@code accepted_run} table, so the dedupe holds
 * across restarts and across replicas sharing one PostgreSQL.
 */
public class AcceptedRuns extends ServiceSupport implements IdempotentRepository {
    private final TrackingStore store;

    public AcceptedRuns(TrackingStore store) {
        this.store = store;
    }

    @Override
    public boolean add(String key) {
        return store.accept(key);
    }

    @Override
    public boolean contains(String key) {
        return store.isAccepted(key);
    }

    @Override
    public boolean remove(String key) {
        return store.forget(key);
    }

    /** Called when the run was handled to the end: a later duplicate is a plain redelivery. */
    @Override
    public boolean confirm(String key) {
        return store.markDone(key);
    }

    /**
     * Camel confirms duplicates too; a redelivery that was skipped says nothing about the first attempt, which may have
     * been cut off by a crash (the watchdog then ends it), so only the attempt that processed the run confirms it.
     */
    @Override
    public boolean confirm(org.apache.camel.Exchange exchange, String key) {
        if (Boolean.TRUE.equals(exchange.getProperty(org.apache.camel.Exchange.DUPLICATE_MESSAGE, Boolean.class))) {
            return false;
        }
        return confirm(key);
    }

    @Override
    public void clear() {
        throw new UnsupportedOperationException("the record of accepted runs is never cleared by the agent");
    }
}
