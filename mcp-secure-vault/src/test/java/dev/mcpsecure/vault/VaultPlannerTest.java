package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.core.PolicyLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link VaultPlanner}: golden plans of the four sample policies, exact grants, and the names it
 * refuses. Run with {@code -Dvault.plans.update=true} to rewrite the golden files after a
 * reviewed change.
 */
class VaultPlannerTest {

    static final Path SAMPLES = Path.of("..", "samples", "policies");
    static final Path GOLDEN = Path.of("src", "test", "resources", "plans");

    @ParameterizedTest
    @ValueSource(strings = {"demo", "filesystem", "git", "http-api"})
    void theSamplePlansAreTheReviewedOnes(String sample) throws IOException {
        SecurityPolicy policy = PolicyLoader.load(SAMPLES.resolve(sample + ".yaml"));
        String plan = VaultPlanner.appRole().plan(policy).review(VaultPlan.DEFAULT_WRAP_TTL);
        Path golden = GOLDEN.resolve(sample + ".plan");
        if (Boolean.getBoolean("vault.plans.update") || !Files.exists(golden)) {
            Files.writeString(golden, plan);
        }
        assertThat(plan).isEqualTo(Files.readString(golden));
    }

    @Test
    void theAclGrantsExactlyTheRolesAndSecretPathsAndNoGlob() {
        VaultPlan plan = VaultPlanner.appRole().plan(policy("Weather.Tool"));

        assertThat(plan.name()).isEqualTo("weather-tool");
        assertThat(plan.serverLogin().acl().paths())
                .containsExactly(
                        Map.entry("identity/oidc/token/weather-a", List.of("read")),
                        Map.entry("identity/oidc/token/weather-b", List.of("read")),
                        Map.entry("secret/data/weather/db", List.of("read")),
                        Map.entry("kv/data/weather/api", List.of("read")),
                        Map.entry("auth/token/lookup-self", List.of("read")),
                        Map.entry("auth/token/renew-self", List.of("update")),
                        Map.entry("auth/token/revoke-self", List.of("update")));
        assertThat(plan.serverLogin().acl().text())
                .doesNotContain("*", "+")
                .startsWith("# mcp-secure server: Weather.Tool\n");
        assertThat(plan.identityRoles())
                .containsExactly(
                        new VaultPlan.IdentityRole(
                                "weather-a", "weather-tool", "https://a.example", Duration.ofSeconds(90)),
                        new VaultPlan.IdentityRole(
                                "weather-b", "weather-tool", "https://b.example", Duration.ofMinutes(2)));
        assertThat(plan.identityKey().orElseThrow().allowedClientIds())
                .containsExactly("https://a.example", "https://b.example");
        VaultPlan.AuthRole role = plan.serverLogin().role();
        assertThat(role.body())
                .contains("\"token_policies\":[\"weather-tool\"]")
                .contains("\"token_no_default_policy\":true")
                .contains("\"token_ttl\":\"900s\"")
                .contains("\"token_max_ttl\":\"900s\"");
    }

    @Test
    void aPolicyWithoutAudiencesGetsNoIdentityKeyOrRole() {
        VaultPlan plan = VaultPlanner.appRole()
                .plan(SecurityPolicy.builder().server("plain", "").build());

        assertThat(plan.identityKey()).isEmpty();
        assertThat(plan.identityRoles()).isEmpty();
        assertThat(plan.serverLogin().acl().paths())
                .allSatisfy((path, capabilities) -> assertThat(path).startsWith("auth/token/"));
    }

