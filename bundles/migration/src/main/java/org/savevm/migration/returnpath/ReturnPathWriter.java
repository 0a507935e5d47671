package org.savevm.migration.returnpath;

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

    /** REQ_PAGES_ID: a page the destination's guest waits for (be64 start, be32 length, counted block name). */
    public synchronized void requestPages(String block, long start, int length) throws IOException {
        byte[] name = block.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 13 + name.length);
        b.putShort((short) ReturnPathMessage.REQ_PAGES_ID).putShort((short) (13 + name.length)).putLong(start)
                .putInt(length).put((byte) name.length).put(name).flip();
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /**
     * RECV_BITMAP (migrate_send_rp_recv_bitmap): the message with the counted block name, then outside it
     * be64 size, the little-endian received bitmap, be64 RAMBLOCK_RECV_BITMAP_ENDING.
     */
    public synchronized void recvBitmap(String block, byte[] littleEndianBitmap) throws IOException {
        byte[] name = block.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 1 + name.length + 8 + littleEndianBitmap.length + 8);
        b.putShort((short) ReturnPathMessage.RECV_BITMAP).putShort((short) (1 + name.length)).put((byte) name.length)
                .put(name).putLong(littleEndianBitmap.length).put(littleEndianBitmap)
                .putLong(ReturnPathMessage.RECV_BITMAP_ENDING).flip();
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /** RESUME_ACK(1): the destination took POSTCOPY_RESUME and runs postcopy again. */
    public void resumeAck() throws IOException {
        send(ReturnPathMessage.RESUME_ACK, ReturnPathMessage.RESUME_ACK_VALUE);
    }

    private synchronized void send(int type, int value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8);
        b.putShort((short) type).putShort((short) 4).putInt(value).flip();
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }
}
