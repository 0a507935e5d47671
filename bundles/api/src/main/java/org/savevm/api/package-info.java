/**
 * The savevm SPI. State handlers are OSGi services of two kinds: {@link LiveStateHandler} (QEMU's
 * SaveVMHandlers: ram, block, ...) and {@link DeviceStateHandler} (a VMState descriptor plus the state
 * object it describes). Each carries a {@link SectionRegistration}; the {@link StateRegistry} discovers
 * them, orders them and hands the save and load paths a frozen {@link RegistryView}.
 */
@Export
@Version("1.2.0")
package org.savevm.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
