package org.savevm.framing.commands;

/**
 * QEMU 7.2's enum qemu_vm_cmd with mig_cmd_args' lengths (-1 = variable). ENABLE_COLO has no table
 * entry in 7.2, so its length is the zero the table is initialised with.
 */
public enum MigrationCommand {
    OPEN_RETURN_PATH(1, 0),
    PING(2, 4),
    POSTCOPY_ADVISE(3, -1),
    POSTCOPY_LISTEN(4, 0),
    POSTCOPY_RUN(5, 0),
    POSTCOPY_RAM_DISCARD(6, -1),
    PACKAGED(7, 4),
    ENABLE_COLO(8, 0),
    POSTCOPY_RESUME(9, 0),
    RECV_BITMAP(10, -1);

    /** MIG_CMD_MAX: ids from here on are unknown. */
    public static final int MAX = 11;

    private final int id;
    private final int length;

    MigrationCommand(int id, int length) {
        this.id = id;
        this.length = length;
    }

    public int id() {
        return id;
    }

    /** The fixed payload length, or -1 when variable. */
    public int length() {
        return length;
    }

    /** The command with that id, or null for 0 (INVALID) and ids ≥ MAX. */
    public static MigrationCommand ofId(int id) {
        for (MigrationCommand c : values()) {
            if (c.id == id) {
                return c;
            }
        }
        return null;
    }
}
