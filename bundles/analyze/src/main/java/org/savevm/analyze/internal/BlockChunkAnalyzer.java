package org.savevm.analyze.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.savevm.api.analyze.AnalysisContext;
import org.savevm.api.analyze.AnalyzedSection;
import org.savevm.api.analyze.SectionAnalysis;
import org.savevm.api.analyze.SectionAnalyzer;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * The records of the "block" sections (QEMU 7.2 migration/block.c): be64 of sector &lt;&lt; 9 | flags;
 * a device block names its drive and carries 1 MiB of data unless it is a ZERO_BLOCK; progress records
 * carry a percentage; EOS ends the section. Kept here until a block bundle owns the format and offers
 * its own analyzer (which then takes precedence over this one).
 */
final class BlockChunkAnalyzer implements SectionAnalyzer {
    private static final int DEVICE_BLOCK = 0x01;
    private static final int EOS = 0x02;
    private static final int PROGRESS = 0x04;
    private static final int ZERO_BLOCK = 0x08;
    private static final int SECTOR_BITS = 9;
    private static final int CHUNK = 1 << 20;
    private static final int MAX_DRIVES = 1024;

    @Override
    public String idstr() {
        return "block";
    }

    @Override
    public SectionAnalysis begin(AnalysisContext context) {
        return new Analysis();
    }

    private static final class Drive {
        long chunks;
        long zeroChunks;
    }

    private static final class Analysis implements SectionAnalysis {
        private final Map<String, Drive> drives = new LinkedHashMap<>();
        private long progressRecords;
        private long lastProgress = -1;

        @Override
        public void section(AnalyzedSection section, MigrationInput in) throws IOException {
            while (true) {
                long at = in.position();
                long v = in.getBe64();
                int flags = (int) (v & ((1 << SECTOR_BITS) - 1));
                long sector = v >>> SECTOR_BITS;
                if ((flags & DEVICE_BLOCK) != 0) {
                    String name = in.getCountedString();
                    Drive d = drives.computeIfAbsent(name, k -> new Drive());
                    if (drives.size() > MAX_DRIVES) {
                        throw new MigrationStreamException("block: more than " + MAX_DRIVES + " drives", at);
                    }
                    if ((flags & ZERO_BLOCK) != 0) {
                        d.zeroChunks++;
                    } else {
                        d.chunks++;
                        in.skip(CHUNK);
                    }
                } else if ((flags & PROGRESS) != 0) {
                    progressRecords++;
                    lastProgress = sector;
                } else if ((flags & EOS) == 0) {
                    throw new MigrationStreamException("block: unknown flags 0x" + Integer.toHexString(flags), at);
                }
                if ((flags & EOS) != 0) {
                    return;
                }
            }
        }

        @Override
        public Map<String, Object> result() {
            Map<String, Object> r = new LinkedHashMap<>();
            Map<String, Object> ds = new LinkedHashMap<>();
            drives.forEach((name, d) -> {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("chunks", d.chunks);
                o.put("zero_chunks", d.zeroChunks);
                o.put("chunk_size", CHUNK);
                ds.put(name, o);
            });
            r.put("drives", ds);
            r.put("progress_records", progressRecords);
            if (lastProgress >= 0) {
                r.put("last_progress", lastProgress);
            }
            return r;
        }

        @Override
        public void close() {
        }
    }

    @Override
    public List<String> describe(Map<String, Object> result) {
        List<String> lines = new ArrayList<>();
        lines.add("block:");
        Map<?, ?> drives = (Map<?, ?>) result.get("drives");
        drives.forEach((name, d) -> {
            Map<?, ?> o = (Map<?, ?>) d;
            lines.add("  drive " + name + ": " + o.get("chunks") + " chunks with data, " + o.get("zero_chunks")
                    + " zero chunks");
        });
        lines.add("  " + result.get("progress_records") + " progress records");
        return lines;
    }
}
