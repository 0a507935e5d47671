package org.savevm.demo.commands;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.savevm.api.MigrationSettings;
import org.savevm.api.SavevmCommand;
import org.savevm.api.block.CacheMode;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.ImageService;
import org.savevm.api.migration.MigrationOptions;
import org.savevm.api.migration.MigrationService;
import org.savevm.api.migration.MigrationUri;
import org.savevm.api.migration.Sizes;
import org.savevm.demo.ChildJvm;
import org.savevm.demo.ChildProcess;
import org.savevm.demo.CuttingRelay;
import org.savevm.demo.DemoDisks;
import org.savevm.demo.RecoveringRelay;
import org.savevm.demo.StatsTable;
import org.savevm.migration.progress.ProgressLine;

/**
 * {@code demo}: live-migrates a guest between two savevm processes over loopback TCP, checks that RAM
 * and device state arrived equal, prints a stats table and, last, one JSON line with query-migrate's
 * members plus {@code end-to-end-time} and {@code verified}.
 */
@Component(service = SavevmCommand.class)
public final class DemoCommand implements SavevmCommand {
    private static final long LISTEN_TIMEOUT_MILLIS = 120_000;

    private final MigrationService migration;
    private final ImageService images;

    @Activate
    public DemoCommand(@Reference MigrationService migration,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL) ImageService images) {
        this.migration = migration;
        this.images = images;
    }

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "live-migrate a guest between two savevm processes and verify RAM and devices";
    }

    @Override
    public String usage() {
        return "demo [options]\n"
                + "  --ram SIZE               guest RAM (default 1G)\n"
                + "  --fill zero|random|file:PATH   initial RAM content (default random)\n"
                + "  --dirty-rate RATE        bytes per second the guest dirties, 0 = idle (default 50M)\n"
                + "  --hot-fraction F         share of RAM the guest writes to most (default 0.1; 1 = anywhere)\n"
                + "  --capability NAME        migration capability, repeatable (xbzrle, compress, auto-converge,\n"
                + "                           postcopy-ram, postcopy-blocktime, release-ram, ...)\n"
                + "  --postcopy-after PERCENT with postcopy-ram: switch to postcopy once PERCENT of RAM went out\n"
                + "                           (default: after the first pass); the destination's vCPU then reads\n"
                + "                           random pages, faulting on the missing ones\n"
                + "  --parameter NAME=VALUE   migration parameter, repeatable (max-bandwidth=0, downtime-limit=300)\n"
                + "  --uri URI                listen address of the destination (default tcp:127.0.0.1:0)\n"
                + "  --timeout SECONDS        give up after this long (default 900)\n"
                + "  --no-progress            no progress bar\n"
                + "  --disk SIZE              give the guest a disk of SIZE (e.g. 1G), migrated live with the\n"
                + "                           block capability (on by default then); images in a temporary directory\n"
                + "  --disk-format raw|qcow2  image format of both ends' disks (default raw)\n"
                + "  --disk-cache MODE        both ends' drives' cache= (QEMU's: writeback (default), none, writethrough,\n"
                + "                           directsync, unsafe)\n"
                + "  --disk-fill zero|half|random   initial disk content (default half: random first half)\n"
                + "  --disk-dirty-rate RATE   bytes per second the guest writes to its disk (default 0)\n"
                + "  --cut-after BYTES        fault run: relay the stream through a link that breaks after BYTES;\n"
                + "                           succeeds when both ends fail cleanly (source guest running, RAM\n"
                + "                           unchanged with --dirty-rate 0; destination failed, not running)\n"
                + "  --cut-after B1,B2,... --recover   postcopy recovery run: the link (both ways) breaks each time\n"
                + "                           the source sent B1, B2, ... bytes; both ends pause, the destination\n"
                + "                           runs migrate-recover, the source migrate -r, and the migration must\n"
                + "                           complete verified (cut after the switch to postcopy)\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        String jar = System.getProperty("savevm.jar");
        List<String> childArgs = new ArrayList<>();
        long ram = 1L << 30;
        String uri = "tcp:127.0.0.1:0";
        long timeoutSeconds = 900;
        boolean progress = true;
        long cutAfter = -1;
        long dirtyRate = 50L << 20;
        long disk = 0;
        ImageFormat diskFormat = ImageFormat.RAW;
        CacheMode diskCache = CacheMode.WRITEBACK;
        String diskDirtyRate = null;
        String postcopyAfter = null;
        boolean recover = false;
        List<Long> cuts = new ArrayList<>();
        MigrationSettings settings;
        MigrationOptions mig = new MigrationOptions();
        try {
            for (int i = 0; i < args.size();) {
                int next = mig.take(args, i);
                if (next >= 0) {
                    i = next;
                    continue;
                }
                String a = args.get(i);
                if (a.equals("--no-progress")) {
                    progress = false;
                    i++;
                    continue;
                }
                if (a.equals("--recover")) {
                    recover = true;
                    i++;
                    continue;
                }
                String v = MigrationOptions.value(args, i);
                switch (a) {
                    case "--ram" -> ram = Sizes.parse(v, 0);
                    case "--fill", "--seed", "--hot-fraction" -> {
                        childArgs.add(a);
                        childArgs.add(v);
                    }
                    case "--dirty-rate" -> {
                        dirtyRate = DemoChildOptions.parseRate(v);
                        childArgs.add(a);
                        childArgs.add(v);
                    }
                    case "--uri" -> uri = v;
                    case "--disk" -> disk = Sizes.parse(v, 0);
                    case "--disk-format" -> diskFormat = ImageFormat.parse(v);
                    case "--disk-cache" -> diskCache = CacheMode.parse(v);
                    case "--disk-fill" -> {
                        if (!List.of("zero", "half", "random").contains(v)) {
                            throw new IllegalArgumentException("--disk-fill expects zero, half or random, got " + v);
                        }
                        childArgs.add(a);
                        childArgs.add(v);
                    }
                    case "--disk-dirty-rate" -> diskDirtyRate = Long.toString(DemoChildOptions.parseRate(v));
                    case "--cut-after" -> {
                        for (String c : v.split(",")) {
                            cuts.add(Sizes.parse(c.trim(), 0));
                        }
                        cutAfter = cuts.get(0);
                    }
                    case "--postcopy-after" -> {
                        DemoChildOptions.parsePercent(v);
                        postcopyAfter = v;
                    }
                    case "--timeout" -> timeoutSeconds = Long.parseLong(v);
                    default -> throw new IllegalArgumentException("unexpected argument: " + a);
                }
                i += 2;
            }
            if (disk > 0 && disk % 512 != 0) {
                throw new IllegalArgumentException("--disk must be a multiple of 512 bytes");
            }
            if (disk > 0 && !mig.capabilities().contains("block")) {
                mig.capabilities().add("block");
            }
            // Refused capabilities and parameters fail here, before any process starts.
            settings = migration.trySettings(mig.capabilities(), mig.parameters());
            if (postcopyAfter != null && !settings.capability("postcopy-ram")) {
                throw new IllegalArgumentException("--postcopy-after needs --capability postcopy-ram");
            }
            if (recover && (cuts.isEmpty() || !settings.capability("postcopy-ram"))) {
                throw new IllegalArgumentException("--recover needs --cut-after and --capability postcopy-ram");
            }
            if (cuts.size() > 1 && !recover) {
                throw new IllegalArgumentException("several --cut-after positions need --recover");
            }
            for (int k = 1; k < cuts.size(); k++) {
                if (cuts.get(k) <= cuts.get(k - 1)) {
                    throw new IllegalArgumentException("--cut-after positions must increase: " + cuts);
                }
            }
        } catch (IllegalArgumentException e) {
            err.println("demo: " + e.getMessage());
            err.print(usage());
            return 2;
        }
        if (jar == null) {
            err.println("demo: system property savevm.jar is not set; run it as java -jar savevm.jar demo");
            return 2;
        }
        if (disk > 0 && images == null) {
            err.println("demo: --disk needs the image bundle (org.savevm.image), which is not installed");
            return 2;
        }
        try (DemoDisks disks = disk > 0 ? DemoDisks.create(images, disk, diskFormat, diskCache) : DemoDisks.NONE) {
            return run(jar, ram, uri, timeoutSeconds, progress, cutAfter, dirtyRate, settings, mig, childArgs,
                    disks, diskDirtyRate, postcopyAfter, recover, cuts, out, err);
        }
    }

    private int run(String jar, long ram, String uri, long timeoutSeconds, boolean progress, long cutAfter,
            long dirtyRate, MigrationSettings settings, MigrationOptions mig, List<String> childArgs, DemoDisks disks,
            String diskDirtyRate, String postcopyAfter, boolean recover, List<Long> cuts, PrintStream out,
            PrintStream err) throws Exception {
        long xbzrleCache = settings.capability("xbzrle") ? settings.parameter("xbzrle-cache-size", 0) : 0;
        List<String> common = new ArrayList<>(List.of("--ram", Long.toString(ram), "--timeout",
                Long.toString(timeoutSeconds)));
        common.addAll(mig.toArgs());
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;

        List<String> destArgs = new ArrayList<>(common);
        destArgs.addAll(List.of("--uri", uri));
        if (recover) {
            destArgs.add("--recover");
        }
        List<String> destMachine = new ArrayList<>(List.of("--ram", Long.toString(ram)));
        destMachine.addAll(disks.launcherOptions(false));
        List<String> srcMachine = new ArrayList<>(List.of("--ram", Long.toString(ram)));
        srcMachine.addAll(disks.launcherOptions(true));
        if (diskDirtyRate != null) {
            srcMachine.addAll(List.of("--disk-dirty-rate", diskDirtyRate));
        }
        try (ChildProcess dest = new ChildProcess("demo-dest",
                ChildJvm.command(jar, ram, 0, destMachine, "demo-dest", destArgs))) {
            Map<String, Object> listening = awaitEvent(dest, "listening", LISTEN_TIMEOUT_MILLIS, err);
            if (listening == null) {
                err.println("demo: the destination did not start listening");
                Map<String, Object> failed = new LinkedHashMap<>();
                failed.put("status", "failed");
                failed.put("error-desc", "the destination process did not start listening");
                failed.put("verified", false);
                out.println(Json.write(failed));
                return 1;
            }
            String address = (String) listening.get("uri");
            CuttingRelay relay = null;
            RecoveringRelay recovering = null;
            String sourceTarget = address;
            if (recover) {
                MigrationUri d = MigrationUri.parse(address);
                recovering = new RecoveringRelay(d.host(), d.port(), cuts);
                sourceTarget = recovering.uri();
            } else if (cutAfter >= 0) {
                MigrationUri d = MigrationUri.parse(address);
                relay = new CuttingRelay(d.host(), d.port(), cutAfter);
                sourceTarget = relay.uri();
            }
            List<String> srcArgs = new ArrayList<>(common);
            srcArgs.addAll(childArgs);
            if (postcopyAfter != null) {
                srcArgs.addAll(List.of("--postcopy-after", postcopyAfter));
            }
            srcArgs.addAll(List.of("--uri", sourceTarget));
            if (cutAfter >= 0 && dirtyRate == 0 && !recover) {
                srcArgs.add("--hash-before");
            }
            if (recover) {
                srcArgs.add("--recover");
            }
            out.println("savevm demo: " + StatsTable.mib(ram) + " guest" + disks.describe() + ", destination on "
                    + address);
            out.flush();
            try (ChildProcess src = new ChildProcess("demo-source",
                    ChildJvm.command(jar, ram, xbzrleCache, srcMachine, "demo-source", srcArgs))) {
                ProgressLine bar = progress && ProgressLine.isTerminal() ? new ProgressLine(out, 200) : null;
                Map<String, Object>[] earlyLoaded = new Map[1];
                RecoveringRelay r = recovering;
                Map<String, Object> done = followSource(src, bar, deadline, err, r == null ? null : dest, ev -> {
                    // migrate-recover on the destination: the relay takes the source's migrate -r there
                    if ("recover-listening".equals(ev.get("event"))) {
                        MigrationUri u = MigrationUri.parse((String) ev.get("uri"));
                        r.retarget(u.host(), u.port());
                    } else if ("loaded".equals(ev.get("event"))) {
                        earlyLoaded[0] = ev;
                    }
                });
                if (bar != null) {
                    bar.finish();
                }
                Map<String, Object> loaded = earlyLoaded[0] != null ? earlyLoaded[0]
                        : awaitEvent(dest, "loaded", remaining(deadline), err);
                src.waitFor(10_000);
                dest.waitFor(10_000);
                if (relay != null) {
                    relay.close();
                    return reportFault(done, loaded, cutAfter, out, err);
                }
                if (recovering != null) {
                    recovering.close();
                    return report(done, loaded, ram, recovering.cuts(), disks, out, err);
                }
                return report(done, loaded, ram, -1, disks, out, err);
            }
        }
    }

    private static long remaining(long deadline) {
        return Math.max(1000, (deadline - System.nanoTime()) / 1_000_000L);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> followSource(ChildProcess src, ProgressLine bar, long deadline, PrintStream err,
            ChildProcess dest, java.util.function.Consumer<Map<String, Object>> destEvents) throws InterruptedException {
        while (System.nanoTime() < deadline) {
            if (dest != null) {
                String d;
                while ((d = dest.nextLine(0)) != null && !d.equals(ChildProcess.EOF)) {
                    Map<String, Object> ev = Json.parseObject(d);
                    if (ev != null && ev.containsKey("event")) {
                        destEvents.accept(ev);
                    } else {
                        err.println("[demo-dest] " + d);
                    }
                }
            }
            String line = src.nextLine(dest != null ? 50 : 500);
            if (line == null) {
                continue;
            }
            if (line.equals(ChildProcess.EOF)) {
                return null;
            }
            Map<String, Object> ev = Json.parseObject(line);
            if (ev == null || !ev.containsKey("event")) {
                err.println("[demo-source] " + line);
                continue;
            }
            if ("done".equals(ev.get("event"))) {
                return ev;
            }
            if ("progress".equals(ev.get("event")) && bar != null) {
                Map<String, Object> info = (Map<String, Object>) ev.get("info");
                bar.update(fraction(info), progressText(info));
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static double fraction(Map<String, Object> info) {
        Map<String, Object> ram = (Map<String, Object>) info.get("ram");
        if (ram == null) {
            return 0;
        }
        double total = num(ram.get("total"));
        return total <= 0 ? 0 : 1 - num(ram.get("remaining")) / total;
    }

    @SuppressWarnings("unchecked")
    private static String progressText(Map<String, Object> info) {
        Map<String, Object> ram = (Map<String, Object>) info.get("ram");
        String s = info.get("status") + "  sent " + StatsTable.mib(ram.get("transferred")) + "  left "
                + StatsTable.mib(ram.get("remaining")) + "  " + Math.round(num(ram.get("mbps"))) + " Mbps  pass "
                + ram.get("dirty-sync-count");
        Object throttle = info.get("cpu-throttle-percentage");
        return throttle == null ? s : s + "  throttle " + throttle + "%";
    }

    private static String heap(Map<String, Object> ev) {
        if (ev == null || ev.get("heap-peak") == null) {
            return "-";
        }
        return StatsTable.mib(ev.get("heap-peak")) + " / " + StatsTable.mib(ev.get("heap-max"));
    }

    private static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : 0;
    }

    private static Map<String, Object> awaitEvent(ChildProcess child, String event, long timeoutMillis, PrintStream err)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            String line = child.nextLine(500);
            if (line == null) {
                continue;
            }
            if (line.equals(ChildProcess.EOF)) {
                return null;
            }
            Map<String, Object> ev = Json.parseObject(line);
            if (ev != null && event.equals(ev.get("event"))) {
                return ev;
            }
            if (ev == null) {
                err.println("[" + child.name() + "] " + line);
            }
        }
        return null;
    }

    /** A fault run: the migration must fail on both ends without harm. */
    @SuppressWarnings("unchecked")
    private static int reportFault(Map<String, Object> done, Map<String, Object> loaded, long cutAfter,
            PrintStream out, PrintStream err) {
        Map<String, Object> info = done == null ? new LinkedHashMap<>(Map.of("status", "unknown"))
                : new LinkedHashMap<>((Map<String, Object>) done.get("info"));
        boolean srcFailed = "failed".equals(info.get("status"));
        Object srcRunning = done == null ? null : done.get("guest-running");
        Object intact = done == null ? null : done.get("ram-intact");
        boolean dstFailed = loaded != null && "failed".equals(loaded.get("status"));
        boolean dstStopped = loaded != null && Boolean.FALSE.equals(loaded.get("guest-running"));
        boolean contained = srcFailed && !Boolean.FALSE.equals(intact) && dstFailed && dstStopped;
        out.print(new StatsTable()
                .row("link broken after", cutAfter + " bytes")
                .row("source status", info.get("status"))
                .row("source error", info.get("error-desc"))
                .row("source guest running", srcRunning)
                .row("source RAM unchanged", intact == null ? "not checked (guest was dirtying)" : intact)
                .row("destination status", loaded == null ? "no answer" : loaded.get("status"))
                .row("destination error", loaded == null ? "-" : loaded.get("error"))
                .row("destination guest running", loaded == null ? "-" : loaded.get("guest-running"))
                .row("failure contained", contained));
        Map<String, Object> fault = new LinkedHashMap<>();
        fault.put("cut-after", cutAfter);
        fault.put("source-guest-running", srcRunning);
        fault.put("source-ram-intact", intact);
        fault.put("destination-status", loaded == null ? null : loaded.get("status"));
        fault.put("destination-guest-running", loaded == null ? null : loaded.get("guest-running"));
        fault.put("contained", contained);
        info.put("fault", fault);
        info.put("verified", false);
        out.println(Json.write(info));
        out.flush();
        if (!contained) {
            err.println("demo: the broken link was not handled cleanly");
        }
        return contained ? 0 : 1;
    }

    @SuppressWarnings("unchecked")
    private static int report(Map<String, Object> done, Map<String, Object> loaded, long ram, int recoveredCuts,
            DemoDisks disks,
            PrintStream out, PrintStream err) {
        Map<String, Object> info = done == null ? new LinkedHashMap<>(Map.of("status", "failed", "error-desc",
                "the source process ended without a result")) : new LinkedHashMap<>((Map<String, Object>) done.get("info"));
        boolean completed = "completed".equals(info.get("status"));
        boolean loadedOk = loaded != null && "completed".equals(loaded.get("status"));
        boolean ramEqual = done != null && loaded != null && done.get("ram-hash") != null
                && Objects.equals(done.get("ram-hash"), loaded.get("ram-hash"));
        boolean devEqual = done != null && loaded != null && done.get("device-hash") != null
                && Objects.equals(done.get("device-hash"), loaded.get("device-hash"));
        // every disk hashed on both ends, and equal (no disks: nothing to compare)
        boolean diskEqual = !disks.any() || (done != null && loaded != null && done.get("disk-hashes") instanceof Map<?, ?> dh
                && dh.size() == disks.count() && Objects.equals(dh, loaded.get("disk-hashes")));
        boolean verified = completed && loadedOk && ramEqual && devEqual && diskEqual;
        long endToEnd = -1;
        if (done != null && loaded != null) {
            endToEnd = (long) num(loaded.get("finished-epoch-ms")) - (long) num(done.get("start-epoch-ms"));
        }
        Map<String, Object> r = info.get("ram") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        StatsTable t = new StatsTable()
                .row("guest RAM", StatsTable.mib(ram))
                .row("source status", info.get("status"))
                .row("destination status", loaded == null ? "no answer" : loaded.get("status"))
                .row("total time", info.get("total-time") + " ms")
                .row("setup time", info.get("setup-time") + " ms")
                .row("downtime", info.get("downtime") + " ms")
                .row("end to end (until loaded)", endToEnd + " ms")
                .row("transferred", StatsTable.mib(r.get("transferred")))
                .row("throughput", r.get("mbps") + " Mbps")
                .row("zero pages (duplicate)", r.get("duplicate"))
                .row("normal pages", r.get("normal"))
                .row("dirty syncs", r.get("dirty-sync-count"))
                .row("destination load time", (loaded == null ? "-" : loaded.get("load-time")) + " ms")
                .row("RAM hash equal", ramEqual)
                .row("device state equal", devEqual);
        if (disks.any()) {
            Map<String, Object> dk = info.get("disk") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
            t.row("disk", disks.describe().substring(2))
                    .row("disk transferred", StatsTable.mib(dk.get("transferred")))
                    .row("disk content equal", diskEqual);
        }
        if (done != null && done.get("sections") instanceof List<?> l) {
            t.row("sections", String.join(" ", l.stream().map(String::valueOf).toList()));
        }
        t.row("heap peak / max, source", heap(done));
        t.row("heap peak / max, destination", heap(loaded));
        if (info.get("xbzrle-cache") instanceof Map<?, ?> x) {
            t.row("xbzrle pages", x.get("pages"));
        }
        if (info.get("cpu-throttle-percentage") != null) {
            t.row("cpu throttle", info.get("cpu-throttle-percentage") + " %");
        }
        if (info.get("error-desc") != null) {
            t.row("source error", info.get("error-desc"));
        }
        if (loaded != null && loaded.get("error") != null) {
            t.row("destination error", loaded.get("error"));
        }
        if (loaded != null && loaded.get("postcopy-vcpu-reads") != null) {
            t.row("postcopy requests", r.get("postcopy-requests"));
            t.row("postcopy bytes", StatsTable.mib(r.get("postcopy-bytes")));
            t.row("destination vCPU reads", loaded.get("postcopy-vcpu-reads"));
            if (loaded.get("postcopy-fault-latency-us") instanceof Map<?, ?> lat) {
                // reads that found their page missing: guest access until the requested page was placed
                info.put("postcopy-fault-latency-us", lat);
                t.row("page-request latency", "p50 " + lat.get("p50") + " us, p99 " + lat.get("p99") + " us, max "
                        + lat.get("max") + " us (" + lat.get("count") + " faulting reads)");
            }
        }
        // the destination measures blocktime (QEMU reports it in the destination's query-migrate)
        for (String k : new String[] {"postcopy-blocktime", "postcopy-vcpu-blocktime"}) {
            if (loaded != null && loaded.get(k) != null) {
                info.put(k, loaded.get(k));
                t.row(k, loaded.get(k) + " ms");
            }
        }
        if (loaded != null && loaded.get("postcopy-vcpu-error") != null) {
            t.row("destination vCPU error", loaded.get("postcopy-vcpu-error"));
            verified = false;
        }
        if (recoveredCuts >= 0) {
            t.row("link broken and recovered", recoveredCuts + " times");
            Map<String, Object> recovery = new LinkedHashMap<>();
            recovery.put("cuts", recoveredCuts);
            recovery.put("source-pauses", done == null ? null : done.get("postcopy-pauses"));
            recovery.put("destination-pauses", loaded == null ? null : loaded.get("postcopy-pauses"));
            info.put("recovery", recovery);
        }
        out.print(t);
        info.put("end-to-end-time", endToEnd);
        info.put("verified", verified);
        out.println(Json.write(info));
        out.flush();
        if (!verified) {
            err.println("demo: " + (completed && loadedOk ? "state differs between source and destination"
                    : "migration did not complete"));
        }
        return verified ? 0 : 1;
    }
}
