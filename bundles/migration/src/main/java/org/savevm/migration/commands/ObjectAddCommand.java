package org.savevm.migration.commands;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.savevm.api.SavevmCommand;
import org.savevm.migration.objects.UserObject;
import org.savevm.migration.objects.UserObjects;

/**
 * {@code object-add TYPE,id=ID,...}: QEMU's {@code object_add} / {@code -object} (the launcher's {@code --object}
 * runs this command): {@code tls-creds-x509} and {@code authz-list}.
 */
@Component(service = SavevmCommand.class)
public final class ObjectAddCommand implements SavevmCommand {
    private final UserObjects objects;

    @Activate
    public ObjectAddCommand(@Reference UserObjects objects) {
        this.objects = objects;
    }

    @Override
    public String name() {
        return "object-add";
    }

    @Override
    public String summary() {
        return "create an object as QEMU's -object / object_add (tls-creds-x509, authz-list, secret)";
    }

    @Override
    public String usage() {
        return "object-add TYPE,id=ID[,KEY=VALUE]...   (a comma inside a value is written ,,)\n"
                + "  tls-creds-x509,id=ID,dir=DIR,endpoint=server|client[,verify-peer=on|off][,sanity-check=on|off]\n"
                + "      DIR holds ca-cert.pem; server-cert.pem and server-key.pem for a server; client-cert.pem and\n"
                + "      client-key.pem for a client (optional unless the server verifies its peer); a server also\n"
                + "      reads ca-crl.pem when present (revoked client certificates); [,passwordid=SECRET] for an\n"
                + "      encrypted key\n"
                + "  secret,id=ID,data=VALUE|file=PATH[,format=raw|base64][,keyid=MASTER,iv=BASE64]\n"
                + "      a password other objects name (passwordid); with keyid, VALUE is AES-256-CBC under MASTER\n"
                + "  authz-list,id=ID[,policy=deny|allow][,rules.N.match=DN,rules.N.policy=allow|deny[,rules.N.format=exact|glob]]...\n"
                + "      checks the client certificate's distinguished name (CN=...,O=...) when named by tls-authz\n"
                + "  then: migrate-set-parameter tls-creds ID (and tls-hostname, tls-authz)\n";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.size() != 1) {
            err.print(usage());
            return 2;
        }
        try {
            UserObject o = objects.add(args.get(0));
            out.println("object '" + o.id() + "' (" + o.type() + ") added");
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("object-add: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("object-add: " + e.getMessage());
            return 1;
        }
    }
}
