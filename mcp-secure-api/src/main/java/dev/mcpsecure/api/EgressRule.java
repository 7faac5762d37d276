package dev.mcpsecure.api;

import java.net.IDN;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One kind of outbound request tools may make through {@code EgressHttpClient}.
 *
 * <p>Even when a rule matches, the address actually connected to is refused if it is loopback,
 * private, link-local, metadata or otherwise special, unless it lies in {@link #allowAddresses}.
 *
 * @param scheme {@code https}, or {@code http}
 * @param host a host name in ASCII (IDN converted, lower case, no trailing dot), {@code *.} plus a
 *     name of two or more labels to match exactly one more label, an IP literal ({@code [..]} for
 *     IPv6), or {@link #ANY_PUBLIC_HOST}: any host whose addresses are all public (special
 *     addresses are always refused for it, and it may carry no audience and no allowAddresses)
 * @param port 1 to 65535
 * @param paths path prefixes requests must start with; empty for any path
 * @param methods HTTP methods allowed, upper case, at least one
 * @param audience the token audience that may be sent to this host, if any
 * @param allowAddresses address blocks this rule may connect to although they are special
 *     (a sidecar on loopback, say)
 */
public record EgressRule(
        String scheme,
        String host,
        int port,
        List<String> paths,
        Set<String> methods,
        Optional<String> audience,
        List<Cidr> allowAddresses) {

    /**
     * The host of a rule for any public host (a fetch or browse tool): every name or IP literal
     * matches, scheme, port, path prefixes and methods still apply, and the address connected to
     * must not be special — loopback, private, link-local, metadata and the rest are refused with
     * no exception. Such a rule carries no token audience.
     */
    public static final String ANY_PUBLIC_HOST = "*";

    /** Methods a rule allows when it lists none. */
    public static final Set<String> DEFAULT_METHODS =
            Collections.unmodifiableSet(new LinkedHashSet<>(List.of("GET", "HEAD")));

    private static final Set<String> KNOWN_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*");

    /**
     * Normalizes the scheme (lower case) and host (see {@link #host}), and validates every
     * component and copies the collections.
     */
    public EgressRule {
        Checks checks = new Checks()
                .check("scheme", schemeProblem(scheme))
                .check("host", hostProblem(host))
                .check("port", Checks.between(port, 1, 65535))
                .check("paths", Checks.noNullElements(paths))
                .check("methods", methodsProblem(methods))
                .check("audience", audience == null ? "is required (use Optional.empty() for none)" : null)
                .check("allowAddresses", Checks.noNullElements(allowAddresses));
        if (audience != null && audience.isPresent()) {
            checks.check("audience", TokenPolicy.audienceProblem(audience.get()));
            if (ANY_PUBLIC_HOST.equals(host)) {
                checks.check(
                        "audience",
                        "a rule for any public host ('*') may not carry a token; give the API's host a rule of its"
                                + " own with this audience");
            }
        }
        if (ANY_PUBLIC_HOST.equals(host) && allowAddresses != null && !allowAddresses.isEmpty()) {
            checks.check(
                    "allowAddresses",
                    "a rule for any public host ('*') never reaches special addresses; give the host that needs"
                            + " them a rule of its own with allowAddresses");
        }
        if (Checks.usable(paths)) {
            for (int i = 0; i < paths.size(); i++) {
                checks.check(PolicyProblem.indexPath("paths", i), pathProblem(paths.get(i)));
            }
        }
        checks.throwIfAny();
        scheme = scheme.toLowerCase(Locale.ROOT);
        host = normalizeHost(host);
        paths = List.copyOf(paths);
        Set<String> upper = new LinkedHashSet<>();
        methods.forEach(m -> upper.add(m.toUpperCase(Locale.ROOT)));
        methods = Collections.unmodifiableSet(upper);
        allowAddresses = List.copyOf(allowAddresses);
    }

    /** A builder for requests to {@code host}; every option not set takes its default. */
    public static Builder builder(String host) {
        return new Builder(host);
    }

    /** The port a scheme uses when a rule or URL gives none. */
    public static int defaultPort(String scheme) {
        return "http".equalsIgnoreCase(scheme) ? 80 : 443;
    }

    /** Whether {@link #host} is a wildcard pattern ({@code *.example.com}). */
    public boolean wildcard() {
        return host.startsWith("*.");
    }

    /** Whether this rule is for any public host ({@link #ANY_PUBLIC_HOST}). */
    public boolean anyPublicHost() {
        return ANY_PUBLIC_HOST.equals(host);
    }

    static String schemeProblem(String scheme) {
        if (scheme == null) {
            return "is required";
        }
        String lower = scheme.toLowerCase(Locale.ROOT);
        return lower.equals("https") || lower.equals("http")
                ? null
                : "scheme " + Checks.quote(scheme) + " is not allowed; use https (or http where you must)";
    }

    static String hostProblem(String host) {
        if (host == null || host.isEmpty()) {
            return "is required";
        }
        if (ANY_PUBLIC_HOST.equals(host)) {
            return null;
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            InetAddress address = IpLiterals.parse(host.substring(1, host.length() - 1));
            return address != null && address.getAddress().length == 16
                    ? null
                    : Checks.quote(host) + " is not an IPv6 address; write it as [2001:db8::1]";
        }
        if (IpLiterals.parse(host) != null) {
            return host.indexOf(':') >= 0
                    ? "write the IPv6 address " + Checks.quote(host) + " in brackets: [" + host + "]"
                    : null;
        }
        String unprefixed = host.startsWith("*.") ? host.substring(2) : host;
        if (unprefixed.contains("*")) {
            return "host pattern " + Checks.quote(host)
                    + " has a wildcard other than one leading '*.' label; use '*.example.com' (matches exactly one"
                    + " label), list each host, or '*' alone for any public host";
        }
        String ascii;
        try {
            ascii = normalizeHost(host);
        } catch (IllegalArgumentException e) {
            return Checks.quote(host) + " is not a valid host name; write a name such as api.example.com";
        }
        boolean wildcard = ascii.startsWith("*.");
        String name = wildcard ? ascii.substring(2) : ascii;
        String[] labels = name.split("\\.", -1);
        if (name.length() > 253) {
            return "host " + Checks.quote(host) + " is longer than 253 characters";
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                return Checks.quote(host) + " is not a valid host name: label " + Checks.quote(label)
                        + " must be 1 to 63 letters, digits or '-', not starting or ending with '-'";
            }
        }
        String last = labels[labels.length - 1];
        if (last.matches("[0-9]+|0x[0-9a-f]*")) {
            return Checks.quote(host) + " looks like an IP address in a non-canonical form; write IPv4 as four decimal"
                    + " numbers such as 192.0.2.10, or use the host's name";
        }
        if (wildcard && labels.length < 2) {
            return "host pattern " + Checks.quote(host) + " would match a whole top-level domain; use at least"
                    + " '*.example.com'";
        }
        return null;
    }

    private static String normalizeHost(String host) {
        if (ANY_PUBLIC_HOST.equals(host)) {
            return host;
        }
        if (host.startsWith("[")) {
            return "[" + IpLiterals.parse(host.substring(1, host.length() - 1)).getHostAddress() + "]";
        }
        String trimmed = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (trimmed.startsWith("*.")) {
            return "*."
                    + IDN.toASCII(trimmed.substring(2), IDN.USE_STD3_ASCII_RULES)
                            .toLowerCase(Locale.ROOT);
        }
        return IDN.toASCII(trimmed, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
    }

    private static String methodsProblem(Set<String> methods) {
        String nulls = Checks.noNullElements(methods);
        if (nulls != null) {
            return nulls;
        }
        if (methods.isEmpty()) {
            return "must list at least one method, such as GET";
        }
        for (String method : methods) {
            String problem = methodProblem(method);
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    /** {@code null} for a method a rule can allow (any case), else what is wrong. */
    static String methodProblem(String method) {
        if (method == null) {
            return "is required";
        }
        return KNOWN_METHODS.contains(method.toUpperCase(Locale.ROOT))
                ? null
                : Checks.quote(method) + " is not an HTTP method; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS";
    }

    private static String pathProblem(String path) {
        if (!PATH.matcher(path).matches()) {
            return "path prefix " + Checks.quote(path)
                    + " must start with '/' and hold only URL path characters (no spaces, '?', '#' or '\\')";
        }
        for (String segment : path.split("/")) {
            if (segment.equals("..") || segment.equals(".")) {
                return "path prefix " + Checks.quote(path) + " must not contain '.' or '..' segments";
            }
        }
        return null;
    }

    /** Builds an {@link EgressRule}. Not thread-safe. */
    public static final class Builder {
        private final String host;
        private String scheme;
        private Integer port;
        private final List<String> paths = new ArrayList<>();
        private final Set<String> methods = new LinkedHashSet<>();
        private String audience;
        private final List<Cidr> allowAddresses = new ArrayList<>();

        private Builder(String host) {
            Checks.require("host", hostProblem(host));
            this.host = host;
        }

        /** {@code https} (the default) or {@code http}. */
        public Builder scheme(String scheme) {
            Checks.requireUnset(this.scheme, "scheme");
            Checks.require("scheme", schemeProblem(scheme));
            this.scheme = scheme;
            return this;
        }

        /** The port; default the scheme's. */
        public Builder port(int port) {
            Checks.requireUnset(this.port, "port");
            Checks.require("port", Checks.between(port, 1, 65535));
            this.port = port;
            return this;
        }

        /** Allows requests whose path starts with one of these prefixes. */
        public Builder paths(String... prefixes) {
            for (String prefix : prefixes) {
                Checks.require("paths", prefix == null ? "is required" : pathProblem(prefix));
                paths.add(prefix);
            }
            return this;
        }

        /** Allows these methods instead of {@link #DEFAULT_METHODS}. */
        public Builder methods(String... methods) {
            Set<String> set = new LinkedHashSet<>(List.of(methods));
            Checks.require("methods", methodsProblem(set));
            this.methods.addAll(set);
            return this;
        }

        /** Lets tokens for {@code audience} be sent to this host. */
        public Builder audience(String audience) {
            Checks.requireUnset(this.audience, "audience");
            Checks.require("audience", TokenPolicy.audienceProblem(audience));
            this.audience = audience;
            return this;
        }

        /** Lets this rule connect to the special addresses in {@code block}. */
        public Builder allowAddresses(String block) {
            allowAddresses.add(Cidr.parse(block));
            return this;
        }

        /** @throws InvalidPolicyException never, in practice: each option was checked when set */
        public EgressRule build() {
            String effectiveScheme = scheme == null ? "https" : scheme;
            return new EgressRule(
                    effectiveScheme,
                    host,
                    port == null ? defaultPort(effectiveScheme) : port,
                    paths,
                    methods.isEmpty() ? DEFAULT_METHODS : methods,
                    Optional.ofNullable(audience),
                    allowAddresses);
        }
    }
}
