package io.portcamel.agent.config;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Live edits of routes/*.yaml. Camel 4.17's own route reload removes the routes before it loads the new file, so a bad
 * save leaves the agent without them; here a changed file is loaded over the running routes (same ids are replaced),
 * and when that fails the last version that loaded is put back, so the routes keep serving and the log says why.
 * Runs on its own thread: a route must not reload itself.
 */
public class RouteFilesWatcher extends ServiceSupport {
    private static final Logger LOG = LoggerFactory.getLogger(RouteFilesWatcher.class);

    private final CamelContext context;
    private final Path dir;
    private final long periodMillis;
    /** Content that loaded, per file: what is put back after a failed edit. */
    private final Map<Path, String> lastGood = new HashMap<>();
    /** Content seen last, loaded or not: a broken file is reported once, not every tick. */
    private final Map<Path, String> lastSeen = new HashMap<>();
    private ScheduledExecutorService executor;

    public RouteFilesWatcher(CamelContext context, Path dir, long periodMillis) {
        this.context = context;
        this.dir = dir;
        this.periodMillis = periodMillis;
    }

    @Override
    protected void doStart() {
        for (Path file : routeFiles()) {
            read(file).ifPresent(c -> {
                lastGood.put(file, c);
                lastSeen.put(file, c);
            });
        }
        executor = context.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "route-files-watcher");
        executor.scheduleWithFixedDelay(this::checkForChanges, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void doStop() {
        if (executor != null) {
            context.getExecutorServiceManager().shutdown(executor);
        }
    }

    /** One look at the directory; changed files are reloaded (public for tests). */
    public synchronized void checkForChanges() {
        for (Path file : routeFiles()) {
            String content = read(file).orElse(null);
            if (content == null || content.equals(lastSeen.get(file))) {
                continue;
            }
            lastSeen.put(file, content);
            reload(file, content);
        }
    }

    private void reload(Path file, String content) {
        String location = "file:" + file;
        try {
            Set<String> ids = PluginHelper.getRoutesLoader(context).updateRoutes(List.of(ResourceHelper.fromString(location, content)));
            lastGood.put(file, content);
            LOG.info("{} reloaded: routes {}", dir.relativize(file), ids);
        } catch (Exception e) {
            String previous = lastGood.get(file);
            LOG.error("{} is invalid and was not applied ({}); {}", dir.relativize(file), oneLine(e),
                    previous == null ? "it had no routes before" : "its previous routes keep running");
            if (previous != null) {
                try {
                    Resource back = ResourceHelper.fromString(location, previous);
                    PluginHelper.getRoutesLoader(context).updateRoutes(List.of(back));
                } catch (Exception restore) {
                    LOG.error("could not restore the previous routes of {}: {}", dir.relativize(file), oneLine(restore));
                }
            }
        }
    }

    private List<Path> routeFiles() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static java.util.Optional<String> read(Path file) {
        try {
            return java.util.Optional.of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return java.util.Optional.empty(); // being replaced by an editor: next tick
        }
    }

    private static String oneLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = (e == root ? "" : e.getMessage() + " — ") + root.getMessage();
        return m.replace('\n', ' ');
    }
}
