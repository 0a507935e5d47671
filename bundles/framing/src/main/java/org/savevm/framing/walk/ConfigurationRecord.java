package org.savevm.framing.walk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.savevm.framing.SectionType;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;

/**
 * The configuration section (0x07, no header or footer) as the stream carried it: be32 length + machine
 * type name, then the subsections {@code configuration/target-page-bits}, {@code configuration/capabilities}
 * and {@code configuration/uuid}. What a subsection did not carry is null.
 *
 * @param offset         where the 0x07 byte was
 * @param length         bytes from the 0x07 byte to the end of the last subsection
 * @param subsections    the subsection names in stream order
 * @param targetPageBits the target-page-bits subsection, or null
 * @param capabilities   the capabilities subsection, or null
 * @param uuid           the uuid subsection, or null
 */
public record ConfigurationRecord(long offset, long length, String machineType, List<String> subsections,
        Integer targetPageBits, List<String> capabilities, UUID uuid) {
    public static final String NAME = "configuration";
    public static final String SUB_PAGE_BITS = "configuration/target-page-bits";
    public static final String SUB_CAPABILITIES = "configuration/capabilities";
    public static final String SUB_UUID = "configuration/uuid";
    /** Longer names are refused before allocating; real machine type names are a few dozen bytes. */
    public static final int MAX_NAME_LENGTH = 1024;
    /** More entries than QEMU has capabilities (21 in 7.2) cannot come from a sane source. */
    public static final int MAX_CAPABILITIES = 256;

    /**
     * Reads the body after the 0x07 byte (which was at {@code offset}) with QEMU 7.2's framing checks.
     * {@code knownCapabilities}, when not null, refuses any other capability name (as QEMU's loader does).
     */
    public static ConfigurationRecord read(MigrationInput in, long offset, Set<String> knownCapabilities)
            throws IOException {
        long at = in.position();
        long len = Integer.toUnsignedLong(in.getBe32());
        if (len > MAX_NAME_LENGTH) {
            throw new MigrationStreamException("configuration: machine type name of " + len + " bytes (limit "
                    + MAX_NAME_LENGTH + ")", at);
        }
        String machineType = new String(in.readBytes((int) len), StandardCharsets.ISO_8859_1);
        List<String> subsections = new ArrayList<>();
        Integer pageBits = null;
        List<String> caps = null;
        UUID uuid = null;
        while (in.peekByte() == SectionType.SUBSECTION) {
            long subAt = in.position();
            in.getByte();
            String sub = in.getCountedString();
            if (!sub.startsWith(NAME) || sub.length() < NAME.length() + 1) {
                // QEMU leaves it to the main loop, which refuses a subsection at top level
                throw new MigrationStreamException("Unknown savevm section type 5 (subsection '" + sub
                        + "' after the configuration section)", subAt);
            }
            long verAt = in.position();
            int version = in.getBe32() & 0xff; // 7.2 keeps only the low byte
            if (!sub.equals(SUB_PAGE_BITS) && !sub.equals(SUB_CAPABILITIES) && !sub.equals(SUB_UUID)) {
                throw new MigrationStreamException("configuration: unknown subsection '" + sub + "'", subAt);
            }
            if (version > 1) {
                throw new MigrationStreamException("configuration: subsection '" + sub + "' version " + version
                        + " is too new (local 1)", verAt);
            }
            subsections.add(sub);
            switch (sub) {
            case SUB_PAGE_BITS:
                pageBits = in.getBe32();
                break;
            case SUB_CAPABILITIES:
                long countAt = in.position();
                long count = Integer.toUnsignedLong(in.getBe32());
                if (count > MAX_CAPABILITIES) {
                    throw new MigrationStreamException("configuration/capabilities: " + count + " capabilities (limit "
                            + MAX_CAPABILITIES + ")", countAt);
                }
                caps = new ArrayList<>();
                for (long i = 0; i < count; i++) {
                    long capAt = in.position();
                    String cap = in.getCountedString();
                    if (knownCapabilities != null && !knownCapabilities.contains(cap)) {
                        throw new MigrationStreamException("Received unknown capability " + cap, capAt);
                    }
                    caps.add(cap);
                }
                break;
            default:
                ByteBuffer b = ByteBuffer.wrap(in.readBytes(16));
                uuid = new UUID(b.getLong(), b.getLong());
            }
        }
        return new ConfigurationRecord(offset, in.position() - offset, machineType, List.copyOf(subsections), pageBits,
                caps == null ? null : List.copyOf(caps), uuid);
    }
}
