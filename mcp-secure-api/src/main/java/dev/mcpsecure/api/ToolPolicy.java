package dev.mcpsecure.api;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What one tool may do and how much of it.
 *
 * @param name the tool's name as registered with the MCP SDK: 1 to 128 characters of letters,
 *     digits, {@code _}, {@code -} and {@code .}
 * @param risks the risk classes enabled for this tool; {@link RiskClass#READ_ONLY} is always
 *     included. A tool whose declared risks are not all enabled is not exposed.
 * @param scopes OAuth scopes a caller's token must carry to call this tool (HTTP transports)
 * @param confirm whether each call needs the user's confirmation through MCP elicitation
 * @param rateLimit calls of this tool allowed per period, counted for each caller separately: per
 *     principal when callers are authenticated, per session otherwise
 * @param maxConcurrency calls of this tool running at once, 1 to 1024
 * @param timeout how long one call may run, 1 ms to 1 h
 * @param maxOutputBytes largest result the tool may return, 1 byte to 256 MiB
 */
public record ToolPolicy(
        String name,
        Set<RiskClass> risks,
        Set<String> scopes,
        boolean confirm,
        RateLimit rateLimit,
        int maxConcurrency,
        Duration timeout,
        long maxOutputBytes) {

    /** Rate limit when the policy sets none: 60 calls a minute. */
    public static final RateLimit DEFAULT_RATE_LIMIT = new RateLimit(60, Duration.ofMinutes(1));
    /** Concurrent calls of one tool when the policy sets none. */
    public static final int DEFAULT_MAX_CONCURRENCY = 4;
    /** Call timeout when the policy sets none. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Output cap when the policy sets none: 1 MiB. */
    public static final long DEFAULT_MAX_OUTPUT_BYTES = 1L << 20;

    static final Duration MIN_TIMEOUT = Duration.ofMillis(1);
    static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    static final long MAX_OUTPUT_CAP = 256L << 20;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
    private static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]+");

    /** Validates every component and copies the sets; adds {@link RiskClass#READ_ONLY} to {@code risks}. */
    public ToolPolicy {
        Checks checks = new Checks()
                .check("name", nameProblem(name))
                .check("risks", Checks.noNullElements(risks))
                .check("scopes", scopesProblem(scopes))
                .check("rateLimit", Checks.notNull(rateLimit))
                .check("maxConcurrency", Checks.between(maxConcurrency, 1, 1024))
                .check("timeout", Checks.between(timeout, MIN_TIMEOUT, MAX_TIMEOUT))
                .check("maxOutputBytes", Checks.sizeBetween(maxOutputBytes, 1, MAX_OUTPUT_CAP));
        checks.throwIfAny();
        risks = withReadOnly(risks);
        scopes = Collections.unmodifiableSet(new LinkedHashSet<>(scopes));
    }

    /** A read-only tool with every other setting at its default. */
    public static ToolPolicy readOnly(String name) {
        return builder(name).build();
    }

    /** A builder for the tool {@code name}; every option not set takes its default. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Whether every risk class in {@code declared} is enabled for this tool. */
    public boolean enables(Collection<RiskClass> declared) {
        return risks.containsAll(declared);
    }

    static String nameProblem(String name) {
        return Checks.matches(name, NAME, "tool names are 1 to 128 letters, digits, '_', '-' or '.'");
    }

    private static String scopesProblem(Set<String> scopes) {
        String nulls = Checks.noNullElements(scopes);
        if (nulls != null) {
            return nulls;
        }
        for (String scope : scopes) {
            if (!SCOPE.matcher(scope).matches()) {
                return "scope " + Checks.quote(scope)
                        + " is not valid: a scope is one or more printable ASCII characters without spaces,"
                        + " quotes or backslashes";
            }
        }
        return null;
    }

    private static Set<RiskClass> withReadOnly(Set<RiskClass> risks) {
        EnumSet<RiskClass> all = EnumSet.of(RiskClass.READ_ONLY);
        all.addAll(risks);
        return Collections.unmodifiableSet(all);
    }

    /** Builds a {@link ToolPolicy}; each option may be set once. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private Set<RiskClass> risks;
        private Set<String> scopes;
        private Boolean confirm;
        private RateLimit rateLimit;
        private Integer maxConcurrency;
        private Duration timeout;
        private Long maxOutputBytes;

        private Builder(String name) {
            Checks.require("name", nameProblem(name));
            this.name = name;
        }

        /** Enables these risk classes in addition to {@link RiskClass#READ_ONLY}. */
        public Builder risks(RiskClass... risks) {
            Checks.requireUnset(this.risks, "risks");
            Checks.require("risks", Checks.noNullElements(Arrays.asList(risks)));
            this.risks = Set.of(risks);
            return this;
        }

        /** Scopes the caller's token must carry. */
        public Builder scopes(String... scopes) {
            Checks.requireUnset(this.scopes, "scopes");
            Set<String> set = new LinkedHashSet<>(Arrays.asList(scopes));
            Checks.require("scopes", scopesProblem(set));
            this.scopes = set;
            return this;
        }

        /** Requires the user's confirmation for each call. */
        public Builder confirm(boolean confirm) {
            Checks.requireUnset(this.confirm, "confirm");
            this.confirm = confirm;
            return this;
        }

        /** Calls allowed per period; default {@link #DEFAULT_RATE_LIMIT}. */
        public Builder rateLimit(int calls, Duration per) {
            Checks.requireUnset(this.rateLimit, "rateLimit");
            this.rateLimit = new RateLimit(calls, per);
            return this;
        }

        /** Calls running at once, 1 to 1024; default {@link #DEFAULT_MAX_CONCURRENCY}. */
        public Builder maxConcurrency(int maxConcurrency) {
            Checks.requireUnset(this.maxConcurrency, "maxConcurrency");
            Checks.require("maxConcurrency", Checks.between(maxConcurrency, 1, 1024));
            this.maxConcurrency = maxConcurrency;
            return this;
        }

        /** How long one call may run, 1 ms to 1 h; default {@link #DEFAULT_TIMEOUT}. */
        public Builder timeout(Duration timeout) {
            Checks.requireUnset(this.timeout, "timeout");
            Checks.require("timeout", Checks.between(timeout, MIN_TIMEOUT, MAX_TIMEOUT));
            this.timeout = timeout;
            return this;
        }

        /** Largest result, 1 byte to 256 MiB; default {@link #DEFAULT_MAX_OUTPUT_BYTES}. */
        public Builder maxOutputBytes(long maxOutputBytes) {
            Checks.requireUnset(this.maxOutputBytes, "maxOutputBytes");
            Checks.require("maxOutputBytes", Checks.sizeBetween(maxOutputBytes, 1, MAX_OUTPUT_CAP));
            this.maxOutputBytes = maxOutputBytes;
            return this;
        }

        /** @throws InvalidPolicyException never, in practice: each option was checked when set */
        public ToolPolicy build() {
            return new ToolPolicy(
                    name,
                    risks == null ? Set.of() : risks,
                    scopes == null ? Set.of() : scopes,
                    confirm != null && confirm,
                    rateLimit == null ? DEFAULT_RATE_LIMIT : rateLimit,
                    maxConcurrency == null ? DEFAULT_MAX_CONCURRENCY : maxConcurrency,
                    timeout == null ? DEFAULT_TIMEOUT : timeout,
                    maxOutputBytes == null ? DEFAULT_MAX_OUTPUT_BYTES : maxOutputBytes);
        }
    }
}
