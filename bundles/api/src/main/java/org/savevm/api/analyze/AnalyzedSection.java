package org.savevm.api.analyze;

/**
 * One section as the stream framed it.
 *
 * @param type       "START", "PART", "END" or "FULL"
 * @param offset     the offset of its type byte in the file
 * @param instanceId and {@code version}, {@code sectionId}: unsigned values of the stream
 */
public record AnalyzedSection(String type, long offset, long sectionId, String idstr, long instanceId, long version) {
}
