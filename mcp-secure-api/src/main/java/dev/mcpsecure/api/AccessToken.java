package dev.mcpsecure.api;

import java.time.Instant;
import java.util.Objects;

/**
 * A short-lived token for one audience. {@link #toString()} never prints the value.
 *
 * @param value the token itself; hand it only to a request for {@link #audience}
 * @param audience the one audience the token is for
 * @param expiresAt when the token stops being valid
 */
public record AccessToken(String value, String audience, Instant expiresAt) {

    /** Validates; the value must not be empty. */
    public AccessToken {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (value.isEmpty()) {
            throw new IllegalArgumentException("an access token's value must not be empty");
        }
    }

    /** Whether the token is past its expiry at {@code now}. */
    public boolean expiredAt(Instant now) {
        return !now.isBefore(expiresAt);
    }

    /** Audience and expiry; the value as {@code ██}. */
    @Override
    public String toString() {
        return "AccessToken[value=██, audience=" + audience + ", expiresAt=" + expiresAt + "]";
    }
}
