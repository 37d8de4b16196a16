package io.portcamel.agent.mapping;

import net.thisptr.jackson.jq.Scope;

import java.nio.file.Path;

/**
 * The mapping file in force. Loaded (and fully validated) at start-up; {@link #reload()} swaps in a new version
 * only when it is valid, so an invalid edit never replaces a working one.
 */
public class MappingRegistry {
    private final Path file;
    private final Scope scope;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MappingRegistry.class);

    private volatile MappingSet current;
    private String lastStamp;

    public MappingRegistry(Path file, Scope scope) throws MappingException {
        this.file = file;
        this.scope = scope;
        this.lastStamp = stamp();
        this.current = MappingSet.load(file, scope);
    }

    public MappingSet current() {
        return current;
    }

    /** The file name as users know it, for messages. */
    public String source() {
        return file.getFileName().toString();
    }

    public Path file() {
        return file;
    }

    /** Loads the file again; keeps the previous version and throws when the new one is invalid. */
    public synchronized MappingSet reload() throws MappingException {
        MappingSet next = MappingSet.load(file, scope);
        current = next;
        return next;
    }

    /**
     * Live edits: reloads when the file's modification time or size changed since the last look (called every few
     * seconds by the mappings-reload route). An invalid edit is logged with file, mapping and field, and the previous
     * version keeps serving until the file is fixed.
     */
    public synchronized void reloadIfChanged() {
        String stamp = stamp();
        if (stamp == null || stamp.equals(lastStamp)) {
            return;
        }
        lastStamp = stamp;
        try {
            MappingSet next = reload();
            LOG.info("{} reloaded: {} mapping(s) in force", source(), next.mappings().size());
        } catch (MappingException e) {
            LOG.error("{} changed but is invalid, the previous version keeps serving: {}", source(), e.getMessage());
        }
    }

    private String stamp() {
        try {
            return java.nio.file.Files.getLastModifiedTime(file).toMillis() + ":" + java.nio.file.Files.size(file);
        } catch (java.io.IOException e) {
            return null; // a file being replaced (editors write a temp file and rename): look again next time
        }
    }
}
