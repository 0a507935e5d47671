package org.savevm.core.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.savevm.api.MigrationSettings;
import org.savevm.api.settings.MigrationCapabilities;
import org.savevm.framing.SectionType;
import org.savevm.framing.walk.ConfigurationRecord;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * The configuration section (0x07, no header or footer): be32 length + machine type name, then the
 * subsections {@code configuration/target-page-bits}, {@code configuration/capabilities} and
 * {@code configuration/uuid} when they apply, with QEMU 7.2's checks on load.
 */
public final class ConfigurationSection {
    private ConfigurationSection() {
    }

    /** Validated capabilities enabled in {@code settings}, in QEMU's enum order. */
    static List<String> validatedCapabilities(MigrationSettings settings) {
        List<String> caps = new ArrayList<>();
        for (String c : MigrationCapabilities.ALL) {
            if (MigrationCapabilities.VALIDATED.contains(c) && settings.capability(c)) {
                caps.add(c);
            }
        }
        return caps;
    }

    public static void write(MigrationOutput out, MachineIdentity machine, MigrationSettings settings) {
        out.putByte(SectionType.CONFIGURATION);
        byte[] name = machine.machineType().getBytes(StandardCharsets.UTF_8);
        out.putBe32(name.length);
        out.putBytes(name);
        if (machine.targetPageBits() > machine.targetPageBitsMin()) {
            subsectionHeader(out, ConfigurationRecord.SUB_PAGE_BITS);
            out.putBe32(machine.targetPageBits());
        }
        List<String> caps = validatedCapabilities(settings);
        if (!caps.isEmpty()) {
            subsectionHeader(out, ConfigurationRecord.SUB_CAPABILITIES);
            out.putBe32(caps.size());
            for (String c : caps) {
                out.putCountedString(c);
            }
        }
        if (machine.uuid() != null && settings.capability("validate-uuid")) {
            subsectionHeader(out, ConfigurationRecord.SUB_UUID);
            ByteBuffer b = ByteBuffer.allocate(16);
            b.putLong(machine.uuid().getMostSignificantBits()).putLong(machine.uuid().getLeastSignificantBits());
            out.putBytes(b.array());
        }
    }

    private static void subsectionHeader(MigrationOutput out, String name) {
        out.putByte(SectionType.SUBSECTION);
        out.putCountedString(name);
        out.putBe32(1);
    }

    /**
     * Reads the body after the 0x07 byte and checks it against the local machine and settings.
     * {@code sectionOffset} is where the 0x07 byte was.
     */
    public static void readAndCheck(MigrationInput in, long sectionOffset, MachineIdentity local,
            MigrationSettings settings) throws IOException {
        check(ConfigurationRecord.read(in, sectionOffset, KNOWN_CAPABILITIES), local, settings);
    }

    /** Every capability name QEMU 7.2 knows: the loader refuses others. */
    public static final Set<String> KNOWN_CAPABILITIES = Set.copyOf(MigrationCapabilities.ALL);

    /** QEMU 7.2's checks of a received configuration against the local machine and settings. */
    public static void check(ConfigurationRecord r, MachineIdentity local, MigrationSettings settings)
            throws MigrationStreamException {
        long at = r.offset();
        int pageBits = r.targetPageBits() != null ? r.targetPageBits() : local.targetPageBitsMin();
        List<String> received = r.capabilities() != null ? r.capabilities() : List.of();
        if (local.uuid() != null && r.uuid() != null && !local.uuid().equals(r.uuid())) {
            throw new MigrationStreamException("UUID received is " + r.uuid() + " and local is " + local.uuid(), at);
        }
        if (!strncmpEqual(r.machineType(), local.machineType())) {
            throw new MigrationStreamException("Machine type received is '" + r.machineType() + "' and local is '"
                    + local.machineType() + "'", at);
        }
        if (pageBits != local.targetPageBits()) {
            throw new MigrationStreamException("Received TARGET_PAGE_BITS is " + pageBits + " but local is "
                    + local.targetPageBits(), at);
        }
        List<String> problems = new ArrayList<>();
        for (String c : new TreeSet<>(MigrationCapabilities.VALIDATED)) {
            boolean source = received.contains(c);
            boolean target = settings.capability(c);
            if (source != target) {
                problems.add("Capability " + c + " is " + (target ? "on" : "off") + ", but received capability is "
                        + (source ? "on" : "off"));
            }
        }
        if (!problems.isEmpty()) {
            throw new MigrationStreamException(String.join("; ", problems), at);
        }
    }

    /**
     * QEMU compares with strncmp(received, local, received_len): the received name must equal the first
     * bytes of the local one (so a received prefix of the local name passes), stopping at a NUL.
     */
    static boolean strncmpEqual(String received, String local) {
        byte[] a = received.getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = local.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < a.length; i++) {
            int x = a[i] & 0xff;
            int y = i < b.length ? b[i] & 0xff : 0;
            if (x != y) {
                return false;
            }
            if (x == 0) {
                return true;
            }
        }
        return true;
    }
}
