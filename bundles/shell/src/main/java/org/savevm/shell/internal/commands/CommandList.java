package org.savevm.shell.internal.commands;

import java.util.Map;

import org.savevm.api.SavevmCommand;

/** The text of {@code help}: one line per command, names aligned. */
final class CommandList {
    private CommandList() {
    }

    static String format(Map<String, SavevmCommand> byName) {
        int width = byName.keySet().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder sb = new StringBuilder();
        byName.forEach((name, c) -> sb.append(String.format("  %-" + width + "s  %s%n", name, c.summary())));
        sb.append(String.format("%d commands; 'help COMMAND' shows a command's usage.%n", byName.size()));
        return sb.toString();
    }
}
