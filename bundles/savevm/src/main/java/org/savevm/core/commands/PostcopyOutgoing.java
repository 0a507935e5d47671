package org.savevm.core.commands;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;
import org.savevm.api.SaveVm;
import org.savevm.stream.MigrationOutput;

/**
 * The postcopy steps of an outgoing stream, as migration.c's postcopy_start drives them. Every
 * {@link SaveVm.Outgoing} the savevm core returns implements this; an orchestrator casts to it when the
 * postcopy-ram capability is on. Order: {@link #completeNonPostcopiable}, commands (discard, ping),
 * {@link #writeDeviceSections} into the PACKAGED blob, then {@link #iteratePostcopy} rounds and
 * {@link #completePostcopy}.
 */
@ProviderType
public interface PostcopyOutgoing extends SaveVm.Outgoing {
    /** END sections of the live handlers that cannot continue in postcopy (iterable-only precopy completion). */
    void completeNonPostcopiable() throws IOException;

    /** The FULL device sections into {@code blob} (the PACKAGED buffer): no EOF and no vmdesc, as in postcopy. */
    void writeDeviceSections(MigrationOutput blob) throws IOException;

    /** One round of PART sections for the postcopiable live handlers only; true when they are all done. */
    boolean iteratePostcopy() throws IOException;

    /** END sections of the postcopiable handlers (save_live_complete_postcopy), then EOF; no vmdesc. */
    void completePostcopy() throws IOException;
}
