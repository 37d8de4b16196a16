package io.portcamel.agent.security;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostAllowlistTest {
    @Test
    void noListAllowsAnyHostAsPortAgentDoes() {
        assertNull(HostAllowlist.refusal("https://anything.example/x", List.of(), List.of()));
    }

    @Test
    void hostsWildcardsAndPorts() {
        List<String> global = List.of("circleci.com", "*.dev.azure.com", "127.0.0.1:8443");
        assertNull(HostAllowlist.refusal("https://circleci.com/api/v2/project/gh%2Fa%2Fb/pipeline", global, List.of()));
        assertNull(HostAllowlist.refusal("https://org.dev.azure.com/p", global, List.of()));
        assertNull(HostAllowlist.refusal("https://127.0.0.1:8443/p", global, List.of()));
        assertNotNull(HostAllowlist.refusal("https://127.0.0.1:9000/p", global, List.of()));
        assertNotNull(HostAllowlist.refusal("https://dev.azure.com.evil.example/p", global, List.of()));
        assertNotNull(HostAllowlist.refusal("https://circleci.com.evil.example/p", global, List.of()));
        // userinfo tricks do not change the host
        assertTrue(HostAllowlist.refusal("https://circleci.com@evil.example/p", global, List.of()).contains("evil.example"));
    }

    @Test
    void bothListsMustAgree() {
        assertNotNull(HostAllowlist.refusal("https://circleci.com/x", List.of("circleci.com"), List.of("gitlab.com")));
        assertNull(HostAllowlist.refusal("https://gitlab.com/x", List.of(), List.of("gitlab.com")));
    }
}
