package io.portcamel.agent.mapping;

/**
 * The mapping file cannot be used (unreadable, invalid JSON, wrong shape, jq that does not compile).
 * The message is one line naming the file, the mapping index and the field, so an operator can fix it
 * without a stack trace.
 */
public class MappingException extends Exception {
    public MappingException(String message) {
        super(message);
    }

    public MappingException(String message, Throwable cause) {
        super(message, cause);
    }
}
