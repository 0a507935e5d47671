package org.savevm.api.analyze;

import java.util.List;

/**
 * What an analysis knows of the stream before its sections.
 *
 * @param pageSize     the target page size (from the configuration section or the vmdesc trailer)
 * @param capabilities the capabilities the configuration section carried (empty without one)
 * @param memoryDump   where guest memory is to be written ({@code --dump-memory}), or null
 * @param diskDump     where disk images are to be written ({@code --dump-disks}), or null; its files grow to
 *                     the end of the furthest data written into them
 */
public record AnalysisContext(int pageSize, List<String> capabilities, MemoryDumpSink memoryDump,
        MemoryDumpSink diskDump) {

    /** Without a disk dump. */
    public AnalysisContext(int pageSize, List<String> capabilities, MemoryDumpSink memoryDump) {
        this(pageSize, capabilities, memoryDump, null);
    }
}
