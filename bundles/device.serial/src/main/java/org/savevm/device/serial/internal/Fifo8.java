package org.savevm.device.serial.internal;

/** QEMU's Fifo8: a byte ring of fixed capacity (util/fifo8.c), migrated as data, head and num. */
public final class Fifo8 {
    byte[] data;
    int capacity;
    int head;
    int num;

    public Fifo8(int capacity) {
        this.capacity = capacity;
        this.data = new byte[capacity];
    }

    public boolean isEmpty() {
        return num == 0;
    }

    public boolean isFull() {
        return num == capacity;
    }

    public int size() {
        return num;
    }

    public void push(int b) {
        if (isFull()) {
            throw new IllegalStateException("fifo full");
        }
        data[(head + num) % capacity] = (byte) b;
        num++;
    }

    public int pop() {
        if (isEmpty()) {
            throw new IllegalStateException("fifo empty");
        }
        int b = data[head] & 0xff;
        head = (head + 1) % capacity;
        num--;
        return b;
    }

    public void reset() {
        head = 0;
        num = 0;
    }

    /** Refuses a head/num pair a load may have brought that the ring cannot hold. */
    void checkConsistent() {
        if (data.length != capacity || Integer.compareUnsigned(head, capacity) >= 0
                || Integer.compareUnsigned(num, capacity) > 0) {
            throw new IllegalStateException("inconsistent fifo: head " + Integer.toUnsignedString(head) + ", num "
                    + Integer.toUnsignedString(num) + ", capacity " + capacity);
        }
    }

    Fifo8 copy() {
        Fifo8 c = new Fifo8(capacity);
        c.data = data.clone();
        c.head = head;
        c.num = num;
        return c;
    }

    void copyFrom(Fifo8 o) {
        capacity = o.capacity;
        data = o.data.clone();
        head = o.head;
        num = o.num;
    }
}
