package org.savevm.api;

/**
 * One entry of the registry, QEMU's SaveStateEntry: the handler with the ids the registry gave it.
 *
 * @param sectionId     global section id, unique in a registry, stable for the handler's lifetime
 * @param idstr         the idstr written in the stream (with the device path prefix, if any)
 * @param instanceId    resolved instance id
 * @param aliasId       an older instance id accepted on load, or -1
 * @param compatIdstr   the plain idstr kept for streams written without the device path, or null
 * @param compatInstanceId the instance id that goes with {@code compatIdstr}
 * @param bundle        symbolic name of the bundle that registered the handler
 */
public record RegisteredSection(int sectionId, String idstr, int instanceId, int aliasId, int requiredForVersion,
        String compatIdstr, int compatInstanceId, int version, MigrationPriority priority, StateHandler handler,
        String bundle) {

    public boolean isLive() {
        return handler instanceof LiveStateHandler;
    }

    public String describe() {
        return "'" + idstr + "' instance " + instanceId;
    }
}
