package org.savevm.core.analyze;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import org.savevm.core.framing.SectionType;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The records of the "ram" sections (QEMU 7.2 ram_load_precopy's format, version 4), read without a
 * machine: the block list of the MEM_SIZE setup record, then per block the page records by kind. With a
 * {@link MemoryDump}, pages are also decoded into the block files; otherwise payloads are skipped.
 */
final class RamAnalysis implements AutoCloseable {
    static final int FLAG_ZERO = 0x02;
    static final int FLAG_MEM_SIZE = 0x04;
    static final int FLAG_PAGE = 0x08;
    static final int FLAG_EOS = 0x10;
    static final int FLAG_CONTINUE = 0x20;
    static final int FLAG_XBZRLE = 0x40;
    static final int FLAG_HOOK = 0x80;
    static final int FLAG_COMPRESS_PAGE = 0x100;
    private static final int PAGE_KINDS = FLAG_ZERO | FLAG_PAGE | FLAG_XBZRLE | FLAG_COMPRESS_PAGE;
    private static final int ENCODING_XBZRLE = 0x01;
    /** More blocks than any machine has: a block list beyond this is refused before opening files. */
    static final int MAX_BLOCKS = 4096;

    private static final class Block {
        final String idstr;
        final long usedLength;
        final FileChannel file;
        long zero;
        long normal;
        long xbzrle;
        long xbzrleBytes;
        long compressed;
        final ArrayNode parts = JsonNodeFactory.instance.arrayNode();
        long lastPart = -1;

        Block(String idstr, long usedLength, FileChannel file) {
            this.idstr = idstr;
            this.usedLength = usedLength;
            this.file = file;
        }
    }

    private final int pageSize;
    private final int maxCompressed;
    private final boolean ignoreShared;
    private final MemoryDump dump;
    private final Map<String, Block> blocks = new LinkedHashMap<>();
    private final ArrayNode parts = JsonNodeFactory.instance.arrayNode();
    private final byte[] page;
    private final byte[] data;
    private Inflater inflater;
    private Block last;
    private long memSizeTotal = -1;

    RamAnalysis(int pageSize, boolean ignoreShared, MemoryDump dump) {
        this.pageSize = pageSize;
        this.ignoreShared = ignoreShared;
        this.dump = dump;
        // zlib's compressBound(page size): the longest compressed page QEMU accepts
        this.maxCompressed = pageSize + (pageSize >>> 12) + (pageSize >>> 14) + (pageSize >>> 25) + 13;
        this.page = new byte[pageSize];
        this.data = new byte[Math.max(maxCompressed, pageSize)];
    }

    /**
     * Reads one ram section body up to its EOS record; returns its entry for the "parts" list (the
     * caller adds the length once the footer is read).
     */
    ObjectNode readSection(MigrationInput in, int type, int version, long sectionAt) throws IOException {
        if (version != 4) {
            throw new MigrationStreamException("ram section version " + version + " (only 4 is known)", sectionAt);
        }
        long pages = 0;
        while (true) {
            long at = in.position();
            long v = in.getBe64();
            int flags = (int) (v & (pageSize - 1));
            long addr = v & ~(long) (pageSize - 1);
            Block b = null;
            if ((flags & PAGE_KINDS) != 0) {
                b = block(in, flags, at);
                if (Long.compareUnsigned(addr, b.usedLength) >= 0) {
                    throw new MigrationStreamException(String.format("ram: illegal RAM offset 0x%x in block %s (used "
                            + "length 0x%x), record flags 0x%x", addr, b.idstr, b.usedLength, flags), at);
                }
                if (b.lastPart != sectionAt) {
                    b.lastPart = sectionAt;
                    b.parts.add(sectionAt);
                }
                pages++;
            }
            switch (flags & ~FLAG_CONTINUE) {
            case FLAG_MEM_SIZE -> blockList(in, addr, at);
            case FLAG_ZERO -> {
                int fill = in.getByte();
                b.zero++;
                if (b.file != null) {
                    java.util.Arrays.fill(page, (byte) fill);
                    MemoryDump.write(b.file, addr, page, pageSize);
                }
            }
            case FLAG_PAGE -> {
                b.normal++;
                if (b.file != null) {
                    in.readFully(page, 0, pageSize);
                    MemoryDump.write(b.file, addr, page, pageSize);
                } else {
                    in.skip(pageSize);
                }
            }
            case FLAG_COMPRESS_PAGE -> {
                long lenAt = in.position();
                int len = in.getBe32();
                if (len < 0 || len > maxCompressed) {
                    throw new MigrationStreamException("ram: invalid compressed page length " + Integer.toUnsignedString(
                            len) + " (at most " + maxCompressed + ") for page 0x" + Long.toHexString(addr) + " of "
                            + b.idstr, lenAt);
                }
                b.compressed++;
                if (b.file != null) {
                    in.readFully(data, 0, len);
                    int n = inflate(len, addr, b, at);
                    MemoryDump.write(b.file, addr, page, n);
                } else {
                    in.skip(len);
                }
            }
            case FLAG_XBZRLE -> {
                int encoding = in.getByte();
                int len = in.getBe16();
                if (encoding != ENCODING_XBZRLE) {
                    throw new MigrationStreamException(String.format("ram: XBZRLE page 0x%x of %s has encoding 0x%x "
                            + "(expected 0x01)", addr, b.idstr, encoding), at);
                }
                if (len > pageSize) {
                    throw new MigrationStreamException(String.format("ram: XBZRLE page 0x%x of %s claims %d bytes "
                            + "(more than a page)", addr, b.idstr, len), at);
                }
                b.xbzrle++;
                b.xbzrleBytes += 3 + len;
                if (b.file != null) {
                    in.readFully(data, 0, len);
                    MemoryDump.read(b.file, addr, page, pageSize);
                    int r = XbzrlePage.apply(data, len, page, pageSize);
                    if (r < 0) {
                        throw new MigrationStreamException(String.format("ram: XBZRLE page 0x%x of %s does not decode "
                                + "(invalid at byte %d of %d)", addr, b.idstr, XbzrlePage.failedAt(r), len), at);
                    }
                    MemoryDump.write(b.file, addr, page, pageSize);
                } else {
                    in.skip(len);
                }
            }
            case FLAG_EOS -> {
                ObjectNode part = parts.addObject();
                part.put("type", SectionType.name(type));
                part.put("offset", sectionAt);
                part.put("pages", pages);
                return part;
            }
            default -> {
                if ((flags & FLAG_HOOK) != 0) {
                    throw new MigrationStreamException("ram: RDMA hook record (flags 0x" + Integer.toHexString(flags)
                            + ") in a stream file", at);
                }
                throw new MigrationStreamException("ram: unknown combination of RAM flags 0x"
                        + Integer.toHexString(flags), at);
            }
            }
        }
    }

    private Block block(MigrationInput in, int flags, long at) throws IOException {
        if ((flags & FLAG_CONTINUE) != 0) {
            if (last == null) {
                throw new MigrationStreamException("ram: record with CONTINUE (flags 0x" + Integer.toHexString(flags)
                        + ") before any block was named", at);
            }
            return last;
        }
        String id = in.getCountedString();
        Block b = blocks.get(id);
        if (b == null) {
            throw new MigrationStreamException("ram: page of block '" + id + "', which the MEM_SIZE block list "
                    + (memSizeTotal < 0 ? "has not given yet" : "does not name"), at);
        }
        last = b;
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
                throw new MigrationStreamException("ram: more than " + MAX_BLOCKS + " RAM blocks in MEM_SIZE", entryAt);
            }
            if (Long.compareUnsigned(length, remaining) > 0) {
                throw new MigrationStreamException(String.format("ram: block '%s' of 0x%x bytes exceeds what is left "
                        + "(0x%x) of the MEM_SIZE total 0x%x", id, length, remaining, total), entryAt);
            }
            remaining -= length;
            FileChannel f = null;
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
        if (inflater == null) {
            inflater = new Inflater();
        }
        inflater.reset();
        inflater.setInput(data, 0, len);
        int n = 0;
        try {
            while (!inflater.finished()) {
                int k = inflater.inflate(page, n, pageSize - n);
                n += k;
                if (k == 0 && !inflater.finished()) {
                    throw new DataFormatException(inflater.needsInput() ? "zlib data cut short"
                            : n == pageSize ? "more than a page of data" : "zlib stream needs a dictionary");
                }
            }
        } catch (DataFormatException e) {
            throw new MigrationStreamException(String.format("ram: compressed page 0x%x of %s (%d bytes) does not "
                    + "inflate: %s", addr, b.idstr, len, e.getMessage()), at);
        }
        return n;
    }

    /** The "ram" result: section sizes (as analyze-migration.py), blocks with counts, and the parts. */
    ObjectNode toJson() {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        ObjectNode sizes = r.putObject("section sizes");
        ObjectNode bl = r.putObject("blocks");
        for (Block b : blocks.values()) {
            sizes.put(b.idstr, String.format("0x%016x", b.usedLength));
            ObjectNode o = bl.putObject(b.idstr);
            o.put("used_length", b.usedLength);
            o.put("zero_pages", b.zero);
            o.put("normal_pages", b.normal);
            o.put("xbzrle_pages", b.xbzrle);
            o.put("compressed_pages", b.compressed);
            o.put("xbzrle_bytes", b.xbzrleBytes);
            o.set("parts", b.parts);
            if (dump != null) {
                o.put("dump_file", MemoryDump.fileName(b.idstr));
            }
        }
        r.put("page_size", pageSize);
        r.set("parts", parts);
        return r;
    }

    @Override
    public void close() {
        if (inflater != null) {
            inflater.end();
        }
    }
}
