package dev.mcpsecure.core.internal.egress;

import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Untrusted;
import java.net.IDN;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where a request would go, as {@link URI} (the one parser that decides) reads it, normalized
 * the way rules are: scheme and host lower case, host in ASCII without a trailing dot, IPv6 in
 * brackets, the scheme's port when none is given.
 *
 * @param scheme {@code http} or {@code https}
 * @param host a host name, a dotted-decimal IPv4 literal, or {@code [IPv6]}
 * @param literal the address when {@code host} is an IP literal
 * @param port 1 to 65535
 * @param rawPath the encoded path, {@code /} at least
 * @param rawQuery the encoded query, or {@code null}
 */
public record EgressTarget(
        String scheme, String host, Optional<InetAddress> literal, int port, String rawPath, String rawQuery) {

    private static final Pattern NUMERIC_LABEL = Pattern.compile("(?i)[0-9]+|0x[0-9a-f]*");
    private static final Pattern DOT_SEGMENT = Pattern.compile("(?i)(^|/)(\\.|%2e){1,2}(/|$)");
    private static final Pattern ENCODED_SEPARATOR = Pattern.compile("(?i)%(2f|5c|00)");

    /**
     * Parses {@code url} strictly.
     *
     * @throws PolicyViolationException {@code EGRESS_SCHEME_NOT_ALLOWED} for schemes other than
     *     http(s); {@code EGRESS_HOST_NOT_ALLOWED} for text that is not an absolute URL, user info,
     *     a missing or malformed host, an IP literal in a non-canonical form, a zone id, a bad
     *     port, or dot segments and encoded separators in the path
     */
    public static EgressTarget parse(String url) {
        return parse(uri(url));
    }

    /**
     * {@code url} as a {@link URI}, refusing backslashes (which other parsers read as '/').
     *
     * @throws PolicyViolationException {@code EGRESS_HOST_NOT_ALLOWED} when it is not a URL
     */
    public static URI uri(String url) {
        if (url == null) {
            throw deny(ReasonCode.EGRESS_HOST_NOT_ALLOWED, "a URL is required");
        }
        if (url.indexOf('\\') >= 0) {
            throw deny(
                    ReasonCode.EGRESS_HOST_NOT_ALLOWED, "URL contains a backslash; write '/' and percent-encode data");
        }
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            throw deny(
                    ReasonCode.EGRESS_HOST_NOT_ALLOWED,
                    "not a valid URL (" + clip(e.getReason()) + " at index " + e.getIndex()
                            + "); percent-encode spaces and other special characters");
        }
    }

    /** Parses {@code uri} strictly; see {@link #parse(String)}. */
    public static EgressTarget parse(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw deny(
                    ReasonCode.EGRESS_SCHEME_NOT_ALLOWED,
                    uri.isAbsolute()
                            ? "scheme " + clip(scheme) + " is not allowed; only http(s) requests leave this server"
                            : "URL is not absolute; write it with https:// and the host");
        }
        if (uri.isOpaque()) {
            throw deny(ReasonCode.EGRESS_HOST_NOT_ALLOWED, "URL has no host; write " + scheme + "://host/path");
        }
        if (uri.getRawUserInfo() != null
                || (uri.getRawAuthority() != null && uri.getRawAuthority().contains("@"))) {
            throw deny(
                    ReasonCode.EGRESS_HOST_NOT_ALLOWED,
                    "URL carries user info (user@host); credentials go in a token, never in the URL");
        }
        String host = uri.getHost();
        int port = uri.getPort();
        if (host == null) {
            HostAndPort idn = internationalHost(uri.getRawAuthority());
            host = idn.host();
            port = idn.port();
        }
        host = host.toLowerCase(Locale.ROOT);
        Optional<InetAddress> literal = Optional.empty();
        if (host.startsWith("[")) {
            String inner = host.substring(1, host.length() - 1);
            if (inner.indexOf('%') >= 0) {
                throw deny(ReasonCode.EGRESS_HOST_NOT_ALLOWED, "IPv6 zone ids are not allowed in URLs");
            }
            literal = Cidr.parseAddress(inner);
            if (literal.isEmpty()) {
                throw deny(ReasonCode.EGRESS_HOST_NOT_ALLOWED, "host " + clip(host) + " is not an IPv6 address");
            }
            host = "[" + literal.get().getHostAddress() + "]";
        } else {
            if (host.endsWith(".")) {
                host = host.substring(0, host.length() - 1);
            }
            literal = Cidr.parseAddress(host);
            if (literal.isEmpty()) {
                host = checkedName(host);
            }
        }
        if (port == -1) {
            port = EgressRule.defaultPort(scheme);
        } else if (port < 1 || port > 65535) {
            throw deny(ReasonCode.EGRESS_HOST_NOT_ALLOWED, "port " + port + " is not between 1 and 65535");
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (DOT_SEGMENT.matcher(path).find() || ENCODED_SEPARATOR.matcher(path).find()) {
            throw deny(
                    ReasonCode.EGRESS_HOST_NOT_ALLOWED,
                    "path " + clip(path) + " has '.' or '..' segments or an encoded '/', '\\' or NUL;"
                            + " write the path the server should see");
        }
        return new EgressTarget(scheme, host, literal, port, path, uri.getRawQuery());
    }

    /** {@code scheme://host:port/path}, without the query (which may carry data not meant for logs). */
    public String describe() {
        return scheme + "://" + host + ":" + port + clip(rawPath);
    }

    /**
     * The URL as this target reads it: {@code scheme://host}, the port when it is not the
     * scheme's, the path and the query; never user info or a fragment. What a program is given
     * for a URL argument, so it cannot read the text differently from the check.
     */
    public String url() {
        return scheme + "://" + host + (port == EgressRule.defaultPort(scheme) ? "" : ":" + port) + rawPath
                + (rawQuery == null ? "" : "?" + rawQuery);
    }

    /** {@code scheme://host:port}. */
    public String origin() {
        return scheme + "://" + host + ":" + port;
    }

    private record HostAndPort(String host, int port) {}

    /**
     * {@link URI} leaves the host unset for names it does not accept; of those, only a name
     * with non-ASCII letters that converts to a valid ASCII (punycode) name is allowed through.
     */
    private static HostAndPort internationalHost(String authority) {
        if (authority == null || authority.isEmpty()) {
            throw deny(ReasonCode.EGRESS_HOST_NOT_ALLOWED, "URL has no host");
        }
        String name = authority;
        int port = -1;
        int colon = authority.lastIndexOf(':');
        if (colon >= 0 && !authority.startsWith("[")) {
            String digits = authority.substring(colon + 1);
            if (!digits.matches("[0-9]{1,5}")) {
                throw deny(ReasonCode.EGRESS_HOST_NOT_ALLOWED, "port " + clip(digits) + " is not a number");
            }
            name = authority.substring(0, colon);
            port = Integer.parseInt(digits);
        }
        String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (looksNumeric(bare)) {
            throw nonCanonical(name);
        }
        boolean ascii = bare.chars().allMatch(c -> c < 0x80);
        if (!ascii && bare.indexOf('%') < 0) {
            try {
                String converted = IDN.toASCII(bare, IDN.USE_STD3_ASCII_RULES);
                if (new URI("https", converted, "/", null).getHost() != null) {
                    return new HostAndPort(converted, port);
                }
            } catch (IllegalArgumentException | URISyntaxException e) {
                // fall through to the refusal below
            }
        }
        throw deny(
                ReasonCode.EGRESS_HOST_NOT_ALLOWED,
                "host " + clip(name) + " is not a valid host name (letters, digits, '-' and '.' only)");
    }

    private static String checkedName(String host) {
        if (looksNumeric(host)) {
            throw nonCanonical(host);
        }
        try {
            String ascii = IDN.toASCII(host, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
            if (ascii.isEmpty() || ascii.length() > 253) {
                throw new IllegalArgumentException("length");
            }
            return ascii;
        } catch (IllegalArgumentException e) {
            throw deny(ReasonCode.EGRESS_HOST_NOT_ALLOWED, "host " + clip(host) + " is not a valid host name");
        }
    }

    /** Whether the last label is a number: the decimal, octal, hex and short IPv4 forms. */
    private static boolean looksNumeric(String host) {
        String last = host.substring(host.lastIndexOf('.') + 1);
        return NUMERIC_LABEL.matcher(last).matches();
    }

    private static PolicyViolationException nonCanonical(String host) {
        return deny(
                ReasonCode.EGRESS_HOST_NOT_ALLOWED,
                "host " + clip(host) + " is an IP address in a non-canonical form (decimal, octal, hex or"
                        + " short); only four decimal octets such as 192.0.2.10 are read as addresses");
    }

    static PolicyViolationException deny(ReasonCode reason, String detail) {
        return new PolicyViolationException(Decision.deny(reason, detail));
    }

    /** At most 200 characters of {@code text}, made safe by the one sanitizer, for a detail. */
    static String clip(String text) {
        return Untrusted.text(text, 200);
    }
}
