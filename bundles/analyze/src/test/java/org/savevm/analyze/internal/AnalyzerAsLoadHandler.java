package org.savevm.analyze.internal;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.SectionRegistration;
import org.savevm.api.analyze.AnalysisContext;
import org.savevm.api.analyze.AnalyzedSection;
import org.savevm.api.analyze.SectionAnalysis;
import org.savevm.api.analyze.SectionAnalyzer;
import org.savevm.api.machine.RamBlock;
import org.savevm.stream.MigrationInput;

/**
 * A live section the loader hands to a format's section analyzer: lets the loader walk streams with
 * sections that have no handler here (block) through the format's one reader, and shows what it read.
 */
final class AnalyzerAsLoadHandler implements LiveStateHandler {
    private final SectionAnalyzer analyzer;
    private final int version;
    private SectionAnalysis analysis;

    AnalyzerAsLoadHandler(SectionAnalyzer analyzer, int version) {
        this.analyzer = analyzer;
        this.version = version;
    }

    @Override
    public SectionRegistration registration() {
        return SectionRegistration.builder(analyzer.idstr()).version(version).build();
    }

    @Override
    public SaveSession beginSave(MigrationContext context) {
        throw new UnsupportedOperationException("load only");
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) throws IOException {
        analysis = analyzer.begin(new AnalysisContext(RamBlock.TARGET_PAGE_SIZE, List.of(), null));
        return new LoadSession() {
            @Override
            public void load(MigrationInput in, int sectionVersion) throws IOException {
                analysis.section(new AnalyzedSection("PART", in.position(), 0, analyzer.idstr(), 0, sectionVersion), in);
            }

            @Override
            public void close() {
                analysis.close();
            }
        };
    }

    /** What the analyzer read, null before a load began. */
    Map<String, Object> result() {
        return analysis == null ? null : analysis.result();
    }
}
