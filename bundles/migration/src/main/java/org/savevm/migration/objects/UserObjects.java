package org.savevm.migration.objects;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;

/**
 * The objects of this process created with {@code --object} on the launcher's command line or {@code object-add}
 * in the shell (QEMU's {@code -object} and {@code object_add}), by id. The one place where QEMU's object syntax is
 * parsed and where the object types this build knows are made: {@link TlsCredsX509} and {@link AuthzList}.
 * Thread-safe.
 */
@Component(service = UserObjects.class)
public final class UserObjects {
    private final Map<String, UserObject> byId = new LinkedHashMap<>();

    /**
     * QEMU's user_creatable_add_qapi: parses {@code spec}, creates the object and adds it; IllegalArgumentException
     * for a malformed spec, an unknown type or a duplicate id, IOException when its files cannot be loaded.
     */
    public UserObject add(String spec) throws IOException {
        ObjectOptions o = ObjectOptions.parse(spec);
        UserObject created = switch (o.type()) {
            case TlsCredsX509.TYPE -> TlsCredsX509.from(o, id -> find(id).orElse(null));
            case AuthzList.TYPE -> AuthzList.from(o);
            case Secret.TYPE -> Secret.from(o, id -> find(id).orElse(null));
            default -> throw new IllegalArgumentException("Invalid parameter type for 'qom-type', expected: one of "
                    + TlsCredsX509.TYPE + ", " + AuthzList.TYPE + ", " + Secret.TYPE + " (got '" + o.type() + "')");
        };
        synchronized (byId) {
            if (byId.containsKey(created.id())) {
                throw new IllegalArgumentException("attempt to add duplicate property '" + created.id()
                        + "' to object (type 'container')");
            }
            byId.put(created.id(), created);
        }
        return created;
    }

    /** QEMU's object_del: false when there is no such object. */
    public boolean delete(String id) {
        synchronized (byId) {
            return byId.remove(id) != null;
        }
    }

    public Optional<UserObject> find(String id) {
        synchronized (byId) {
            return Optional.ofNullable(byId.get(id));
        }
    }

    public List<UserObject> list() {
        synchronized (byId) {
            return List.copyOf(byId.values());
        }
    }

    /**
     * QEMU's migration_tls_get_creds: the credentials named {@code id} for this endpoint, with QEMU's messages
     * when there is no such object, it is no TLS credentials, or it is for the other endpoint.
     */
    public TlsCredsX509 tlsCreds(String id, boolean server) {
        UserObject o = find(id).orElseThrow(() -> new IllegalArgumentException("No TLS credentials with id '" + id + "'"));
        if (!(o instanceof TlsCredsX509 creds)) {
            throw new IllegalArgumentException("Object with id '" + id + "' is not TLS credentials");
        }
        if (creds.server() != server) {
            throw new IllegalArgumentException("Expected TLS credentials for a " + (server ? "server" : "client")
                    + " endpoint");
        }
        return creds;
    }

    /** The authz object named by tls-authz (QEMU: "No authorization object with id '%s'" ... ). */
    public AuthzList authz(String id) {
        UserObject o = find(id).orElseThrow(() -> new IllegalArgumentException("No authorization object with id '"
                + id + "'"));
        if (!(o instanceof AuthzList a)) {
            throw new IllegalArgumentException("Object with id '" + id + "' is not an authz-list");
        }
        return a;
    }
}
