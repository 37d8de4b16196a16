package io.portcamel.agent.tracking;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * What one poll of a target found. The tracking service turns it into Port updates, only on change: each new log line
 * once, the label/link/externalRunId when they differ from what Port already shows, and the terminal status once.
 *
 * @param state          the tracker's state to persist for the next poll (ids, phase, transitions already logged…)
 * @param newLogLines    transitions seen for the first time in this poll, in order ("workflow build: running" …)
 * @param statusLabel    the label Port should show now (null: leave as is)
 * @param link           the pipeline's web page (null: leave as is)
 * @param externalRunId  the target's id for the run (null: leave as is)
 * @param terminal       null while the pipeline runs; SUCCESS or FAILURE with a summary when it ended
 * @param facts          values for the mapping's entity upsert on success (e.g. imageTag, versionTag, jobUrl); may be empty
 * @param pollSoon       true when the next poll should come at once (a phase just changed), not after the back-off
 */
public record PollResult(ObjectNode state, List<String> newLogLines, String statusLabel, String link, String externalRunId,
                         Terminal terminal, ObjectNode facts, boolean pollSoon) {

    /** The end of a pipeline as Port should record it. */
    public record Terminal(boolean success, String summary) {
        public String status() {
            return success ? "SUCCESS" : "FAILURE";
        }
    }
}
