package org.savevm.api.analyze;

import java.io.IOException;
import java.util.Map;

import org.savevm.stream.MigrationInput;

/** The analysis of one stream's sections of one idstr. */
public interface SectionAnalysis extends AutoCloseable {
    /**
     * Reads one section body exactly (the caller checks the footer after it). Errors are stream errors
     * with the offset; the caller adds the section's idstr, instance and section id.
     */
    void section(AnalyzedSection section, MigrationInput in) throws IOException;

    /** The section's footer checked out: {@code length} counts from its type byte to the end of the footer. */
    default void sectionEnd(AnalyzedSection section, long length) {
    }

    /** The result: maps (in the order to show), lists, Long/Integer, String, Boolean, null. */
    Map<String, Object> result();

    @Override
    void close();
}
