package org.savevm.example.internal;

/** The example device's registers: what its VMState description saves. */
public final class ExampleDeviceState {
    long counter;
    int ticks;

    ExampleDeviceState copy() {
        ExampleDeviceState c = new ExampleDeviceState();
        c.counter = counter;
        c.ticks = ticks;
        return c;
    }
}
