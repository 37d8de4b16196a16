package io.portcamel.agent.tracking;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Follows one kind of pipeline (CircleCI, Azure DevOps, work-order…) from its trigger to its end. Stateless: all it
 * knows about a run is in the state it returned last time, so any replica can poll any run after a restart.
 */
public interface TargetTracker {

    /** The value of the mapping's {@code track.type} this tracker answers to, e.g. "circleci". */
    String type();

    /**
     * The first state, from the trigger. Throws {@link TrackingException} when the run cannot be followed (e.g. the
     * trigger response has no id); the agent then ends the run FAILURE with that message.
     */
    ObjectNode start(TrackStart trigger) throws TrackingException;

    /**
     * One look at the target. Throws {@link TrackingException} with {@code retryable=true} for transient trouble
     * (5xx, 429, I/O): the run is polled again after a back-off, until its deadline. Returns a terminal result for
     * what cannot get better (401/403, 404 of the pipeline, a failed build).
     *
     * @param state       what {@link #start} or the previous poll returned
     * @param authHeaders the headers of the trigger request that authenticate follow-up calls
     */
    PollResult poll(ObjectNode state, java.util.Map<String, String> authHeaders, TargetHttp http) throws TrackingException;

    /** A line for the run log when tracking starts (e.g. "Following CircleCI pipeline 42"); null for none. */
    default String startMessage(ObjectNode state) {
        return null;
    }
}
