package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.ServerIdentity;
import dev.mcpsecure.testkit.OpenBaoServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link VaultLogin} against a real OpenBao: each login method, renewal, re-login, revocation, refusals. */
class VaultLoginTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    static Path dir;

    static VaultFixture fixture;

    @BeforeAll
    static void audit() {
        fixture = new VaultFixture(bao, dir);
    }

    @AfterAll
    static void collectLog() {
        NoSecretInLogsTest.collect(bao.log());
    }

    @Test
    void appRoleFromFilesLogsInAndItsTokenMintsForTheServer() {
        VaultFixture.Login files = fixture.server("approle-files", Duration.ofMinutes(10), Duration.ofHours(1), null);
        try (VaultLogin login = VaultLogin.open(fixture.settings(), identity("approle-files"), files.credentials())) {
            assertThat(mint(login, "approle-files")).isNotBlank();
            assertThat(login.toString())
                    .contains("approle-files")
                    .doesNotContain(files.issued().secretId());
        }
    }

    @Test
    void aResponseWrappedSecretIdIsUnwrappedOnceAndKeptForReLogins() {
        VaultFixture.Login files = fixture.server("wrapped", Duration.ofMinutes(10), Duration.ofHours(1), null);
        String wrapping = Handled.value(bao.wrappedSecretId("wrapped", Duration.ofMinutes(1)));
        VaultFixture.write(files.secretIdFile(), wrapping);

        try (VaultLogin login = VaultLogin.open(
                fixture.settings(),
                identity("wrapped"),
                VaultCredentials.appRoleWrapped(files.roleIdFile(), files.secretIdFile()))) {
            assertThat(mint(login, "wrapped")).isNotBlank();
            assertThat(fixture.requests("sys/wrapping/unwrap")).isEqualTo(1);
        }
        // the wrapping token is single-use: a second client holding the same file is refused
        PolicyViolationException e = catchThrowableOfType(
                PolicyViolationException.class,
                () -> VaultLogin.open(
                        fixture.settings(),
                        identity("wrapped"),
                        VaultCredentials.appRoleWrapped(files.roleIdFile(), files.secretIdFile())));
        assertThat(e.decision().reason()).isEqualTo(ReasonCode.VAULT_UNAVAILABLE);
        assertThat(e.getMessage()).contains("unwrap").doesNotContain(wrapping);
    }

    @Test
    void jwtLoginWithATokenFileWorksAndItsTokenMints() throws Exception {
        fixture.server("jwt-server", Duration.ofMinutes(10), Duration.ofHours(1), null);
        RSAKey signing = new RSAKeyGenerator(2048).keyID("workload").generate();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder()
                        .encodeToString(signing.toRSAPublicKey().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        bao.jwtAuth("jwt", pem, "jwt-server", "vault", List.of("mcp-jwt-server"), Duration.ofMinutes(10));
        SignedJWT workload = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("workload").build(),
                new JWTClaimsSet.Builder()
                        .subject("jwt-server")
                        .audience("vault")
                        .issueTime(new Date())
                        .expirationTime(Date.from(Instant.now().plusSeconds(300)))
                        .build());
        workload.sign(new RSASSASigner(signing));
        Path tokenFile = dir.resolve("workload.jwt");
        VaultFixture.write(tokenFile, Handled.value(workload.serialize()));

        try (VaultLogin login = VaultLogin.open(
                fixture.settings(), identity("jwt-server"), VaultCredentials.jwt("jwt", "jwt-server", tokenFile))) {
            assertThat(mint(login, "jwt-server")).isNotBlank();
        }
        // Kubernetes login sends the same request (role and the service-account JWT to
        // auth/<mount>/login); here it goes to the JWT mount, since no Kubernetes API is at hand
        // to review the token
        try (VaultLogin login = VaultLogin.open(
                fixture.settings(),
                identity("jwt-server"),
                new VaultCredentials.Jwt("jwt", "jwt-server", tokenFile, true))) {
            assertThat(mint(login, "jwt-server")).isNotBlank();
            assertThat(login.toString()).contains("kubernetes role jwt-server at auth/jwt");
        }
        assertThat(fixture.requests("auth/jwt/login")).isEqualTo(2);
    }

    @Test
    void aFixedTokenWorksForDevelopmentAndIsNeitherRenewedNorRevoked() {
        fixture.server("fixed", Duration.ofMinutes(10), Duration.ofHours(1), null);
        String password = Handled.value("pw-" + System.nanoTime());
        bao.kvPut("secret", "fixed/db", Map.of("password", password));
        long revocations = fixture.requests("auth/token/revoke-self");

        try (VaultLogin login =
                VaultLogin.open(fixture.settings(), identity("fixed"), VaultCredentials.token(bao.rootToken()))) {
            assertThat(VaultSecretSource.create(login, VaultFixture.policy("fixed"))
                            .secret("db-password")
                            .value())
                    .isEqualTo(password);
            assertThat(VaultCredentials.token(bao.rootToken()).toString()).doesNotContain(bao.rootToken());
        }
        assertThat(fixture.requests("auth/token/revoke-self")).isEqualTo(revocations);
        assertThat(bao.call("GET", "auth/token/lookup-self", null)).isNotEmpty();
    }

    @Test
    void theTokenIsRenewedAndAtItsMaxTtlTheServerLogsInAgain() throws Exception {
        VaultFixture.Login files = fixture.server("renewing", Duration.ofSeconds(3), Duration.ofSeconds(7), null);
        try (VaultLogin login = VaultLogin.open(fixture.settings(), identity("renewing"), files.credentials())) {
            Thread.sleep(9_000);

            assertThat(fixture.requests("auth/token/renew-self")).isGreaterThanOrEqualTo(2);
            assertThat(fixture.requests("auth/approle/login")).isGreaterThanOrEqualTo(2);
            // 9 s after the first login its token is past its 7 s max TTL: this works only on a new login
            assertThat(mint(login, "renewing")).isNotBlank();
        }
    }

    @Test
    void oneServerHasOneLoginAndTwoServersNeverShareOne() {
        VaultFixture.Login files = fixture.server("single", Duration.ofMinutes(10), Duration.ofHours(1), null);
        try (VaultLogin first = VaultLogin.open(fixture.settings(), identity("single"), files.credentials())) {
            IllegalStateException e = catchThrowableOfType(
                    IllegalStateException.class,
                    () -> VaultLogin.open(fixture.settings(), identity("single"), files.credentials()));
            assertThat(e).hasMessageContaining("single").hasMessageContaining("already has an open vault login");
            assertThat(catchThrowableOfType(
                            IllegalArgumentException.class,
                            () -> VaultSecretSource.create(first, VaultFixture.policy("another"))))
                    .hasMessageContaining("another");
        }
        VaultLogin.open(fixture.settings(), identity("single"), files.credentials())
                .close();
    }

    @Test
    void closeRevokesTheTokenTheLoginObtained() {
        VaultFixture.Login files = fixture.server("revoking", Duration.ofMinutes(10), Duration.ofHours(1), null);
        int before = liveTokens();
        VaultLogin login = VaultLogin.open(fixture.settings(), identity("revoking"), files.credentials());
        assertThat(liveTokens()).isEqualTo(before + 1);

        login.close();

        assertThat(liveTokens()).isEqualTo(before);
        assertThat(fixture.requests("auth/token/revoke-self")).isGreaterThanOrEqualTo(1);
        assertThat(login.closed()).isTrue();
    }

    @Test
    void aWrongSecretIdIsRefusedWithTheVaultsReasonAndWithoutTheValue() {
        VaultFixture.Login files = fixture.server("wrong", Duration.ofMinutes(10), Duration.ofHours(1), null);
        Path wrong = dir.resolve("not-the-issued.secret_id");
        String bad = Handled.value("00000000-1111-2222-3333-444444444444");
        VaultFixture.write(wrong, bad);

        PolicyViolationException e = catchThrowableOfType(
                PolicyViolationException.class,
                () -> VaultLogin.open(
                        fixture.settings(), identity("wrong"), VaultCredentials.appRole(files.roleIdFile(), wrong)));

        assertThat(e.decision().reason()).isEqualTo(ReasonCode.VAULT_UNAVAILABLE);
        assertThat(e.getMessage())
                .contains("wrong")
                .contains("approle")
                .contains("400")
                .doesNotContain(bad);
        // a failed open leaves no login behind
        VaultLogin.open(fixture.settings(), identity("wrong"), files.credentials())
                .close();
    }

    @Test
    void anUnreadableCredentialFileIsNamedWithTheFix() {
        Path missing = dir.resolve("no-such.role_id");
        PolicyViolationException e = catchThrowableOfType(
                PolicyViolationException.class,
                () -> VaultLogin.open(
                        fixture.settings(), identity("missing-file"), VaultCredentials.appRole(missing, missing)));

        assertThat(e.getMessage())
                .contains(missing.toString())
                .contains("cannot be read")
                .contains("mount the credential");
    }

    private static ServerIdentity identity(String name) {
        return new ServerIdentity(name, "");
    }

    private static String mint(VaultLogin login, String server) {
        return Handled.value(VaultTokenSource.create(login, VaultFixture.policy(server))
                .token(VaultFixture.API_A)
                .value());
    }

    @SuppressWarnings("unchecked")
    private static int liveTokens() {
        Map<String, Object> data = OpenBaoServer.data(bao.call("LIST", "auth/token/accessors", null));
        return ((List<Object>) data.get("keys")).size();
    }
}
