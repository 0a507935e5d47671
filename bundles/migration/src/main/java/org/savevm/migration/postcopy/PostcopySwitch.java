package org.savevm.migration.postcopy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.savevm.api.DiscardRange;
import org.savevm.api.OutgoingCommands;
import org.savevm.api.SaveVm;
import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.stream.MigrationOutput;

/**
 * The bytes of QEMU's postcopy_start, written with the guest stopped: END of the handlers that cannot
 * go on in postcopy, PING(2), the discard ranges of every page still to send, then one PACKAGED blob
 * with LISTEN, the device sections, PING(3) and RUN.
 */
public final class PostcopySwitch {
    private PostcopySwitch() {
    }

    public static void write(MigrationOutput o, SaveVm saveVm, SaveVm.Outgoing pc, RamPostcopySource ram) throws IOException {
        pc.completeNonPostcopiable();
        OutgoingCommands w = saveVm.commands(o);
        w.ping(2);
        Map<String, List<DiscardRange>> discards = new LinkedHashMap<>();
        for (PageRange r : ram.startPostcopy()) {
            discards.computeIfAbsent(r.idstr(), k -> new ArrayList<>()).add(new DiscardRange(r.start(), r.length()));
        }
        for (Map.Entry<String, List<DiscardRange>> e : discards.entrySet()) {
            w.postcopyRamDiscard(e.getKey(), e.getValue());
        }
        ByteArrayOutputStream blob = new ByteArrayOutputStream();
        MigrationOutput bo = MigrationOutput.of(blob);
        OutgoingCommands bw = saveVm.commands(bo);
        bw.postcopyListen();
        pc.writeDeviceSections(bo);
        bw.ping(3);
        bw.postcopyRun();
        bo.flush();
        w.packaged(blob.toByteArray());
        o.flush();
    }
}
