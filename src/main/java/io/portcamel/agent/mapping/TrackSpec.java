package io.portcamel.agent.mapping;

import java.util.List;
import java.util.Set;

/**
 * A mapping's {@code track} field: which tracker follows the pipeline the mapping triggers, and how long at most.
 * {@code params} are jq templates over the Port message, rendered once at trigger time for the tracker.
 */
public record TrackSpec(String type, Long deadlineSeconds, Long pollIntervalSeconds, Long maxPollIntervalSeconds,
                        Mapping.Template.Obj params) {

    /** The trackers the agent ships (see io.portcamel.agent.tracking). */
    public static final List<String> TYPES = List.of("circleci", "azure-devops", "azure-devops-webhook", "workorder");
    static final Set<String> FIELDS = Set.of("type", "deadlineSeconds", "pollIntervalSeconds", "maxPollIntervalSeconds", "params");
}
