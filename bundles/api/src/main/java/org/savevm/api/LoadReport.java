package org.savevm.api;

import java.util.List;
import java.util.Optional;

/**
 * What one load received, published in its {@link MigrationContext} by the core when the stream ended
 * well: the sections registered here that the stream carried nothing for (QEMU's loader does not say; a
 * stream cut after one section and closed with EOF loads "fine" without this), and whether the source's
 * vmdesc trailer was there to check the sections received against. A section the source's vmdesc lists
 * but that never arrived fails the load instead: it never gets here.
 *
 * @param notReceived   registered sections ({@code 'idstr' instance N}) that received no section
 * @param vmdescChecked the stream had a usable vmdesc trailer and every section it lists arrived
 */
public record LoadReport(List<String> notReceived, boolean vmdescChecked) {
    public LoadReport {
        notReceived = List.copyOf(notReceived);
    }

    /** One line naming every registered section that received nothing; empty when each got its section. */
    public Optional<String> warning() {
        if (notReceived.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("no state arrived for " + notReceived.size() + " registered section"
                + (notReceived.size() == 1 ? "" : "s") + ": " + String.join(", ", notReceived)
                + (vmdescChecked ? " (the source's vmdesc does not list them: it did not send them)"
                        : " (the stream has no vmdesc trailer to tell whether the source sent them)"));
    }
}
