package org.savevm.api;

import java.io.IOException;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * QEMU_VM_COMMAND records a source writes into its stream (qemu_savevm_command_send and its callers),
 * each flushed at once. Obtained from {@link SaveVm#commands}; the savevm core owns their wire format.
 */
@ProviderType
public interface OutgoingCommands {
    /** MAX_DISCARDS_PER_COMMAND in postcopy-ram.c: {@link #postcopyRamDiscard} splits longer lists. */
    int MAX_DISCARDS_PER_COMMAND = 12;

    void openReturnPath() throws IOException;

    void ping(int value) throws IOException;

    /** POSTCOPY_ADVISE, the 16-byte form used with postcopy-ram. */
    void postcopyAdvise(long ramPageSizeSummary, long targetPageSize) throws IOException;

    /** POSTCOPY_ADVISE, the 0-byte form used when only dirty-bitmaps postcopy is on. */
    void postcopyAdviseBitmapsOnly() throws IOException;

    void postcopyListen() throws IOException;

    void postcopyRun() throws IOException;

    /** POSTCOPY_RAM_DISCARD commands for one RAMBlock, at most {@link #MAX_DISCARDS_PER_COMMAND} ranges each. */
    void postcopyRamDiscard(String ramBlock, List<DiscardRange> ranges) throws IOException;

    /** PACKAGED: the command with the blob length, then the blob (a nested stream without header). */
    void packaged(byte[] blob) throws IOException;

    void enableColo() throws IOException;

    void postcopyResume() throws IOException;

    /** RECV_BITMAP for one RAMBlock. */
    void receivedBitmapRequest(String ramBlock) throws IOException;
}
