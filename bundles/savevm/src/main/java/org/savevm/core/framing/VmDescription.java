package org.savevm.core.framing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * The vmdesc JSON trailer written after EOF: {@code {"page_size": 4096, "devices": [...]}} in QEMU 7.2's
 * compact JSONWriter form. Entries are added as FULL sections are written, in stream order.
 */
public final class VmDescription {
    private final StringBuilder json = new StringBuilder(4096);
    private boolean firstDevice = true;

    public VmDescription(int pageSize) {
        json.append("{\"page_size\": ").append(pageSize).append(", \"devices\": [");
    }

    /**
     * Adds one device entry: name and instance_id, then the members the vmstate engine produced
     * ({@code "vmsd_name": ..., "version": ..., "fields": [...]}), which may be empty.
     */
    public void addDevice(String idstr, int instanceId, CharSequence members) {
        if (!firstDevice) {
            json.append(", ");
        }
        firstDevice = false;
        json.append("{\"name\": ");
        JsonText.appendQuoted(json, idstr);
        json.append(", \"instance_id\": ").append(Integer.toUnsignedLong(instanceId));
        if (members != null && members.length() > 0) {
            json.append(", ").append(members);
        }
        json.append('}');
    }

    /** The finished JSON text. */
    public String finish() {
        return json + "]}";
    }

    /** Writes 0x06, be32 length and the JSON bytes. */
    public static void writeTrailer(MigrationOutput out, String jsonText) {
        byte[] b = jsonText.getBytes(StandardCharsets.UTF_8);
        out.putByte(SectionType.VMDESCRIPTION);
        out.putBe32(b.length);
        out.putBytes(b);
    }

    /**
     * Reads what follows EOF, as qemu_loadvm_state does: nothing (a stream without trailer), or the
     * vmdesc trailer, skipped in small chunks so that its length never causes an allocation. A trailer
     * longer than {@code maxLength} or cut short is an error.
     *
     * @return the trailer length, or -1 when the stream ended after EOF
     */
    public static long readAndDiscard(MigrationInput in, long maxLength) throws IOException {
        if (in.atEnd()) {
            return -1;
        }
        long at = in.position();
        int type = in.getByte();
        if (type != SectionType.VMDESCRIPTION) {
            throw new MigrationStreamException("Expected vmdescription section, but got " + type, at);
        }
        long len = Integer.toUnsignedLong(in.getBe32());
        if (len > maxLength) {
            throw new MigrationStreamException("vmdesc trailer of " + len + " bytes exceeds the limit of " + maxLength,
                    at);
        }
        try {
            in.skip(len);
        } catch (MigrationStreamException e) {
            throw Messages.prefixed("vmdesc trailer of " + len + " bytes cut short", e);
        }
        return len;
    }
}
