package org.savevm.vmstate.internal.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The rules of QEMU 7.2's scripts/vmstate-static-checker.py over two -dump-vmstate files: can a
 * stream written by SRC load on DEST? Sections and descriptions missing, versions raised or below the
 * minimum, fields renamed, removed or resized (with the script's allowances: fields moved into a
 * sub-struct, {@code unused} padding absorbing fields, the rename tables), subsections missing.
 * Each message is one line; {@link #errors()} counts the problems (warnings are not counted).
 */
public final class VmstateStaticChecker {
    private static final Map<String, List<String>> CHANGED_NAMES = Map.ofEntries(
            Map.entry("e1000", List.of("dev", "parent_obj")),
            Map.entry("ehci", List.of("dev", "pcidev")),
            Map.entry("I440FX", List.of("dev", "parent_obj")),
            Map.entry("ich9_ahci", List.of("card", "parent_obj")),
            Map.entry("ioh-3240-express-root-port", List.of("port.br.dev", "parent_obj.parent_obj.parent_obj",
                    "port.br.dev.exp.aer_log", "parent_obj.parent_obj.parent_obj.exp.aer_log")),
            Map.entry("mch", List.of("d", "parent_obj")),
            Map.entry("pci_bridge", List.of("bridge.dev", "parent_obj", "bridge.dev.shpc", "shpc")),
            Map.entry("pcnet", List.of("pci_dev", "parent_obj")),
            Map.entry("PIIX3", List.of("pci_irq_levels", "pci_irq_levels_vmstate")),
            Map.entry("piix4_pm", List.of("dev", "parent_obj", "pci0_status",
                    "acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]")),
            Map.entry("rtl8139", List.of("dev", "parent_obj")),
            Map.entry("qxl", List.of("num_surfaces", "ssd.num_surfaces")),
            Map.entry("usb-host", List.of("dev", "parent_obj")),
            Map.entry("usb-mouse", List.of("usb-ptr-queue", "HIDPointerEventQueue")),
            Map.entry("usb-tablet", List.of("usb-ptr-queue", "HIDPointerEventQueue")),
            Map.entry("xhci", List.of("pci_dev", "parent_obj")),
            Map.entry("xio3130-express-downstream-port", List.of("port.br.dev", "parent_obj.parent_obj.parent_obj",
                    "port.br.dev.exp.aer_log", "parent_obj.parent_obj.parent_obj.exp.aer_log")),
            Map.entry("xio3130-express-upstream-port", List.of("br.dev", "parent_obj.parent_obj",
                    "br.dev.exp.aer_log", "parent_obj.parent_obj.exp.aer_log")));
    private static final Map<String, String> CHANGED_SECTIONS = Map.of("ICH9 LPC", "ICH9-LPC", "e1000-82540em",
            "e1000");

    private final List<String> messages = new ArrayList<>();
    private int errors;

    private VmstateStaticChecker() {
    }

    /** Checks whether SRC's streams load on DEST. */
    public static VmstateStaticChecker check(JsonNode src, JsonNode dest) {
        VmstateStaticChecker c = new VmstateStaticChecker();
        c.run(src, dest);
        return c;
    }

    public List<String> messages() {
        return messages;
    }

    /** The problem count (the script's exit status, capped at 255). */
    public int errors() {
        return Math.min(errors, 255);
    }

    private void error(String message) {
        messages.add(message);
        errors++;
    }

    private void run(JsonNode src, JsonNode dest) {
        for (Iterator<String> it = src.fieldNames(); it.hasNext();) {
            String sec = it.next();
            String destSec = sec;
            if (!dest.has(destSec)) {
                destSec = changedSectionName(sec);
                if (destSec == null || !dest.has(destSec)) {
                    error("Section \"" + sec + "\" does not exist in dest");
                    continue;
                }
            }
            JsonNode s = src.get(sec);
            JsonNode d = dest.get(destSec);
            if (sec.equals("vmschkmachine")) {
                if (!s.path("Name").asText().equals(d.path("Name").asText())) {
                    messages.add("Warning: checking incompatible machine types: \"" + s.path("Name").asText()
                            + "\", \"" + d.path("Name").asText() + "\"");
                }
                continue;
            }
            checkVersion(s, d, sec, null);
            for (Iterator<String> e = s.fieldNames(); e.hasNext();) {
                String entry = e.next();
                if (!d.has(entry)) {
                    error("Section \"" + sec + "\": Entry \"" + entry + "\" missing");
                    continue;
                }
                if (entry.equals("Description")) {
                    checkDescriptions(s.get(entry), d.get(entry), sec);
                }
            }
        }
    }

    private static String changedSectionName(String sec) {
        for (Map.Entry<String, String> e : CHANGED_SECTIONS.entrySet()) {
            if (e.getKey().equals(sec)) {
                return e.getValue();
            }
            if (e.getValue().equals(sec)) {
                return e.getKey();
            }
        }
        return null;
    }

    private static boolean fieldsMatch(String name, String s, String d) {
        if (s.equals(d)) {
            return true;
        }
        List<String> allowed = CHANGED_NAMES.get(name);
        return allowed != null && allowed.contains(s) && allowed.contains(d);
    }

    private static boolean existsInSubstruct(JsonNode field, String item) {
        JsonNode desc = field.get("Description");
        if (desc == null || !desc.has("Fields") || desc.get("Fields").isEmpty()) {
            return false;
        }
        return fieldsMatch(desc.path("name").asText(), desc.get("Fields").get(0).path("field").asText(), item);
    }

    private void checkFields(JsonNode srcFields, JsonNode destFields, String desc, String sec) {
        Iterator<JsonNode> dIter = destFields.iterator();
        Iterator<JsonNode> sIter = srcFields.iterator();
        Deque<Iterator<JsonNode>> sStack = new ArrayDeque<>();
        Deque<Iterator<JsonNode>> dStack = new ArrayDeque<>();
        boolean advanceSrc = true;
        boolean advanceDest = true;
        long unusedCount = 0;
        JsonNode s = null;
        JsonNode d = null;
        while (true) {
            if (advanceSrc) {
                if (!sIter.hasNext()) {
                    if (sStack.isEmpty()) {
                        break;
                    }
                    sIter = sStack.pop();
                    continue;
                }
                s = sIter.next();
            } else if (unusedCount == 0) {
                advanceSrc = true; // entering or leaving a dest substruct advances once less
            }
            if (advanceDest) {
                if (!dIter.hasNext()) {
                    if (dStack.isEmpty()) {
                        error("Section \"" + sec + "\", Description \"" + desc + "\": expected field \""
                                + field(s) + "\", while dest has no further fields");
                        break;
                    }
                    dIter = dStack.pop();
                    advanceSrc = false;
                    continue;
                }
                d = dIter.next();
            } else if (unusedCount == 0) {
                advanceDest = true;
            }
            if (unusedCount != 0) {
                if (!advanceDest) {
                    unusedCount -= size(s);
                    if (unusedCount == 0) {
                        advanceDest = true;
                        continue;
                    }
                    if (unusedCount < 0) {
                        error("Section \"" + sec + "\", Description \"" + desc + "\": unused size mismatch near \""
                                + field(s) + "\"");
                        break;
                    }
                    continue;
                }
                if (!advanceSrc) {
                    unusedCount -= size(d);
                    if (unusedCount == 0) {
                        advanceSrc = true;
                        continue;
                    }
                    if (unusedCount < 0) {
                        error("Section \"" + sec + "\", Description \"" + desc + "\": unused size mismatch near \""
                                + field(d) + "\"");
                        break;
                    }
                    continue;
                }
            }
            if (!fieldsMatch(desc, field(s), field(d))) {
                if (existsInSubstruct(d, field(s))) {
                    dStack.push(dIter);
                    dIter = d.get("Description").get("Fields").iterator();
                    advanceSrc = false;
                    continue;
                }
                if (existsInSubstruct(s, field(d))) {
                    sStack.push(sIter);
                    sIter = s.get("Description").get("Fields").iterator();
                    advanceDest = false;
                    continue;
                }
                if (field(s).equals("unused") || field(d).equals("unused")) {
                    if (size(s) == size(d)) {
                        continue;
                    }
                    if (field(d).equals("unused")) {
                        advanceDest = false;
                        unusedCount = size(d) - size(s);
                        continue;
                    }
                    advanceSrc = false;
                    unusedCount = size(s) - size(d);
                    continue;
                }
                error("Section \"" + sec + "\", Description \"" + desc + "\": expected field \"" + field(s)
                        + "\", got \"" + field(d) + "\"; skipping rest");
                break;
            }
            checkVersion(s, d, sec, desc);
            if (!s.has("Description")) {
                if (size(s) != size(d)) {
                    error("Section \"" + sec + "\" Description \"" + desc + "\" Field \"" + field(s)
                            + "\" size mismatch: " + size(s) + " , " + size(d));
                }
            }
            checkDescriptionInList(s, d, sec, desc);
        }
    }

    private void checkSubsections(JsonNode srcSubs, JsonNode destSubs, String desc, String sec) {
        for (JsonNode s : srcSubs) {
            boolean found = false;
            for (JsonNode d : destSubs) {
                if (s.path("name").asText().equals(d.path("name").asText())) {
                    found = true;
                    checkDescriptions(s, d, sec);
                }
            }
            if (!found) {
                error("Section \"" + sec + "\", Description \"" + desc + "\": Subsection \"" + s.path("name").asText()
                        + "\" not found");
            }
        }
    }

    private void checkDescriptionInList(JsonNode s, JsonNode d, String sec, String desc) {
        if (!s.has("Description")) {
            return;
        }
        if (!d.has("Description")) {
            error("Section \"" + sec + "\", Description \"" + desc + "\", Field \"" + field(s)
                    + "\": missing description");
            return;
        }
        checkDescriptions(s.get("Description"), d.get("Description"), sec);
    }

    private void checkDescriptions(JsonNode s, JsonNode d, String sec) {
        String name = s.path("name").asText();
        checkVersion(s, d, sec, name);
        if (!fieldsMatch(sec, name, d.path("name").asText())) {
            error("Section \"" + sec + "\": Description \"" + name + "\" missing, got \"" + d.path("name").asText()
                    + "\" instead; skipping");
            return;
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext();) {
            String entry = it.next();
            if (!d.has(entry)) {
                error("Section \"" + sec + "\" Description \"" + name + "\": Entry \"" + entry + "\" missing");
                continue;
            }
            if (entry.equals("Fields")) {
                checkFields(s.get(entry), d.get(entry), name, sec);
            }
            if (entry.equals("Subsections")) {
                checkSubsections(s.get(entry), d.get(entry), name, sec);
            }
        }
    }

    /**
     * Version rules. As in the script, a source version below the destination's minimum is an error
     * only for descriptions; at section level the script prints a fragment without counting it.
     */
    private void checkVersion(JsonNode s, JsonNode d, String sec, String desc) {
        int sv = s.path("version_id").asInt();
        if (sv > d.path("version_id").asInt()) {
            error("Section \"" + sec + "\"" + (desc != null ? " Description \"" + desc + "\":" : "")
                    + " version error: " + sv + " > " + d.path("version_id").asInt());
        }
        if (!d.has("minimum_version_id")) {
            return;
        }
        int dmin = d.get("minimum_version_id").asInt();
        if (sv < dmin && desc != null) {
            error("Section \"" + sec + "\" Description \"" + desc + "\": minimum version error: " + sv + " < " + dmin);
        }
    }

    private static String field(JsonNode f) {
        return f.path("field").asText();
    }

    private static long size(JsonNode f) {
        return f.path("size").asLong();
    }
}
