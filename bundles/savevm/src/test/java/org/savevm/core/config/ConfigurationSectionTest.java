package org.savevm.core.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.savevm.api.MigrationSettings;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

class ConfigurationSectionTest {
    static byte[] write(MachineIdentity m, MigrationSettings s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (MigrationOutput out = MigrationOutput.of(b)) {
            ConfigurationSection.write(out, m, s);
        }
        return b.toByteArray();
    }

    static void read(byte[] bytes, MachineIdentity m, MigrationSettings s) throws IOException {
        MigrationInput in = MigrationInput.of(bytes);
        assertEquals(7, in.getByte());
        ConfigurationSection.readAndCheck(in, 0, m, s);
        assertTrue(in.atEnd());
    }

    static byte[] hex(String h) {
        return HexFormat.of().parseHex(h.replace(" ", ""));
    }

    static String ascii(String s) {
        return HexFormat.of().formatHex(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void plainX86Configuration() throws IOException {
        byte[] b = write(MachineIdentity.DEFAULT, MigrationSettings.DEFAULTS);
        assertArrayEquals(hex("07 0000000d" + ascii("pc-i440fx-7.2")), b);
        read(b, MachineIdentity.DEFAULT, MigrationSettings.DEFAULTS);
    }

    @Test
    void ignoreSharedCapabilitySubsectionAsObserved() throws IOException {
        MigrationSettings s = MigrationSettings.DEFAULTS.withCapability("x-ignore-shared", true)
                .withCapability("xbzrle", true);
        byte[] b = write(MachineIdentity.DEFAULT, s);
        assertArrayEquals(hex("07 0000000d" + ascii("pc-i440fx-7.2") + "05 1a" + ascii("configuration/capabilities")
                + "00000001 00000001 0f" + ascii("x-ignore-shared")), b);
        read(b, MachineIdentity.DEFAULT, s);
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> read(b, MachineIdentity.DEFAULT, MigrationSettings.DEFAULTS));
        assertTrue(e.getMessage().startsWith(
                "Capability x-ignore-shared is off, but received capability is on"), e.getMessage());
    }

    @Test
    void uuidSubsectionAsObserved() throws IOException {
        UUID id = UUID.fromString("12345678-1234-5678-9abc-def012345678");
        MachineIdentity m = MachineIdentity.DEFAULT.withUuid(id);
        MigrationSettings s = MigrationSettings.DEFAULTS.withCapability("validate-uuid", true);
        byte[] b = write(m, s);
        assertArrayEquals(hex("07 0000000d" + ascii("pc-i440fx-7.2") + "05 12" + ascii("configuration/uuid")
                + "00000001 12345678123456789abcdef012345678"), b);
        read(b, m, s);
        read(b, MachineIdentity.DEFAULT, s); // local uuid unset: QEMU only warns
        MachineIdentity other = MachineIdentity.DEFAULT.withUuid(UUID.fromString("00000000-0000-0000-0000-000000000001"));
        MigrationStreamException e = assertThrows(MigrationStreamException.class, () -> read(b, other, s));
        assertTrue(e.getMessage().startsWith("UUID received is 12345678-1234-5678-9abc-def012345678 and local is "),
                e.getMessage());
        // without validate-uuid nothing is sent
        assertEquals(18, write(m, MigrationSettings.DEFAULTS).length);
    }

    @Test
    void targetPageBitsSubsectionOnlyAboveTheMinimum() throws IOException {
        MachineIdentity arm = new MachineIdentity("virt-7.2", 12, 10, null);
        byte[] b = write(arm, MigrationSettings.DEFAULTS);
        assertArrayEquals(hex("07 00000008" + ascii("virt-7.2") + "05 1e" + ascii("configuration/target-page-bits")
                + "00000001 0000000c"), b);
        read(b, arm, MigrationSettings.DEFAULTS);
        MachineIdentity bigPages = new MachineIdentity("virt-7.2", 14, 10, null);
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> read(b, bigPages, MigrationSettings.DEFAULTS));
        assertTrue(e.getMessage().startsWith("Received TARGET_PAGE_BITS is 12 but local is 14"), e.getMessage());
        // a missing subsection means the minimum
        byte[] none = hex("07 00000008" + ascii("virt-7.2"));
        MigrationStreamException e2 = assertThrows(MigrationStreamException.class,
                () -> read(none, arm, MigrationSettings.DEFAULTS));
        assertTrue(e2.getMessage().startsWith("Received TARGET_PAGE_BITS is 10 but local is 12"), e2.getMessage());
    }

    @Test
    void unknownCapabilityAndSubsection() {
        byte[] cap = hex("07 0000000d" + ascii("pc-i440fx-7.2") + "05 1a" + ascii("configuration/capabilities")
                + "00000001 00000001 04" + ascii("nope"));
        MigrationStreamException e = assertThrows(MigrationStreamException.class,
                () -> read(cap, MachineIdentity.DEFAULT, MigrationSettings.DEFAULTS));
        assertTrue(e.getMessage().startsWith("Received unknown capability nope"), e.getMessage());
        byte[] sub = hex("07 0000000d" + ascii("pc-i440fx-7.2") + "05 12" + ascii("configuration/zzzz")
                + "00000001");
        MigrationStreamException e2 = assertThrows(MigrationStreamException.class,
                () -> read(sub, MachineIdentity.DEFAULT, MigrationSettings.DEFAULTS));
        assertTrue(e2.getMessage().startsWith("configuration: unknown subsection 'configuration/zzzz'"), e2.getMessage());
        byte[] many = hex("07 0000000d" + ascii("pc-i440fx-7.2") + "05 1a" + ascii("configuration/capabilities")
                + "00000001 ffffffff");
        assertThrows(MigrationStreamException.class, () -> read(many, MachineIdentity.DEFAULT, MigrationSettings.DEFAULTS));
    }

    @Test
    void strncmpSemantics() {
        assertTrue(ConfigurationSection.strncmpEqual("pc-i440fx-7.2", "pc-i440fx-7.2"));
        assertTrue(ConfigurationSection.strncmpEqual("pc", "pc-i440fx-7.2"));
        assertTrue(ConfigurationSection.strncmpEqual("pc\0junk", "pc"));
        assertTrue(!ConfigurationSection.strncmpEqual("pc-i440fx-7.2", "pc-i440fx-7"));
        assertTrue(!ConfigurationSection.strncmpEqual("pc-q35-7.2", "pc-i440fx-7.2"));
    }
}
