/**
 * QMP, QEMU's JSON machine protocol, as savevm's bundles serve it: a bundle registers {@link QmpCommands} (a name
 * for each command, as QEMU's QAPI schema spells it, and its {@link QmpHandler}); the QMP monitor bundle runs the
 * protocol (greeting, capabilities negotiation, ids, errors, events) and dispatches to them. A handler refuses
 * with {@link QmpError} (QEMU's error class and text); it emits events through {@link QmpEvents}.
 */
@Export
@Version("1.0.0")
package org.savevm.api.qmp;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
