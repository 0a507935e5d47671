package org.savevm.block.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.analyze.AnalysisContext;
import org.savevm.api.analyze.AnalyzedSection;
import org.savevm.api.analyze.MemoryDumpSink;
import org.savevm.api.analyze.SectionAnalysis;
import org.savevm.api.analyze.SectionAnalyzer;
import org.savevm.block.codec.BlockFlags;
import org.savevm.block.codec.BlockRecord;
import org.savevm.block.codec.BlockRecordReader;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * analyze-stream's reader of the "block" sections, through the block codec: per device the chunks with data and
 * the zero chunks, the furthest byte they reach, and the progress records. With a disk dump
 * ({@code --dump-disks}) each device's chunks are written into its image file, later ones over earlier ones as
 * the loader would; otherwise the data is skipped.
 */
@Component(service = SectionAnalyzer.class)
public final class BlockSectionAnalyzer implements SectionAnalyzer {
    /** More devices than any machine has: refused before opening more files. */
    static final int MAX_DEVICES = 1024;
    /**
     * Runs of chunks kept for the listing, over all devices: a hostile stream of 30-byte zero records in a scattered
     * order would otherwise make one entry per record. Past it the runs are only counted.
     */
    static final int MAX_RUNS = 10_000;
    /** Runs shown per drive in the text form; the JSON has all that were kept. */
    static final int RUNS_SHOWN = 16;

    @Override
    public String idstr() {
        return BlockFlags.IDSTR;
    }

    /** Before ram, as in the stream. */
    @Override
    public int resultOrder() {
        return -1;
    }

    @Override
    public SectionAnalysis begin(AnalysisContext context) {
        return new Analysis(context.diskDump());
    }

    /** Consecutive chunks of one kind in stream order: a bulk phase is one run of data and one of zeros, say. */
    private static final class Run {
        final long offset;
        final boolean zero;
        final long at;
        long chunks = 1;

        Run(long offset, boolean zero, long at) {
            this.offset = offset;
            this.zero = zero;
            this.at = at;
        }

        boolean extendsWith(long nextOffset, boolean nextZero) {
            return nextZero == zero && nextOffset == offset + chunks * BlockFlags.CHUNK_SIZE;
        }
    }

    private static final class Device {
        long chunks;
        long zeroChunks;
        long end;
        final List<Run> runs = new ArrayList<>();
        long runsOmitted;
        MemoryDumpSink.DumpFile file;
        String fileName;
    }

    private static final class Analysis implements SectionAnalysis {
        private final MemoryDumpSink dump;
        private final Map<String, Device> devices = new LinkedHashMap<>();
        private final byte[] data;
        private final byte[] zeros;
        private long progressRecords;
        private long lastProgress = -1;
        private int runsKept;

        Analysis(MemoryDumpSink dump) {
            this.dump = dump;
            this.data = dump == null ? null : new byte[BlockFlags.CHUNK_SIZE];
            this.zeros = dump == null ? null : new byte[BlockFlags.CHUNK_SIZE];
        }

        @Override
        public void section(AnalyzedSection section, MigrationInput in) throws IOException {
            while (true) {
                BlockRecord r = BlockRecordReader.read(in);
                if (r.deviceBlock()) {
                    Device d = devices.get(r.device());
                    if (d == null) {
                        if (devices.size() >= MAX_DEVICES) {
                            throw new MigrationStreamException("block: more than " + MAX_DEVICES + " devices", r.at());
                        }
                        d = new Device();
                        devices.put(r.device(), d);
                        if (dump != null) {
                            d.file = dump.create(r.device(), 0);
                            d.fileName = dump.fileName(r.device());
                        }
                    }
                    d.end = Math.max(d.end, r.offset() + BlockFlags.CHUNK_SIZE);
                    addToRuns(d, r);
                    if (r.zero()) {
                        d.zeroChunks++;
                        if (d.file != null) {
                            d.file.write(r.offset(), zeros, BlockFlags.CHUNK_SIZE);
                        }
                    } else {
                        d.chunks++;
                        if (d.file != null) {
                            in.readFully(data);
                            d.file.write(r.offset(), data, BlockFlags.CHUNK_SIZE);
                        } else {
                            BlockRecordReader.skipData(in, r);
                        }
                    }
                } else if (r.progress()) {
                    progressRecords++;
                    lastProgress = r.percent();
                }
                if (r.eos()) {
                    return;
                }
            }
        }

        private void addToRuns(Device d, BlockRecord r) {
            Run last = d.runs.isEmpty() ? null : d.runs.get(d.runs.size() - 1);
            if (last != null && d.runsOmitted == 0 && last.extendsWith(r.offset(), r.zero())) {
                last.chunks++;
            } else if (runsKept < MAX_RUNS && d.runsOmitted == 0) {
                d.runs.add(new Run(r.offset(), r.zero(), r.at()));
                runsKept++;
            } else {
                d.runsOmitted++;
            }
        }

        @Override
        public Map<String, Object> result() {
            Map<String, Object> r = new LinkedHashMap<>();
            Map<String, Object> ds = new LinkedHashMap<>();
            devices.forEach((name, d) -> {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("chunks", d.chunks);
                o.put("zero_chunks", d.zeroChunks);
                o.put("chunk_size", BlockFlags.CHUNK_SIZE);
                o.put("end", d.end);
                List<Map<String, Object>> runs = new ArrayList<>();
                for (Run run : d.runs) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("offset", run.offset);
                    m.put("chunks", run.chunks);
                    m.put("zero", run.zero);
                    m.put("at", run.at);
                    runs.add(m);
                }
                o.put("runs", runs);
                if (d.runsOmitted > 0) {
                    o.put("records_not_listed", d.runsOmitted);
                }
                if (d.fileName != null) {
                    o.put("dump_file", d.fileName);
                }
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
            lines.add("    chunks reach 0x" + Long.toHexString(((Number) o.get("end")).longValue())
                    + (o.get("dump_file") != null ? ", written to " + o.get("dump_file") : ""));
            List<?> runs = (List<?>) o.get("runs");
            lines.add("    in stream order (" + runs.size() + " runs of consecutive chunks):");
            for (int i = 0; i < Math.min(runs.size(), RUNS_SHOWN); i++) {
                Map<?, ?> run = (Map<?, ?>) runs.get(i);
                long off = ((Number) run.get("offset")).longValue();
                long n = ((Number) run.get("chunks")).longValue();
                lines.add("      " + (Boolean.TRUE.equals(run.get("zero")) ? "zero" : "data") + " 0x"
                        + Long.toHexString(off) + "-0x" + Long.toHexString(off + n * BlockFlags.CHUNK_SIZE - 1) + " ("
                        + n + (n == 1 ? " chunk" : " chunks") + "), from byte " + run.get("at"));
            }
            if (runs.size() > RUNS_SHOWN) {
                lines.add("      ... " + (runs.size() - RUNS_SHOWN) + " more runs (--json lists them)");
            }
            if (o.get("records_not_listed") != null) {
                lines.add("      ... and " + o.get("records_not_listed") + " later records counted, not listed");
            }
        });
        lines.add("  " + result.get("progress_records") + " progress records");
        return lines;
    }
}
