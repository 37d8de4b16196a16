package io.portcamel.agent.mapping;

/**
 * A mapping could not be evaluated for one message (jq runtime error, null url, non-object headers...).
 * Unlike port-agent, which turns jq errors into null and sends a broken request or leaves the run
 * IN_PROGRESS, the agent fails the run with this one-line message (mapping index, field path, jq error).
 */
public class MappingEvaluationException extends Exception {
    private final int mappingIndex;
    private final String field;

    public MappingEvaluationException(int mappingIndex, String field, String message) {
        super("mapping #" + mappingIndex + " field \"" + field + "\": " + message);
        this.mappingIndex = mappingIndex;
        this.field = field;
    }

    public int mappingIndex() {
        return mappingIndex;
    }

    /** Field path inside the mapping, e.g. {@code body.parameters} or {@code headers.Circle-Token}. */
    public String field() {
        return field;
    }
}
