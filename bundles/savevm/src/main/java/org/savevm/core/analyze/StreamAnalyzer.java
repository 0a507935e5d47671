package org.savevm.core.analyze;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.api.vmstate.VMStateJson;
import org.savevm.core.commands.MigrationCommand;
import org.savevm.core.framing.Messages;
import org.savevm.core.framing.SectionFooter;
import org.savevm.core.framing.SectionHeader;
import org.savevm.core.framing.SectionType;
import org.savevm.core.framing.StreamHeader;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Walks a QEMU 7.2 migration stream file without handlers or a machine (the job of QEMU's
 * scripts/analyze-migration.py) and returns what it holds as one JSON object: header, configuration,
 * every section and command in stream order with offsets and lengths, the "ram" blocks with page
 * counts, the "block" drives, device sections decoded through the file's own vmdesc trailer (raw
 * lengths without it), EOF and the trailer. The file is read as a stream with a fixed buffer; every
 * length taken from it is bounded before use. Any malformed or cut input ends the walk with one
 * {@link MigrationStreamException} naming the section (idstr, instance) and the byte offset.
 */
public final class StreamAnalyzer {
    /** The longest vmdesc trailer looked for and accepted. */
    public static final long MAX_VMDESC = 64L << 20;
    /** How far a section without a descriptor is searched for its footer. */
    public static final long MAX_RAW_SECTION = 64L << 20;
    private static final int MAX_MACHINE_NAME = 1024;
    private static final int MAX_CAPABILITIES = 256;
    private static final int MAX_PACKAGE_DEPTH = 8;

    private final VMStateJson vmstateJson;
    private final VMStateEngine engine;
    private final Path dumpDir;
    private final ObjectMapper mapper = new ObjectMapper();

    // per run
    private ObjectNode root;
    private ArrayNode sections;
    private ObjectNode devices;
    private final Map<Integer, Section> bySectionId = new HashMap<>();
    private VmdescTrailer vmdesc;
    private Boolean footers;
    private int pageSize;
    private boolean ignoreShared;
    private RamAnalysis ram;
    private BlockAnalysis block;
    private MemoryDump dump;
    private long fileSize;

    private record Section(int sectionId, String idstr, int instanceId, int version) {
        String describe() {
            return "'" + idstr + "' instance " + Integer.toUnsignedString(instanceId);
        }
    }

    /**
     * @param vmstateJson and {@code engine}: to decode device sections with the vmdesc; either may be
     *                    null, and device sections are then reported by length only
     * @param dumpDir     where to write each RAM block's content, or null
     */
    public StreamAnalyzer(VMStateJson vmstateJson, VMStateEngine engine, Path dumpDir) {
        this.vmstateJson = vmstateJson;
        this.engine = engine;
        this.dumpDir = dumpDir;
    }

