package dev.mcpsecure.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How HTTP transports listen. (Stdio, the preferred transport, opens no socket.)
 *
 * @param bind the address to listen on: an IP literal or {@code localhost}; a non-loopback address
 *     needs {@code allowPublicBind}
 * @param allowPublicBind the explicit opt-in to listen beyond this machine
 * @param allowedOrigins browser origins ({@code scheme://host[:port]}) allowed to call; requests
 *     with any other {@code Origin} are refused
 * @param auth bearer-token authentication of callers; required for a non-loopback bind, empty
 *     (no authentication) allowed only on loopback
 */
public record TransportPolicy(
        String bind, boolean allowPublicBind, List<String> allowedOrigins, Optional<BearerAuthPolicy> auth) {

    /** The bind address when the policy sets none. */
    public static final String DEFAULT_BIND = "127.0.0.1";

    private static final Pattern ORIGIN = Pattern.compile("https?://(\\[[0-9a-f:.]+\\]|[a-z0-9.-]+)(:[0-9]{1,5})?");
    private static final TransportPolicy DEFAULTS =
            new TransportPolicy(DEFAULT_BIND, false, List.of(), Optional.empty());

    /** Validates every component and copies the list; a non-loopback bind needs {@code auth}. */
    public TransportPolicy {
        Checks checks = new Checks()
                .check("bind", bindProblem(bind, allowPublicBind))
                .check("allowedOrigins", Checks.noNullElements(allowedOrigins))
                .check("auth", Checks.notNull(auth));
        if (bind != null && auth != null && auth.isEmpty() && allowPublicBind && !IpLiterals.isLoopback(bind)) {
            checks.check(
                    "auth",
                    "listening on " + Checks.quote(bind) + " beyond this machine requires bearer tokens: add"
                            + " transport.auth with resource, issuer and jwksUrl");
        }
        if (Checks.usable(allowedOrigins)) {
            for (int i = 0; i < allowedOrigins.size(); i++) {
                checks.check(PolicyProblem.indexPath("allowedOrigins", i), originProblem(allowedOrigins.get(i)));
            }
        }
        checks.throwIfAny();
        allowedOrigins = List.copyOf(allowedOrigins);
    }

    /** Loopback only, no browser origins. */
    public static TransportPolicy defaults() {
        return DEFAULTS;
    }

    /** A builder; every option not set takes its default. */
    public static Builder builder() {
        return new Builder();
    }

    static String bindProblem(String bind, boolean allowPublicBind) {
        if (bind == null) {
            return "is required";
        }
        if (!"localhost".equalsIgnoreCase(bind) && IpLiterals.parse(bind) == null) {
            return "bind address " + Checks.quote(bind) + " is not an IP address; write 127.0.0.1 (or ::1)";
        }
        if (!allowPublicBind && !IpLiterals.isLoopback(bind)) {
            return "bind address " + Checks.quote(bind) + " is not loopback; bind 127.0.0.1, or set"
                    + " transport.allowPublicBind: true to listen beyond this machine (and require bearer tokens)";
        }
        return null;
    }

    static String originProblem(String origin) {
        if ("*".equals(origin)) {
            return "wildcard origin '*' is not allowed; list each origin, such as http://localhost:6274";
        }
        return Checks.matches(
                origin, ORIGIN, "write an origin as scheme://host[:port] in lower case, such as http://localhost:6274");
    }

    /** Builds a {@link TransportPolicy}. Not thread-safe. */
    public static final class Builder {
        private String bind;
        private boolean allowPublicBind;
        private final List<String> allowedOrigins = new ArrayList<>();
        private BearerAuthPolicy auth;

        private Builder() {}

        /** Requires bearer tokens as {@code auth} says; default none (loopback only). */
        public Builder auth(BearerAuthPolicy auth) {
            Checks.requireUnset(this.auth, "auth");
            Checks.require("auth", Checks.notNull(auth));
            this.auth = auth;
            return this;
        }

        /** The address to listen on; default {@link #DEFAULT_BIND}. */
        public Builder bind(String bind) {
            Checks.requireUnset(this.bind, "bind");
            Checks.require("bind", bind == null ? "is required" : null);
            this.bind = bind;
            return this;
        }

        /** Opts in to listening beyond this machine. */
        public Builder allowPublicBind() {
            this.allowPublicBind = true;
            return this;
        }

        /** Allows requests from this browser origin. */
        public Builder allowOrigin(String origin) {
            Checks.require("allowedOrigins", originProblem(origin));
            allowedOrigins.add(origin);
            return this;
        }

        /**
         * @throws InvalidPolicyException if the bind address is not loopback and public bind was not
         *     allowed, or public bind was allowed without auth
         */
        public TransportPolicy build() {
            return new TransportPolicy(
                    bind == null ? DEFAULT_BIND : bind, allowPublicBind, allowedOrigins, Optional.ofNullable(auth));
        }
    }
}
