package org.savevm.analyze.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.savevm.api.SavevmCommand;
import org.savevm.api.analyze.SectionAnalyzer;
import org.savevm.api.migration.Sizes;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.api.vmstate.VMStateJson;
import org.savevm.stream.Printable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code analyze-stream [--json] [--dump-memory DIR [--max-size SIZE]] FILE}: what a QEMU 7.2 stream file holds, without
 * handlers or a machine (QEMU's scripts/analyze-migration.py). The vmstate services, when installed,
 * decode device sections through the file's vmdesc trailer.
 */
@Component(service = SavevmCommand.class)
public final class AnalyzeStreamCommand implements SavevmCommand {
    static final String NAME = "analyze-stream";
    private final VMStateJson json;
    private final VMStateEngine engine;
    private final List<SectionAnalyzer> analyzers;

    /**
     * @param analyzers the section analyzers the format-owning bundles offer; the internal "block"
     *                  analyzer serves until one of them reads "block"
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
        List<SectionAnalyzer> all = new ArrayList<>(analyzers);
        all.add(new BlockChunkAnalyzer());
        this.analyzers = List.copyOf(all);
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
        return NAME + " [--json] [--dump-memory DIR [--max-size SIZE]] FILE\n"
                + "  --json              one JSON object instead of text\n"
                + "  --dump-memory DIR   write each RAM block's content to DIR/<idstr, '/' as '_'>.bin (sparse files)\n"
                + "  --max-size SIZE     refuse to dump a RAM block longer than SIZE (e.g. 512M, 2G; default 64G)\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        boolean asJson = false;
        String dumpDir = null;
        String file = null;
        long maxSize = -1;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--json")) {
                asJson = true;
            } else if (a.equals("--dump-memory")) {
                if (i + 1 >= args.size() || dumpDir != null) {
                    return usageError(err, dumpDir != null ? "--dump-memory given twice" : "--dump-memory needs a DIR");
                }
                dumpDir = args.get(++i);
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
        if (maxSize >= 0 && dumpDir == null) {
            return usageError(err, "--max-size applies to --dump-memory only");
        }
        Path path;
        Path dir = null;
        try {
            path = Path.of(file);
            if (dumpDir != null) {
                dir = Path.of(dumpDir);
            }
        } catch (InvalidPathException e) {
            return usageError(err, e.getMessage());
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            err.println(NAME + ": " + file + ": not a readable file");
            return 1;
        }
        ObjectNode result;
        StreamAnalyzer analyzer = new StreamAnalyzer(json, engine, analyzers, dir,
                maxSize >= 0 ? maxSize : MemoryDump.DEFAULT_MAX_SIZE);
        try {
            if (dir != null) {
                Files.createDirectories(dir);
            }
            result = analyzer.analyze(path);
        } catch (IOException e) {
            err.println(NAME + ": " + Printable.escape(file) + ": " + Printable.escape(e.getMessage()));
            return 1;
        }
        if (asJson) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result));
        } else {
            AnalysisText.print(result, analyzer.described(), out);
        }
        return 0;
    }

    private int usageError(PrintStream err, String message) {
        err.println(NAME + ": " + message);
        err.print(usage());
        return 2;
    }
}
