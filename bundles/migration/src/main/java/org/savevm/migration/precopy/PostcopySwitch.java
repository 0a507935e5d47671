package org.savevm.migration.precopy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.savevm.api.machine.PageRange;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.core.commands.CommandWriter;
import org.savevm.core.commands.DiscardRange;
import org.savevm.core.commands.PostcopyOutgoing;
import org.savevm.stream.MigrationOutput;

/**
 * The bytes of QEMU's postcopy_start, written with the guest stopped: END of the handlers that cannot
 * go on in postcopy, PING(2), the discard ranges of every page still to send, then one PACKAGED blob
 * with LISTEN, the device sections, PING(3) and RUN.
 */
final class PostcopySwitch {
    private PostcopySwitch() {
    }

    static void write(MigrationOutput o, PostcopyOutgoing pc, RamPostcopySource ram) throws IOException {
        pc.completeNonPostcopiable();
        CommandWriter w = new CommandWriter(o);
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
        CommandWriter bw = new CommandWriter(bo);
        bw.postcopyListen();
        pc.writeDeviceSections(bo);
        bw.ping(3);
        bw.postcopyRun();
        bo.flush();
        w.packaged(blob.toByteArray());
        o.flush();
    }
}
