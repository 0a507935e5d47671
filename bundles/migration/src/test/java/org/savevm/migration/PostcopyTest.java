package org.savevm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.machine.PageFaultHandler;
import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.api.migration.MigrationInfo;
import org.savevm.api.migration.MigrationListener;
import org.savevm.api.migration.MigrationStatus;
import org.savevm.api.migration.MigrationUri;
import org.savevm.migration.incoming.IncomingMigration;
import org.savevm.migration.outgoing.OutgoingMigration;
import org.savevm.migration.params.MigrationConfigState;
import org.savevm.migration.postcopy.PostcopyIncoming;
import org.savevm.migration.transport.Transports;

/** The switch to postcopy and what each end does with it, with the fake core's own command parsing. */
class PostcopyTest {

    @Test
    void switchesToPostcopyAndCompletesWithTheDestinationRunning() throws Exception {
        MigrationConfigState cfg = new MigrationConfigState();
        cfg.setCapability("postcopy-ram", true);
        cfg.setParameter("max-bandwidth", "8M");
        MigrationSettings settings = cfg.snapshot();

        List<String> dstLog = new CopyOnWriteArrayList<>();
        FakeSaveVm dstVm = new FakeSaveVm(0, 1);
        FakeGuest dstGuest = new FakeGuest(false);
        IncomingMigration in = new IncomingMigration(dstVm, Transports.listen(MigrationUri.parse("tcp:127.0.0.1:0")),
                settings, dstGuest, true, MigrationListener.NONE);
        in.setPostcopy(new PostcopyIncoming() {
            @Override
            public void discard(MigrationContext s, String block, long start, long length) {
                dstLog.add("discard " + block + " " + start + "+" + length);
            }

            @Override
            public void listen(MigrationContext s, PageFaultHandler faults) {
                dstLog.add("listen");
                faults.pageFault("pc.ram", 8192);
            }
        });
        in.start();

        FakeSaveVm srcVm = new FakeSaveVm(4 << 20, 16384);
        FakeGuest guest = new FakeGuest(true);
        List<String> requests = new CopyOnWriteArrayList<>();
        List<MigrationStatus> states = new CopyOnWriteArrayList<>();
        OutgoingMigration[] self = new OutgoingMigration[1];
        OutgoingMigration out = new OutgoingMigration(srcVm, () -> Transports.connect(MigrationUri.parse(in.address())),
                settings, () -> 8L << 20, () -> 10, guest, new MigrationListener() {
                    @Override
                    public void stateChanged(MigrationStatus status, MigrationInfo info) {
                        states.add(status);
                    }

                    @Override
                    public void progress(MigrationInfo info) {
                        self[0].startPostcopy();
                    }
                });
        self[0] = out;
        srcVm.postcopySource = new RamPostcopySource() {
            private volatile boolean started;

            @Override
            public List<PageRange> startPostcopy() {
                started = true;
                return List.of(new PageRange("pc.ram", 0, 4096), new PageRange("pc.ram", 65536, 8192));
            }

            @Override
            public void requestPages(String idstr, long start, long length) {
                requests.add(idstr + "@" + start + "+" + length);
            }

            @Override
            public boolean inPostcopy() {
                return started;
            }
        };
        out.start();
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));

        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out.info().errorDesc()));
        assertEquals(List.of(MigrationStatus.SETUP, MigrationStatus.ACTIVE, MigrationStatus.POSTCOPY_ACTIVE,
                MigrationStatus.COMPLETED), states);
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
        assertEquals(4 << 20, dstVm.loadedBytes.get());
        assertEquals(List.of("discard pc.ram 0+4096", "discard pc.ram 65536+8192", "listen"), dstLog);
        assertEquals(List.of("pc.ram@8192+4096"), requests, "the destination's page fault reached the source");
        assertEquals(1, out.info().toQmp().get("ram") instanceof java.util.Map<?, ?> m ? ((Number) m.get("postcopy-requests")).intValue() : -1);
        assertFalse(guest.running, "the source guest stays stopped");
        assertEquals(0, guest.starts.get());
        assertTrue(dstGuest.running, "the destination guest runs from POSTCOPY_RUN on");
        assertEquals(1, dstGuest.starts.get());
    }

    /** loadvm_postcopy_handle_advise: a destination whose RAM has other host page sizes refuses at ADVISE. */
    @Test
    void adviseWithOtherRamPageSizesIsRefused() throws Exception {
        MigrationConfigState cfg = new MigrationConfigState();
        cfg.setCapability("postcopy-ram", true);
        MigrationSettings settings = cfg.snapshot();
        IncomingMigration in = new IncomingMigration(new FakeSaveVm(0, 1),
                Transports.listen(MigrationUri.parse("tcp:127.0.0.1:0")), settings, new FakeGuest(false), true,
                MigrationListener.NONE);
        in.setPostcopy(new PostcopyIncoming() {
            @Override
            public long ramPageSizeSummary() {
                return 0x201000; // a block of 2 MiB pages besides the 4 KiB ones
            }
        });
        in.start();
        OutgoingMigration out = new OutgoingMigration(new FakeSaveVm(1 << 20, 4096),
                () -> Transports.connect(MigrationUri.parse(in.address())), settings, () -> 8L << 20, () -> 10,
                new FakeGuest(true), MigrationListener.NONE);
        out.start();
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, in.status());
        assertTrue(in.error().contains("Postcopy needs matching RAM page sizes (s=1000 d=201000)"), in.error());
        assertEquals(MigrationStatus.FAILED, out.status());
    }

    @Test
    void aFailureAfterTheSwitchLeavesTheSourceGuestStopped() throws Exception {
        MigrationConfigState cfg = new MigrationConfigState();
        cfg.setCapability("postcopy-ram", true);
        MigrationSettings settings = cfg.snapshot();
        FakeGuest dstGuest = new FakeGuest(false);
        IncomingMigration in = new IncomingMigration(new FakeSaveVm(0, 1),
                Transports.listen(MigrationUri.parse("tcp:127.0.0.1:0")), settings, dstGuest, true, MigrationListener.NONE);
        in.setPostcopy(new PostcopyIncoming() {
            @Override
            public void discard(MigrationContext s, String block, long start, long length) {
            }

            @Override
            public void listen(MigrationContext s, PageFaultHandler faults) throws java.io.IOException {
                throw new java.io.IOException("userfault registration failed");
            }
        });
        in.start();
        FakeGuest guest = new FakeGuest(true);
        OutgoingMigration[] self = new OutgoingMigration[1];
        FakeSaveVm srcVm = new FakeSaveVm(4 << 20, 16384);
        OutgoingMigration out = new OutgoingMigration(srcVm,
                () -> Transports.connect(MigrationUri.parse(in.address())), settings, () -> 8L << 20, () -> 10, guest,
                new MigrationListener() {
                    @Override
                    public void progress(MigrationInfo info) {
                        self[0].startPostcopy();
                    }
                });
        self[0] = out;
        srcVm.postcopySource = new RamPostcopySource() {
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
        };
        out.start();
        assertTrue(out.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(in.await(Migrations.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(MigrationStatus.FAILED, in.status());
        assertEquals("userfault registration failed", in.error());
        assertEquals(MigrationStatus.FAILED, out.status());
        assertEquals(1, guest.stops.get());
        assertEquals(0, guest.starts.get(), "after the switch the source must not run the guest too");
        assertFalse(dstGuest.running);
    }
}
