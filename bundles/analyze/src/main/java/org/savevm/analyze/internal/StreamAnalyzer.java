package org.savevm.analyze.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.savevm.api.analyze.AnalysisContext;
import org.savevm.api.analyze.AnalyzedSection;
import org.savevm.api.analyze.SectionAnalysis;
import org.savevm.api.analyze.SectionAnalyzer;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.api.vmstate.VMStateJson;
import org.savevm.framing.commands.MigrationCommand;
import org.savevm.framing.Messages;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.SectionType;
import org.savevm.framing.StreamHeader;
import org.savevm.framing.walk.ConfigurationRecord;
import org.savevm.framing.walk.StreamCommand;
import org.savevm.framing.walk.StreamVisitor;
import org.savevm.framing.walk.StreamWalker;
import org.savevm.framing.walk.WalkOptions;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Walks a QEMU 7.2 migration stream file without handlers or a machine (the job of QEMU's
 * scripts/analyze-migration.py), as a visitor of the core's {@link StreamWalker}, and returns what it
 * holds as one JSON object: header, configuration, every section and command in stream order with
 * offsets and lengths, the results of the section analyzers the format-owning bundles contribute
 * ("ram", "block"), device sections decoded through the file's own vmdesc trailer (raw lengths without
 * it), EOF and the trailer. The file is read as a stream with a fixed buffer; every length taken from it
 * is bounded before use. Any malformed or cut input ends the walk with one
 * {@link MigrationStreamException} naming the section (idstr, instance) and the byte offset.
 */
public final class StreamAnalyzer implements StreamVisitor<StreamAnalyzer.Visit> {
    /** The longest vmdesc trailer looked for and accepted. */
    public static final long MAX_VMDESC = 64L << 20;
    /** How far a section without a descriptor is searched for its footer. */
    public static final long MAX_RAW_SECTION = 64L << 20;

    private final VMStateJson vmstateJson;
    private final VMStateEngine engine;
    private final Path dumpDir;
    private final Path diskDumpDir;
    private final long maxDumpSize;
    private final Map<String, SectionAnalyzer> analyzers = new LinkedHashMap<>();
    private final ObjectMapper mapper = new ObjectMapper();

    // per run
    private ObjectNode root;
    private ArrayNode sections;
    private ObjectNode devices;
    private final List<ArrayNode> outerSections = new ArrayList<>();
    private final Map<String, SectionAnalysis> analyses = new LinkedHashMap<>();
    private final Map<String, List<String>> described = new LinkedHashMap<>();
    private StreamWalker<Visit> walker;
    private VmdescTrailer vmdesc;
    private boolean headerSeen;
    private boolean pageSizeChecked;
    private int pageSize;
    private List<String> capabilities;
    private MemoryDump dump;
    private DiskDump diskDump;
    private long fileSize;

    /** One section header seen: the header (PART/END with their START's names) and its "sections" entry. */
    record Visit(SectionHeader header, AnalyzedSection section, ObjectNode entry) {
    }

    /**
     * @param vmstateJson and {@code engine}: to decode device sections with the vmdesc; either may be
     *                    null, and device sections are then reported by length only
     * @param analyzers   the section analyzers installed, at most one per idstr
     * @param dumpDir     where to write each RAM block's content, or null
     */
    public StreamAnalyzer(VMStateJson vmstateJson, VMStateEngine engine, List<SectionAnalyzer> analyzers,
            Path dumpDir) {
        this(vmstateJson, engine, analyzers, dumpDir, MemoryDump.DEFAULT_MAX_SIZE);
    }

    /** @param maxDumpSize the longest RAM block written to {@code dumpDir} ({@code --max-size}) */
    public StreamAnalyzer(VMStateJson vmstateJson, VMStateEngine engine, List<SectionAnalyzer> analyzers,
            Path dumpDir, long maxDumpSize) {
        this(vmstateJson, engine, analyzers, dumpDir, null, maxDumpSize);
    }

    /**
     * @param diskDumpDir where to write each disk's image ({@code --dump-disks}), or null
     * @param maxDumpSize the longest RAM block or disk written ({@code --max-size})
     */
    public StreamAnalyzer(VMStateJson vmstateJson, VMStateEngine engine, List<SectionAnalyzer> analyzers,
            Path dumpDir, Path diskDumpDir, long maxDumpSize) {
        this.diskDumpDir = diskDumpDir;
        this.maxDumpSize = maxDumpSize;
        this.vmstateJson = vmstateJson;
        this.engine = engine;
        this.dumpDir = dumpDir;
        for (SectionAnalyzer a : analyzers) {
            this.analyzers.putIfAbsent(a.idstr(), a);
        }
    }

