package org.savevm.framing;

import java.nio.charset.StandardCharsets;

import org.savevm.stream.MigrationOutput;
import org.savevm.stream.json.JsonText;

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
}
