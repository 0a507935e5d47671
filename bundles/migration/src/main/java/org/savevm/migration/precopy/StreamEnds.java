package org.savevm.migration.precopy;

import java.io.IOException;

import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/** How the orchestrator starts and loads streams: the savevm core, with or without the return-path commands. */
public final class StreamEnds {
    private StreamEnds() {
    }

    /** The source: header, configuration, [OPEN_RETURN_PATH, PING(1)], START sections. */
    public interface Starter {
        /**
         * With {@code postcopyAdvise} (capability postcopy-ram) also POSTCOPY_ADVISE; the returned outgoing
         * stream then implements {@code org.savevm.core.commands.PostcopyOutgoing}.
         */
        SaveVm.Outgoing begin(MigrationOutput out, MigrationSettings settings, boolean openReturnPath,
                boolean postcopyAdvise) throws IOException;
    }

    /** The destination's handling of the commands the loader meets: return path and postcopy. */
    public interface ReturnPathSink {
        void open() throws IOException;

        void ping(int value) throws IOException;

        default void postcopyAdvise() throws IOException {
        }

        default void postcopyDiscard(String block, long start, long length) throws IOException {
            throw new IOException("POSTCOPY_RAM_DISCARD received, but this destination does not do postcopy");
        }

        default void postcopyListen() throws IOException {
            throw new IOException("POSTCOPY_LISTEN received, but this destination does not do postcopy");
        }

        default void postcopyRun() throws IOException {
        }
    }

    /** The destination: loads a whole stream, telling {@code returnPath} about OPEN_RETURN_PATH and PING. */
    public interface Receiver {
        void load(MigrationInput in, MigrationSettings settings, ReturnPathSink returnPath) throws IOException;
    }

    /** Plain SaveVm: no return path commands (refused if asked for). */
    public static Starter of(SaveVm saveVm) {
        return (out, settings, rp, advise) -> {
            if (rp || advise) {
                throw new IOException("the savevm core in use cannot write return path commands");
            }
            return saveVm.beginSave(out, settings);
        };
    }

    public static Receiver receiverOf(SaveVm saveVm) {
        return (in, settings, rp) -> saveVm.load(in, settings);
    }
}
