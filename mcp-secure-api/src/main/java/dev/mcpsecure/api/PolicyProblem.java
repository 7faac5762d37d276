package dev.mcpsecure.api;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One thing wrong with a policy: where it is and how to fix it.
 *
 * @param source the file or text the policy came from, or {@code ""} for a policy built in code
 * @param line 1-based line of the offending value, or 0 when unknown (policies built in code)
 * @param column 1-based column of the offending value, or 0 when unknown
 * @param path the key path of the offending value, such as {@code tools[2].timeout}; {@code ""}
 *     for the policy as a whole
 * @param message what is wrong, naming the bad value, and the fix; control characters in it are
 *     escaped ({@code \\u0007}), so a hostile value cannot drive the terminal that shows it
 */
public record PolicyProblem(String source, int line, int column, String path, String message) {

    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");

    /** Validates the components; {@code line} and {@code column} are 0 or positive. */
    public PolicyProblem {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(path, "path");
        message = escapeControls(Objects.requireNonNull(message, "message"));
        path = escapeControls(path);
        if (line < 0 || column < 0) {
            throw new IllegalArgumentException(
                    "line and column must be 0 (unknown) or positive but were " + line + ":" + column);
        }
    }

    private static String escapeControls(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c)) {
                if (out == null) {
                    out = new StringBuilder(text.length() + 8).append(text, 0, i);
                }
                out.append(String.format("\\u%04x", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /** A problem with no known location, as found when a policy is built in code. */
    public static PolicyProblem at(String path, String message) {
        return new PolicyProblem("", 0, 0, path, message);
    }

    /** This problem with {@code prefix} put in front of its path, as a containing object reports it. */
    public PolicyProblem under(String prefix) {
        if (prefix.isEmpty()) {
            return this;
        }
        String joined = path.isEmpty() ? prefix : path.startsWith("[") ? prefix + path : prefix + "." + path;
        return new PolicyProblem(source, line, column, joined, message);
    }

    /**
     * The path of {@code key} inside the object at {@code parent}: {@code parent.key}, or
     * {@code parent["key"]} when the key is not a plain identifier (a host name or URL, say).
     */
    public static String keyPath(String parent, String key) {
        if (PLAIN_KEY.matcher(key).matches()) {
            return parent.isEmpty() ? key : parent + "." + key;
        }
        return parent + "[\"" + key.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]";
    }

    /** The path of element {@code index} of the list at {@code parent}: {@code parent[index]}. */
    public static String indexPath(String parent, int index) {
        return parent + "[" + index + "]";
    }

    /** {@code source:line:column: path: message}, leaving out the parts that are unknown. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        if (!source.isEmpty()) {
            out.append(source);
            if (line > 0) {
                out.append(':').append(line).append(':').append(column);
            }
            out.append(": ");
        } else if (line > 0) {
            out.append(line).append(':').append(column).append(": ");
        }
        if (!path.isEmpty()) {
            out.append(path).append(": ");
        }
        return out.append(message).toString();
    }
}
