package io.portcamel.agent.port;

/** A Port API call that did not succeed; {@code status} is -1 when Port could not be reached at all. */
public class PortApiException extends RuntimeException {
    private final int status;

    public PortApiException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
