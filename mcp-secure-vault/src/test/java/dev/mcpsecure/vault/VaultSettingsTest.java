package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VaultSettingsTest {

    @Test
    void readsTheAddressVaultAndOpenBaoToolsRead() {
        assertThat(VaultSettings.fromEnvironment(Map.of())).isEmpty();
        assertThat(VaultSettings.fromEnvironment(Map.of("VAULT_ADDR", "  "))).isEmpty();
        assertThat(VaultSettings.fromEnvironment(Map.of("BAO_ADDR", "http://127.0.0.1:8200")))
                .get()
                .extracting(VaultSettings::address)
                .isEqualTo(URI.create("http://127.0.0.1:8200"));
        VaultSettings both = VaultSettings.fromEnvironment(Map.of(
                        "VAULT_ADDR", "https://vault.example.com",
                        "BAO_ADDR", "http://127.0.0.1:8200",
                        "VAULT_NAMESPACE", "team-a"))
                .orElseThrow();
        assertThat(both.address()).hasHost("vault.example.com");
        assertThat(both.namespace()).isEqualTo("team-a");
        assertThat(both.connectTimeout()).isEqualTo(VaultSettings.DEFAULT_CONNECT_TIMEOUT);
    }

    @ParameterizedTest(name = "{0}: {2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "http://vault.example.com:8200 | plain http      | tokens would cross the network unencrypted",
                "http://10.0.0.5:8200          | plain http      | not loopback",
                "ftp://vault.example.com       | not http(s)     | is not an http(s) URL",
                "vault.example.com:8200        | no scheme       | is not an http(s) URL",
                "https://user:pw@vault.example | user info       | must not carry user info",
                "https://vault.example/?x=1    | query           | must not carry user info, a query",
                "https://vault example         | not a URL       | is not a URL",
            })
    void refusesAddressesThatWouldLeakOrMisroute(String address, String why, String message) {
        assertThatThrownBy(() -> VaultSettings.fromEnvironment(Map.of("VAULT_ADDR", address)))
                .as(why)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("VAULT_ADDR: ")
                .hasMessageContaining(message);
    }

    @Test
    void allowsPlainHttpOnlyOnLoopback() {
        assertThat(VaultSettings.of("http://localhost:8200").address()).hasHost("localhost");
        assertThat(VaultSettings.of("http://[::1]:8200").address()).hasPort(8200);
        assertThat(VaultSettings.of("http://127.0.0.2:8200").address()).hasHost("127.0.0.2");
    }

    @Test
    void timeoutsAreBounded() {
        URI address = URI.create("https://vault.example.com");
        assertThatThrownBy(() -> new VaultSettings(address, "", Duration.ZERO, Duration.ofSeconds(1)))
                .hasMessage("connectTimeout must be between PT0.1S and PT1M but was PT0S");
        assertThatThrownBy(() -> new VaultSettings(address, "", Duration.ofSeconds(1), Duration.ofHours(1)))
                .hasMessage("readTimeout must be between PT0.1S and PT5M but was PT1H");
    }
}
