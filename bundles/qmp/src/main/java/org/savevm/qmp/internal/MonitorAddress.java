package org.savevm.qmp.internal;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/**
 * Where the monitor listens, written as QEMU's {@code -qmp} chardev: {@code unix:PATH} or {@code tcp:[HOST]:PORT},
 * optionally followed by {@code ,server=on}, {@code ,wait=off} (or the old {@code ,server}, {@code ,nowait}). The
 * monitor is always the server and never waits for a client before the rest starts, so those are accepted as the
 * only values that make sense here and anything else is refused.
 */
record MonitorAddress(SocketAddress address, String text) {
    static MonitorAddress parse(String spec) {
        String[] parts = spec.split(",");
        for (int i = 1; i < parts.length; i++) {
            switch (parts[i]) {
                case "server", "server=on", "nowait", "wait=off" -> {
                    // what the monitor does anyway
                }
                default -> throw new IllegalArgumentException("--qmp " + spec + ": option '" + parts[i]
                        + "' is not supported (the monitor is a server and never waits: server=on,wait=off)");
            }
        }
        String where = parts[0];
        if (where.startsWith("unix:") && where.length() > "unix:".length()) {
            return new MonitorAddress(UnixDomainSocketAddress.of(Path.of(where.substring(5))), where);
        }
        if (where.startsWith("tcp:")) {
            String hp = where.substring(4);
            int colon = hp.lastIndexOf(':');
            if (colon >= 0) {
                String host = hp.substring(0, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                try {
                    int port = Integer.parseInt(hp.substring(colon + 1));
                    if (port >= 0 && port <= 65535) {
                        return new MonitorAddress(host.isEmpty() ? new InetSocketAddress(port)
                                : new InetSocketAddress(host, port), where);
                    }
                } catch (NumberFormatException e) {
                    // refused below
                }
            }
        }
        throw new IllegalArgumentException("--qmp " + spec + ": expected unix:PATH or tcp:[HOST]:PORT"
                + " (optionally ,server=on,wait=off)");
    }
}
