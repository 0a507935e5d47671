package org.savevm.framing.commands;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.savevm.api.DiscardRange;
import org.savevm.api.OutgoingCommands;
import org.savevm.stream.MigrationOutput;

/**
 * Writes QEMU_VM_COMMAND records (0x08, be16 id, be16 length, payload), each followed by a flush as in
 * qemu_savevm_command_send.
 */
public final class CommandWriter implements OutgoingCommands {
    /** MAX_VM_CMD_PACKAGED_SIZE (UINT32_MAX). */
    public static final long MAX_PACKAGED_SIZE = 0xffffffffL;

    private static final int QEMU_VM_COMMAND = 0x08;

    private final MigrationOutput out;

    public CommandWriter(MigrationOutput out) {
        this.out = out;
    }

    private void send(MigrationCommand cmd, byte[] payload) throws IOException {
        if (payload.length > 0xffff) {
            throw new IllegalArgumentException(cmd + " payload of " + payload.length + " bytes exceeds 65535");
        }
        out.putByte(QEMU_VM_COMMAND);
        out.putBe16(cmd.id());
        out.putBe16(payload.length);
        out.putBytes(payload);
        out.flush();
    }

    private static byte[] be(long v, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = bytes - 1; i >= 0; i--) {
            b[i] = (byte) v;
            v >>>= 8;
        }
        return b;
    }

    @Override
    public void openReturnPath() throws IOException {
        send(MigrationCommand.OPEN_RETURN_PATH, new byte[0]);
    }

    @Override
    public void ping(int value) throws IOException {
        send(MigrationCommand.PING, be(value, 4));
    }

    /** The 16-byte form used with postcopy-ram. */
    @Override
    public void postcopyAdvise(long ramPageSizeSummary, long targetPageSize) throws IOException {
        byte[] p = new byte[16];
        System.arraycopy(be(ramPageSizeSummary, 8), 0, p, 0, 8);
        System.arraycopy(be(targetPageSize, 8), 0, p, 8, 8);
        send(MigrationCommand.POSTCOPY_ADVISE, p);
    }

    /** The 0-byte form used when only dirty-bitmaps postcopy is on. */
    @Override
    public void postcopyAdviseBitmapsOnly() throws IOException {
        send(MigrationCommand.POSTCOPY_ADVISE, new byte[0]);
    }

    @Override
    public void postcopyListen() throws IOException {
        send(MigrationCommand.POSTCOPY_LISTEN, new byte[0]);
    }

    @Override
    public void postcopyRun() throws IOException {
        send(MigrationCommand.POSTCOPY_RUN, new byte[0]);
    }

    /**
     * POSTCOPY_RAM_DISCARD commands for one block: version 0, counted name, a 0 byte, then be64 start /
     * be64 length pairs, at most {@link #MAX_DISCARDS_PER_COMMAND} per command.
     */
    @Override
    public void postcopyRamDiscard(String ramBlock, List<DiscardRange> ranges) throws IOException {
        byte[] name = ramBlock.getBytes(StandardCharsets.UTF_8);
        if (name.length > 255) {
            throw new IllegalArgumentException("RAMBlock name longer than 255 bytes: " + ramBlock);
        }
        for (int from = 0; from < ranges.size(); from += MAX_DISCARDS_PER_COMMAND) {
            List<DiscardRange> chunk = ranges.subList(from, Math.min(ranges.size(), from + MAX_DISCARDS_PER_COMMAND));
            byte[] p = new byte[3 + name.length + 16 * chunk.size()];
            p[0] = 0;
            p[1] = (byte) name.length;
            System.arraycopy(name, 0, p, 2, name.length);
            int o = 3 + name.length;
            for (DiscardRange r : chunk) {
                System.arraycopy(be(r.start(), 8), 0, p, o, 8);
                System.arraycopy(be(r.length(), 8), 0, p, o + 8, 8);
                o += 16;
            }
            send(MigrationCommand.POSTCOPY_RAM_DISCARD, p);
        }
    }

    /** PACKAGED: the command with the blob length, then the blob (a nested stream without header). */
    @Override
    public void packaged(byte[] blob) throws IOException {
        send(MigrationCommand.PACKAGED, be(blob.length, 4));
        out.putBytes(blob);
        out.flush();
    }

    @Override
    public void enableColo() throws IOException {
        send(MigrationCommand.ENABLE_COLO, new byte[0]);
    }

    @Override
    public void postcopyResume() throws IOException {
        send(MigrationCommand.POSTCOPY_RESUME, new byte[0]);
    }

    /** RECV_BITMAP: u8 length + block name. */
    @Override
    public void receivedBitmapRequest(String ramBlock) throws IOException {
        byte[] name = ramBlock.getBytes(StandardCharsets.UTF_8);
        if (name.length > 255) {
            throw new IllegalArgumentException("RAMBlock name longer than 255 bytes: " + ramBlock);
        }
        byte[] p = new byte[name.length + 1];
        p[0] = (byte) name.length;
        System.arraycopy(name, 0, p, 1, name.length);
        send(MigrationCommand.RECV_BITMAP, p);
    }
}
