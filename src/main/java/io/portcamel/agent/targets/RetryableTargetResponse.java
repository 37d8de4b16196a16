package io.portcamel.agent.targets;

/**
 * The target said "not now" (429 or 503): the request was refused, not processed, so it is safe to send again.
 * Thrown by {@link TargetCall#raiseIfRetryable} so the route's error handler redelivers with back-off.
 */
public class RetryableTargetResponse extends RuntimeException {
    private final int status;

    public RetryableTargetResponse(int status, String detail) {
        super("the target answered " + status + (detail == null ? "" : " (" + detail + ")"));
        this.status = status;
    }

    public int status() {
        return status;
    }
}
