package org.savevm.api.analyze;

import java.util.List;

/**
 * What an analysis knows of the stream before its sections.
 *
 * @param pageSize     the target page size (from the configuration section or the vmdesc trailer)
 * @param capabilities the capabilities the configuration section carried (empty without one)
 * @param memoryDump   where guest memory is to be written ({@code --dump-memory}), or null
 */
public record AnalysisContext(int pageSize, List<String> capabilities, MemoryDumpSink memoryDump) {
}
