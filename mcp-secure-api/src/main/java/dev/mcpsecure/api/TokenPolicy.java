package dev.mcpsecure.api;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which audiences this server may get tokens for, and how long those tokens live. A token names
 * exactly one audience and is fetched when first needed.
 *
 * @param maxTtl the longest any token may live: 10 s to {@link #MAX_TTL_CAP}
 * @param audiences audience (the API's identifier, such as its URL) to how its tokens are minted;
 *     none means no token may be fetched
 */
public record TokenPolicy(Duration maxTtl, Map<String, TokenAudience> audiences) {

    /** The token lifetime when the policy sets none: 5 minutes. */
    public static final Duration DEFAULT_MAX_TTL = Duration.ofMinutes(5);
    /** No policy may let tokens live longer than this: 1 hour. */
    public static final Duration MAX_TTL_CAP = Duration.ofHours(1);

    static final Duration MIN_TTL = Duration.ofSeconds(10);

    private static final TokenPolicy NONE = new TokenPolicy(DEFAULT_MAX_TTL, Map.of());

    /** Validates every component, including each audience's TTL against {@code maxTtl}. */
    public TokenPolicy {
        Checks checks = new Checks()
                .check("maxTtl", maxTtlProblem(maxTtl))
                .check("audiences", audiences == null ? "is required (use an empty map for none)" : null);
        if (audiences != null) {
            audiences.forEach((audience, minting) -> {
                String path = PolicyProblem.keyPath("audiences", String.valueOf(audience));
                checks.check(path, audienceProblem(audience));
                checks.check(path, Checks.notNull(minting));
                if (minting != null && maxTtl != null && minting.ttl().compareTo(maxTtl) > 0) {
                    checks.check(
                            path + ".ttl",
                            "ttl " + Units.duration(minting.ttl()) + " is above maxTtl " + Units.duration(maxTtl)
                                    + "; lower the ttl or raise tokens.maxTtl");
                }
            });
        }
        checks.throwIfAny();
        audiences = Collections.unmodifiableMap(new LinkedHashMap<>(audiences));
    }

    /** No audiences: no token may be fetched. */
    public static TokenPolicy none() {
        return NONE;
    }

    static String maxTtlProblem(Duration maxTtl) {
        if (maxTtl != null && maxTtl.compareTo(MAX_TTL_CAP) > 0) {
            return "maxTtl " + Units.duration(maxTtl) + " is above the cap of " + Units.duration(MAX_TTL_CAP)
                    + ": tokens must be short-lived; use 1h or less (the default is 5m)";
        }
        return Checks.between(maxTtl, MIN_TTL, MAX_TTL_CAP);
    }

    static String audienceProblem(String audience) {
        if (audience == null) {
            return "is required";
        }
        if (audience.isBlank() || audience.length() > 512 || !audience.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return "audience " + Checks.quote(audience)
                    + " is not valid: write 1 to 512 printable ASCII characters without spaces, such as"
                    + " https://api.example.com";
        }
        return null;
    }
}
