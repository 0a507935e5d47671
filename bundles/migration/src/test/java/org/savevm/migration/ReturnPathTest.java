package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.internal.MigrationManager;
import org.savevm.migration.outgoing.OutgoingMigration;
import org.savevm.migration.returnpath.ReturnPathReader;

/** With capability return-path the source completes only when the destination's SHUT says the load worked. */
class ReturnPathTest {

    private static MigrationManager manager(FakeSaveVm vm, FakeGuest guest) {
        return new MigrationManager(vm, guest);
    }

    @Test
    void completesAfterShutZero() throws Exception {
        FakeSaveVm srcVm = new FakeSaveVm(4 << 20, 65536);
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        FakeGuest guest = new FakeGuest(true);
        MigrationManager src = manager(srcVm, guest);
        MigrationManager dst = manager(dstVm, new FakeGuest(false));
        src.setCapability("return-path", true);
        IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
        OutgoingMigration out = src.migrate(in.address(), MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out.info().errorDesc()));
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, in.status());
        assertEquals(4 << 20, dstVm.loadedBytes.get());
        assertFalse(guest.running);
    }

    @Test
    void aDestinationThatFailsToLoadFailsTheSourceWhichRunsOn() throws Exception {
        FakeSaveVm srcVm = new FakeSaveVm(4 << 20, 65536);
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        dstVm.refuseAtEnd = true;
        FakeGuest guest = new FakeGuest(true);
        FakeGuest dstGuest = new FakeGuest(false);
        MigrationManager src = manager(srcVm, guest);
        MigrationManager dst = manager(dstVm, dstGuest);
        src.setCapability("return-path", true);
        IncomingMigration in = dst.incoming("unix:" + java.nio.file.Files.createTempDirectory("rp").resolve("s"), true,
                MigrationListener.NONE);
        OutgoingMigration out = src.migrate(in.address(), MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, out.status());
        assertEquals("the destination failed to load the stream (SHUT 1)", out.info().errorDesc());
        assertEquals(1, guest.stops.get());
        assertEquals(1, guest.starts.get(), "the stopped source guest runs again");
        assertTrue(guest.running);
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, in.status());
        assertFalse(dstGuest.running);
    }

    @Test
    void withoutReturnPathTheSameFailureGoesUnnoticedAtTheSource() throws Exception {
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        dstVm.refuseAtEnd = true;
        MigrationManager src = manager(new FakeSaveVm(1 << 20, 65536), new FakeGuest(true));
        MigrationManager dst = manager(dstVm, new FakeGuest(false));
        IncomingMigration in = dst.incoming("tcp:127.0.0.1:0", true, MigrationListener.NONE);
        OutgoingMigration out = src.migrate(in.address(), MigrationListener.NONE);
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.COMPLETED, out.status(), "precopy without a return path cannot know");
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, in.status());
    }

    @Test
    void oneWayTransportsRefuseTheReturnPath() {
        MigrationManager src = manager(new FakeSaveVm(1, 1), new FakeGuest(true));
        src.setCapability("return-path", true);
        assertThrows(IllegalArgumentException.class, () -> src.migrate("exec:cat > /dev/null", MigrationListener.NONE));
        assertThrows(IllegalArgumentException.class, () -> src.migrate("file:/tmp/x", MigrationListener.NONE));
    }

    @Test
    void readerRejectsUnexpectedMessagesAndBadLengths() throws Exception {
        assertEquals("return path error: unexpected return path message REQ_PAGES in precopy",
                readerError(new byte[] {0, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
        assertEquals("return path error: return path message PONG has length 2, expected 4",
                readerError(new byte[] {0, 2, 0, 2, 0, 1}));
        assertEquals("return path error: return path message SHUT too long: 4096",
                readerError(new byte[] {0, 1, 0x10, 0}));
        assertEquals("return path error: return path closed before SHUT", readerError(new byte[] {0, 2, 0, 4, 0, 0, 0, 1}));
    }

    private static String readerError(byte[] bytes) throws InterruptedException {
        ReturnPathReader r = new ReturnPathReader(Channels.newChannel(new java.io.ByteArrayInputStream(bytes)));
        r.start();
        IOException e = assertThrows(IOException.class, () -> r.awaitShut(10, TimeUnit.SECONDS));
        return e.getMessage();
    }

    @Test
    void readerAcceptsPongThenShut() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16).putShort((short) 2).putShort((short) 4).putInt(1).putShort((short) 1)
                .putShort((short) 4).putInt(0);
        ReturnPathReader r = new ReturnPathReader(Channels.newChannel(new java.io.ByteArrayInputStream(b.array())));
        r.start();
        r.awaitShut(10, TimeUnit.SECONDS);
        assertEquals(1, r.lastPong());
    }

    @Test
    void pageRequestsAreRefusedInPrecopyAndServedInPostcopy() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        org.savevm.migration.returnpath.ReturnPathWriter w = new org.savevm.migration.returnpath.ReturnPathWriter(
                Channels.newChannel(bytes));
        w.requestPages("pc.ram", 0x5000, 4096);
        byte[] more = {0, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0x70, 0, 0, 0, 0x10, 0};
        bytes.write(more);
        w.shut(false);
        byte[] stream = bytes.toByteArray();
        // REQ_PAGES_ID: type 3, length 13 + 6, be64 start, be32 length, counted name.
        assertEquals(3, stream[1]);
        assertEquals(19, stream[3]);
        assertEquals(6, stream[16]);

        java.util.List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        ReturnPathReader r = new ReturnPathReader(Channels.newChannel(new java.io.ByteArrayInputStream(stream)));
        r.acceptPageRequests((block, start, len) -> got.add(block + "@" + Long.toHexString(start) + "+" + len));
        r.start();
        r.awaitShut(10, TimeUnit.SECONDS);
        assertEquals(java.util.List.of("pc.ram@5000+4096", "pc.ram@7000+4096"), got, "REQ_PAGES reuses the last block");
        assertEquals(2, r.pageRequests());

        ReturnPathReader precopy = new ReturnPathReader(Channels.newChannel(new java.io.ByteArrayInputStream(stream)));
        precopy.start();
        IOException e = assertThrows(IOException.class, () -> precopy.awaitShut(10, TimeUnit.SECONDS));
        assertEquals("return path error: unexpected return path message REQ_PAGES_ID in precopy", e.getMessage());
    }
}
