package org.savevm.machine.internal;

import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.savevm.api.machine.GuestWorkload;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;
import org.savevm.api.machine.WorkloadSpec;

/**
 * The Machine service. A configuration change re-creates the component (and with it the RAM), as changing
 * the RAM size of a running machine is not a thing.
 */
@Component(service = Machine.class, configurationPid = "org.savevm.machine")
@Designate(ocd = MachineConfig.class)
public final class MachineComponent implements Machine {
    private final SimulatedMachine machine;

    @Activate
    public MachineComponent(MachineConfig config) {
        WorkloadSpec d = WorkloadSpec.DEFAULT;
        WorkloadSpec spec = new WorkloadSpec(config.workload_rate(), d.writeSize(), d.hotFraction(), d.locality(),
                d.zeroShare(), d.seed());
        this.machine = new SimulatedMachine(config.type(), MachineProfile.parseSize(config.ram()), spec);
        if (config.workload_autostart()) {
            machine.workload().resume();
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
}
