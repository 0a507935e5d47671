package org.savevm.analyze.internal;

import java.io.IOException;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.ForeignSections;
import org.savevm.api.analyze.ForeignSectionReaders;
import org.savevm.api.vmstate.GenericState;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.api.vmstate.VMStateJson;
import org.savevm.stream.MigrationInput;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Foreign sections read past through the stream's own vmdesc trailer, as analyze-stream decodes them: the trailer
 * is located from the end of the stream (the same framing checks, the same 64 MiB bound), and a FULL section it
 * describes is decoded by the VMState engine into a throw-away {@link GenericState}, which consumes exactly its
 * bytes and checks them against the description (a body that does not fit fails the load with its offset).
 */
@Component(service = ForeignSectionReaders.class)
public final class VmdescForeignSections implements ForeignSectionReaders {
    private final VMStateJson json;
    private final VMStateEngine engine;
    private final ObjectMapper mapper = new ObjectMapper();

    @Activate
    public VmdescForeignSections(@Reference(name = "json") VMStateJson json,
            @Reference(name = "engine") VMStateEngine engine) {
        this.json = json;
        this.engine = engine;
    }

    @Override
    public Optional<ForeignSections> forStream(PositionalReader stream, long size) throws IOException {
        VmdescTrailer trailer = VmdescTrailer.locate(stream, size, StreamAnalyzer.MAX_VMDESC, mapper);
        if (trailer == null) {
            return Optional.empty();
        }
        return Optional.of((String idstr, long instanceId, int version, MigrationInput in) -> {
            VmdescTrailer.Entry e = trailer.entry(idstr, instanceId);
            if (e == null) {
                return false;
            }
            engine.load(in, e.descriptor(json), new GenericState(), version);
            return true;
        });
    }
}
