package dev.mcpsecure.http;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.BearerAuthPolicy;
import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.TokenVerifier;
import dev.mcpsecure.api.VerifiedToken;
import dev.mcpsecure.core.internal.jwt.JwsHeaderRules;
import java.net.MalformedURLException;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies bearer tokens on HTTP transports (JWS-signed JWTs, Nimbus JOSE+JWT underneath), as the
 * MCP authorization spec requires: a token is accepted only if all of these hold.
 *
 * <ul>
 *   <li>It is at most {@link Builder#maxTokenBytes} long and a compact JWS (never {@code alg: none}).
 *   <li>Its algorithm is on the allowlist (default RS256, ES256, EdDSA; HS* can never be allowed:
 *       a verifier holding only public keys must not accept MACs).
 *   <li>No {@code jku}, {@code x5u}, {@code jwk} or {@code x5c} header (keys come only from the
 *       configured JWKS or pinned keys) and no {@code crit} header; {@code typ}, when present, is
 *       {@code JWT} or {@code at+jwt}.
 *   <li>Its {@code kid} names a key of the JWKS whose type fits the algorithm, and the signature
 *       verifies with it.
 *   <li>{@code iss} equals the issuer exactly; {@code aud} contains this server's resource URI;
 *       {@code sub} is present; {@code exp} is present and not past (beyond the skew);
 *       {@code nbf} and {@code iat}, when present, are not in the future (beyond the skew); and
 *       {@code exp - iat} is at most the maximum lifetime.
 * </ul>
 *
 * <p>Keys come from a JWKS URL (explicit connect and read timeouts, default 2 s and 5 s; cached
 * 5 min; an unknown {@code kid} refreshes at most every 30 s; served from cache for up to 1 h
 * while the URL is down) or are pinned. A verified token is cached by its SHA-256 until its
 * {@code exp} (at most {@link Builder#cacheSize} entries), so a repeated token skips signature
 * verification. Failures throw {@link PolicyViolationException} with {@link ReasonCode#TOKEN_MISSING}
 * or {@link ReasonCode#TOKEN_INVALID} and a message that names the failed check and never the
 * token. Thread-safe.
 */
public final class JwtTokenVerifier implements TokenVerifier {

    /** The algorithms accepted when none are configured. */
    public static final Set<String> DEFAULT_ALGORITHMS = Set.of("RS256", "ES256", "EdDSA");

    private static final Set<String> TYPES = Set.of("JWT", "at+jwt", "application/at+jwt");
    private static final byte[] ED25519_X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private final String issuer;
    private final String resource;
    private final Set<JWSAlgorithm> algorithms;
    private final JwsHeaderRules headerRules;
    private final Duration maxLifetime;
    private final Duration skew;
    private final int maxTokenBytes;
    private final int cacheSize;
    private final Clock clock;
    private final JWKSource<SecurityContext> keys;
    /** Verified tokens by the SHA-256 of the token (the token itself is never kept). */
    private final Map<java.nio.ByteBuffer, VerifiedToken> verified = new ConcurrentHashMap<>();

    private final java.util.concurrent.atomic.AtomicLong fullVerifications =
            new java.util.concurrent.atomic.AtomicLong();

    private JwtTokenVerifier(Builder builder) {
        this.issuer = builder.issuer;
        this.resource = builder.resource;
        this.algorithms = Set.copyOf(builder.algorithms);
        this.headerRules = JwsHeaderRules.accepting(algorithms).requiringKeyId().acceptingTypes(TYPES);
        this.maxLifetime = builder.maxLifetime;
        this.skew = builder.skew;
        this.maxTokenBytes = builder.maxTokenBytes;
        this.cacheSize = builder.cacheSize;
        this.clock = builder.clock;
        this.keys = builder.keys();
    }

    /**
     * A builder for tokens from {@code issuer} (exact {@code iss}) for this server's {@code resource}
     * URI (required in {@code aud}). Set a JWKS URL or pinned keys.
     */
    public static Builder builder(String issuer, String resource) {
        return new Builder(issuer, resource);
    }

    /** A verifier as {@code auth} says: its issuer, resource, JWKS URL, lifetime cap and skew. */
    public static JwtTokenVerifier fromPolicy(BearerAuthPolicy auth) {
        return builder(auth.issuer(), auth.resource())
                .jwksUrl(URI.create(auth.jwksUrl()))
                .maxLifetime(auth.maxTokenLifetime())
                .clockSkew(auth.clockSkew())
                .build();
    }

    /**
     * How many tokens went through the full check (parse, key lookup, signature, claims): the
     * verified-token cache's misses. For metrics and tests.
     */
    public long fullVerifications() {
        return fullVerifications.get();
    }

    /** The resource URI accepted tokens must name in {@code aud}. */
    public String resource() {
        return resource;
    }

    @Override
    public VerifiedToken verify(String bearerToken) {
        if (bearerToken == null || bearerToken.isBlank()) {
            throw deny(ReasonCode.TOKEN_MISSING, "no bearer token was sent");
        }
        if (bearerToken.length() > maxTokenBytes) {
            throw invalid("the token is longer than " + maxTokenBytes + " bytes");
        }
        Instant now = clock.instant();
        if (cacheSize == 0) {
            return check(bearerToken, now);
        }
        java.nio.ByteBuffer digest = sha256(bearerToken);
        VerifiedToken known = verified.get(digest);
        if (known != null) {
            if (now.isBefore(known.expiresAt().plus(skew))) {
                return known;
            }
            verified.remove(digest, known);
        }
        VerifiedToken token = check(bearerToken, now);
        remember(digest, token, now);
        return token;
    }

    private VerifiedToken check(String text, Instant now) {
        fullVerifications.incrementAndGet();
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(text);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw invalid("the token is not a signed JWT (compact JWS with a JSON claims set)");
        }
        JWSHeader header = jwt.getHeader();
        headerRules.check(header, ReasonCode.TOKEN_INVALID, "the token");
        JWK key = key(header);
        if (!signatureVerifies(jwt, key)) {
            throw invalid("the token's signature does not verify with key " + key.getKeyID());
        }
        checkClaims(claims, now);
        return new VerifiedToken(
                claims.getSubject(),
                clientId(claims),
                scopes(claims),
                claims.getExpirationTime().toInstant());
    }

    private JWK key(JWSHeader header) {
        String kid = header.getKeyID();
        List<JWK> matches;
        try {
            matches =
                    keys.get(new JWKSelector(new JWKMatcher.Builder().keyID(kid).build()), null);
        } catch (KeySourceException e) {
            throw invalid("the issuer's signing keys could not be fetched ("
                    + e.getClass().getSimpleName() + ")");
        }
        JWSAlgorithm alg = header.getAlgorithm();
        for (JWK candidate : matches) {
            boolean typeFits = JWSAlgorithm.Family.RSA.contains(alg)
                    ? candidate instanceof RSAKey
                    : JWSAlgorithm.Family.EC.contains(alg)
                            ? candidate instanceof ECKey
                            : candidate instanceof OctetKeyPair;
            boolean useFits = candidate.getKeyUse() == null || KeyUse.SIGNATURE.equals(candidate.getKeyUse());
            boolean algFits = candidate.getAlgorithm() == null || alg.equals(candidate.getAlgorithm());
            if (typeFits && useFits && algFits) {
                return candidate;
            }
        }
        throw invalid(
                matches.isEmpty()
                        ? "the token's kid is not a key of the issuer's JWKS"
                        : "the key the token's kid names does not fit algorithm " + alg);
    }

    private static boolean signatureVerifies(SignedJWT jwt, JWK key) {
        try {
            if (key instanceof RSAKey rsa) {
                return jwt.verify(new RSASSAVerifier(rsa.toRSAPublicKey()));
            }
            if (key instanceof ECKey ec) {
                return jwt.verify(new ECDSAVerifier(ec.toECPublicKey()));
            }
            OctetKeyPair okp = (OctetKeyPair) key;
            if (!"Ed25519".equals(okp.getCurve().getName())) {
                return false;
            }
            byte[] raw = okp.getX().decode();
            byte[] encoded = Arrays.copyOf(ED25519_X509_PREFIX, ED25519_X509_PREFIX.length + raw.length);
            System.arraycopy(raw, 0, encoded, ED25519_X509_PREFIX.length, raw.length);
            PublicKey publicKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(encoded));
            Signature ed25519 = Signature.getInstance("Ed25519");
            ed25519.initVerify(publicKey);
            ed25519.update(jwt.getSigningInput());
            return ed25519.verify(jwt.getSignature().decode());
        } catch (JOSEException | GeneralSecurityException | IllegalStateException e) {
            return false;
        }
    }

    private void checkClaims(JWTClaimsSet claims, Instant now) {
        if (!issuer.equals(claims.getIssuer())) {
            throw invalid("the token's issuer is " + quote(claims.getIssuer()) + ", not " + issuer);
        }
        if (claims.getAudience() == null || !claims.getAudience().contains(resource)) {
            throw invalid("the token's audience " + clip(String.valueOf(claims.getAudience()))
                    + " does not include this server, " + resource);
        }
        if (claims.getSubject() == null || claims.getSubject().isBlank()) {
            throw invalid("the token has no sub");
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw invalid("the token has no exp");
        }
        Instant expiresAt = exp.toInstant();
        if (!now.isBefore(expiresAt.plus(skew))) {
            throw invalid("the token expired at " + expiresAt);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(skew).isBefore(nbf.toInstant())) {
            throw invalid("the token is not valid before " + nbf.toInstant());
        }
        Date iat = claims.getIssueTime();
        if (iat != null && now.plus(skew).isBefore(iat.toInstant())) {
            throw invalid("the token was issued in the future, at " + iat.toInstant());
        }
        Instant start = iat != null ? iat.toInstant() : nbf != null ? nbf.toInstant() : now;
        Duration lifetime = Duration.between(start, expiresAt);
        if (lifetime.compareTo(maxLifetime) > 0) {
            throw invalid("the token lives " + lifetime.toSeconds() + " s, more than the " + maxLifetime.toSeconds()
                    + " s this server accepts");
        }
    }

    private static String clientId(JWTClaimsSet claims) {
        for (String name : List.of("client_id", "azp")) {
            Object value = claims.getClaim(name);
            if (value instanceof String text && !text.isBlank()) {
                return text;
            }
        }
        return "";
    }

    private static Set<String> scopes(JWTClaimsSet claims) {
        Set<String> scopes = new LinkedHashSet<>();
        for (String name : List.of("scope", "scp")) {
            Object value = claims.getClaim(name);
            if (value instanceof String text) {
                for (String scope : text.trim().split("\\s+")) {
                    if (!scope.isEmpty()) {
                        scopes.add(scope);
                    }
                }
            } else if (value instanceof List<?> list) {
                for (Object item : list) {
                    if (item instanceof String scope && !scope.isBlank()) {
                        scopes.add(scope);
                    }
                }
            }
        }
        return scopes;
    }

    private void remember(java.nio.ByteBuffer digest, VerifiedToken token, Instant now) {
        if (verified.size() >= cacheSize) {
            verified.values().removeIf(t -> !now.isBefore(t.expiresAt()));
            if (verified.size() >= cacheSize) {
                verified.clear();
            }
        }
        verified.put(digest, token);
    }

    private static java.nio.ByteBuffer sha256(String token) {
        try {
            return java.nio.ByteBuffer.wrap(
                    MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String quote(String value) {
        return value == null ? "absent" : "'" + clip(value) + "'";
    }

    private static String clip(String value) {
        return JwsHeaderRules.clip(value);
    }

    private static PolicyViolationException invalid(String detail) {
        return deny(ReasonCode.TOKEN_INVALID, detail);
    }

    private static PolicyViolationException deny(ReasonCode reason, String detail) {
        return new PolicyViolationException(Decision.deny(reason, detail));
    }

    /** Issuer, resource and algorithms; never a token. */
    @Override
    public String toString() {
        return "JwtTokenVerifier[issuer=" + issuer + ", resource=" + resource + ", algorithms=" + algorithms + "]";
    }

    /** Configures a {@link JwtTokenVerifier}. Not thread-safe. */
    public static final class Builder {
        private final String issuer;
        private final String resource;
        private URI jwksUrl;
        private JWKSet pinned;
        private Set<JWSAlgorithm> algorithms = parse(DEFAULT_ALGORITHMS);
        private Duration maxLifetime = BearerAuthPolicy.DEFAULT_MAX_TOKEN_LIFETIME;
        private Duration skew = BearerAuthPolicy.DEFAULT_CLOCK_SKEW;
        private Duration connectTimeout = Duration.ofSeconds(2);
        private Duration readTimeout = Duration.ofSeconds(5);
        private int maxTokenBytes = 16 * 1024;
        private int cacheSize = 10_000;
        private Clock clock = Clock.systemUTC();

        private Builder(String issuer, String resource) {
            if (issuer == null || issuer.isBlank()) {
                throw new IllegalArgumentException("issuer is required: the exact iss of accepted tokens");
            }
            if (resource == null || resource.isBlank()) {
                throw new IllegalArgumentException("resource is required: this server's canonical URI");
            }
            this.issuer = issuer;
            this.resource = resource;
        }

        /** Fetch keys from this JWKS URL (https, or http to loopback). */
        public Builder jwksUrl(URI url) {
            Objects.requireNonNull(url, "url");
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("https") && !(scheme.equals("http") && Cidr.isLoopbackHost(url.getHost()))) {
                throw new IllegalArgumentException("jwksUrl " + url + " must be https (plain http only to loopback):"
                        + " keys fetched in the clear could be swapped");
            }
            this.jwksUrl = url;
            return this;
        }

        /** Use exactly these public keys (a JWKS document) instead of a URL. */
        public Builder keys(String jwksJson) {
            try {
                JWKSet set = JWKSet.parse(jwksJson);
                if (set.getKeys().stream().anyMatch(JWK::isPrivate)) {
                    throw new IllegalArgumentException(
                            "pinned keys must be public keys only; this JWKS holds a private key");
                }
                this.pinned = set;
            } catch (ParseException e) {
                throw new IllegalArgumentException("pinned keys are not a JWKS document: " + e.getMessage(), e);
            }
            return this;
        }

        /**
         * The accepted JWS algorithm names (RS256..RS512, PS256..PS512, ES256..ES512, EdDSA);
         * {@code none} and HS* are refused. Default {@link #DEFAULT_ALGORITHMS}.
         */
        public Builder algorithms(Set<String> names) {
            if (names == null || names.isEmpty()) {
                throw new IllegalArgumentException("list at least one algorithm, such as RS256");
            }
            this.algorithms = JwsHeaderRules.requireAsymmetric(parse(names));
            return this;
        }

        private static Set<JWSAlgorithm> parse(Set<String> names) {
            Set<JWSAlgorithm> parsed = new LinkedHashSet<>();
            for (String name : names) {
                JWSAlgorithm alg = JWSAlgorithm.parse(name);
                if (!JWSAlgorithm.Family.SIGNATURE.contains(alg)
                        && !JWSAlgorithm.Family.HMAC_SHA.contains(alg)
                        && !name.equalsIgnoreCase("none")) {
                    throw new IllegalArgumentException("algorithm " + name + " is not a JWS signature algorithm");
                }
                parsed.add(alg);
            }
            return Set.copyOf(parsed);
        }

        /** Longest {@code exp - iat} accepted; 1 min to 24 h, default 1 h. */
        public Builder maxLifetime(Duration lifetime) {
            this.maxLifetime = between("maxLifetime", lifetime, Duration.ofMinutes(1), Duration.ofHours(24));
            return this;
        }

        /** Tolerance for {@code exp}, {@code nbf}, {@code iat}; 0 to 5 min, default 30 s. */
        public Builder clockSkew(Duration skew) {
            this.skew = between("clockSkew", skew, Duration.ZERO, Duration.ofMinutes(5));
            return this;
        }

        /** JWKS connect timeout; 100 ms to 1 min, default 2 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = between("connectTimeout", timeout, Duration.ofMillis(100), Duration.ofMinutes(1));
            return this;
        }

        /** JWKS read timeout; 100 ms to 1 min, default 5 s. */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = between("readTimeout", timeout, Duration.ofMillis(100), Duration.ofMinutes(1));
            return this;
        }

        /** Longest token accepted, in bytes; 1 KiB to 64 KiB, default 16 KiB. */
        public Builder maxTokenBytes(int bytes) {
            if (bytes < 1024 || bytes > 64 * 1024) {
                throw new IllegalArgumentException("maxTokenBytes must be between 1024 and 65536 but was " + bytes);
            }
            this.maxTokenBytes = bytes;
            return this;
        }

        /** Most verified tokens kept; 0 (no cache) to 1,000,000, default 10,000. */
        public Builder cacheSize(int size) {
            if (size < 0 || size > 1_000_000) {
                throw new IllegalArgumentException("cacheSize must be between 0 and 1000000 but was " + size);
            }
            this.cacheSize = size;
            return this;
        }

        /** The clock for {@code exp}/{@code nbf}/{@code iat}; default UTC system clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** @throws IllegalStateException unless exactly one of a JWKS URL or pinned keys is set */
        public JwtTokenVerifier build() {
            if ((jwksUrl == null) == (pinned == null)) {
                throw new IllegalStateException("set exactly one of jwksUrl(...) or keys(...)");
            }
            return new JwtTokenVerifier(this);
        }

        private JWKSource<SecurityContext> keys() {
            if (pinned != null) {
                return new ImmutableJWKSet<>(pinned);
            }
            DefaultResourceRetriever retriever = new DefaultResourceRetriever(
                    (int) connectTimeout.toMillis(), (int) readTimeout.toMillis(), 512 * 1024);
            retriever.setProxy(Proxy.NO_PROXY);
            try {
                return JWKSourceBuilder.<SecurityContext>create(jwksUrl.toURL(), retriever)
                        .cache(
                                Duration.ofMinutes(5).toMillis(),
                                readTimeout.plus(connectTimeout).toMillis())
                        .rateLimited(Duration.ofSeconds(30).toMillis())
                        .outageTolerant(Duration.ofHours(1).toMillis())
                        .refreshAheadCache(false)
                        .retrying(false)
                        .build();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("jwksUrl " + jwksUrl + " is not a URL", e);
            }
        }

        private static Duration between(String name, Duration value, Duration min, Duration max) {
            if (value == null || value.compareTo(min) < 0 || value.compareTo(max) > 0) {
                throw new IllegalArgumentException(
                        name + " must be between " + min + " and " + max + " but was " + value);
            }
            return value;
        }
    }
}
