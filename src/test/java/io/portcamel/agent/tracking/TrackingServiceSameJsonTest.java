package io.portcamel.agent.tracking;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A poll that found nothing new leaves the stored JSON alone: "nothing new" must not depend on Jackson's number types. */
class TrackingServiceSameJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void numbersAreComparedByValueAndEverythingElseExactly() throws Exception {
        ObjectNode stored = (ObjectNode) JSON.readTree("{\"number\":7,\"startedAt\":1700000000000,\"jobs\":{\"j1\":\"running\"},\"x\":1.50}");
        ObjectNode polled = JSON.createObjectNode().put("number", 7L).put("startedAt", 1_700_000_000_000L);
        polled.putObject("jobs").put("j1", "running");
        polled.put("x", 1.5);
        assertTrue(TrackingService.sameJson(polled, stored), "7 as a long is the stored int 7");

        assertFalse(TrackingService.sameJson(polled.deepCopy().put("number", 8L), stored));
        ObjectNode jobChanged = polled.deepCopy();
        jobChanged.with("jobs").put("j1", "success");
        assertFalse(TrackingService.sameJson(jobChanged, stored));
        assertFalse(TrackingService.sameJson(polled.deepCopy().put("number", "7"), stored), "a string is not a number");
        assertFalse(TrackingService.sameJson(polled.deepCopy().put("extra", true), stored));
        assertFalse(TrackingService.sameJson(null, stored));
        assertTrue(TrackingService.sameJson(null, null));
    }
}
