package org.savevm.framing;

import org.savevm.api.MigrationSettings;

/**
 * QEMU's migration globals that change the framing: {@code send-section-footer} and
 * {@code send-configuration} (parameters, 0 or 1, default 1). Loader and writer must agree.
 */
public record FramingOptions(boolean sectionFooters, boolean configuration) {
    public static final String SEND_SECTION_FOOTER = "send-section-footer";
    public static final String SEND_CONFIGURATION = "send-configuration";
    public static final FramingOptions DEFAULTS = new FramingOptions(true, true);

    public static FramingOptions of(MigrationSettings settings) {
        return new FramingOptions(settings.parameter(SEND_SECTION_FOOTER, 1) != 0,
                settings.parameter(SEND_CONFIGURATION, 1) != 0);
    }
}
