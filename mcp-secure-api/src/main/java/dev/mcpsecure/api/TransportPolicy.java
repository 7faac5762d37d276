package dev.mcpsecure.api;

import java.time.Duration;
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
 * @param maxSessions live MCP sessions at once, 1 to 100,000; an {@code initialize} beyond it is
 *     refused with HTTP 503
 * @param sessionIdleTimeout a session with no request for this long is ended (the SDK's session
 *     deleted; its id answered with 404 afterwards), 10 s to 24 h
 * @param readTimeout longest silence on a connection, 1 s to 10 min; a request body must also
 *     arrive at {@link #MIN_REQUEST_BYTES_PER_SECOND} or faster, so a client trickling bytes holds
 *     no worker thread for long
 * @param maxSessionsPerPrincipal live sessions one authenticated principal (token subject and
 *     client) may hold at once, 1 to 100,000, so one caller cannot take every session; an {@code
 *     initialize} beyond it is refused with HTTP 503
 * @param maxSessionStateBytes the most a session keeps of what its client declares (client info
 *     and capabilities of its {@code initialize}, as JSON), 256 bytes to 1 MiB; a larger {@code
 *     initialize} is refused with HTTP 413
 */
public record TransportPolicy(
        String bind,
        boolean allowPublicBind,
        List<String> allowedOrigins,
        Optional<BearerAuthPolicy> auth,
        int maxSessions,
        Duration sessionIdleTimeout,
        Duration readTimeout,
        int maxSessionsPerPrincipal,
        long maxSessionStateBytes) {

    /** The bind address when the policy sets none. */
    public static final String DEFAULT_BIND = "127.0.0.1";

    private static final Pattern ORIGIN = Pattern.compile("https?://(\\[[0-9a-f:.]+\\]|[a-z0-9.-]+)(:[0-9]{1,5})?");
    /** Live sessions when the policy sets none. */
    public static final int DEFAULT_MAX_SESSIONS = 100;
    /** Session idle timeout when the policy sets none. */
    public static final Duration DEFAULT_SESSION_IDLE_TIMEOUT = Duration.ofMinutes(30);
    /** Read timeout when the policy sets none. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);
    /** Live sessions of one principal when the policy sets none. */
    public static final int DEFAULT_MAX_SESSIONS_PER_PRINCIPAL = 10;
    /** What a session keeps of its client's declarations when the policy sets none: 16 KiB. */
    public static final long DEFAULT_MAX_SESSION_STATE_BYTES = 16 * 1024;
    /** Slowest accepted request body, in bytes per second (averaged over the body). */
    public static final long MIN_REQUEST_BYTES_PER_SECOND = 1024;

    private static final TransportPolicy DEFAULTS =
            new TransportPolicy(DEFAULT_BIND, false, List.of(), Optional.empty());

    /** Validates every component and copies the list; a non-loopback bind needs {@code auth}. */
    public TransportPolicy {
        Checks checks = new Checks()
                .check("bind", bindProblem(bind, allowPublicBind))
                .check("allowedOrigins", Checks.noNullElements(allowedOrigins))
                .check("auth", Checks.notNull(auth))
                .check("maxSessions", Checks.between(maxSessions, 1, 100_000))
                .check(
                        "sessionIdleTimeout",
                        Checks.between(sessionIdleTimeout, Duration.ofSeconds(10), Duration.ofHours(24)))
                .check("readTimeout", Checks.between(readTimeout, Duration.ofSeconds(1), Duration.ofMinutes(10)))
                .check("maxSessionsPerPrincipal", Checks.between(maxSessionsPerPrincipal, 1, 100_000))
                .check("maxSessionStateBytes", Checks.sizeBetween(maxSessionStateBytes, 256, 1024 * 1024));
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

    /** These listening options with the default session and timeout limits. */
    public TransportPolicy(
            String bind, boolean allowPublicBind, List<String> allowedOrigins, Optional<BearerAuthPolicy> auth) {
        this(
                bind,
                allowPublicBind,
                allowedOrigins,
                auth,
                DEFAULT_MAX_SESSIONS,
                DEFAULT_SESSION_IDLE_TIMEOUT,
                DEFAULT_READ_TIMEOUT,
                DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
                DEFAULT_MAX_SESSION_STATE_BYTES);
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
        private Integer maxSessions;
        private Duration sessionIdleTimeout;
        private Duration readTimeout;
        private Integer maxSessionsPerPrincipal;
        private Long maxSessionStateBytes;

        private Builder() {}

        /** Live sessions of one principal; default {@link #DEFAULT_MAX_SESSIONS_PER_PRINCIPAL}. */
        public Builder maxSessionsPerPrincipal(int max) {
            Checks.requireUnset(maxSessionsPerPrincipal, "maxSessionsPerPrincipal");
            Checks.require("maxSessionsPerPrincipal", Checks.between(max, 1, 100_000));
            maxSessionsPerPrincipal = max;
            return this;
        }

        /** What a session keeps of its client's declarations; default {@link #DEFAULT_MAX_SESSION_STATE_BYTES}. */
        public Builder maxSessionStateBytes(long bytes) {
            Checks.requireUnset(maxSessionStateBytes, "maxSessionStateBytes");
            Checks.require("maxSessionStateBytes", Checks.sizeBetween(bytes, 256, 1024 * 1024));
            maxSessionStateBytes = bytes;
            return this;
        }

        /** Live sessions at once; default {@link #DEFAULT_MAX_SESSIONS}. */
        public Builder maxSessions(int max) {
            Checks.requireUnset(maxSessions, "maxSessions");
            Checks.require("maxSessions", Checks.between(max, 1, 100_000));
            maxSessions = max;
            return this;
        }

        /** How long an idle session lives; default {@link #DEFAULT_SESSION_IDLE_TIMEOUT}. */
        public Builder sessionIdleTimeout(Duration timeout) {
            Checks.requireUnset(sessionIdleTimeout, "sessionIdleTimeout");
            Checks.require("sessionIdleTimeout", Checks.between(timeout, Duration.ofSeconds(10), Duration.ofHours(24)));
            sessionIdleTimeout = timeout;
            return this;
        }

        /** Longest silence on a connection; default {@link #DEFAULT_READ_TIMEOUT}. */
        public Builder readTimeout(Duration timeout) {
            Checks.requireUnset(readTimeout, "readTimeout");
            Checks.require("readTimeout", Checks.between(timeout, Duration.ofSeconds(1), Duration.ofMinutes(10)));
            readTimeout = timeout;
            return this;
        }

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
                    bind == null ? DEFAULT_BIND : bind,
                    allowPublicBind,
                    allowedOrigins,
                    Optional.ofNullable(auth),
                    maxSessions == null ? DEFAULT_MAX_SESSIONS : maxSessions,
                    sessionIdleTimeout == null ? DEFAULT_SESSION_IDLE_TIMEOUT : sessionIdleTimeout,
                    readTimeout == null ? DEFAULT_READ_TIMEOUT : readTimeout,
                    maxSessionsPerPrincipal == null ? DEFAULT_MAX_SESSIONS_PER_PRINCIPAL : maxSessionsPerPrincipal,
                    maxSessionStateBytes == null ? DEFAULT_MAX_SESSION_STATE_BYTES : maxSessionStateBytes);
        }
    }
}
