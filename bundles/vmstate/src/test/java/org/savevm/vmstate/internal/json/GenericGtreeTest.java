package org.savevm.vmstate.internal.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.vmstate.internal.GtreeTestFixtures;
import org.savevm.vmstate.internal.VMStateInterpreter;
import org.savevm.vmstate.internal.VMStateLimits;

/**
 * A section with a gtree, decoded without its Java device from the vmdesc the save wrote: the tree is
 * raw bytes of the recorded size, and the section re-encodes to the same bytes and the same vmdesc.
 */
class GenericGtreeTest {
    private final VMStateInterpreter engine = new VMStateInterpreter(VMStateLimits.DEFAULT);

    @Test
    void gtreeSectionDecodesGenericallyByteExact() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(body);
        StringBuilder members = new StringBuilder();
        engine.save(out, GtreeTestFixtures.iommu(), GtreeTestFixtures.iommuState(), members);
        out.flush();

        VMStateDescription<GenericState> d = new VMStateJsonComponent().fromVmdesc("{" + members + "}");
        GenericState state = new GenericState();
        MigrationInput in = MigrationInput.of(body.toByteArray());
        engine.load(in, d, state, 1);
        assertEquals(body.size(), in.position());
        assertEquals(2, state.get("id"));
        assertEquals(body.size() - 4, ((byte[]) state.get("domains")).length);

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        MigrationOutput out2 = MigrationOutput.of(again);
        StringBuilder members2 = new StringBuilder();
        engine.save(out2, d, state, members2);
        out2.flush();
        assertEquals(HexFormat.of().formatHex(body.toByteArray()), HexFormat.of().formatHex(again.toByteArray()));
        // QEMU's repeated keys (one vmsd_name/version/fields per node) come back in order
        assertEquals(members.toString(), members2.toString());
    }
}
