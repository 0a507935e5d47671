package org.savevm.api.analyze;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Reads the sections of one idstr in a stream file for analyze-stream: an OSGi service of the bundle
 * that owns the format. One {@link SectionAnalysis} is begun per stream, at its first such section.
 */
public interface SectionAnalyzer {
    /** The idstr of the sections read ("ram", "block"). */
    String idstr();

    /** Where this analyzer's result stands among the others' in the output, lower first. */
    default int resultOrder() {
        return 100;
    }

    SectionAnalysis begin(AnalysisContext context) throws IOException;

    /** The human-readable lines of a {@link SectionAnalysis#result()}, for analyze-stream's text output. */
    List<String> describe(Map<String, Object> result);
}
