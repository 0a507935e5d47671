package org.savevm.framing.walk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.savevm.api.DiscardRange;
import org.savevm.framing.commands.MigrationCommand;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * One QEMU_VM_COMMAND record, decoded through the one table ({@link MigrationCommand}'s ids and
 * lengths) with QEMU 7.2's checks of each payload. The fields a command does not carry are 0 or null.
 *
 * @param offset     where the 0x08 byte was
 * @param length     the payload length
 * @param value      PING's value (be32, unsigned) or PACKAGED's blob length
 * @param advice     POSTCOPY_ADVISE's 16-byte payload, null for the 0-byte advise
 * @param blockName  POSTCOPY_RAM_DISCARD's or RECV_BITMAP's block name
 * @param ranges     POSTCOPY_RAM_DISCARD's ranges
 */
public record StreamCommand(MigrationCommand command, long offset, int length, long value, PostcopyAdvice advice,
        String blockName, List<DiscardRange> ranges) {

    /** The 16-byte POSTCOPY_ADVISE payload: the source's page size summary and target page size. */
    public record PostcopyAdvice(long pageSizeSummary, long targetPageSize) {
    }

    /** Reads the command whose 0x08 byte was at {@code at}: be16 id, be16 length, the payload. */
    public static StreamCommand read(MigrationInput in, long at) throws IOException {
        int id = in.getBe16();
        int len = in.getBe16();
        MigrationCommand cmd = MigrationCommand.ofId(id);
        if (cmd == null) {
            throw new MigrationStreamException(String.format("MIG_CMD 0x%x unknown (len 0x%x)", id, len), at);
        }
        if (cmd.length() != -1 && cmd.length() != len) {
            throw new MigrationStreamException(cmd + " received bad length: cmd " + id + " len " + len + ", expected "
                    + cmd.length(), at);
        }
        // read whole (at most 65535 bytes) and parsed from memory: a wrong inner length cannot desynchronise
        ByteBuffer p = ByteBuffer.wrap(in.readBytes(len));
        switch (cmd) {
        case PING:
        case PACKAGED:
            return new StreamCommand(cmd, at, len, Integer.toUnsignedLong(p.getInt()), null, null, null);
        case POSTCOPY_ADVISE:
            if (len == 0) {
                return new StreamCommand(cmd, at, len, 0, null, null, null);
            }
            if (len != 16) {
                throw new MigrationStreamException("CMD_POSTCOPY_ADVISE invalid length (" + len + ")", at);
            }
            return new StreamCommand(cmd, at, len, 0, new PostcopyAdvice(p.getLong(), p.getLong()), null, null);
        case POSTCOPY_RAM_DISCARD:
            return discard(cmd, len, p, at);
        case RECV_BITMAP: {
            if (len < 1) {
                throw new MigrationStreamException("RECV_BITMAP: failed to read block name", at);
            }
            int n = p.get() & 0xff;
            if (n == 0) {
                throw new MigrationStreamException("RECV_BITMAP: failed to read block name", at);
            }
            if (len != n + 1) {
                throw new MigrationStreamException("RECV_BITMAP: invalid payload length (" + len + ")", at);
            }
            byte[] name = new byte[n];
            p.get(name);
            return new StreamCommand(cmd, at, len, 0, null, new String(name, StandardCharsets.UTF_8), null);
        }
        default:
            return new StreamCommand(cmd, at, len, 0, null, null, null);
        }
    }

    private static StreamCommand discard(MigrationCommand cmd, int len, ByteBuffer p, long at) throws IOException {
        if (len < 1 + 1 + 1 + 1 + 2 * 8) {
            throw new MigrationStreamException("CMD_POSTCOPY_RAM_DISCARD invalid length (" + len + ")", at);
        }
        int version = p.get() & 0xff;
        if (version != 0) {
            throw new MigrationStreamException("CMD_POSTCOPY_RAM_DISCARD invalid version (" + version + ")", at);
        }
        int n = p.get() & 0xff;
        if (2 + n + 1 > len) {
            throw new MigrationStreamException("CMD_POSTCOPY_RAM_DISCARD block name of " + n
                    + " bytes runs past the command length " + len, at);
        }
        byte[] name = new byte[n];
        p.get(name);
        int nil = p.get() & 0xff;
        if (nil != 0) {
            throw new MigrationStreamException("CMD_POSTCOPY_RAM_DISCARD missing nil (" + nil + ")", at);
        }
        int rest = len - 3 - n;
        if (rest % 16 != 0) {
            throw new MigrationStreamException("CMD_POSTCOPY_RAM_DISCARD invalid length (" + len + ")", at);
        }
        List<DiscardRange> ranges = new ArrayList<>(rest / 16);
        for (int i = 0; i < rest / 16; i++) {
            ranges.add(new DiscardRange(p.getLong(), p.getLong()));
        }
        return new StreamCommand(cmd, at, len, 0, null, new String(name, StandardCharsets.UTF_8), List.copyOf(ranges));
    }
}
