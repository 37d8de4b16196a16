package io.portcamel.agent.store;

/**
 * The store could not be read or written (the database is down or restarting). Nothing about a run is safe to
 * acknowledge without it: the Kafka record is retried (the offset is not committed) until the store answers again.
 */
public class StoreUnavailableException extends IllegalStateException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