    /** Analyzes one file; one analyzer may be used for one file at a time. */
    public ObjectNode analyze(Path file) throws IOException {
        root = mapper.createObjectNode();
        analyses.clear();
        described.clear();
        outerSections.clear();
        headerSeen = false;
        pageSizeChecked = false;
        capabilities = List.of();
        fileSize = Files.size(file);
        root.put("file", file.toString());
        root.put("size", fileSize);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                MemoryDump d = dumpDir == null ? null : new MemoryDump(dumpDir, maxDumpSize, fileSize);
                DiskDump dd = diskDumpDir == null ? null : new DiskDump(diskDumpDir, maxDumpSize)) {
            dump = d;
            diskDump = dd;
            vmdesc = VmdescTrailer.locate(ch, fileSize, MAX_VMDESC, mapper);
            ch.position(0);
            pageSize = vmdesc != null && vmdesc.pageSize > 0 ? vmdesc.pageSize : RamBlock.TARGET_PAGE_SIZE;
            walker = new StreamWalker<>(new WalkOptions(WalkOptions.Footers.DETECT, WalkOptions.Configuration.OPTIONAL,
                    null, true, MAX_VMDESC, 0xffffffffL), this);
            try {
                walker.walk(new MigrationInput(ch));
            } catch (MigrationStreamException e) {
                throw headerSeen ? e : Messages.prefixed("not a QEMU migration stream", e);
            }
        } finally {
            for (SectionAnalysis a : analyses.values()) {
                a.close();
            }
        }
        List<String> order = new ArrayList<>(analyses.keySet());
        order.sort(Comparator.comparingInt(id -> analyzers.get(id).resultOrder()));
        for (String idstr : order) {
            Map<String, Object> result = analyses.get(idstr).result();
            root.set(idstr, mapper.valueToTree(result));
            described.put(idstr, analyzers.get(idstr).describe(result));
        }
        root.set("devices", devices);
        return root;
    }

    /** The text lines of each section analyzer's result of the last {@link #analyze}, in output order. */
    public Map<String, List<String>> described() {
        return described;
    }

    @Override
    public void header(int version) {
        headerSeen = true;
        ObjectNode h = root.putObject("header");
        h.put("magic", String.format("0x%08x", StreamHeader.MAGIC));
        h.put("version", version);
        root.putNull("configuration");
        sections = root.putArray("sections");
        devices = mapper.createObjectNode();
    }

    @Override
    public void configuration(ConfigurationRecord c) throws IOException {
        ObjectNode o = root.putObject("configuration");
        o.put("offset", c.offset());
        o.put("machine_type", c.machineType());
        ObjectNode subs = o.putObject("subsections");
        for (String name : c.subsections()) {
            switch (name) {
            case ConfigurationRecord.SUB_PAGE_BITS -> {
                int bits = c.targetPageBits();
                if (bits < 9 || bits > 16) {
                    throw new MigrationStreamException("target-page-bits " + bits + " outside 9..16", c.offset());
                }
                subs.put(name, bits);
                pageSize = 1 << bits;
            }
            case ConfigurationRecord.SUB_CAPABILITIES -> {
                ArrayNode caps = subs.putArray(name);
                c.capabilities().forEach(caps::add);
                capabilities = c.capabilities();
            }
            default -> subs.put(name, c.uuid().toString());
            }
        }
        o.put("length", c.length());
    }

    /** Before the first record after the configuration: the page size the ram records will be read with. */
    private void checkPageSize() throws MigrationStreamException {
        if (!pageSizeChecked) {
            pageSizeChecked = true;
            if (Integer.bitCount(pageSize) != 1 || pageSize < 512 || pageSize > 65536) {
                throw new MigrationStreamException("target page size " + pageSize + " is not a power of two in "
                        + "512..65536", 8);
            }
            if (dump != null) {
                dump.pageSize(pageSize);
            }
        }
    }

    @Override
    public Visit section(SectionHeader h, Visit started) throws IOException {
        checkPageSize();
        long at = walker.packageBase() + h.offset();
        ObjectNode e = sections.addObject();
        e.put("type", h.typeName());
        e.put("section_id", Integer.toUnsignedLong(h.sectionId()));
        e.put("idstr", h.idstr());
        e.put("instance_id", Integer.toUnsignedLong(h.instanceId()));
        e.put("version", Integer.toUnsignedLong(h.version()));
        e.put("offset", at);
        return new Visit(h, new AnalyzedSection(h.typeName(), at, Integer.toUnsignedLong(h.sectionId()), h.idstr(),
                Integer.toUnsignedLong(h.instanceId()), Integer.toUnsignedLong(h.version())), e);
    }

    @Override
    public void body(Visit v, SectionHeader h, MigrationInput in) throws IOException {
        SectionAnalyzer a = analyzers.get(h.idstr());
        if (a == null) {
            device(in, h, v.entry());
            return;
        }
        SectionAnalysis analysis = analyses.get(h.idstr());
        if (analysis == null) {
            analysis = a.begin(new AnalysisContext(pageSize, capabilities, dump, diskDump));
            analyses.put(h.idstr(), analysis);
        }
        analysis.section(v.section(), in);
    }

    @Override
    public void sectionEnd(Visit v, SectionHeader h, long length) {
        SectionAnalysis analysis = analyses.get(h.idstr());
        if (analysis != null) {
            analysis.sectionEnd(v.section(), length);
        }
        v.entry().put("length", length);
    }

    /** A device (or unknown live) section: decoded through the vmdesc when it has an entry, else skipped. */
    private void device(MigrationInput in, SectionHeader h, ObjectNode entry) throws IOException {
        String key = h.idstr() + " (" + Integer.toUnsignedString(h.instanceId()) + ")";
        boolean full = h.type() == SectionType.FULL;
        VmdescTrailer.Entry d = full && vmdesc != null
                ? vmdesc.entry(h.idstr(), Integer.toUnsignedLong(h.instanceId())) : null;
        if (d != null && vmstateJson != null && engine != null) {
            GenericState state = new GenericState();
            engine.load(in, d.descriptor(vmstateJson), state, h.version());
            entry.put("decoded", true);
            devices.set(key, DeviceFields.render(state, d.node));
            return;
        }
        String why = d != null ? "no VMState engine installed"
                : vmdesc == null ? "the stream has no vmdesc trailer"
                : full ? "the vmdesc has no entry for it" : "a live section with no known format";
        long raw = skipToFooter(in, h, why);
        entry.put("decoded", false);
        entry.put("raw_length", raw);
        if (h.isStartOrFull()) {
            ObjectNode o = devices.putObject(key);
            o.put("raw_length", raw);
            o.put("not_decoded", why);
        }
    }

    /**
     * Up to the end of a section whose body cannot be parsed: the first section footer with its section id
     * that is followed by a section type byte (or the end of the file). Returns the body length; the walker
     * reads the footer.
     */
    private long skipToFooter(MigrationInput in, SectionHeader h, String why) throws IOException {
        long start = in.position();
        if (Boolean.FALSE.equals(walker.sectionFooters())) {
            throw new MigrationStreamException("cannot find the end of this section (" + why
                    + ", and the stream has no section footers)", start);
        }
        while (true) {
            long p = in.position();
            if (p - start > MAX_RAW_SECTION) {
                throw new MigrationStreamException("no section footer within " + MAX_RAW_SECTION
                        + " bytes of the section start (" + why + ")", p);
            }
            int b;
            try {
                b = in.peekByte();
            } catch (MigrationStreamException e) {
                throw Messages.prefixed("stream ended before the footer of this section (" + why + ")", e);
            }
            if (b == SectionType.FOOTER) {
                byte[] next = in.peekBytes(1, 5);
                if (next.length >= 4 && ByteBuffer.wrap(next).getInt() == h.sectionId()
                        && (next.length == 4 || (next[4] & 0xff) <= SectionType.COMMAND)) {
                    return p - start;
                }
            }
            in.getByte();
        }
    }

    @Override
    public void command(StreamCommand c) throws IOException {
        checkPageSize();
        ObjectNode e = sections.addObject();
        e.put("type", "COMMAND");
        e.put("command", c.command().name());
        e.put("offset", walker.packageBase() + c.offset());
        e.put("length", 5 + c.length());
        switch (c.command()) {
        case PING -> e.put("value", c.value());
        case POSTCOPY_ADVISE -> {
            if (c.advice() != null) {
                e.put("ram_pagesize_summary", c.advice().pageSizeSummary());
                e.put("target_page_size", c.advice().targetPageSize());
            }
        }
        case RECV_BITMAP -> e.put("block", c.blockName());
        case POSTCOPY_RAM_DISCARD -> {
            e.put("block", c.blockName());
            e.put("ranges", c.ranges().size());
        }
        case PACKAGED -> {
            long start = walker.packageBase() + c.offset() + 5 + c.length();
            if (start + c.value() > fileSize) {
                throw new MigrationStreamException("PACKAGED blob of " + c.value() + " bytes runs past the end of the "
                        + "file (" + fileSize + " bytes)", c.offset());
            }
            e.put("package_length", c.value());
            outerSections.add(sections);
            sections = e.putArray("sections");
        }
        default -> {
        }
        }
    }

    @Override
    public void packageEnd(StreamCommand command) {
        if (command.command() == MigrationCommand.PACKAGED) {
            sections = outerSections.remove(outerSections.size() - 1);
        }
    }

    @Override
    public void eof(long offset) throws IOException {
        checkPageSize();
        ObjectNode e = sections.addObject();
        e.put("type", "EOF");
        e.put("offset", walker.packageBase() + offset);
    }

    private void footersKnown() {
        if (walker.sectionFooters() != null) {
            root.put("section_footers", walker.sectionFooters());
        }
    }

    @Override
    public void noTrailer() {
        footersKnown();
        root.putObject("vmdesc").put("present", false);
    }

    /** After EOF the vmdesc trailer must reach exactly to the end of the file: the one located beforehand. */
    @Override
    public void vmdescTrailer(long at, long len) throws IOException {
        footersKnown();
        ObjectNode t = root.putObject("vmdesc");
        if (vmdesc == null || vmdesc.offset != at || vmdesc.length != len) {
            throw new MigrationStreamException("vmdesc trailer claims " + len + " bytes but " + (fileSize - at - 5)
                    + " follow (a cut or corrupted trailer)", at);
        }
        t.put("present", true);
        t.put("offset", at);
        t.put("length", len);
        t.put("page_size", vmdesc.pageSize);
        t.put("devices", vmdesc.deviceCount);
    }
}
