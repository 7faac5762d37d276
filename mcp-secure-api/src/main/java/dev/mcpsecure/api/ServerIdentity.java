package dev.mcpsecure.api;

import java.util.regex.Pattern;

/**
 * Who this server is: the name it logs in to the vault with, mints tokens as, and is audited
 * under. Two servers never share an identity.
 *
 * @param name 1 to 64 characters of letters, digits, {@code .}, {@code _} and {@code -}, starting
 *     with a letter or digit
 * @param description free text for people; may be empty
 */
public record ServerIdentity(String name, String description) {

    /** The name a policy gets when it names no server. */
    public static final String DEFAULT_NAME = "mcp-server";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /** Validates both components. */
    public ServerIdentity {
        new Checks()
                .check("name", nameProblem(name))
                .check("description", Checks.notNull(description))
                .throwIfAny();
    }

    /** The identity of a policy that names no server. */
    public static ServerIdentity unnamed() {
        return new ServerIdentity(DEFAULT_NAME, "");
    }

    static String nameProblem(String name) {
        return Checks.matches(
                name, NAME, "use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
}
