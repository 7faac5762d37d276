package dev.mcpsecure.api;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Bearer-token authentication of HTTP callers (the MCP authorization spec): only tokens issued by
 * {@code issuer} for this server ({@code resource} in {@code aud}, RFC 8707) are accepted.
 *
 * @param resource this server's canonical resource URI, such as {@code https://mcp.example.com/mcp};
 *     every accepted token names it in {@code aud}. https, or http to a loopback host
 * @param issuer the exact {@code iss} of accepted tokens
 * @param jwksUrl where the issuer publishes its signing keys (a JWKS), such as Vault's
 *     {@code /v1/identity/oidc/.well-known/keys}; https, or http to a loopback host
 * @param authorizationServers the authorization servers named in the protected resource
 *     metadata (RFC 9728); default: the issuer
 * @param maxTokenLifetime the longest {@code exp - iat} accepted: 1 min to 24 h, default 1 h
 * @param clockSkew the tolerance for {@code exp}, {@code nbf} and {@code iat}: 0 to 5 min, default 30 s
 */
public record BearerAuthPolicy(
        String resource,
        String issuer,
        String jwksUrl,
        List<String> authorizationServers,
        Duration maxTokenLifetime,
        Duration clockSkew) {

    /** The longest token lifetime accepted when the policy sets none. */
    public static final Duration DEFAULT_MAX_TOKEN_LIFETIME = Duration.ofHours(1);
    /** The clock tolerance when the policy sets none. */
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);

    /** Validates every component and copies the list. */
    public BearerAuthPolicy {
        Checks checks = new Checks()
                .check("resource", urlProblem(resource, "https://mcp.example.com/mcp"))
                .check(
                        "issuer",
                        issuer == null || issuer.isBlank()
                                ? "is required, such as https://vault.example.com/v1/identity/oidc"
                                : null)
                .check("jwksUrl", urlProblem(jwksUrl, "https://vault.example.com/v1/identity/oidc/.well-known/keys"))
                .check("authorizationServers", Checks.noNullElements(authorizationServers))
                .check(
                        "maxTokenLifetime",
                        Checks.between(maxTokenLifetime, Duration.ofMinutes(1), Duration.ofHours(24)))
                .check("clockSkew", Checks.between(clockSkew, Duration.ZERO, Duration.ofMinutes(5)));
        if (Checks.usable(authorizationServers)) {
            if (authorizationServers.isEmpty()) {
                checks.check(
                        "authorizationServers", "list at least one authorization server (the default is the issuer)");
            }
            for (int i = 0; i < authorizationServers.size(); i++) {
                checks.check(
                        PolicyProblem.indexPath("authorizationServers", i),
                        urlProblem(authorizationServers.get(i), "https://auth.example.com"));
            }
        }
        checks.throwIfAny();
        authorizationServers = List.copyOf(authorizationServers);
    }

    /** Auth with the default lifetime cap and skew, naming the issuer as the authorization server. */
    public static BearerAuthPolicy of(String resource, String issuer, String jwksUrl) {
        return new BearerAuthPolicy(
                resource,
                issuer,
                jwksUrl,
                issuer == null ? List.of() : List.of(issuer),
                DEFAULT_MAX_TOKEN_LIFETIME,
                DEFAULT_CLOCK_SKEW);
    }

    static String urlProblem(String url, String example) {
        if (url == null || url.isBlank()) {
            return "is required, such as " + example;
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return Checks.quote(url) + " is not a URL; write it like " + example;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!uri.isAbsolute() || uri.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
            return Checks.quote(url) + " is not an absolute http(s) URL; write it like " + example;
        }
        if (uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            return Checks.quote(url) + " must not carry a fragment or user info";
        }
        if (scheme.equals("http") && !Cidr.isLoopbackHost(uri.getHost())) {
            return Checks.quote(url) + " uses plain http to a host that is not loopback; use https";
        }
        return null;
    }
}
