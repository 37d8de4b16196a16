package io.portcamel.agent.store;

import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;

/**
 * The dispatch route's idempotent repository: run keys in the store's {@code accepted_run} table, so the dedupe holds
 * across restarts and across replicas sharing one PostgreSQL.
 */
public class AcceptedRuns extends ServiceSupport implements IdempotentRepository {
    private final TrackingStore store;
    /** Runs this process is processing right now: the watchdog leaves them alone. */
    private final java.util.Set<String> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public AcceptedRuns(TrackingStore store) {
        this.store = store;
    }

    public java.util.Set<String> inFlight() {
        return java.util.Collections.unmodifiableSet(inFlight);
    }

    @Override
    public boolean add(String key) {
        boolean added = store.accept(key);
        if (added) {
            inFlight.add(key);
        }
        return added;
    }

    /** As {@link #add(String)}; the exchange remembers that this attempt took the key (a store-outage retry frees it). */
    @Override
    public boolean add(org.apache.camel.Exchange exchange, String key) {
        boolean added = add(key);
        if (added) {
            exchange.setVariable("acceptedKey", key);
        }
        return added;
    }

    /**
     * A run this process accepted but could not send because the store went down: the key is freed before the run is
     * dispatched again (only while nothing was sent — see the run-workers route). Throws while the store is down.
     */
    public void release(String key) {
        inFlight.remove(key);
        store.forget(key);
    }

    @Override
    public boolean contains(String key) {
        return store.isAccepted(key);
    }

    @Override
    public boolean remove(String key) {
        inFlight.remove(key);
        return store.forget(key);
    }

    /**
     * Camel forgets a key when processing failed, so that a retry may process the run again. That is only safe while
     * nothing was sent: once the trigger request was prepared it may have reached the target, and a second one could
     * deploy twice — then the key is kept, the retry is skipped as a duplicate, and the watchdog ends the run FAILURE
     * saying the outcome is unknown (at-most-once).
     */
    @Override
    public boolean remove(org.apache.camel.Exchange exchange, String key) {
        Object run = exchange.getVariable("run");
        if (run instanceof io.portcamel.agent.run.RunContext r && r.requestAsSent() != null) {
            inFlight.remove(key);
            return false;
        }
        return remove(key);
    }

    /** Called when the run was handled to the end: a later duplicate is a plain redelivery. */
    @Override
    public boolean confirm(String key) {
        inFlight.remove(key);
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
