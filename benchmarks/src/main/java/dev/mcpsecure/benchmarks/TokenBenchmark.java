package dev.mcpsecure.benchmarks;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.VerifiedToken;
import dev.mcpsecure.http.JwtTokenVerifier;
import dev.mcpsecure.testkit.OpenBaoServer;
import dev.mcpsecure.vault.VaultCredentials;
import dev.mcpsecure.vault.VaultLogin;
import dev.mcpsecure.vault.VaultSettings;
import dev.mcpsecure.vault.VaultTokenSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * B5: a cached {@code VaultTokenSource.token(audience)} (logged in to a real OpenBao dev server
 * the testkit starts, token minted once in setup), and {@link JwtTokenVerifier} on RS256 and
 * ES256 tokens: cold (cache off, so every call parses and checks the signature) and through the
 * verified-token cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TokenBenchmark {

    private static final String AUDIENCE = "https://api.benchmark";
    private static final String ISSUER = "https://idp.benchmark";
    private static final String RESOURCE = "https://mcp.benchmark/mcp";

    private OpenBaoServer bao;
    private VaultLogin login;
    private VaultTokenSource tokens;
    private JwtTokenVerifier cold;
    private JwtTokenVerifier cached;
    private String rs256;
    private String es256;

    @Setup(Level.Trial)
    public void start() throws Exception {
        bao = new OpenBaoServer();
        bao.start();
        bao.identityTokenRole("bench", "bench-api", AUDIENCE, Duration.ofMinutes(5));
        bao.policy("bench", "path \"identity/oidc/token/bench-api\" { capabilities = [\"read\"] }");
        OpenBaoServer.AppRole role =
                bao.appRole("bench", List.of("bench"), Duration.ofMinutes(30), Duration.ofHours(1));
        Path dir = Files.createTempDirectory("token-bench");
        Files.writeString(dir.resolve("role_id"), role.roleId());
        Files.writeString(dir.resolve("secret_id"), role.secretId());
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("token-bench", "")
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5), Map.of(AUDIENCE, new TokenAudience("bench-api", Duration.ofMinutes(5)))))
                .build();
        login = VaultLogin.open(
                VaultSettings.of(bao.address()),
                policy.server(),
                VaultCredentials.appRole(dir.resolve("role_id"), dir.resolve("secret_id")));
        tokens = VaultTokenSource.create(login, policy);
        tokens.token(AUDIENCE);

        RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
        String jwks = new JWKSet(List.<JWK>of(rsa.toPublicJWK(), ec.toPublicJWK())).toString();
        cold = JwtTokenVerifier.builder(ISSUER, RESOURCE)
                .keys(jwks)
                .cacheSize(0)
                .build();
        cached = JwtTokenVerifier.builder(ISSUER, RESOURCE).keys(jwks).build();
        rs256 = sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "rsa");
        es256 = sign(new ECDSASigner(ec), JWSAlgorithm.ES256, "ec");
        cached.verify(rs256);
    }

    @TearDown(Level.Trial)
    public void stop() {
        login.close();
        bao.close();
    }

    private static String sign(JWSSigner signer, JWSAlgorithm alg, String kid) throws Exception {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(alg).keyID(kid).build(),
                new JWTClaimsSet.Builder()
                        .issuer(ISSUER)
                        .audience(RESOURCE)
                        .subject("user-1")
                        .issueTime(new Date())
                        .expirationTime(Date.from(Instant.now().plusSeconds(3000)))
                        .claim("scope", "tools:read tools:write")
                        .claim("client_id", "bench-client")
                        .build());
        jwt.sign(signer);
        return jwt.serialize();
    }

    @Benchmark
    public AccessToken vaultTokenCached() {
        return tokens.token(AUDIENCE);
    }

    @Benchmark
    public VerifiedToken verifyRs256Cold() {
        return cold.verify(rs256);
    }

    @Benchmark
    public VerifiedToken verifyEs256Cold() {
        return cold.verify(es256);
    }

    @Benchmark
    public VerifiedToken verifyThroughCache() {
        return cached.verify(rs256);
    }
}
