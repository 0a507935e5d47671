package org.savevm.api.migration;

/**
 * A migration address as QEMU writes it: {@code tcp:HOST:PORT}, {@code unix:PATH}, {@code file:PATH}
 * or {@code exec:COMMAND}. An IPv6 host is written in brackets ({@code tcp:[::1]:4444}); an empty host
 * listens on every address.
 */
public record MigrationUri(Scheme scheme, String host, int port, String path) {

    public enum Scheme {
        TCP, UNIX, FILE, EXEC
    }

    public static MigrationUri parse(String uri) {
        int colon = uri.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("unknown migration protocol: " + uri);
        }
        String proto = uri.substring(0, colon);
        String rest = uri.substring(colon + 1);
        return switch (proto) {
            case "tcp" -> parseTcp(uri, rest);
            case "unix" -> new MigrationUri(Scheme.UNIX, null, 0, nonEmpty(uri, rest));
            case "file" -> new MigrationUri(Scheme.FILE, null, 0, nonEmpty(uri, rest));
            case "exec" -> new MigrationUri(Scheme.EXEC, null, 0, nonEmpty(uri, rest));
            default -> throw new IllegalArgumentException("unknown migration protocol: " + uri);
        };
    }

    private static String nonEmpty(String uri, String rest) {
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("missing path or command in migration address: " + uri);
        }
        return rest;
    }

    private static MigrationUri parseTcp(String uri, String rest) {
        int portColon = rest.lastIndexOf(':');
        if (portColon < 0) {
            throw new IllegalArgumentException("tcp address needs HOST:PORT: " + uri);
        }
        String host = rest.substring(0, portColon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(rest.substring(portColon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in migration address: " + uri);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range in migration address: " + uri);
        }
        return new MigrationUri(Scheme.TCP, host, port, null);
    }

    @Override
    public String toString() {
        return switch (scheme) {
            case TCP -> "tcp:" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
            case UNIX -> "unix:" + path;
            case FILE -> "file:" + path;
            case EXEC -> "exec:" + path;
        };
    }
}
