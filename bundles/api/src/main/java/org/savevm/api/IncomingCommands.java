package org.savevm.api;

import java.io.IOException;
import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;
import org.savevm.stream.MigrationInput;

/**
 * What a destination does with the QEMU_VM_COMMAND records of an incoming stream. The savevm core has
 * already checked ids and lengths when these are called. The defaults suit loading a file: no return
 * path (pongs are dropped), postcopy commands other than ADVISE and RUN refused.
 */
@ConsumerType
public interface IncomingCommands {
    /** Defaults only. */
    IncomingCommands NONE = new IncomingCommands() {
    };

    /** OPEN_RETURN_PATH. */
    default void openReturnPath() throws IOException {
    }

    /** PING(value): answer PONG(value) on the return path. Only called after OPEN_RETURN_PATH. */
    default void ping(int value) throws IOException {
    }

    /**
     * POSTCOPY_ADVISE. {@code ramPostcopy} is false for the 0-byte form (dirty-bitmaps postcopy only);
     * then both sizes are 0. The target page size has already been compared.
     */
    default void postcopyAdvise(boolean ramPostcopy, long ramPageSizeSummary, long targetPageSize)
            throws IOException {
    }

    /** POSTCOPY_LISTEN: start the listen thread. */
    default void postcopyListen() throws IOException {
        throw new IOException("POSTCOPY_LISTEN received, but this destination does not do postcopy");
    }

    /**
     * POSTCOPY_RUN: start the guest. Unlike QEMU, where the main thread quits and the listen thread reads
     * the rest, the loader keeps reading the stream in the calling thread; an orchestrator runs the load
     * in its listen thread.
     */
    default void postcopyRun() throws IOException {
    }

    /** POSTCOPY_RAM_DISCARD for one RAMBlock. */
    default void postcopyRamDiscard(String ramBlock, List<DiscardRange> ranges) throws IOException {
        throw new IOException("POSTCOPY_RAM_DISCARD received, but this destination does not do postcopy");
    }

    /** ENABLE_COLO. */
    default void enableColo() throws IOException {
        throw new IOException("ENABLE_COLO received, but COLO is not supported");
    }

    /**
     * The stream broke while the guest runs here in postcopy (QEMU's postcopy_pause_incoming): wait for the
     * source to reconnect ({@code migrate-recover}) and return the new channel, on which the load goes on
     * with the next record (no header). The default cannot recover and throws {@code cause}.
     */
    default MigrationInput postcopyPaused(IOException cause) throws IOException {
        throw cause;
    }

    /** POSTCOPY_RESUME. */
    default void postcopyResume() throws IOException {
        throw new IOException("POSTCOPY_RESUME received, but this destination does not do postcopy recovery");
    }

    /** RECV_BITMAP: send the received bitmap of {@code ramBlock} on the return path. */
    default void receivedBitmapRequest(String ramBlock) throws IOException {
        throw new IOException("RECV_BITMAP received, but this destination does not do postcopy recovery");
    }
}
