package dev.mcpsecure.api;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How tokens for one audience are minted.
 *
 * @param role the vault identity-token role (its {@code client_id} is the audience)
 * @param ttl the lifetime of each token; at most the token policy's {@code maxTtl}
 */
public record TokenAudience(String role, Duration ttl) {

    private static final Pattern ROLE = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

    /** Validates both components. */
    public TokenAudience {
        new Checks()
                .check("role", Checks.matches(role, ROLE, "a role name is 1 to 128 letters, digits, '_', '.' or '-'"))
                .check("ttl", Checks.between(ttl, TokenPolicy.MIN_TTL, TokenPolicy.MAX_TTL_CAP))
                .throwIfAny();
    }
}
