package io.portcamel.agent.run;

/**
 * The agent could not do what the run asked (no mapping matched, a jq error, the target unreachable…).
 * port-agent leaves such runs IN_PROGRESS forever; we end them FAILURE with this message as the summary.
 */
public class RunFailure extends RuntimeException {
    public RunFailure(String summary) {
        super(summary);
    }

    public RunFailure(String summary, Throwable cause) {
        super(summary, cause);
    }
}
