package org.savevm.api;

import java.util.List;
import java.util.Optional;

/**
 * What one load received, published in its {@link MigrationContext} by the core when the stream ended
 * well: the sections registered here that the stream carried nothing for (QEMU's loader does not say; a
 * stream cut after one section and closed with EOF loads "fine" without this), the sections of the stream that
 * no handler here loads and that were read past through {@link ForeignSections}, and whether the source's
 * vmdesc trailer was there to check the sections received against. A section the source's vmdesc lists
 * but that never arrived fails the load instead: it never gets here.
 *
 * @param notReceived   registered sections ({@code 'idstr' instance N}) that received no section
 * @param vmdescChecked the stream had a usable vmdesc trailer and every section it lists arrived
 * @param skipped       sections of the stream ({@code 'idstr' instance N}) that no handler here loads, read past
 */
public record LoadReport(List<String> notReceived, boolean vmdescChecked, List<String> skipped) {
    public LoadReport {
        notReceived = List.copyOf(notReceived);
        skipped = List.copyOf(skipped);
    }

    /** Nothing skipped (1.x's members). */
    public LoadReport(List<String> notReceived, boolean vmdescChecked) {
        this(notReceived, vmdescChecked, List.of());
    }

    /**
     * One line naming every registered section that received nothing and every section skipped; empty when each
     * got its section and nothing was skipped.
     */
    public Optional<String> warning() {
        StringBuilder w = new StringBuilder();
        if (!notReceived.isEmpty()) {
            w.append("no state arrived for ").append(notReceived.size()).append(" registered section")
                    .append(notReceived.size() == 1 ? "" : "s").append(": ").append(String.join(", ", notReceived))
                    .append(vmdescChecked ? " (the source's vmdesc does not list them: it did not send them)"
                            : " (the stream has no vmdesc trailer to tell whether the source sent them)");
        }
        if (!skipped.isEmpty()) {
            if (w.length() > 0) {
                w.append("; ");
            }
            w.append("not loaded, no handler here for ").append(skipped.size()).append(" section")
                    .append(skipped.size() == 1 ? "" : "s").append(" of the stream: ").append(String.join(", ", skipped));
        }
        return w.length() == 0 ? Optional.empty() : Optional.of(w.toString());
    }
}
