package org.savevm.vmstate.internal.command;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.SavevmCommand;
import org.savevm.vmstate.internal.check.VmstateStaticChecker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code check-vmstate OLD.json NEW.json}: QEMU's vmstate-static-checker — can streams of OLD load on
 * NEW? Exit 0 when compatible, 1 when not (the count is printed), 2 for bad arguments or files.
 */
@Component(service = SavevmCommand.class)
public final class CheckVmstateCommand implements SavevmCommand {
    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public String name() {
        return "check-vmstate";
    }

    @Override
    public String summary() {
        return "check two -dump-vmstate files for migration compatibility (vmstate-static-checker)";
    }

    @Override
    public String usage() {
        return "check-vmstate [--reverse] OLD.json NEW.json   (files may be .gz)";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        boolean reverse = false;
        List<String> files = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--reverse")) {
                reverse = true;
            } else if (a.startsWith("-")) {
                err.println("check-vmstate: unknown option " + a + "\nusage: " + usage());
                return 2;
            } else {
                files.add(a);
            }
        }
        if (files.size() != 2) {
            err.println("usage: " + usage());
            return 2;
        }
        JsonNode src;
        JsonNode dest;
        try {
            src = read(files.get(0));
            dest = read(files.get(1));
        } catch (IOException e) {
            err.println("check-vmstate: " + e.getMessage());
            return 2;
        }
        VmstateStaticChecker result = reverse ? VmstateStaticChecker.check(dest, src)
                : VmstateStaticChecker.check(src, dest);
        result.messages().forEach(out::println);
        if (result.errors() > 0) {
            out.println(result.errors() + " incompatibilit" + (result.errors() == 1 ? "y" : "ies") + " found");
            return 1;
        }
        out.println("compatible");
        return 0;
    }

    private JsonNode read(String file) throws IOException {
        Path p = Path.of(file);
        try (InputStream raw = Files.newInputStream(p);
                InputStream in = file.endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            JsonNode n = mapper.readTree(in);
            if (n == null || !n.isObject()) {
                throw new IOException(file + ": not a -dump-vmstate JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": invalid JSON: " + e.getOriginalMessage());
        }
    }
}
