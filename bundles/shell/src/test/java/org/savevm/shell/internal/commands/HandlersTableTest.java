package org.savevm.shell.internal.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.savevm.api.MigrationPriority;
import org.savevm.api.RegisteredSection;

class HandlersTableTest {

    @Test
    void rowsKeepTheGivenOrderWithAlignedColumns() {
        List<RegisteredSection> sections = List.of(
                new RegisteredSection(4, "0000:00:02.0/virtio-net", 0, -1, 0, "virtio-net", 1, 1,
                        MigrationPriority.PCI_BUS, null, "org.savevm.x"),
                new RegisteredSection(0, "serial", 0, 0x3f8, 3, null, -1, 3, MigrationPriority.DEFAULT, null,
                        "org.savevm.device.serial"));
        String[] lines = HandlersTable.format(sections).split("\\R");
        assertEquals(3, lines.length);
        assertEquals("SECTION  IDSTR                    INSTANCE  ALIAS       COMPAT        VERSION  PRIORITY    KIND        BUNDLE",
                lines[0]);
        assertEquals("4        0000:00:02.0/virtio-net  0         -           virtio-net/1  1        pci_bus(2)  descriptor  org.savevm.x",
                lines[1]);
        assertEquals("0        serial                   0         1016 (v<3)  -             3        default(0)  descriptor  org.savevm.device.serial",
                lines[2]);
    }

    @Test
    void emptyRegistryPrintsOnlyTheHeader() {
        assertEquals(String.join("  ", HandlersTable.HEADER) + System.lineSeparator(), HandlersTable.format(List.of()));
    }
}
