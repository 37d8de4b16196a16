package io.portcamel.agent.testsupport;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Contract check for plain (stub-based) WireMock servers that are not a {@link FakeHttpServer},
 * so ad-hoc fakes of ADO or other targets get the same spec validation as the stateful fakes.
 */
public final class WireMockContract {

    private WireMockContract() {
    }

    /** Violations of every request {@code server} has received, oldest first (needs the request journal). */
    public static List<String> violations(WireMockServer server, ContractValidator validator) {
        List<ServeEvent> events = new ArrayList<>(server.getAllServeEvents());
        Collections.reverse(events); // the journal lists newest first
        List<String> out = new ArrayList<>();
        for (ServeEvent e : events) {
            out.addAll(validator.validate(e.getRequest()));
        }
        return out;
    }

    /** Throws listing every violation, if any. */
    public static void assertNoViolations(WireMockServer server, ContractValidator validator) {
        List<String> v = violations(server, validator);
        if (!v.isEmpty()) {
            throw new AssertionError(v.size() + " request(s) violate " + validator.specPath() + ":\n  "
                    + String.join("\n  ", v));
        }
    }
}
