package org.savevm.ram.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.analyze.AnalysisContext;
import org.savevm.api.analyze.AnalyzedSection;
import org.savevm.api.analyze.MemoryDumpSink;
import org.savevm.api.analyze.SectionAnalysis;
import org.savevm.api.analyze.SectionAnalyzer;
import org.savevm.ram.codec.PageCompression;
import org.savevm.ram.codec.RamFlags;
import org.savevm.ram.codec.RecordBlocks;
import org.savevm.ram.codec.XbzrleDecoder;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * analyze-stream's reader of the "ram" sections (QEMU 7.2 ram_load_precopy's format, version 4), read
 * without a machine through the ram codec: the block list of the MEM_SIZE setup record, then per block
 * the page records by kind. With a memory dump, pages are also decoded into the block files; otherwise
 * payloads are skipped.
 */
@Component(service = SectionAnalyzer.class)
public final class RamSectionAnalyzer implements SectionAnalyzer {
    /** More blocks than any machine has: a block list beyond this is refused before opening files. */
    static final int MAX_BLOCKS = 4096;

    @Override
    public String idstr() {
        return "ram";
    }

    /** First, as in analyze-migration.py. */
    @Override
    public int resultOrder() {
        return 0;
    }

    @Override
    public SectionAnalysis begin(AnalysisContext context) {
        return new Analysis(context);
    }

    private static final class Block {
        final String idstr;
        final long usedLength;
        final MemoryDumpSink.DumpFile file;
        long zero;
        long normal;
        long xbzrle;
        long xbzrleBytes;
        long compressed;
        final List<Long> parts = new ArrayList<>();
        long lastPart = -1;

        Block(String idstr, long usedLength, MemoryDumpSink.DumpFile file) {
            this.idstr = idstr;
            this.usedLength = usedLength;
            this.file = file;
        }
    }

    private static final class Analysis implements SectionAnalysis {
        private final int pageSize;
        private final int maxCompressed;
        private final boolean ignoreShared;
        private final MemoryDumpSink dump;
        private final Map<String, Block> blocks = new LinkedHashMap<>();
        private final List<Map<String, Object>> parts = new ArrayList<>();
        private final byte[] page;
        private final byte[] data;
        private PageCompression zlib;
        private final RecordBlocks<Block> recordBlocks = new RecordBlocks<>(this::named);
        private long memSizeTotal = -1;
        private Map<String, Object> currentPart;

        Analysis(AnalysisContext context) {
            this.pageSize = context.pageSize();
            this.ignoreShared = context.capabilities().contains("x-ignore-shared");
            this.dump = context.memoryDump();
            this.maxCompressed = PageCompression.compressBound(pageSize);
            this.page = new byte[pageSize];
            this.data = new byte[Math.max(maxCompressed, pageSize)];
        }

        /** Reads one ram section body up to its EOS record. */
        @Override
        public void section(AnalyzedSection section, MigrationInput in) throws IOException {
            if (section.version() != RamFlags.VERSION) {
                throw new MigrationStreamException("ram section version " + section.version() + " (only "
                        + RamFlags.VERSION + " is known)", in.position());
            }
            long sectionAt = section.offset();
            long pages = 0;
            while (true) {
                long at = in.position();
                long v = in.getBe64();
                int flags = RamFlags.flags(v, pageSize);
                long addr = RamFlags.offset(v, pageSize);
                Block b = null;
                if ((flags & RamFlags.PAGE_KINDS) != 0) {
                    b = recordBlocks.read(in, flags, at);
                    if (Long.compareUnsigned(addr, b.usedLength) >= 0) {
                        throw new MigrationStreamException(String.format("ram: illegal RAM offset 0x%x in block %s "
                                + "(used length 0x%x), record flags 0x%x", addr, b.idstr, b.usedLength, flags), at);
                    }
                    if (b.lastPart != sectionAt) {
                        b.lastPart = sectionAt;
                        b.parts.add(sectionAt);
                    }
                    pages++;
                }
                switch (flags & ~RamFlags.CONTINUE) {
                case RamFlags.MEM_SIZE -> blockList(in, addr, at);
                case RamFlags.ZERO -> {
                    int fill = in.getByte();
                    b.zero++;
                    if (b.file != null) {
                        Arrays.fill(page, (byte) fill);
                        b.file.write(addr, page, pageSize);
                    }
                }
                case RamFlags.PAGE -> {
                    b.normal++;
                    if (b.file != null) {
                        in.readFully(page, 0, pageSize);
                        b.file.write(addr, page, pageSize);
                    } else {
                        in.skip(pageSize);
                    }
                }
                case RamFlags.COMPRESS_PAGE -> {
                    int len = PageCompression.readLength(in, at, maxCompressed);
                    b.compressed++;
                    if (b.file != null) {
                        in.readFully(data, 0, len);
                        b.file.write(addr, page, inflate(len, addr, b, at));
                    } else {
                        in.skip(len);
                    }
                }
                case RamFlags.XBZRLE -> {
                    int len = XbzrleDecoder.readLength(in, at, pageSize);
                    b.xbzrle++;
                    b.xbzrleBytes += 3 + len;
                    if (b.file != null) {
                        in.readFully(data, 0, len);
                        b.file.read(addr, page, pageSize);
                        int r = XbzrleDecoder.decode(data, len, page, pageSize);
                        if (r < 0) {
                            throw new MigrationStreamException(String.format("ram: XBZRLE page 0x%x of %s does not "
                                    + "decode (invalid at byte %d of %d)", addr, b.idstr, XbzrleDecoder.failedAt(r), len),
                                    at);
                        }
                        b.file.write(addr, page, pageSize);
                    } else {
                        in.skip(len);
                    }
                }
                case RamFlags.EOS -> {
                    Map<String, Object> part = new LinkedHashMap<>();
                    part.put("type", section.type());
                    part.put("offset", sectionAt);
                    part.put("pages", pages);
                    parts.add(part);
                    currentPart = part;
                    return;
                }
                default -> {
                    if ((flags & RamFlags.HOOK) != 0) {
                        throw new MigrationStreamException("ram: RDMA hook record (flags 0x" + Integer.toHexString(flags)
                                + ") in a stream file", at);
                    }
                    throw new MigrationStreamException("ram: unknown combination of RAM flags 0x"
                            + Integer.toHexString(flags), at);
                }
                }
            }
        }

