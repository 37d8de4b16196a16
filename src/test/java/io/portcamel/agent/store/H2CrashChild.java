package io.portcamel.agent.store;

/** Run by {@link H2TrackingStoreTest}: stores and reschedules runs, then dies without closing anything. */
public final class H2CrashChild {
    static final int RUNS = 50;

    public static void main(String[] args) {
        MutableClock clock = new MutableClock(TrackingStoreContract.T0);
        TrackingStore store = TrackingStore.open(new StoreSettings(args[0], null, null, 50, 60, 2, "doomed"),
                TrackingStoreContract.SECRET, clock);
        for (int i = 0; i < RUNS; i++) {
            store.insert(TrackingStoreContract.run("crash-" + i, TrackingStoreContract.T0));
        }
        store.leaseDue(RUNS).forEach(r -> store.reschedule(r.runId(), r.state().put("phase", "running"), r.reported(),
                TrackingStoreContract.T0 + 1_000, 1_000));
        System.out.println("COMMITTED");
        System.out.flush();
        Runtime.getRuntime().halt(137); // no shutdown hooks, no close: as a kill -9
    }
}
