package org.savevm.core.loadvm;

import java.io.IOException;

import org.savevm.api.DiscardRange;
import org.savevm.api.IncomingCommands;
import org.savevm.api.MigrationSettings;
import org.savevm.framing.walk.StreamCommand;
import org.savevm.stream.MigrationStreamException;
import org.savevm.stream.ProgrammingErrors;

/**
 * loadvm_process_command: the destination's checks of one command the walker decoded (return path
 * open, postcopy advise against the local settings) and its hand-over to {@link IncomingCommands}.
 */
final class CommandDispatcher {
    /** POSTCOPY_LISTEN was processed: the stream is in postcopy, and no vmdesc trailer will follow. */
    private boolean listened;

    boolean listened() {
        return listened;
    }

    /** QEMU's PostcopyState (postcopy-ram.h); the number is what its messages print. */
    enum PostcopyState {
        NONE, ADVISE, DISCARD, LISTENING, RUNNING;
    }

    private PostcopyState postcopyState = PostcopyState.NONE;

    PostcopyState postcopyState() {
        return postcopyState;
    }

    /** postcopy_state_set: the new state, returning the old one. */
    private PostcopyState postcopyStateSet(PostcopyState to) {
        PostcopyState old = postcopyState;
        postcopyState = to;
        return old;
    }

    private static MigrationStreamException wrongState(String command, PostcopyState ps, long at) {
        return new MigrationStreamException("CMD_" + command + " in wrong postcopy state (" + ps.ordinal() + ")", at);
    }

    private final IncomingCommands commands;
    private final MigrationSettings settings;
    private final int targetPageSize;
    private boolean returnPathOpen;

    CommandDispatcher(IncomingCommands commands, MigrationSettings settings, int targetPageSize) {
        this.commands = commands;
        this.settings = settings;
        this.targetPageSize = targetPageSize;
    }

    /** Processes one decoded command (a PACKAGED blob is walked by the walker after this). */
    void process(StreamCommand c) throws IOException {
        try {
            dispatch(c);
        } catch (MigrationStreamException e) {
            throw e;
        } catch (RuntimeException e) {
            if (ProgrammingErrors.is(e)) {
                throw e; // a bug, not a bad stream
            }
            throw new MigrationStreamException("command " + c.command() + " failed: " + e.getMessage(),
                    c.offset() + 5, e);
        } catch (IOException e) {
            throw new MigrationStreamException("command " + c.command() + " failed: " + e.getMessage(),
                    c.offset() + 5, e);
        }
    }

    private void dispatch(StreamCommand c) throws IOException {
        long at = c.offset();
        switch (c.command()) {
        case OPEN_RETURN_PATH:
            if (returnPathOpen) {
                throw new MigrationStreamException("CMD_OPEN_RETURN_PATH called when RP already open", at);
            }
            returnPathOpen = true;
            commands.openReturnPath();
            break;
        case PING:
            if (!returnPathOpen) {
                throw new MigrationStreamException(String.format("CMD_PING (0x%x) received with no return path",
                        (int) c.value()), at);
            }
            commands.ping((int) c.value());
            break;
        case POSTCOPY_ADVISE:
            advise(c);
            break;
        case POSTCOPY_LISTEN: {
            PostcopyState ps = postcopyStateSet(PostcopyState.LISTENING);
            if (ps != PostcopyState.ADVISE && ps != PostcopyState.DISCARD) {
                throw wrongState("POSTCOPY_LISTEN", ps, at);
            }
            commands.postcopyListen();
            listened = true;
            break;
        }
        case POSTCOPY_RUN: {
            PostcopyState ps = postcopyStateSet(PostcopyState.RUNNING);
            if (ps != PostcopyState.LISTENING) {
                throw wrongState("POSTCOPY_RUN", ps, at);
            }
            commands.postcopyRun();
            break;
        }
        case POSTCOPY_RAM_DISCARD:
            // loadvm_postcopy_ram_handle_discard: only between ADVISE and LISTEN
            if (postcopyState == PostcopyState.ADVISE) {
                postcopyState = PostcopyState.DISCARD;
            } else if (postcopyState != PostcopyState.DISCARD) {
                throw wrongState("POSTCOPY_RAM_DISCARD", postcopyState, at);
            }
            commands.postcopyRamDiscard(c.blockName(), c.ranges());
            break;
        case PACKAGED:
            break;
        case ENABLE_COLO:
            commands.enableColo();
            break;
        case POSTCOPY_RESUME:
            commands.postcopyResume();
            break;
        case RECV_BITMAP:
            commands.receivedBitmapRequest(c.blockName());
            break;
        default:
            throw new IllegalStateException(c.command().toString());
        }
    }

    private void advise(StreamCommand c) throws IOException {
        boolean postcopyRam = settings.capability("postcopy-ram");
        long at = c.offset();
        PostcopyState ps = postcopyStateSet(PostcopyState.ADVISE);
        if (ps != PostcopyState.NONE) {
            throw wrongState("POSTCOPY_ADVISE", ps, at);
        }
        if (c.advice() == null) {
            if (postcopyRam) {
                throw new MigrationStreamException("RAM postcopy is enabled but have 0 byte advise", at);
            }
            commands.postcopyAdvise(false, 0, 0);
            return;
        }
        if (!postcopyRam) {
            throw new MigrationStreamException("RAM postcopy is disabled but have 16 byte advise", at);
        }
        long remoteTps = c.advice().targetPageSize();
        if (remoteTps != targetPageSize) {
            throw new MigrationStreamException("Postcopy needs matching target page sizes (s=" + remoteTps + " d="
                    + targetPageSize + ")", at);
        }
        commands.postcopyAdvise(true, c.advice().pageSizeSummary(), remoteTps);
    }
}
