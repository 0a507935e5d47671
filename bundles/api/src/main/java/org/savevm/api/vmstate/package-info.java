/**
 * The VMState descriptor model: how a device's state object maps onto QEMU's VMState fields. The
 * engine that reads and writes it lives in the vmstate bundle.
 */
@Export
@Version("1.1.0")
package org.savevm.api.vmstate;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
