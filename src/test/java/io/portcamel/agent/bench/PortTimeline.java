package io.portcamel.agent.bench;

import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.http.RequestListener;
import com.github.tomakehurst.wiremock.http.Response;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When the simulated Port answered each run-log call of the agent (a WireMock request listener on FakePort's server,
 * called once the answer is ready): the five port-agent log lines of a plain webhook run, in order, give the phases
 * of a run from outside the agent, without touching its code.
 */
final class PortTimeline implements RequestListener {
    /** The log lines of a plain async webhook run, in the order the agent sends them (RunDispatcher). */
    static final int RECEIVED = 1;
    static final int PREPARING = 2;
    static final int SENDING = 3;
    static final int COMPLETED = 4;
    static final int FINISHED = 5;

    private static final Pattern RUN_LOG = Pattern.compile("^/v1/actions/runs/([^/?]+)/logs");

    record Event(long nanos, String runId, int line) { }

    private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();

    @Override
    public void requestReceived(Request request, Response response) {
        long now = System.nanoTime();
        Matcher m = RUN_LOG.matcher(request.getUrl());
        if (!m.find() || !"POST".equals(request.getMethod().getName())) {
            return;
        }
        // the agent sends a run's queued lines in one call (joined by new lines): each line counts when it arrives
        String body = request.getBodyAsString();
        String[] markers = {"An action message has been received", "Preparing the payload for the request", "Sending the request",
            "Action invocation ", "Port agent finished processing"};
        for (int line = RECEIVED; line <= FINISHED; line++) {
            if (body.contains(markers[line - 1])) {
                events.add(new Event(now, m.group(1), line));
            }
        }
    }

    /** How many runs whose id starts with {@code prefix} have their last log line (FINISHED) at Port. */
    int finished(String prefix) {
        int n = 0;
        for (Event e : events) {
            if (e.line() == FINISHED && e.runId().startsWith(prefix)) n++;
        }
        return n;
    }

    /** runId → [unused, t(line 1) … t(line 5)] (0 where missing), then forgets everything seen so far. */
    Map<String, long[]> drain() {
        Map<String, long[]> out = new HashMap<>();
        List<Event> all = new ArrayList<>();
        Event e;
        while ((e = events.poll()) != null) {
            all.add(e);
        }
        for (Event ev : all) {
            out.computeIfAbsent(ev.runId(), k -> new long[6])[ev.line()] = ev.nanos();
        }
        return out;
    }
}
