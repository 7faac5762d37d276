package dev.mcpsecure.core.internal.pinning;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import dev.mcpsecure.core.internal.jwt.JwsHeaderRules;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Detached JWS signatures over a lockfile's exact bytes, kept beside it as {@code <lockfile>.jws}
 * (compact serialization with an empty payload part). ES256 (P-256) and RS256/PS256 (RSA 2048 bits
 * or more) only; headers that point at other keys ({@code jku}, {@code x5u}, {@code jwk}, {@code
 * x5c}) or carry {@code crit} are refused, by the {@link JwsHeaderRules} bearer and identity tokens
 * share. Keys come from JWK, JWK set or PEM files, or a JWKS URL.
 * A key without a {@code kid} (such as one from a PEM file) is tried whatever {@code kid} the
 * signature names; a key with one only for that {@code kid}. Thread-safe.
 */
public final class LockSignatures {

    /** The file name suffix of a lockfile's signature. */
    public static final String SUFFIX = ".jws";

    private static final JwsHeaderRules HEADER_RULES =
            JwsHeaderRules.accepting(Set.of(JWSAlgorithm.ES256, JWSAlgorithm.RS256, JWSAlgorithm.PS256));
    private static final long MAX_KEY_BYTES = 64 * 1024;

    private LockSignatures() {}

    /** Where the signature of {@code lockfile} lives. */
    public static Path signatureFile(Path lockfile) {
        return lockfile.resolveSibling(lockfile.getFileName() + SUFFIX);
    }

