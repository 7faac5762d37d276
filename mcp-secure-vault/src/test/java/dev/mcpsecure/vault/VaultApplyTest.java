package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.core.PolicyLoader;
import dev.mcpsecure.testkit.OpenBaoServer;
import dev.mcpsecure.vault.internal.VaultFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VaultApply} against a real OpenBao: each sample's plan applied, then the sample's server
 * side logs in with its own AppRole and gets what its policy names, and OpenBao itself answers
 * 403 to anything else; re-applying changes nothing; widening and taking over (an ACL policy, an
 * auth role, an identity role or key) are refused.
 */
class VaultApplyTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    Path dir;

    @Test
    void eachSampleGetsItsOwnTokensAndOpenBaoRefusesAnotherSamplesRole() throws IOException {
        Map<String, SecurityPolicy> samples = new HashMap<>();
        for (String sample : List.of("demo", "filesystem", "git", "http-api")) {
            samples.put(sample, PolicyLoader.load(VaultPlannerTest.SAMPLES.resolve(sample + ".yaml")));
        }
        List<VaultPlan> plans = VaultPlanner.appRole().plan(List.copyOf(samples.values()));
        for (VaultPlan plan : plans) {
            List<VaultApply.Issued> issued = apply().apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL);
            assertThat(issued).singleElement().satisfies(role -> assertThat(role.role())
                    .isEqualTo(plan.name()));
            assertThat(VaultCheck.of(settings(), bao.rootToken()).check(plan)).isEmpty();
        }

        SecurityPolicy httpApi = samples.get("http-api");
        try (VaultLogin login = login(httpApi)) {
            VaultTokenSource tokens = VaultTokenSource.create(login, httpApi);
            AccessToken weather = tokens.token("https://weather.sample");
            AccessToken github = tokens.token("https://api.github.com");
            assertThat(weather.audience()).isEqualTo("https://weather.sample");
            assertThat(github.audience()).isEqualTo("https://api.github.com");
            Handled.value(weather.value());
            Handled.value(github.value());
        }
        SecurityPolicy demo = samples.get("demo");
        try (VaultLogin login = login(demo)) {
            // the demo's own login asks OpenBao for the http-api sample's role: OpenBao refuses it
            VaultFailure refused =
                    catchThrowableOfType(VaultFailure.class, () -> login.read("identity/oidc/token/weather-reader"));
            assertThat(refused.kind()).isEqualTo(VaultFailure.Kind.DENIED);
            assertThat(refused.getMessage()).contains("answered 403 to read identity/oidc/token/weather-reader");
        }
    }

    @Test
    void aServerReadsItsSecretsAndOpenBaoRefusesAnotherServersAndAnyOtherPath() {
        SecurityPolicy alpha = secrets("alpha");
        SecurityPolicy beta = secrets("beta");
        for (VaultPlan plan : VaultPlanner.appRole().plan(List.of(alpha, beta))) {
            apply().apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL);
        }
        bao.kvPut("secret", "alpha/db", Map.of("password", Handled.value("alpha-password-1234")));
        bao.kvPut("secret", "alpha/other", Map.of("password", Handled.value("alpha-other-1234")));
        bao.kvPut("secret", "beta/db", Map.of("password", Handled.value("beta-password-1234")));

        try (VaultLogin login = login(alpha)) {
            assertThat(VaultSecretSource.create(login, alpha).secret("db").value())
                    .isEqualTo("alpha-password-1234");
            for (String path : List.of("secret/data/beta/db", "secret/data/alpha/other", "secret/data/alpha")) {
                VaultFailure refused = catchThrowableOfType(VaultFailure.class, () -> login.read(path));
                assertThat(refused.getMessage()).as(path).contains("answered 403 to read " + path);
            }
        }
    }

    @Test
    void applyingAgainChangesNothingAndIssuesAFreshSecretId() throws IOException {
        VaultPlan plan = VaultPlanner.appRole().plan(secrets("again"));
        VaultApply.Issued first =
                apply().apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL).get(0);
        String firstWrapped = Files.readString(first.secretIdFile());
        VaultApply.Issued second =
                apply().apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL).get(0);

        assertThat(second.roleId()).isEqualTo(first.roleId());
        assertThat(Files.readString(second.secretIdFile())).isNotEqualTo(firstWrapped);
        assertThat(Files.getPosixFilePermissions(second.secretIdFile()))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(VaultCheck.of(settings(), bao.rootToken()).check(plan)).isEmpty();
    }

    @Test
    void wideningAnExistingAclNeedsReplaceAndWritesNothingBefore() {
        VaultPlan narrow = VaultPlanner.appRole().plan(secrets("widen"));
        apply().apply(narrow, dir, false, VaultPlan.DEFAULT_WRAP_TTL);
        SecurityPolicy wider = SecurityPolicy.builder()
                .server("widen", "")
                .secret("db", new SecretLocation("secret", "widen/db", "password"))
                .secret("more", new SecretLocation("secret", "widen/more", "password"))
                .build();
        VaultPlan plan = VaultPlanner.appRole().plan(wider);

        assertThatThrownBy(() -> apply().apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL))
                .isInstanceOf(VaultApply.RefusedException.class)
                .hasMessageContaining("applying would widen ACL policy widen by [secret/data/widen/more: read]")
                .hasMessageContaining("--replace");
        assertThat(VaultCheck.of(settings(), bao.rootToken()).check(narrow)).isEmpty();

        apply().apply(plan, dir, true, VaultPlan.DEFAULT_WRAP_TTL);
        assertThat(VaultCheck.of(settings(), bao.rootToken()).check(plan)).isEmpty();
    }

    @Test
    void anotherServersAclOrIdentityRoleIsNeverTakenOver() {
        apply().apply(VaultPlanner.appRole().plan(secrets("Owner")), dir, false, VaultPlan.DEFAULT_WRAP_TTL);
        VaultPlan collides = VaultPlanner.appRole().plan(secrets("owner"));

        assertThatThrownBy(() -> apply().apply(collides, dir, true, VaultPlan.DEFAULT_WRAP_TTL))
                .isInstanceOf(VaultApply.RefusedException.class)
                .hasMessageContaining(
                        "ACL policy owner is server Owner's, and server owner maps to the same vault name");

        apply().apply(
                        VaultPlanner.appRole().plan(VaultPlannerTest.policy("minter")),
                        dir,
                        false,
                        VaultPlan.DEFAULT_WRAP_TTL);
        assertThatThrownBy(() -> apply().apply(
                                VaultPlanner.appRole().plan(VaultPlannerTest.policy("poacher")),
                                dir,
                                true,
                                VaultPlan.DEFAULT_WRAP_TTL))
                .isInstanceOf(VaultApply.RefusedException.class)
                .hasMessageContaining("identity role weather-a exists on key minter, not on server poacher's key");
    }

    @Test
    void anIdentityKeyMcpSecureDidNotWriteNeedsReplaceAndWritesNothingBefore() {
        VaultPlan plan = VaultPlanner.appRole().plan(minting("keyed"));
        String key = "identity/oidc/key/keyed";
        bao.call(
                "POST",
                key,
                Map.of(
                        "allowed_client_ids",
                        List.of("https://other.example"),
                        "rotation_period",
                        "1h",
                        "verification_ttl",
                        "1h"));

        assertThatThrownBy(() -> apply().apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL))
                .isInstanceOf(VaultApply.RefusedException.class)
                .hasMessageContaining("identity key keyed exists and may sign for [https://other.example],"
                        + " which the policy of server keyed does not list (mcp-secure did not write it)")
                .hasMessageContaining("--replace");
        assertThat(OpenBaoServer.data(bao.call("GET", key, null)))
                .containsEntry("allowed_client_ids", List.of("https://other.example"))
                .containsEntry("rotation_period", 3600);
        assertThat(VaultCheck.of(settings(), bao.rootToken()).check(plan))
                .extracting(VaultCheck.Finding::kind)
                .containsOnly(VaultCheck.Kind.MISSING, VaultCheck.Kind.EXTRA_AUDIENCE)
                .contains(VaultCheck.Kind.EXTRA_AUDIENCE);

        // the plan's audience, but not the plan's rotation: still not what mcp-secure writes
        bao.call("POST", key, Map.of("allowed_client_ids", List.of("https://keyed.example")));
        assertThatThrownBy(() -> apply().apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL))
                .isInstanceOf(VaultApply.RefusedException.class)
                .hasMessageContaining("identity key keyed exists with rotation_period 3600 s, not the plan's 86400 s");

        apply().apply(plan, dir, true, VaultPlan.DEFAULT_WRAP_TTL);
        assertThat(VaultCheck.of(settings(), bao.rootToken()).check(plan)).isEmpty();
        // mcp-secure's own key now: applying again needs no --replace
        apply().apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL);
    }

    @Test
    void aVaultThatRefusesTheOperatorIsReportedAsUnavailable() {
        PolicyViolationException refused =
                catchThrowableOfType(PolicyViolationException.class, () -> VaultApply.to(settings(), "not-a-token")
                        .apply(VaultPlanner.appRole().plan(secrets("nobody")), dir, false, VaultPlan.DEFAULT_WRAP_TTL));
        assertThat(refused.decision().reason()).isEqualTo(ReasonCode.VAULT_UNAVAILABLE);
        assertThat(refused.getMessage()).contains("403").doesNotContain("not-a-token");
    }

    static SecurityPolicy secrets(String server) {
        return SecurityPolicy.builder()
                .server(server, "")
                .secret(
                        "db",
                        new SecretLocation("secret", server.toLowerCase(java.util.Locale.ROOT) + "/db", "password"))
                .build();
    }

    /** One audience {@code https://<server>.example} (role {@code <server>-reader}) and one secret. */
    static SecurityPolicy minting(String server) {
        return SecurityPolicy.builder()
                .server(server, "")
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of(
                                "https://" + server + ".example",
                                new TokenAudience(server + "-reader", Duration.ofSeconds(90)))))
                .secret("db", new SecretLocation("secret", server + "/db", "password"))
                .build();
    }

    private VaultLogin login(SecurityPolicy policy) {
        Path folder = dir.resolve(VaultPlanner.objectName(policy.server().name()));
        return VaultLogin.open(
                settings(),
                policy.server(),
                VaultCredentials.appRoleWrapped(folder.resolve("role_id"), folder.resolve("secret_id")));
    }

    private static VaultApply apply() {
        return VaultApply.to(settings(), bao.rootToken());
    }

    static VaultSettings settings() {
        return VaultSettings.of(bao.address());
    }
}
