package org.savevm.api.qmp;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/** QMP commands a bundle serves: each command's QAPI name (e.g. {@code query-migrate}) and its handler. */
@ConsumerType
public interface QmpCommands {
    Map<String, QmpHandler> commands();
}
