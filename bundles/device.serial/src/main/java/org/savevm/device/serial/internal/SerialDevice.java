package org.savevm.device.serial.internal;

import java.io.ByteArrayOutputStream;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.GuestTimer;
import org.savevm.api.SectionRegistration;
import org.savevm.api.VirtualClock;
import org.savevm.api.vmstate.DetachedTimer;
import org.savevm.api.vmstate.VMStateDescription;

/**
 * An isa-serial 16550A UART as a device handler, registered like QEMU's: section "serial", the next
 * free instance id (ordered by {@code serial.index}, component property, default 0), and the legacy
 * alias instance id = the port's I/O base (0x3f8, 0x2f8, 0x3e8, 0x2e8) for streams up to version 3.
 * Its timers run on the {@link VirtualClock} when one is present and only record their expiry otherwise.
 */
@Component(service = DeviceStateHandler.class, property = "serial.index:Integer=0")
public final class SerialDevice implements DeviceStateHandler<SerialState> {
    private static final VMStateDescription<SerialState> DESCRIPTION = SerialVMState.isaSerial();
    /** QEMU's isa_serial_io: the I/O base of each ISA serial index, its legacy instance id. */
    private static final int[] ISA_IOBASE = {0x3f8, 0x2f8, 0x3e8, 0x2e8};

    private final SectionRegistration registration;
    private final SerialState state;
    private final Uart16550 uart;
    private final ByteArrayOutputStream transmitted = new ByteArrayOutputStream();
    private volatile VirtualClock clock;

    @Activate
    public SerialDevice(Map<String, Object> properties) {
        Object idx = properties == null ? null : properties.get("serial.index");
        int index = idx instanceof Number n ? n.intValue() : 0;
        if (index < 0 || index >= ISA_IOBASE.length) {
            throw new IllegalArgumentException("serial.index must be 0.." + (ISA_IOBASE.length - 1) + ": " + index);
        }
        this.registration = SectionRegistration.builder("serial").version(DESCRIPTION.version()).autoInstance()
                .alias(ISA_IOBASE[index], 3).orderKey(String.format("serial/%d", index)).build();
        this.uart = new Uart16550(this::transmitByte, this::nowNs);
        this.state = new SerialState(new DetachedTimer(), new DetachedTimer());
        uart.reset(state);
    }

    /** A device without OSGi: index 0 (COM1). */
    public SerialDevice() {
        this(Map.of());
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindClock(VirtualClock c) {
        this.clock = c;
        state.fifoTimeoutTimer = moveTimer(state.fifoTimeoutTimer, c.newTimer(this::fifoTimeout));
        state.modemStatusPoll = moveTimer(state.modemStatusPoll, c.newTimer(() -> { }));
    }

    synchronized void unbindClock(VirtualClock c) {
        if (this.clock == c) {
            this.clock = null;
            state.fifoTimeoutTimer = moveTimer(state.fifoTimeoutTimer, new DetachedTimer());
            state.modemStatusPoll = moveTimer(state.modemStatusPoll, new DetachedTimer());
        }
    }

    private static GuestTimer moveTimer(GuestTimer from, GuestTimer to) {
        long expiry = from.expireTimeNs();
        from.cancel();
        to.setExpireTimeNs(expiry);
        return to;
    }

    private long nowNs() {
        VirtualClock c = clock;
        return c == null ? -1 : c.nowNs();
    }

    private void transmitByte(int b) {
        transmitted.write(b);
    }

    private synchronized void fifoTimeout() {
        uart.fifoTimeout(state);
    }

    @Override
    public SectionRegistration registration() {
        return registration;
    }

    @Override
    public VMStateDescription<SerialState> description() {
        return DESCRIPTION;
    }

    @Override
    public synchronized SerialState state() {
        return state;
    }

    @Override
    public synchronized SerialState copyOfState() {
        return state.copy();
    }

    @Override
    public synchronized void commit(SerialState loaded) {
        state.copyFrom(loaded);
    }

    /** Guest port read at {@code offset} (0..7). */
    public synchronized int readPort(int offset) {
        return uart.read(state, offset);
    }

    /** Guest port write at {@code offset} (0..7). */
    public synchronized void writePort(int offset, int value) {
        uart.write(state, offset, value);
    }

    /** A byte arriving on the line. */
    public synchronized void receive(int b) {
        uart.receive(state, b);
    }

    /** Everything the guest transmitted so far. */
    public synchronized byte[] transmitted() {
        return transmitted.toByteArray();
    }

    public synchronized boolean irqRaised() {
        return uart.irqRaised(state);
    }
}
