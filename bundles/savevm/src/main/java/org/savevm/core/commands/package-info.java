/**
 * QEMU_VM_COMMAND records for the migration orchestrator: the command ids and length table of QEMU
 * 7.2, a writer for the source side, and the callbacks a destination receives while the savevm core
 * loads a stream ({@link org.savevm.core.commands.IncomingCommands}, passed to
 * {@link org.savevm.core.commands.StreamLoader}).
 */
@Export
@Version("1.0.0")
package org.savevm.core.commands;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
