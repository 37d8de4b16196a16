package io.portcamel.agent.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What both benchmarks read about the machine and the checkout they run on. */
final class Machine {
    private Machine() { }

    /** A {@code /proc/<pid>/status} field in kB (VmRSS:, VmHWM:…), or -1 (not Linux, or the process is gone). */
    static long statusKb(String pid, String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return -1;
    }

    /** git's answer in the working directory, or "?". */
    static String git(String... args) {
        try {
            List<String> cmd = new ArrayList<>(List.of("git"));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? out : "?";
        } catch (Exception e) {
            return "?";
        }
    }

    static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    static int intProp(String name, int def) {
        return Integer.parseInt(System.getProperty(name, String.valueOf(def)).trim());
    }

    /** After {@code seconds}: {@code onTimeout} (partial report, clean-up), then the JVM is halted with 3. */
    static void watchdog(int seconds, Runnable onTimeout) {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(java.util.concurrent.TimeUnit.SECONDS.toMillis(seconds));
            } catch (InterruptedException e) {
                return;
            }
            onTimeout.run();
            System.out.flush();
            Runtime.getRuntime().halt(3);
        }, "bench-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
