package dev.mcpsecure.api;

import java.util.Objects;

/**
 * A secret value fetched on demand. {@link #toString()} never prints the value.
 *
 * @param name the secret's name in the policy
 * @param value the secret itself
 */
public record Secret(String name, String value) {

    /** Validates. */
    public Secret {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }

    /** The name; the value as {@code ██}. */
    @Override
    public String toString() {
        return "Secret[name=" + name + ", value=██]";
    }
}