    /**
     * Signs {@code lockfile} with the private key in {@code keyFile} (a JWK with its private part,
     * or a PEM {@code PRIVATE KEY} in PKCS #8): ES256 for a P-256 key, RS256 for RSA.
     *
     * @return the compact detached JWS
     * @throws IllegalArgumentException naming the file when it holds no usable private key
     */
    public static String sign(byte[] lockfile, Path keyFile) throws IOException {
        String text = readKey(keyFile);
        JWSSigner signer;
        JWSAlgorithm algorithm;
        String keyId = null;
        try {
            if (text.contains("-----BEGIN PRIVATE KEY-----")) {
                PrivateKey key = pkcs8(pem(text, "PRIVATE KEY"));
                if (key instanceof ECPrivateKey ec) {
                    signer = new ECDSASigner(ec);
                    algorithm = JWSAlgorithm.ES256;
                } else {
                    signer = new RSASSASigner(key);
                    algorithm = JWSAlgorithm.RS256;
                }
            } else {
                JWK jwk = JWK.parse(text);
                keyId = jwk.getKeyID();
                if (jwk instanceof ECKey ec && ec.isPrivate() && Curve.P_256.equals(ec.getCurve())) {
                    signer = new ECDSASigner(ec);
                    algorithm = JWSAlgorithm.ES256;
                } else if (jwk instanceof RSAKey rsa && rsa.isPrivate()) {
                    signer = new RSASSASigner(rsa);
                    algorithm = JWSAlgorithm.RS256;
                } else {
                    throw new IllegalArgumentException(keyFile + " holds no P-256 or RSA private key");
                }
            }
            JWSObject jws =
                    new JWSObject(new JWSHeader.Builder(algorithm).keyID(keyId).build(), new Payload(lockfile));
            jws.sign(signer);
            return jws.serialize(true);
        } catch (ParseException | GeneralSecurityException | JOSEException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    keyFile + " holds no usable signing key (a JWK with its private part, or a PEM PRIVATE KEY"
                            + " in PKCS #8 for P-256 or RSA): " + e.getMessage(),
                    e);
        }
    }

    /**
     * The public keys in {@code file}: a JWK, a JWK set, or a PEM {@code PUBLIC KEY}.
     *
     * @throws IllegalArgumentException naming the file when it holds none
     */
    public static JWKSet publicKeys(Path file) throws IOException {
        String text = readKey(file);
        try {
            if (text.contains("-----BEGIN PUBLIC KEY-----")) {
                byte[] der = pem(text, "PUBLIC KEY");
                PublicKey key = publicKey(der);
                JWK jwk = key instanceof ECPublicKey ec
                        ? new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec).build()
                        : new RSAKey.Builder((RSAPublicKey) key).build();
                return new JWKSet(jwk);
            }
            String trimmed = text.strip();
            JWKSet keys = trimmed.contains("\"keys\"") ? JWKSet.parse(trimmed) : new JWKSet(JWK.parse(trimmed));
            return keys.toPublicJWKSet();
        } catch (ParseException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException(
                    file + " holds no public key (write a JWK, a JWK set or a PEM PUBLIC KEY): " + e.getMessage(), e);
        }
    }

    /**
     * The keys published at {@code url}: 2 s to connect, 5 s to answer, no redirects, no proxy.
     *
     * @throws IOException when the keys cannot be fetched or parsed, naming the URL
     */
    public static JWKSet publicKeys(URI url) throws IOException {
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(2))
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(java.net.ProxySelector.of(null))
                .build();
        try {
            HttpResponse<byte[]> response = client.send(
                    HttpRequest.newBuilder(url)
                            .timeout(Duration.ofSeconds(5))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                throw new IOException(
                        "the lockfile signing keys at " + url + " answered HTTP " + response.statusCode());
            }
            if (response.body().length > MAX_KEY_BYTES) {
                throw new IOException("the lockfile signing keys at " + url + " are larger than " + MAX_KEY_BYTES);
            }
            return JWKSet.parse(new String(response.body(), StandardCharsets.UTF_8))
                    .toPublicJWKSet();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + url, e);
        } catch (ParseException e) {
            throw new IOException("the lockfile signing keys at " + url + " are not a JWK set: " + e.getMessage(), e);
        }
    }

    /**
     * Checks that {@code signature} is a valid detached JWS over exactly {@code lockfile} by one of
     * {@code keys}.
     *
     * @return {@code null} when it is, else why not (a sentence naming {@code source})
     */
    public static String problem(byte[] lockfile, String signature, JWKSet keys, String source) {
        JWSObject jws;
        try {
            jws = JWSObject.parse(signature.strip(), new Payload(lockfile));
        } catch (ParseException e) {
            return source + " is not a compact detached JWS: " + e.getMessage();
        }
        JWSHeader header = jws.getHeader();
        Optional<JwsHeaderRules.Refusal> refusal = HEADER_RULES.refusal(header);
        if (refusal.isPresent()) {
            return refusal.get().message(source);
        }
        List<JWK> candidates = new ArrayList<>();
        for (JWK key : keys.getKeys()) {
            if ((key.getKeyID() == null || key.getKeyID().equals(header.getKeyID()))
                    && (key.getKeyUse() == null || KeyUse.SIGNATURE.equals(key.getKeyUse()))) {
                candidates.add(key);
            }
        }
        if (candidates.isEmpty()) {
            return source + " was signed by key '" + header.getKeyID() + "', which is not among the policy's keys";
        }
        for (JWK key : candidates) {
            try {
                JWSVerifier verifier = verifier(key, header.getAlgorithm());
                if (verifier != null && jws.verify(verifier)) {
                    return null;
                }
            } catch (JOSEException e) {
                // try the next key
            }
        }
        return source + " does not verify against the policy's key: the lockfile or its signature was changed"
                + " after signing; run lock again and sign it";
    }

    private static JWSVerifier verifier(JWK key, JWSAlgorithm algorithm) throws JOSEException {
        if (algorithm.equals(JWSAlgorithm.ES256) && key instanceof ECKey ec && Curve.P_256.equals(ec.getCurve())) {
            return new ECDSAVerifier(ec);
        }
        if (!algorithm.equals(JWSAlgorithm.ES256) && key instanceof RSAKey rsa && rsa.size() >= 2048) {
            return new RSASSAVerifier(rsa);
        }
        return null;
    }

    private static String readKey(Path file) throws IOException {
        try {
            if (Files.size(file) > MAX_KEY_BYTES) {
                throw new IllegalArgumentException(
                        file + " is larger than a key file can be (" + MAX_KEY_BYTES + " bytes)");
            }
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("key file " + file + " does not exist");
        }
    }

    private static byte[] pem(String text, String label) {
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end, from + begin.length());
        if (from < 0 || to < 0) {
            throw new IllegalArgumentException("no complete PEM " + label + " block");
        }
        return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        try {
            return KeyFactory.getInstance("EC").generatePrivate(spec);
        } catch (GeneralSecurityException e) {
            PrivateKey rsa = KeyFactory.getInstance("RSA").generatePrivate(spec);
            if (!(rsa instanceof RSAPrivateKey)) {
                throw new GeneralSecurityException("not an EC or RSA key");
            }
            return rsa;
        }
    }

    private static PublicKey publicKey(byte[] der) throws GeneralSecurityException {
        X509EncodedKeySpec spec = new X509EncodedKeySpec(der);
        try {
            return KeyFactory.getInstance("EC").generatePublic(spec);
        } catch (GeneralSecurityException e) {
            return KeyFactory.getInstance("RSA").generatePublic(spec);
        }
    }
}
