package org.savevm.vmstate.internal.check;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

class VmstateStaticCheckerTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    static JsonNode qemuDump() throws IOException {
        try (InputStream in = new GZIPInputStream(
                VmstateStaticCheckerTest.class.getResourceAsStream("/vmstate-pc-i440fx-7.2.json.gz"))) {
            return MAPPER.readTree(in);
        }
    }

    static JsonNode json(String s) throws IOException {
        return MAPPER.readTree(s.replace('\'', '"'));
    }

    static final String DEV = "{'vmschkmachine': {'Name': 'm'}, 'dev': {'Name': 'dev', 'version_id': 2,"
            + " 'minimum_version_id': 1, 'Description': {'name': 'dev', 'version_id': 2, 'minimum_version_id': 1,"
            + " 'Fields': [{'field': 'a', 'version_id': 0, 'field_exists': false, 'size': 4},"
            + " {'field': 'b', 'version_id': 2, 'field_exists': false, 'size': 2}],"
            + " 'Subsections': [{'name': 'dev/s', 'version_id': 1, 'minimum_version_id': 1,"
            + " 'Fields': [{'field': 'c', 'version_id': 0, 'field_exists': false, 'size': 1}]}]}}}";

    static ObjectNode dev() throws IOException {
        return (ObjectNode) json(DEV);
    }

    static ObjectNode desc(JsonNode root) {
        return (ObjectNode) root.get("dev").get("Description");
    }

    static ArrayNode fields(JsonNode root) {
        return (ArrayNode) desc(root).get("Fields");
    }

    @Test
    void qemuDumpAgainstItselfIsClean() throws IOException {
        JsonNode d = qemuDump();
        VmstateStaticChecker c = VmstateStaticChecker.check(d, d);
        assertEquals(List.of(), c.messages());
        assertEquals(0, c.errors());
    }

    @Test
    void identicalIsCompatibleAndMachineNameOnlyWarns() throws IOException {
        ObjectNode other = dev();
        ((ObjectNode) other.get("vmschkmachine")).put("Name", "n");
        VmstateStaticChecker c = VmstateStaticChecker.check(dev(), other);
        assertEquals(List.of("Warning: checking incompatible machine types: \"m\", \"n\""), c.messages());
        assertEquals(0, c.errors());
    }

    @Test
    void missingSection() throws IOException {
        ObjectNode dest = dev();
        dest.remove("dev");
        assertEquals(List.of("Section \"dev\" does not exist in dest"), VmstateStaticChecker.check(dev(), dest).messages());
    }

    @Test
    void versionRaisedOnTheSourceSide() throws IOException {
        ObjectNode src = dev();
        ((ObjectNode) src.get("dev")).put("version_id", 3);
        desc(src).put("version_id", 3);
        VmstateStaticChecker c = VmstateStaticChecker.check(src, dev());
        assertEquals(List.of("Section \"dev\" version error: 3 > 2",
                "Section \"dev\" Description \"dev\": version error: 3 > 2"), c.messages());
        assertEquals(2, c.errors());
    }

    @Test
    void minimumRaisedAboveTheSourceVersion() throws IOException {
        ObjectNode dest = dev();
        ((ObjectNode) dest.get("dev")).put("minimum_version_id", 3).put("version_id", 3);
        desc(dest).put("minimum_version_id", 3).put("version_id", 3);
        VmstateStaticChecker c = VmstateStaticChecker.check(dev(), dest);
        assertEquals(List.of("Section \"dev\" Description \"dev\": minimum version error: 2 < 3"), c.messages());
    }

    @Test
    void renamedResizedAndMissingFields() throws IOException {
        ObjectNode renamed = dev();
        ((ObjectNode) fields(renamed).get(1)).put("field", "bb");
        assertEquals(List.of("Section \"dev\", Description \"dev\": expected field \"b\", got \"bb\"; skipping rest"),
                VmstateStaticChecker.check(dev(), renamed).messages());
        ObjectNode resized = dev();
        ((ObjectNode) fields(resized).get(0)).put("size", 8);
        assertEquals(List.of("Section \"dev\" Description \"dev\" Field \"a\" size mismatch: 4 , 8"),
                VmstateStaticChecker.check(dev(), resized).messages());
        ObjectNode shorter = dev();
        fields(shorter).remove(1);
        assertEquals(List.of("Section \"dev\", Description \"dev\": expected field \"b\", while dest has no further"
                + " fields"), VmstateStaticChecker.check(dev(), shorter).messages());
        // extra trailing fields in dest are not reported, as in the script
        assertEquals(0, VmstateStaticChecker.check(shorter, dev()).errors());
    }

    @Test
    void missingSubsection() throws IOException {
        ObjectNode dest = dev();
        ((ArrayNode) desc(dest).get("Subsections")).removeAll();
        assertEquals(List.of("Section \"dev\", Description \"dev\": Subsection \"dev/s\" not found"),
                VmstateStaticChecker.check(dev(), dest).messages());
        desc(dest).remove("Subsections");
        assertEquals(List.of("Section \"dev\" Description \"dev\": Entry \"Subsections\" missing"),
                VmstateStaticChecker.check(dev(), dest).messages());
    }

    @Test
    void unusedPaddingMayReplaceFieldsOfTheSameTotalSize() throws IOException {
        ObjectNode dest = dev();
        ArrayNode f = fields(dest);
        f.removeAll();
        f.add(json("{'field': 'unused', 'version_id': 0, 'field_exists': false, 'size': 6}"));
        assertEquals(0, VmstateStaticChecker.check(dev(), dest).errors());
        ((ObjectNode) f.get(0)).put("size", 5);
        assertEquals(List.of("Section \"dev\", Description \"dev\": unused size mismatch near \"b\""),
                VmstateStaticChecker.check(dev(), dest).messages());
    }

    @Test
    void fieldsMovedIntoASubstructKeepTheWireFormat() throws IOException {
        ObjectNode dest = dev();
        ArrayNode f = fields(dest);
        JsonNode a = f.get(0);
        JsonNode b = f.get(1);
        f.removeAll();
        ObjectNode wrapper = (ObjectNode) json("{'field': 'parent', 'version_id': 0, 'field_exists': false,"
                + " 'size': 6, 'Description': {'name': 'inner', 'version_id': 1, 'minimum_version_id': 1,"
                + " 'Fields': []}}");
        ((ArrayNode) wrapper.get("Description").get("Fields")).add(a).add(b);
        f.add(wrapper);
        assertEquals(List.of(), VmstateStaticChecker.check(dev(), dest).messages());
    }
}
