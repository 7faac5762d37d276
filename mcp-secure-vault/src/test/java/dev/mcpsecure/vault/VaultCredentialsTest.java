package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class VaultCredentialsTest {

    @Test
    void mountsAndRolesMustBeVaultNamesWithoutClimbing() {
        Path file = Path.of("/run/secrets/x");
        assertThatThrownBy(() -> new VaultCredentials.AppRole("../sys", file, file, false))
                .hasMessageContaining("auth mount ../sys")
                .hasMessageContaining("approle");
        assertThatThrownBy(() -> new VaultCredentials.AppRole("a//b", file, file, false))
                .hasMessageContaining("a//b");
        assertThatThrownBy(() -> VaultCredentials.jwt("jwt", "role with space", file))
                .hasMessageContaining("role with space");
        assertThat(VaultCredentials.kubernetes("mcp").describe()).isEqualTo("kubernetes role mcp at auth/kubernetes");
        assertThat(((VaultCredentials.Jwt) VaultCredentials.kubernetes("mcp")).tokenFile())
                .isEqualTo(VaultCredentials.KUBERNETES_TOKEN_FILE);
    }

    @Test
    void aFixedTokenIsNeverPrintedAndMustNotBeEmpty() {
        assertThat(VaultCredentials.token("s.abcdefgh123").toString()).doesNotContain("abcdefgh");
        assertThatThrownBy(() -> VaultCredentials.token(" ")).hasMessageContaining("must not be empty");
    }
}
