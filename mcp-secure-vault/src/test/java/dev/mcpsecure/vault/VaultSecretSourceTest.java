package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Secret;
import dev.mcpsecure.testkit.OpenBaoServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link VaultSecretSource} reading KV v2 from a real OpenBao with the server's own login. */
class VaultSecretSourceTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    static Path dir;

    static VaultFixture fixture;
    static VaultLogin login;
    static VaultSecretSource secrets;
    static String password;

    @BeforeAll
    static void provision() {
        fixture = new VaultFixture(bao, dir);
        VaultFixture.Login files = fixture.server("billing", Duration.ofMinutes(10), Duration.ofHours(1), null);
        password = Handled.value("pw-" + System.nanoTime());
        bao.kvPut("secret", "billing/db", Map.of("password", password));
        bao.kvPut(
                "secret", "someone-else/db", Map.of("password", Handled.value("not-for-billing-" + System.nanoTime())));
        login = VaultLogin.open(
                fixture.settings(), VaultFixture.policy("billing").server(), files.credentials());
        secrets = VaultSecretSource.create(login, VaultFixture.policy("billing"));
    }

    @AfterAll
    static void close() {
        login.close();
        NoSecretInLogsTest.collect(bao.log());
    }

    @Test
    void aMappedSecretIsReadOnDemandAndItsToStringHidesTheValue() {
        Secret secret = secrets.secret("db-password");

        assertThat(secret.value()).isEqualTo(password);
        assertThat(secret.name()).isEqualTo("db-password");
        assertThat(secret.toString()).doesNotContain(password);
    }

    @Test
    void aSecondReadWithinTheCacheTtlDoesNotAskTheVault() {
        secrets.secret("db-password");
        long reads = fixture.requests("secret/data/billing/db");

        secrets.secret("db-password");

        assertThat(fixture.requests("secret/data/billing/db")).isEqualTo(reads);
    }

    @Test
    void withNoCacheEveryReadAsksTheVault() {
        VaultSecretSource uncached = VaultSecretSource.builder(login, VaultFixture.policy("billing"))
                .cacheTtl(Duration.ZERO)
                .build();
        long reads = fixture.requests("secret/data/billing/db");

        uncached.secret("db-password");
        uncached.secret("db-password");

        assertThat(fixture.requests("secret/data/billing/db")).isEqualTo(reads + 2);
    }

    @Test
    void aNameOutsideThePolicyIsRefusedWithoutAnyVaultRequest() {
        int before = fixture.auditEntries().size();

        PolicyViolationException e =
                catchThrowableOfType(PolicyViolationException.class, () -> secrets.secret("root-token"));

        assertThat(e.decision().reason()).isEqualTo(ReasonCode.SECRET_UNKNOWN);
        assertThat(e.getMessage()).contains("root-token").contains("secrets section");
        assertThat(fixture.auditEntries()).hasSize(before);
    }

    @Test
    void aMappedSecretTheVaultDoesNotHoldIsUnknownAndNamesItsLocation() {
        PolicyViolationException e =
                catchThrowableOfType(PolicyViolationException.class, () -> secrets.secret("missing"));

        assertThat(e.decision().reason()).isEqualTo(ReasonCode.SECRET_UNKNOWN);
        assertThat(e.getMessage()).contains("secret/billing/nothing-here");
    }

    @Test
    void aSecretOutsideTheServersVaultPolicyIsDeniedByTheVaultAndNotReturned() {
        PolicyViolationException e =
                catchThrowableOfType(PolicyViolationException.class, () -> secrets.secret("other-servers"));

        assertThat(e.decision().reason()).isEqualTo(ReasonCode.VAULT_UNAVAILABLE);
        assertThat(e.getMessage()).contains("403").contains("permission denied").doesNotContain("not-for-billing");
    }
}
