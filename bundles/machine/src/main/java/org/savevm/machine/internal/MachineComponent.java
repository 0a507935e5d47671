package org.savevm.machine.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.DriveSpec;
import org.savevm.api.block.ImageService;
import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;
import org.savevm.api.migration.Sizes;

/**
 * The Machine service. A configuration change re-creates the component (and with it the RAM), as changing
 * the RAM size of a running machine is not a thing.
 *
 * <p>What the machine is made of comes from its ConfigAdmin PID and, for what that leaves unset, from the
 * launcher's machine options ({@code java -jar savevm.jar --ram 1G --disk d.qcow2 ...}), which arrive as the
 * framework properties {@link #RAM_PROPERTY}, {@link #DISKS_PROPERTY} and {@link #DISK_RATE_PROPERTY}: so every
 * command and the shell act on the machine the command line describes, as QEMU's options do.
 */
@Component(service = Machine.class, configurationPid = "org.savevm.machine")
@Designate(ocd = MachineConfig.class)
public final class MachineComponent implements Machine {
    /** Framework property: guest RAM size ({@code --ram}). */
    public static final String RAM_PROPERTY = "savevm.machine.ram";
    /** Framework property: the {@code --disk} options, one per line. */
    public static final String DISKS_PROPERTY = "savevm.machine.disks";
    /** Framework property: guest disk write rate in bytes per second ({@code --disk-dirty-rate}). */
    public static final String DISK_RATE_PROPERTY = "savevm.machine.disk-dirty-rate";

    private final SimulatedMachine machine;

    @Activate
    public MachineComponent(MachineConfig config, Map<String, Object> properties, BundleContext context,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL, policyOption = ReferencePolicyOption.GREEDY)
            ImageService images) throws IOException {
        WorkloadSpec d = WorkloadSpec.DEFAULT;
        WorkloadSpec spec = new WorkloadSpec(config.workload_rate(), d.writeSize(), d.hotFraction(), d.locality(),
                d.zeroShare(), d.seed());
        // bnd writes the defaults of MachineConfig into the component description: a key counts as configured only
        // when a Configuration Admin configuration (service.pid) supplied the properties
        boolean configured = properties.containsKey("service.pid");
        String ram = configured && properties.containsKey("ram") ? config.ram()
                : Optional.ofNullable(context.getProperty(RAM_PROPERTY)).orElse(config.ram());
        List<String> diskSpecs = configured && properties.containsKey("disks") ? List.of(config.disks())
                : lines(context.getProperty(DISKS_PROPERTY));
        long diskRate = configured && properties.containsKey("disk_workload_rate") ? config.disk_workload_rate()
                : Optional.ofNullable(context.getProperty(DISK_RATE_PROPERTY)).map(Sizes::parseBytes)
                        .orElse(config.disk_workload_rate());
        List<MachineDrive> drives = openDrives(DriveSpec.parseAll(diskSpecs), images);
        this.machine = new SimulatedMachine(config.type(), Sizes.parseBytes(ram), spec, drives, diskRate);
        if (config.workload_autostart()) {
            machine.workload().resume();
        }
    }

    private static List<String> lines(String s) {
        if (s == null || s.isBlank()) {
            return List.of();
        }
        return s.lines().filter(l -> !l.isBlank()).toList();
    }

    /** Opens every drive or none: on a failure the ones already open are closed again. */
    static List<MachineDrive> openDrives(List<DriveSpec> specs, ImageService images) throws IOException {
        if (specs.isEmpty()) {
            return List.of();
        }
        if (images == null) {
            throw new IOException("the machine has disks but no image service is installed (bundle org.savevm.image)");
        }
        List<MachineDrive> open = new ArrayList<>();
        try {
            for (DriveSpec s : specs) {
                BlockImage image;
                try {
                    image = images.open(s.file(), s.format(), s.readOnly(), s.cache());
                } catch (IOException e) {
                    throw new IOException("drive '" + s.id() + "': cannot open " + s.file() + ": " + e.getMessage(), e);
                }
                open.add(new MachineDrive(s.id(), image, s.readOnly()));
            }
            return List.copyOf(open);
        } catch (IOException | RuntimeException e) {
            for (MachineDrive m : open) {
                try {
                    m.close();
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    @Deactivate
    void deactivate() {
        machine.close();
    }

    @Override
    public String type() {
        return machine.type();
    }

    @Override
    public List<RamBlock> ramBlocks() {
        return machine.ramBlocks();
    }

    @Override
    public Optional<RamBlock> ramBlock(String idstr) {
        return machine.ramBlock(idstr);
    }

    @Override
    public String ramHash() {
        return machine.ramHash();
    }

    @Override
    public GuestWorkload workload() {
        return machine.workload();
    }

    @Override
    public List<BlockDrive> drives() {
        return machine.drives();
    }

    @Override
    public void detachDrive(String name) throws IOException {
        machine.detachDrive(name);
    }

    @Override
    public void resizeDrive(String name, long newSize) throws IOException {
        machine.resizeDrive(name, newSize);
    }

    /** The machine behind the service, for the machine bundle's own commands. */
    SimulatedMachine simulated() {
        return machine;
    }
}
