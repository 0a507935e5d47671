package org.savevm.block.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.savevm.api.analyze.AnalysisContext;
import org.savevm.api.analyze.AnalyzedSection;
import org.savevm.api.analyze.SectionAnalysis;
import org.savevm.block.codec.BlockFlags;
import org.savevm.block.codec.BlockRecord;
import org.savevm.block.codec.BlockRecordReader;
import org.savevm.framing.walk.StreamVisitor;
import org.savevm.framing.walk.StreamWalker;
import org.savevm.framing.walk.WalkOptions;
import org.savevm.framing.SectionHeader;
import org.savevm.core.testing.CorpusStreams;
import org.savevm.ram.internal.RamSectionAnalyzer;
import org.savevm.stream.MigrationInput;

/** A stream's "block" sections, read through the one walker and this bundle's analyzer or codec. */
final class AnalyzedStream {
    private AnalyzedStream() {
    }

    /** The analyzer's result over every "block" section; empty when there is none. */
    static Map<String, Object> block(byte[] stream) throws IOException {
        SectionAnalysis[] a = {null};
        walk(stream, in -> {
            if (a[0] == null) {
                a[0] = new BlockSectionAnalyzer().begin(new AnalysisContext(4096, List.of(), null));
            }
            a[0].section(new AnalyzedSection("PART", 0, 1, "block", 0, 1), in);
        });
        return a[0] == null ? Map.of() : a[0].result();
    }

    /** Offsets of the device blocks in stream order. */
    static List<Long> chunkOffsets(byte[] stream) throws IOException {
        List<Long> offsets = new ArrayList<>();
        walk(stream, in -> {
            while (true) {
                BlockRecord r = BlockRecordReader.read(in);
                if (r.deviceBlock()) {
                    offsets.add(r.offset());
                    if (r.hasData()) {
                        BlockRecordReader.skipData(in, r);
                    }
                }
                if (r.eos()) {
                    return;
                }
            }
        });
        return offsets;
    }

    /** Hands every "block" section body to {@code body}; other sections are skipped through the vmdesc. */
    static void forEachBlockSection(byte[] stream, Body body) throws IOException {
        walk(stream, body);
    }

    private static boolean hasVmdescDevices(byte[] stream) {
        try {
            return CorpusStreams.vmdesc(stream).has("devices");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    interface Body {
        void read(MigrationInput in) throws IOException;
    }

    private static void walk(byte[] stream, Body body) throws IOException {
        SectionAnalysis ram = new RamSectionAnalyzer().begin(new AnalysisContext(4096, List.of(), null));
        // device sections (QEMU's streams) are skipped by their vmdesc entries, one per FULL section in order
        java.util.Iterator<com.fasterxml.jackson.databind.JsonNode> devices = hasVmdescDevices(stream)
                ? CorpusStreams.vmdesc(stream).get("devices").iterator() : java.util.Collections.emptyIterator();
        StreamVisitor<String> v = new StreamVisitor<>() {
            @Override
            public String section(SectionHeader header, String started) {
                return started != null ? started : header.idstr();
            }

            @Override
            public void body(String idstr, SectionHeader header, MigrationInput in) throws IOException {
                if (idstr.equals(BlockFlags.IDSTR)) {
                    body.read(in);
                } else if (idstr.equals("ram")) {
                    ram.section(new AnalyzedSection("PART", 0, 2, "ram", 0, 4), in);
                } else if (devices.hasNext()) {
                    in.skip(CorpusStreams.bodySize(devices.next()));
                } else {
                    throw new IOException("a section this test cannot read: " + idstr);
                }
            }
        };
        new StreamWalker<>(new WalkOptions(WalkOptions.Footers.DETECT, WalkOptions.Configuration.OPTIONAL, null, false,
                1 << 24, 1 << 24), v).walk(MigrationInput.of(stream));
    }
}
