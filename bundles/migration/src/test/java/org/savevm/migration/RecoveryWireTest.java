package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.migration.returnpath.ReturnPathReader;
import org.savevm.migration.returnpath.ReturnPathWriter;

/** The recovery messages of the return path as QEMU 7.2 lays them out, and the source's checks of them. */
class RecoveryWireTest {
    /** A ram source with one 16-page block "pc.ram": its bitmap is 8 bytes on the wire. */
    static final class Ram implements RamPostcopySource {
        final Map<String, byte[]> reloaded = new ConcurrentHashMap<>();

        @Override
        public List<PageRange> startPostcopy() {
            return List.of();
        }

        @Override
        public void requestPages(String idstr, long start, long length) {
        }

        @Override
        public boolean inPostcopy() {
            return true;
        }

        @Override
        public long receivedBitmapBytes(String idstr) {
            return idstr.equals("pc.ram") ? 8 : -1;
        }

        @Override
        public void reloadDirtyBitmap(String idstr, byte[] le) {
            reloaded.put(idstr, le);
        }
    }

    private static byte[] written(ReturnPathWriterCall call) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        call.write(new ReturnPathWriter(Channels.newChannel(bytes)));
        return bytes.toByteArray();
    }

    interface ReturnPathWriterCall {
        void write(ReturnPathWriter w) throws IOException;
    }

    @Test
    void recvBitmapIsTheMessageThenSizeBitmapAndEndMark() throws IOException {
        byte[] le = {(byte) 0x0f, 0, 0, 0, 0, 0, 0, (byte) 0x80};
        byte[] got = written(w -> w.recvBitmap("pc.ram", le));
        ByteBuffer want = ByteBuffer.allocate(4 + 7 + 8 + 8 + 8);
        want.putShort((short) 5).putShort((short) 7).put((byte) 6).put("pc.ram".getBytes())
                .putLong(8).put(le).putLong(0x0123456789abcdefL);
        assertArrayEquals(want.array(), got);
        assertArrayEquals(new byte[] {0, 6, 0, 4, 0, 0, 0, 1}, written(ReturnPathWriter::resumeAck), "RESUME_ACK(1)");
    }

    private static ReturnPathReader reader(byte[] stream, Ram ram) {
        ReturnPathReader r = new ReturnPathReader(Channels.newChannel(new ByteArrayInputStream(stream)));
        r.acceptRecovery(ram);
        r.start();
        return r;
    }

    @Test
    void theSourceReloadsTheBitmapAndTakesTheAck() throws Exception {
        byte[] le = {1, 2, 3, 4, 5, 6, 7, 8};
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        ReturnPathWriter w = new ReturnPathWriter(Channels.newChannel(s));
        w.recvBitmap("pc.ram", le);
        w.resumeAck();
        w.shut(false);
        Ram ram = new Ram();
        ReturnPathReader r = reader(s.toByteArray(), ram);
        r.awaitBitmaps(1, 10, TimeUnit.SECONDS);
        r.awaitResumeAck(10, TimeUnit.SECONDS);
        r.awaitShut(10, TimeUnit.SECONDS);
        assertArrayEquals(le, ram.reloaded.get("pc.ram"));
    }

    @Test
    void aWrongSizeOrEndMarkOrAckIsAReturnPathError() throws Exception {
        ByteBuffer size = ByteBuffer.allocate(4 + 7 + 8);
        size.putShort((short) 5).putShort((short) 7).put((byte) 6).put("pc.ram".getBytes()).putLong(16);
        IOException e = assertThrows(IOException.class,
                () -> reader(size.array(), new Ram()).awaitBitmaps(1, 10, TimeUnit.SECONDS));
        assertTrue(e.getMessage().contains("ramblock 'pc.ram' bitmap size mismatch (0x10 != 0x8)"), e.getMessage());

        ByteBuffer mark = ByteBuffer.allocate(4 + 7 + 8 + 8 + 8);
        mark.putShort((short) 5).putShort((short) 7).put((byte) 6).put("pc.ram".getBytes()).putLong(8)
                .putLong(0).putLong(0x1122334455667788L);
        e = assertThrows(IOException.class,
                () -> reader(mark.array(), new Ram()).awaitBitmaps(1, 10, TimeUnit.SECONDS));
        assertTrue(e.getMessage().contains("ramblock 'pc.ram' end mark incorrect: 0x1122334455667788"), e.getMessage());

        ByteBuffer unknown = ByteBuffer.allocate(4 + 4);
        unknown.putShort((short) 5).putShort((short) 4).put((byte) 3).put("rom".getBytes());
        e = assertThrows(IOException.class,
                () -> reader(unknown.array(), new Ram()).awaitBitmaps(1, 10, TimeUnit.SECONDS));
        assertTrue(e.getMessage().contains("unknown RAM block 'rom'"), e.getMessage());

        byte[] badAck = {0, 6, 0, 4, 0, 0, 0, 2};
        e = assertThrows(IOException.class,
                () -> reader(badAck, new Ram()).awaitResumeAck(10, TimeUnit.SECONDS));
        assertTrue(e.getMessage().contains("illegal resume_ack value 2"), e.getMessage());
        assertEquals(0, new Ram().reloaded.size());
    }
}
