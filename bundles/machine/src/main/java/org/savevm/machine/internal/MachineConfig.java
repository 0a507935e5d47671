package org.savevm.machine.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "savevm machine", description = "Machine type, guest RAM size and disks")
public @interface MachineConfig {
    @AttributeDefinition(description = "Machine type (RAM block profile and configuration section name)")
    String type() default MachineProfile.PC_I440FX_7_2;

    @AttributeDefinition(description = "Size of pc.ram: bytes or a number with K, M, G")
    String ram() default "16M";

    @AttributeDefinition(description = "Guest workload dirty rate, bytes per second")
    long workload_rate() default 8L << 20;

    @AttributeDefinition(description = "Disks, each FILE[,format=raw|qcow2][,id=NAME][,readonly=on|off][,cache=MODE] as the --disk option")
    String[] disks() default {};

    @AttributeDefinition(description = "Guest disk write rate, bytes per second (4 KiB writes)")
    long disk_workload_rate() default 0;

    @AttributeDefinition(description = "Start the workload when the machine starts")
    boolean workload_autostart() default false;
}