    @Test
    void serverNamesThatFoldToOneVaultNameCollide() {
        VaultPlanner planner = VaultPlanner.appRole();

        assertThatThrownBy(() -> planner.plan(List.of(
                        SecurityPolicy.builder().server("Weather", "").build(),
                        SecurityPolicy.builder().server("weather", "").build())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("servers Weather and weather would share the vault name weather");
        assertThatThrownBy(() -> planner.plan(List.of(
                        SecurityPolicy.builder().server("a.b", "").build(),
                        SecurityPolicy.builder().server("a_b", "").build())))
                .hasMessageContaining("vault name a-b");
    }

    @Test
    void twoServersNamingOneIdentityRoleAreRefused() {
        assertThatThrownBy(() -> VaultPlanner.appRole().plan(List.of(policy("one"), policy("two"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("servers one and two both name identity role weather-a");
    }

    @Test
    void aServerNamedLikeABuiltInPolicyIsRefused() {
        assertThatThrownBy(() -> VaultPlanner.appRole()
                        .plan(SecurityPolicy.builder().server("Default", "").build()))
                .hasMessageContaining("server name Default would name the vault's built-in policy 'default'");
    }

    @Test
    void aTransitKeyAddsASignerLoginAllowedOnlyToSignAndReadTheKey() {
        SecurityPolicy signed = SecurityPolicy.builder()
                .server("signed", "")
                .pinning(new PinningPolicy(
                        PinningPolicy.Mode.ENFORCE,
                        Optional.of(Path.of("mcp-secure.lock")),
                        PinningPolicy.Lint.REPORT,
                        Optional.of(PinningPolicy.SignatureKey.file(Path.of("lock.pub.pem")))))
                .build();

        VaultPlan plan = VaultPlanner.builder()
                .transitKey("transit", "lock-signing")
                .build()
                .plan(signed);

        assertThat(plan.logins()).hasSize(2);
        assertThat(plan.logins().get(1).acl().name()).isEqualTo("signed-lock-signer");
        assertThat(plan.logins().get(1).acl().paths())
                .containsEntry("transit/sign/lock-signing", List.of("update"))
                .containsEntry("transit/keys/lock-signing", List.of("read"))
                .hasSize(5);
        assertThatThrownBy(() -> VaultPlanner.builder()
                        .transitKey("transit", "k")
                        .build()
                        .plan(SecurityPolicy.builder().server("unsigned", "").build()))
                .hasMessageContaining("requires no signed lockfile");
    }

    @Test
    void optionsNameTheBadValue() {
        assertThatThrownBy(() -> VaultPlanner.builder().loginTtl(Duration.ofHours(2)))
                .hasMessage("loginTtl must be between PT1M and PT1H but was PT2H");
        assertThatThrownBy(() -> VaultPlanner.builder().appRole("approle").jwt("jwt", "sub", "aud"))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> VaultPlanner.builder().kubernetes("kubernetes", "ns", "a b"))
                .hasMessageContaining("but was a b");
    }

    @Test
    void aKubernetesRoleIsBoundToItsServiceAccount() {
        VaultPlan plan = VaultPlanner.builder()
                .kubernetes("kubernetes", "tools", "weather")
                .build()
                .plan(policy("weather"));

        assertThat(plan.serverLogin().role().body())
                .contains("\"bound_service_account_names\":[\"weather\"]")
                .contains("\"bound_service_account_namespaces\":[\"tools\"]");
        assertThat(plan.requests(VaultPlan.DEFAULT_WRAP_TTL))
                .noneMatch(request -> request.kind() == VaultPlan.Request.Kind.SECRET_ID);
    }

    private static Map<String, TokenAudience> audiences() {
        Map<String, TokenAudience> audiences = new LinkedHashMap<>();
        audiences.put("https://a.example", new TokenAudience("weather-a", Duration.ofSeconds(90)));
        audiences.put("https://b.example", new TokenAudience("weather-b", Duration.ofMinutes(2)));
        return audiences;
    }

    /** Audiences A (90 s) and B (2 min), a secret in secret/ and one in kv/. */
    static SecurityPolicy policy(String server) {
        return SecurityPolicy.builder()
                .server(server, "")
                .tokens(new TokenPolicy(Duration.ofMinutes(5), audiences()))
                .secret("db", new SecretLocation("secret", "weather/db", "password"))
                .secret("api", new SecretLocation("kv", "weather/api", "key"))
                .secret("api-again", new SecretLocation("kv", "weather/api", "other"))
                .build();
    }
}
