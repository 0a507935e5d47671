package org.savevm.vmstate.internal.json;

import java.io.IOException;
import java.util.Collection;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateJson;
import org.savevm.vmstate.internal.VMStateLimits;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The {@link VMStateJson} service. */
@Component(service = VMStateJson.class)
public final class VMStateJsonComponent implements VMStateJson {
    private final ObjectMapper mapper = new ObjectMapper();
    private final JsonDescriptors descriptors = new JsonDescriptors(VMStateLimits.DEFAULT.maxFieldBytes());

    @Override
    public VMStateDescription<GenericState> fromVmdesc(String json) throws IOException {
        return descriptors.fromVmdesc(DuplicateKeys.readTree(mapper, json));
    }

    @Override
    public VMStateDescription<GenericState> fromDump(String json) throws IOException {
        return descriptors.fromDump(mapper.readTree(json));
    }

    @Override
    public String dumpVmstate(String machineName, Collection<VMStateDescription<?>> descriptions) {
        return DumpVmstateWriter.dump(machineName, descriptions);
    }
}
