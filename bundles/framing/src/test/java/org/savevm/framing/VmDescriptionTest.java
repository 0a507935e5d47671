package org.savevm.framing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class VmDescriptionTest {
    @Test
    void vmdescShape() {
        VmDescription d = new VmDescription(4096);
        assertEquals("{\"page_size\": 4096, \"devices\": []}", d.finish());
        d.addDevice("timer", 0, "\"vmsd_name\": \"timer\", \"version\": 2, \"fields\": []");
        d.addDevice("serial", 1, "");
        assertEquals("{\"page_size\": 4096, \"devices\": [{\"name\": \"timer\", \"instance_id\": 0, \"vmsd_name\": "
                + "\"timer\", \"version\": 2, \"fields\": []}, {\"name\": \"serial\", \"instance_id\": 1}]}", d.finish());
    }
}
