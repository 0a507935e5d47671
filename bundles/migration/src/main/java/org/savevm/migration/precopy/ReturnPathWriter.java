package org.savevm.migration.precopy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/** The destination's end of the return path: PONG and SHUT, as QEMU's migrate_send_rp_* write them. */
public final class ReturnPathWriter {
    private final WritableByteChannel channel;

    public ReturnPathWriter(WritableByteChannel channel) {
        this.channel = channel;
    }

    public void pong(int value) throws IOException {
        send(ReturnPathMessage.PONG, value);
    }

    /** SHUT(0) after a complete load, SHUT(1) after a failed one. */
    public void shut(boolean failed) throws IOException {
        send(ReturnPathMessage.SHUT, failed ? 1 : 0);
    }

    private synchronized void send(int type, int value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8);
        b.putShort((short) type).putShort((short) 4).putInt(value).flip();
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }
}