        @Override
        public void sectionEnd(AnalyzedSection section, long length) {
            if (currentPart != null) {
                currentPart.put("length", length);
                currentPart = null;
            }
        }

        private Block named(String id, long at) throws MigrationStreamException {
            Block b = blocks.get(id);
            if (b == null) {
                throw new MigrationStreamException("ram: page of block '" + id + "', which the MEM_SIZE block list "
                        + (memSizeTotal < 0 ? "has not given yet" : "does not name"), at);
            }
            return b;
        }

        /** MEM_SIZE: block names with used lengths, adding up to {@code total}. */
        private void blockList(MigrationInput in, long total, long at) throws IOException {
            if (memSizeTotal >= 0) {
                throw new MigrationStreamException("ram: a second MEM_SIZE block list", at);
            }
            memSizeTotal = total;
            long remaining = total;
            while (remaining != 0) {
                long entryAt = in.position();
                String id = in.getCountedString();
                long length = in.getBe64();
                if (ignoreShared) {
                    in.getBe64(); // the block's guest address, sent with x-ignore-shared
                }
                if (blocks.containsKey(id)) {
                    throw new MigrationStreamException("ram: block '" + id + "' listed twice in MEM_SIZE", entryAt);
                }
                if (blocks.size() >= MAX_BLOCKS) {
                    throw new MigrationStreamException("ram: more than " + MAX_BLOCKS + " RAM blocks in MEM_SIZE",
                            entryAt);
                }
                if (Long.compareUnsigned(length, remaining) > 0) {
                    throw new MigrationStreamException(String.format("ram: block '%s' of 0x%x bytes exceeds what is "
                            + "left (0x%x) of the MEM_SIZE total 0x%x", id, length, remaining, total), entryAt);
                }
                remaining -= length;
                MemoryDumpSink.DumpFile f = null;
                if (dump != null) {
                    try {
                        f = dump.create(id, length);
                    } catch (IOException e) {
                        throw new MigrationStreamException("ram: --dump-memory: " + e.getMessage(), entryAt, e);
                    }
                }
                blocks.put(id, new Block(id, length, f));
            }
        }

        private int inflate(int len, long addr, Block b, long at) throws IOException {
            if (zlib == null) {
                zlib = new PageCompression(0);
            }
            try {
                return zlib.decompress(data, len, page, pageSize);
            } catch (DataFormatException e) {
                throw new MigrationStreamException(String.format("ram: compressed page 0x%x of %s (%d bytes) does not "
                        + "inflate: %s", addr, b.idstr, len, e.getMessage()), at);
            }
        }

        /** Section sizes (as analyze-migration.py), blocks with counts, and the parts. */
        @Override
        public Map<String, Object> result() {
            Map<String, Object> r = new LinkedHashMap<>();
            Map<String, Object> sizes = new LinkedHashMap<>();
            Map<String, Object> bl = new LinkedHashMap<>();
            for (Block b : blocks.values()) {
                sizes.put(b.idstr, String.format("0x%016x", b.usedLength));
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("used_length", b.usedLength);
                o.put("zero_pages", b.zero);
                o.put("normal_pages", b.normal);
                o.put("xbzrle_pages", b.xbzrle);
                o.put("compressed_pages", b.compressed);
                o.put("xbzrle_bytes", b.xbzrleBytes);
                o.put("parts", b.parts);
                if (dump != null) {
                    o.put("dump_file", dump.fileName(b.idstr));
                }
                bl.put(b.idstr, o);
            }
            r.put("section sizes", sizes);
            r.put("blocks", bl);
            r.put("page_size", pageSize);
            r.put("parts", parts);
            return r;
        }

        @Override
        public void close() {
            if (zlib != null) {
                zlib.close();
            }
        }
    }

    @Override
    public List<String> describe(Map<String, Object> result) {
        List<String> lines = new ArrayList<>();
        lines.add("ram (page size " + result.get("page_size") + "):");
        ((Map<?, ?>) result.get("blocks")).forEach((name, value) -> {
            Map<?, ?> b = (Map<?, ?>) value;
            lines.add(String.format("  block %s: used length 0x%x; pages: zero %d, normal %d, xbzrle %d, compressed %d%s",
                    name, b.get("used_length"), b.get("zero_pages"), b.get("normal_pages"), b.get("xbzrle_pages"),
                    b.get("compressed_pages"), b.containsKey("dump_file") ? "; dumped to " + b.get("dump_file") : ""));
            List<?> at = (List<?>) b.get("parts");
            lines.add("    in the ram sections at bytes " + (at.isEmpty() ? "(none)"
                    : String.join(", ", at.stream().map(String::valueOf).toList())));
        });
        List<?> parts = (List<?>) result.get("parts");
        lines.add("  " + parts.size() + " ram sections:");
        for (Object o : parts) {
            Map<?, ?> p = (Map<?, ?>) o;
            lines.add("    " + p.get("type") + " at byte " + p.get("offset") + ", " + p.get("length") + " bytes, "
                    + p.get("pages") + " page records");
        }
        return lines;
    }
}
