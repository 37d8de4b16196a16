package io.portcamel.agent.tracking;

/** A run that cannot be followed (retryable=false) or a poll that should be tried again later (retryable=true). */
public class TrackingException extends Exception {
    private final boolean retryable;

    public TrackingException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public TrackingException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
