package org.savevm.core.loadvm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.savevm.api.DiscardRange;
import org.savevm.api.IncomingCommands;
import org.savevm.api.MigrationSettings;
import org.savevm.core.commands.MigrationCommand;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * loadvm_process_command: reads one QEMU_VM_COMMAND record, checks its id and length against QEMU
 * 7.2's table and hands it to the destination's {@link IncomingCommands}. The payload (at most 65535
 * bytes) is read whole and parsed from memory, so a wrong inner length cannot desynchronise the stream.
 */
final class CommandDispatcher {
    /** POSTCOPY_LISTEN was processed: the stream is in postcopy, and no vmdesc trailer will follow. */
    private boolean listened;

    boolean listened() {
        return listened;
    }

    /** Callback for the nested stream of a PACKAGED command. */
    interface PackageLoader {
        void loadPackage(MigrationInput in, long length, long commandOffset) throws IOException;
    }

    private final IncomingCommands commands;
    private final MigrationSettings settings;
    private final int targetPageSize;
    private final LoadLimits limits;
    private boolean returnPathOpen;

    CommandDispatcher(IncomingCommands commands, MigrationSettings settings, int targetPageSize, LoadLimits limits) {
        this.commands = commands;
        this.settings = settings;
        this.targetPageSize = targetPageSize;
        this.limits = limits;
    }

    /** Reads and processes the command whose 0x08 byte was at {@code at}. */
    void process(MigrationInput in, long at, PackageLoader packages) throws IOException {
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
        long payloadAt = in.position();
        ByteBuffer p = ByteBuffer.wrap(in.readBytes(len));
        try {
            dispatch(cmd, len, p, in, at, packages);
        } catch (MigrationStreamException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new MigrationStreamException("command " + cmd + " failed: " + e.getMessage(), payloadAt, e);
        }
    }

    private void dispatch(MigrationCommand cmd, int len, ByteBuffer p, MigrationInput in, long at,
            PackageLoader packages) throws IOException {
        switch (cmd) {
        case OPEN_RETURN_PATH:
            if (returnPathOpen) {
                throw new MigrationStreamException("CMD_OPEN_RETURN_PATH called when RP already open", at);
            }
            returnPathOpen = true;
            commands.openReturnPath();
            break;
        case PING: {
            int value = p.getInt();
            if (!returnPathOpen) {
                throw new MigrationStreamException(String.format("CMD_PING (0x%x) received with no return path",
                        value), at);
            }
            commands.ping(value);
            break;
        }
        case POSTCOPY_ADVISE:
            advise(len, p, at);
            break;
        case POSTCOPY_LISTEN:
            commands.postcopyListen();
            listened = true;
            break;
        case POSTCOPY_RUN:
            commands.postcopyRun();
            break;
        case POSTCOPY_RAM_DISCARD:
            discard(len, p, at);
            break;
        case PACKAGED: {
            long length = Integer.toUnsignedLong(p.getInt());
            if (length > limits.maxPackagedLength()) {
                throw new MigrationStreamException("Unreasonably large packaged state: " + length + " (limit "
                        + limits.maxPackagedLength() + ")", at);
            }
            packages.loadPackage(in, length, at);
            break;
        }
        case ENABLE_COLO:
            commands.enableColo();
            break;
        case POSTCOPY_RESUME:
            commands.postcopyResume();
            break;
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
            commands.receivedBitmapRequest(new String(name, StandardCharsets.UTF_8));
            break;
        }
        default:
            throw new IllegalStateException(cmd.toString());
        }
    }

    private void advise(int len, ByteBuffer p, long at) throws IOException {
        boolean postcopyRam = settings.capability("postcopy-ram");
        switch (len) {
        case 0:
            if (postcopyRam) {
                throw new MigrationStreamException("RAM postcopy is enabled but have 0 byte advise", at);
            }
            commands.postcopyAdvise(false, 0, 0);
            return;
        case 16:
            if (!postcopyRam) {
                throw new MigrationStreamException("RAM postcopy is disabled but have 16 byte advise", at);
            }
            long summary = p.getLong();
            long remoteTps = p.getLong();
            if (remoteTps != targetPageSize) {
                throw new MigrationStreamException("Postcopy needs matching target page sizes (s=" + remoteTps + " d="
                        + targetPageSize + ")", at);
            }
            commands.postcopyAdvise(true, summary, remoteTps);
            return;
        default:
            throw new MigrationStreamException("CMD_POSTCOPY_ADVISE invalid length (" + len + ")", at);
        }
    }

    private void discard(int len, ByteBuffer p, long at) throws IOException {
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
        commands.postcopyRamDiscard(new String(name, StandardCharsets.UTF_8), ranges);
    }
}
