package org.savevm.analyze.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.savevm.api.SavevmCommand;
import org.savevm.api.analyze.SectionAnalyzer;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageService;
import org.savevm.api.block.InternalSnapshots;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.api.migration.Sizes;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.api.vmstate.VMStateJson;
import org.savevm.stream.Printable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code analyze-stream [--json] [--dump-memory DIR] [--dump-disks DIR] [--max-size SIZE] FILE}: what a QEMU 7.2 stream file holds, without
 * handlers or a machine (QEMU's scripts/analyze-migration.py). The vmstate services, when installed,
 * decode device sections through the file's vmdesc trailer.
 */
@Component(service = SavevmCommand.class)
public final class AnalyzeStreamCommand implements SavevmCommand {
    static final String NAME = "analyze-stream";
    private final VMStateJson json;
    private final VMStateEngine engine;
    private final List<SectionAnalyzer> analyzers;

    /** Opens disk images for {@code --snapshot} (the image bundle's service, when it is installed). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ImageService images;

    /**
     * @param analyzers the section analyzers the format-owning bundles offer (ram's, block's)
     */
    @Activate
    public AnalyzeStreamCommand(
            @Reference(name = "json", cardinality = ReferenceCardinality.OPTIONAL,
                    policyOption = ReferencePolicyOption.GREEDY) VMStateJson json,
            @Reference(name = "engine", cardinality = ReferenceCardinality.OPTIONAL,
                    policyOption = ReferencePolicyOption.GREEDY) VMStateEngine engine,
            @Reference(name = "analyzers", cardinality = ReferenceCardinality.MULTIPLE,
                    policyOption = ReferencePolicyOption.GREEDY) List<SectionAnalyzer> analyzers) {
        this.json = json;
        this.engine = engine;
        this.analyzers = List.copyOf(analyzers);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String summary() {
        return "show what a QEMU 7.2 migration stream file holds: sections, ram pages, devices (analyze-migration.py)";
    }

    @Override
    public String usage() {
        return NAME + " [--json] [--dump-memory DIR] [--dump-disks DIR] [--max-size SIZE] FILE\n"
                + NAME + " [--json] [--dump-memory DIR] [--max-size SIZE] --snapshot NAME IMAGE\n"
                + "  --json              one JSON object instead of text\n"
                + "  --dump-memory DIR   write each RAM block's content to DIR/<idstr, '/' as '_'>.bin (sparse files)\n"
                + "  --dump-disks DIR    write each disk of the \"block\" sections to DIR/<device>.raw (sparse raw images,\n"
                + "                      as long as the furthest chunk the stream carries)\n"
                + "  --max-size SIZE     refuse to dump a RAM block or disk longer than SIZE (e.g. 512M, 2G; default 64G)\n"
                + "  --snapshot NAME     the VM state of internal snapshot NAME (id or tag) of the disk image IMAGE\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        boolean asJson = false;
        String dumpDir = null;
        String diskDir = null;
        String file = null;
        long maxSize = -1;
        String snapshot = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--json")) {
                asJson = true;
            } else if (a.equals("--dump-memory")) {
                if (i + 1 >= args.size() || dumpDir != null) {
                    return usageError(err, dumpDir != null ? "--dump-memory given twice" : "--dump-memory needs a DIR");
                }
                dumpDir = args.get(++i);
            } else if (a.equals("--dump-disks")) {
                if (i + 1 >= args.size() || diskDir != null) {
                    return usageError(err, diskDir != null ? "--dump-disks given twice" : "--dump-disks needs a DIR");
                }
                diskDir = args.get(++i);
            } else if (a.equals("--max-size")) {
                if (i + 1 >= args.size() || maxSize >= 0) {
                    return usageError(err, maxSize >= 0 ? "--max-size given twice" : "--max-size needs a SIZE");
                }
                String v = args.get(++i);
                try {
                    maxSize = Sizes.parse(v, 0);
                } catch (IllegalArgumentException e) {
                    return usageError(err, "--max-size: " + e.getMessage());
                }
                if (maxSize <= 0) {
                    return usageError(err, "--max-size must be positive: " + v);
                }
            } else if (a.equals("--snapshot")) {
                if (i + 1 >= args.size() || snapshot != null) {
                    return usageError(err, snapshot != null ? "--snapshot given twice" : "--snapshot needs a NAME");
                }
                snapshot = args.get(++i);
            } else if (a.startsWith("-") && a.length() > 1) {
                return usageError(err, "unknown option " + a);
            } else if (file != null) {
                return usageError(err, "expected exactly one FILE, got another: " + a);
            } else {
                file = a;
            }
        }
        if (file == null) {
            return usageError(err, "expected a FILE");
        }
        if (maxSize >= 0 && dumpDir == null && diskDir == null) {
            return usageError(err, "--max-size applies to --dump-memory and --dump-disks only");
        }
        Path path;
        Path dir = null;
        Path disks = null;
        try {
            path = Path.of(file);
            if (dumpDir != null) {
                dir = Path.of(dumpDir);
            }
            if (diskDir != null) {
                disks = Path.of(diskDir);
            }
        } catch (InvalidPathException e) {
            return usageError(err, e.getMessage());
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            err.println(NAME + ": " + file + ": not a readable file");
            return 1;
        }
        ObjectNode result;
        StreamAnalyzer analyzer = new StreamAnalyzer(json, engine, analyzers, dir, disks,
                maxSize >= 0 ? maxSize : MemoryDump.DEFAULT_MAX_SIZE);
        Path vmState = null;
        try {
            if (dir != null) {
                Files.createDirectories(dir);
            }
            if (disks != null) {
                Files.createDirectories(disks);
            }
            if (snapshot == null) {
                result = analyzer.analyze(path);
            } else {
                vmState = Files.createTempFile("savevm-snapshot-", ".vmstate");
                SnapshotInfo sn = copyVmState(path, snapshot, vmState);
                result = analyzer.analyze(vmState);
                result.put("file", file + " (snapshot " + sn.id() + " '" + sn.name() + "')");
            }
        } catch (IOException e) {
            err.println(NAME + ": " + Printable.escape(file) + ": " + Printable.escape(e.getMessage()));
            return 1;
        } finally {
            if (vmState != null) {
                Files.deleteIfExists(vmState);
            }
        }
        if (asJson) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result));
        } else {
            AnalysisText.print(result, analyzer.described(), out);
        }
        return 0;
    }

    /**
     * Copies the VM state of snapshot {@code idOrName} (QEMU's bdrv_snapshot_find: id first, then tag) of the image
     * {@code image}, opened read-only, into {@code to}: the walker needs a seekable stream to find the vmdesc.
     */
    private SnapshotInfo copyVmState(Path image, String idOrName, Path to) throws IOException {
        ImageService service = images;
        if (service == null) {
            throw new IOException("--snapshot needs the image bundle (no ImageService installed)");
        }
        try (BlockImage img = service.open(image, Optional.empty(), true)) {
            InternalSnapshots snapshots = img.internalSnapshots().orElseThrow(() -> new IOException(
                    img.format().qemuName() + " images have no internal snapshots"));
            List<SnapshotInfo> list = snapshots.list();
            SnapshotInfo sn = list.stream().filter(x -> x.id().equals(idOrName)).findFirst()
                    .or(() -> list.stream().filter(x -> x.name().equals(idOrName)).findFirst())
                    .orElseThrow(() -> new IOException("no snapshot '" + idOrName + "'"));
            if (sn.vmStateSize() == 0) {
                throw new IOException("snapshot '" + sn.name() + "' is disk-only: it has no VM state");
            }
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            try (FileChannel out = FileChannel.open(to, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                long pos = 0;
                while (pos < sn.vmStateSize()) {
                    buf.clear().limit((int) Math.min(buf.capacity(), sn.vmStateSize() - pos));
                    int n = snapshots.readVmState(sn.id(), pos, buf.slice());
                    if (n <= 0) {
                        throw new IOException("VM state of snapshot '" + sn.name() + "' ends at " + pos + " of "
                                + sn.vmStateSize() + " bytes");
                    }
                    buf.position(0).limit(n);
                    while (buf.hasRemaining()) {
                        out.write(buf);
                    }
                    pos += n;
                }
            }
            return sn;
        }
    }

    private int usageError(PrintStream err, String message) {
        err.println(NAME + ": " + message);
        err.print(usage());
        return 2;
    }
}
