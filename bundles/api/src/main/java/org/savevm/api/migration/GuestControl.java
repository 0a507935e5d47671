package org.savevm.api.migration;

/**
 * What the orchestrator does to the guest: stop it for the switchover, start it again after a failure
 * (source) or a successful load (destination), and slow it for auto-converge.
 */
public interface GuestControl {
    /** No guest at all (tests, or a platform without the machine bundle). */
    GuestControl NONE = new GuestControl() {
        @Override
        public boolean running() {
            return false;
        }

        @Override
        public void stop() {
        }

        @Override
        public void start() {
        }
    };

    boolean running();

    /** Stops the guest (workload and virtual clock); returns once it no longer writes. */
    void stop();

    void start();

    /** QEMU's cpu_throttle_set; 0 stops throttling. */
    default void setThrottlePercent(int percent) {
    }

    default int throttlePercent() {
        return 0;
    }
}