    /** Analyzes one file; one analyzer may be used for one file at a time. */
    public ObjectNode analyze(Path file) throws IOException {
        root = mapper.createObjectNode();
        bySectionId.clear();
        footers = null;
        ram = null;
        block = null;
        fileSize = Files.size(file);
        root.put("file", file.toString());
        root.put("size", fileSize);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                MemoryDump d = dumpDir == null ? null : new MemoryDump(dumpDir)) {
            dump = d;
            vmdesc = VmdescTrailer.locate(ch, fileSize, MAX_VMDESC, mapper);
            ch.position(0);
            MigrationInput in = new MigrationInput(ch);
            header(in);
            pageSize = vmdesc != null && vmdesc.pageSize > 0 ? vmdesc.pageSize : 4096;
            if (in.peekByte() == SectionType.CONFIGURATION) {
                configuration(in);
            } else {
                root.putNull("configuration");
            }
            if (Integer.bitCount(pageSize) != 1 || pageSize < 512 || pageSize > 65536) {
                throw new MigrationStreamException("target page size " + pageSize + " is not a power of two in "
                        + "512..65536", 8);
            }
            sections = root.putArray("sections");
            devices = mapper.createObjectNode();
            sectionLoop(in, -1, 0);
            trailer(in);
        } finally {
            if (ram != null) {
                ram.close();
            }
        }
        if (ram != null) {
            root.set("ram", ram.toJson());
        }
        if (block != null) {
            root.set("block", block.toJson());
        }
        root.set("devices", devices);
        return root;
    }

    private void header(MigrationInput in) throws IOException {
        int magic = in.getBe32();
        if (magic != StreamHeader.MAGIC) {
            throw new MigrationStreamException(String.format("not a QEMU migration stream: magic 0x%08x (expected "
                    + "0x%08x, \"QEVM\")", magic, StreamHeader.MAGIC), 0);
        }
        int version = in.getBe32();
        if (version != StreamHeader.VERSION) {
            throw new MigrationStreamException("migration stream version " + version + " (only version 3 is known)", 4);
        }
        ObjectNode h = root.putObject("header");
        h.put("magic", String.format("0x%08x", magic));
        h.put("version", version);
    }

    private void configuration(MigrationInput in) throws IOException {
        long at = in.position();
        try {
            in.getByte();
            long lenAt = in.position();
            long len = Integer.toUnsignedLong(in.getBe32());
            if (len > MAX_MACHINE_NAME) {
                throw new MigrationStreamException("machine type name of " + len + " bytes (limit " + MAX_MACHINE_NAME
                        + ")", lenAt);
            }
            ObjectNode c = root.putObject("configuration");
            c.put("offset", at);
            c.put("machine_type", new String(in.readBytes((int) len), StandardCharsets.ISO_8859_1));
            ObjectNode subs = c.putObject("subsections");
            while (in.peekByte() == SectionType.SUBSECTION) {
                long subAt = in.position();
                in.getByte();
                String name = in.getCountedString();
                int version = in.getBe32();
                if (version != 1) {
                    throw new MigrationStreamException("subsection '" + name + "' version " + version
                            + " (only 1 is known)", subAt);
                }
                switch (name) {
                case "configuration/target-page-bits" -> {
                    int bits = in.getBe32();
                    if (bits < 9 || bits > 16) {
                        throw new MigrationStreamException("target-page-bits " + bits + " outside 9..16", subAt);
                    }
                    subs.put(name, bits);
                    pageSize = 1 << bits;
                }
                case "configuration/capabilities" -> {
                    long countAt = in.position();
                    long count = Integer.toUnsignedLong(in.getBe32());
                    if (count > MAX_CAPABILITIES) {
                        throw new MigrationStreamException(count + " capabilities (limit " + MAX_CAPABILITIES + ")",
                                countAt);
                    }
                    ArrayNode caps = subs.putArray(name);
                    for (long i = 0; i < count; i++) {
                        String cap = in.getCountedString();
                        caps.add(cap);
                        if (cap.equals("x-ignore-shared")) {
                            ignoreShared = true;
                        }
                    }
                }
                case "configuration/uuid" -> {
                    ByteBuffer b = ByteBuffer.wrap(in.readBytes(16));
                    subs.put(name, new UUID(b.getLong(), b.getLong()).toString());
                }
                default -> throw new MigrationStreamException("unknown subsection '" + name + "'", subAt);
                }
            }
            c.put("length", in.position() - at);
        } catch (MigrationStreamException e) {
            throw Messages.prefixed("configuration section (at byte " + at + ")", e);
        }
    }

    /** Sections up to EOF, or up to {@code end} inside a PACKAGED blob. */
    private void sectionLoop(MigrationInput in, long end, int depth) throws IOException {
        while (true) {
            long at = in.position();
            if (end >= 0 && at >= end) {
                if (at > end) {
                    throw new MigrationStreamException("the last section runs " + (at - end)
                            + " bytes past the end of its PACKAGED blob (which ends at byte " + end + ")", at);
                }
                return;
            }
            int type;
            try {
                type = in.getByte();
            } catch (MigrationStreamException e) {
                throw Messages.prefixed("stream ended where a section type was expected (no EOF marker)", e);
            }
            switch (type) {
            case SectionType.START, SectionType.FULL -> {
                SectionHeader h = header(in, type, at, true);
                Section s = new Section(h.sectionId(), h.idstr(), h.instanceId(), h.version());
                bySectionId.put(h.sectionId(), s);
                body(in, type, s, at);
            }
            case SectionType.PART, SectionType.END -> {
                SectionHeader h = header(in, type, at, false);
                Section s = bySectionId.get(h.sectionId());
                if (s == null) {
                    throw new MigrationStreamException(SectionType.name(type) + " section with section id "
                            + Integer.toUnsignedString(h.sectionId()) + ", which no START introduced", at);
                }
                body(in, type, s, at);
            }
            case SectionType.COMMAND -> command(in, at, depth);
            case SectionType.EOF -> {
                ObjectNode e = sections.addObject();
                e.put("type", "EOF");
                e.put("offset", at);
                return;
            }
            default -> throw new MigrationStreamException("unknown section type " + SectionType.name(type)
                    + (type == SectionType.FOOTER ? " (a section footer where a section should start)" : ""), at);
            }
        }
    }

    private static SectionHeader header(MigrationInput in, int type, long at, boolean full) throws IOException {
        try {
            return full ? SectionHeader.readStartOrFull(in, type, at) : SectionHeader.readPartOrEnd(in, type, at);
        } catch (MigrationStreamException e) {
            throw Messages.prefixed(SectionType.name(type) + " section header at byte " + at + " cut short", e);
        }
    }

    private void body(MigrationInput in, int type, Section s, long at) throws IOException {
        String context = SectionType.name(type) + " section " + s.describe() + " (section id "
                + Integer.toUnsignedString(s.sectionId()) + ", starting at byte " + at + ")";
        ObjectNode e = sections.addObject();
        e.put("type", SectionType.name(type));
        e.put("section_id", Integer.toUnsignedLong(s.sectionId()));
        e.put("idstr", s.idstr());
        e.put("instance_id", Integer.toUnsignedLong(s.instanceId()));
        e.put("version", Integer.toUnsignedLong(s.version()));
        e.put("offset", at);
        try {
            if (s.idstr().equals("ram")) {
                if (ram == null) {
                    ram = new RamAnalysis(pageSize, ignoreShared, dump);
                }
                ObjectNode part = ram.readSection(in, type, s.version(), at);
                footer(in, s);
                part.put("length", in.position() - at);
            } else if (s.idstr().equals("block")) {
                if (block == null) {
                    block = new BlockAnalysis();
                }
                block.readSection(in);
                footer(in, s);
            } else {
                device(in, type, s, e);
            }
        } catch (MigrationStreamException ex) {
            throw Messages.prefixed(context, ex);
        } catch (IOException | RuntimeException ex) {
            String what = ex instanceof IOException && ex.getMessage() != null ? ex.getMessage() : ex.toString();
            throw new MigrationStreamException(context + ": " + what, in.position(), ex);
        }
        e.put("length", in.position() - at);
    }

    /** A device (or unknown live) section: decoded through the vmdesc when it has an entry, else skipped. */
    private void device(MigrationInput in, int type, Section s, ObjectNode entry) throws IOException {
        String key = s.idstr() + " (" + Integer.toUnsignedString(s.instanceId()) + ")";
        VmdescTrailer.Entry d = type == SectionType.FULL && vmdesc != null
                ? vmdesc.entry(s.idstr(), Integer.toUnsignedLong(s.instanceId())) : null;
        if (d != null && vmstateJson != null && engine != null) {
            GenericState state = new GenericState();
            engine.load(in, d.descriptor(vmstateJson), state, s.version());
            footer(in, s);
            entry.put("decoded", true);
            if (type == SectionType.FULL || type == SectionType.START) {
                devices.set(key, DeviceFields.render(state, d.node));
            }
            return;
        }
        String why = d != null ? "no VMState engine installed"
                : vmdesc == null ? "the stream has no vmdesc trailer"
                : type == SectionType.FULL ? "the vmdesc has no entry for it" : "a live section with no known format";
        long raw = skipToFooter(in, s, why);
        entry.put("decoded", false);
        entry.put("raw_length", raw);
        if (type == SectionType.FULL || type == SectionType.START) {
            ObjectNode o = devices.putObject(key);
            o.put("raw_length", raw);
            o.put("not_decoded", why);
        }
    }

    private void footer(MigrationInput in, Section s) throws IOException {
        if (footers == null) {
            footers = in.peekByte() == SectionType.FOOTER;
            root.put("section_footers", footers);
        }
        if (footers) {
            SectionFooter.check(in, s.idstr(), s.sectionId());
        }
    }

    /**
     * The end of a section whose body cannot be parsed: the first section footer with its section id that
     * is followed by a section type byte (or the end of the file). Returns the body length.
     */
    private long skipToFooter(MigrationInput in, Section s, String why) throws IOException {
        long start = in.position();
        if (Boolean.FALSE.equals(footers)) {
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
                b = in.getByte();
            } catch (MigrationStreamException e) {
                throw Messages.prefixed("stream ended before the footer of this section (" + why + ")", e);
            }
            if (b == SectionType.FOOTER) {
                byte[] next = in.peekBytes(0, 5);
                if (next.length >= 4 && ByteBuffer.wrap(next).getInt() == s.sectionId()
                        && (next.length == 4 || (next[4] & 0xff) <= SectionType.COMMAND)) {
                    in.skip(4);
                    if (footers == null) {
                        footers = true;
                        root.put("section_footers", true);
                    }
                    return p - start;
                }
            }
        }
    }

    private void command(MigrationInput in, long at, int depth) throws IOException {
        try {
            int id = in.getBe16();
            int len = in.getBe16();
            MigrationCommand c = MigrationCommand.ofId(id);
            if (c == null) {
                throw new MigrationStreamException(String.format("unknown command 0x%x (length %d)", id, len), at);
            }
            if (c.length() != -1 && c.length() != len) {
                throw new MigrationStreamException(c + " with length " + len + " (expected " + c.length() + ")", at);
            }
            ObjectNode e = sections.addObject();
            e.put("type", "COMMAND");
            e.put("command", c.name());
            e.put("offset", at);
            e.put("length", 5 + len);
            ByteBuffer p = ByteBuffer.wrap(in.readBytes(len));
            switch (c) {
            case PING -> e.put("value", Integer.toUnsignedLong(p.getInt()));
            case POSTCOPY_ADVISE -> {
                if (len == 16) {
                    e.put("ram_pagesize_summary", p.getLong());
                    e.put("target_page_size", p.getLong());
                } else if (len != 0) {
                    throw new MigrationStreamException("POSTCOPY_ADVISE with length " + len + " (0 or 16)", at);
                }
            }
            case RECV_BITMAP -> {
                int n = len > 0 ? p.get() & 0xff : 0;
                if (n == 0 || len != n + 1) {
                    throw new MigrationStreamException("RECV_BITMAP with a bad block name (length " + len + ")", at);
                }
                e.put("block", new String(p.array(), 1, n, StandardCharsets.UTF_8));
            }
            case POSTCOPY_RAM_DISCARD -> {
                if (len < 3 || (p.get(1) & 0xff) + 3 > len || (len - 3 - (p.get(1) & 0xff)) % 16 != 0) {
                    throw new MigrationStreamException("POSTCOPY_RAM_DISCARD with a bad length " + len, at);
                }
                int n = p.get(1) & 0xff;
                e.put("block", new String(p.array(), 2, n, StandardCharsets.UTF_8));
                e.put("ranges", (len - 3 - n) / 16);
            }
            case PACKAGED -> packaged(in, at, Integer.toUnsignedLong(p.getInt()), depth, e);
            default -> {
            }
            }
        } catch (MigrationStreamException ex) {
            throw Messages.prefixed("command at byte " + at, ex);
        }
    }

    private void packaged(MigrationInput in, long at, long length, int depth, ObjectNode e) throws IOException {
        long start = in.position();
        if (start + length > fileSize) {
            throw new MigrationStreamException("PACKAGED blob of " + length + " bytes runs past the end of the file ("
                    + fileSize + " bytes)", at);
        }
        if (depth >= MAX_PACKAGE_DEPTH) {
            throw new MigrationStreamException("PACKAGED blobs nested deeper than " + MAX_PACKAGE_DEPTH, at);
        }
        e.put("package_length", length);
        ArrayNode outer = sections;
        sections = e.putArray("sections");
        try {
            sectionLoop(in, start + length, depth + 1);
        } finally {
            sections = outer;
        }
        // an EOF inside the blob ends it; QEMU drops whatever follows in the blob
        long rest = start + length - in.position();
        if (rest > 0) {
            in.skip(rest);
        }
    }

    /** After EOF: nothing (vmdesc suppressed), or the vmdesc trailer reaching exactly to the end. */
    private void trailer(MigrationInput in) throws IOException {
        ObjectNode t = root.putObject("vmdesc");
        if (in.atEnd()) {
            t.put("present", false);
            return;
        }
        long at = in.position();
        int type = in.getByte();
        if (type != SectionType.VMDESCRIPTION) {
            throw new MigrationStreamException(String.format("byte 0x%02x after the EOF marker where the vmdesc "
                    + "trailer (0x06) or the end of the file was expected", type), at);
        }
        long len = Integer.toUnsignedLong(in.getBe32());
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
