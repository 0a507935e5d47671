package org.savevm.core.analyze;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The records of the "block" sections (QEMU 7.2 migration/block.c): be64 of sector &lt;&lt; 9 | flags;
 * a device block names its drive and carries 1 MiB of data unless it is a ZERO_BLOCK; progress records
 * carry a percentage; EOS ends the section.
 */
final class BlockAnalysis {
    private static final int DEVICE_BLOCK = 0x01;
    private static final int EOS = 0x02;
    private static final int PROGRESS = 0x04;
    private static final int ZERO_BLOCK = 0x08;
    private static final int SECTOR_BITS = 9;
    private static final int CHUNK = 1 << 20;

    private static final class Drive {
        long chunks;
        long zeroChunks;
        long lastSector;
    }

    private final Map<String, Drive> drives = new LinkedHashMap<>();
    private long progressRecords;
    private long lastProgress = -1;

    void readSection(MigrationInput in) throws IOException {
        while (true) {
            long at = in.position();
            long v = in.getBe64();
            int flags = (int) (v & ((1 << SECTOR_BITS) - 1));
            long sector = v >>> SECTOR_BITS;
            if ((flags & DEVICE_BLOCK) != 0) {
                String name = in.getCountedString();
                Drive d = drives.computeIfAbsent(name, k -> new Drive());
                if (drives.size() > 1024) {
                    throw new MigrationStreamException("block: more than 1024 drives", at);
                }
                d.lastSector = sector;
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

    ObjectNode toJson() {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        ObjectNode ds = r.putObject("drives");
        drives.forEach((name, d) -> {
            ObjectNode o = ds.putObject(name);
            o.put("chunks", d.chunks);
            o.put("zero_chunks", d.zeroChunks);
            o.put("chunk_size", CHUNK);
        });
        r.put("progress_records", progressRecords);
        if (lastProgress >= 0) {
            r.put("last_progress", lastProgress);
        }
        return r;
    }
}
