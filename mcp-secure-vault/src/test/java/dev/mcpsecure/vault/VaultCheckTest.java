package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.testkit.OpenBaoServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link VaultCheck} against a real OpenBao: nothing on a fresh apply, and each deliberate
 * widening of a server's vault setup found. Each row applies its own server's plan, widens it the
 * way an operator might by hand, and names the finding it must produce.
 */
class VaultCheckTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    static Path dir;

    /** How a row widens the vault for the server {@code name}, given its plan. */
    private interface Widening extends BiConsumer<String, VaultPlan> {}

    static Stream<Arguments> widenings() {
        return Stream.of(
                row(
                        "a wildcard KV path in the server's ACL",
                        (name, plan) -> bao.policy(
                                name,
                                plan.serverLogin().acl().text() + "path \"secret/data/" + name
                                        + "/*\" { capabilities = [\"read\"] }\n"),
                        VaultCheck.Kind.EXTRA_PATH,
                        "grants [read] on secret/data/%s/* (a glob)"),
                row(
                        "another secret's path in the server's ACL",
                        (name, plan) -> bao.policy(
                                name,
                                plan.serverLogin().acl().text()
                                        + "path \"secret/data/someone-else/db\" { capabilities = [\"read\"] }\n"),
                        VaultCheck.Kind.EXTRA_PATH,
                        "on secret/data/someone-else/db"),
                row(
                        "an extra capability on a planned path",
                        (name, plan) -> bao.policy(
                                name,
                                plan.serverLogin()
                                        .acl()
                                        .text()
                                        .replace(
                                                "secret/data/" + name + "/db\" {\n  capabilities = [\"read\"]",
                                                "secret/data/" + name
                                                        + "/db\" {\n  capabilities = [\"read\", \"update\"]")),
                        VaultCheck.Kind.EXTRA_CAPABILITY,
                        "grants update on secret/data/%s/db"),
                row(
                        "a shared role: another AppRole's tokens carry the server's ACL",
                        (name, plan) -> bao.call(
                                "POST",
                                "auth/approle/role/" + name + "-intruder",
                                Map.of("token_policies", List.of(name), "token_ttl", "60s")),
                        VaultCheck.Kind.SHARED,
                        "another role's tokens also carry ACL policy %s"),
                row(
                        "a shared role: another ACL grants the server's identity role",
                        (name, plan) -> bao.policy(
                                name + "-other",
                                "path \"identity/oidc/token/" + name + "-*\" { capabilities = [\"read\"] }"),
                        VaultCheck.Kind.SHARED,
                        "also grants identity/oidc/token/%s-a of server %s"),
                row(
                        "an identity role minting tokens that live longer than the policy's TTL",
                        (name, plan) -> bao.call(
                                "POST",
                                "identity/oidc/role/" + name + "-a",
                                Map.of("key", name, "client_id", "https://a.example", "ttl", "1h")),
                        VaultCheck.Kind.LONGER_TTL,
                        "ttl is 3600 s; the plan says 90 s"),
                row(
                        "login tokens that live longer than the plan",
                        (name, plan) -> bao.call(
                                "POST", "auth/approle/role/" + name, Map.of("token_ttl", "2h", "token_max_ttl", "4h")),
                        VaultCheck.Kind.LONGER_TTL,
                        "token_max_ttl is 14400 s; the plan says 900 s"),
                row(
                        "an AppRole that no longer asks for a secret_id: the role_id alone logs in",
                        (name, plan) -> bao.call(
                                "POST",
                                "auth/approle/role/" + name,
                                // OpenBao wants some constraint once bind_secret_id is off: bind to every address
                                Map.of("bind_secret_id", false, "token_bound_cidrs", List.of("0.0.0.0/0"))),
                        VaultCheck.Kind.WEAKER_LOGIN,
                        "bind_secret_id is false: the role_id alone logs in"),
                row(
                        "periodic login tokens, renewable without end",
                        (name, plan) -> bao.call("POST", "auth/approle/role/" + name, Map.of("token_period", "10m")),
                        VaultCheck.Kind.LONGER_TTL,
                        "token_period 600 s"),
                row(
                        "another policy on the server's login tokens",
                        (name, plan) -> bao.call(
                                "POST", "auth/approle/role/" + name, Map.of("token_policies", List.of(name, "admin"))),
                        VaultCheck.Kind.EXTRA_POLICY,
                        "its tokens also carry policy admin"),
                row(
                        "the default policy on the server's login tokens",
                        (name, plan) ->
                                bao.call("POST", "auth/approle/role/" + name, Map.of("token_no_default_policy", false)),
                        VaultCheck.Kind.EXTRA_POLICY,
                        "also carry the default policy"),
                row(
                        "the server's identity key allowed to sign for every audience",
                        (name, plan) -> bao.call(
                                "POST", "identity/oidc/key/" + name, Map.of("allowed_client_ids", List.of("*"))),
                        VaultCheck.Kind.EXTRA_AUDIENCE,
                        "may sign for every audience (*)"),
                row(
                        "an extra identity role on the server's key",
                        (name, plan) -> bao.call(
                                "POST",
                                "identity/oidc/role/" + name + "-extra",
                                Map.of("key", name, "client_id", "https://a.example", "ttl", "60s")),
                        VaultCheck.Kind.EXTRA_ROLE,
                        "mints on server %s's key"));
    }

    private static int rows;

    private static Arguments row(String why, Widening widening, VaultCheck.Kind kind, String detail) {
        return Arguments.of(why, widening, kind, detail);
    }

    @Test
    void aFreshApplyHasNoFinding() {
        VaultPlan plan = applied("fresh");

        assertThat(VaultCheck.of(VaultSettings.of(bao.address()), bao.rootToken())
                        .check(plan))
                .isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("widenings")
    void eachWideningIsFound(String why, Widening widening, VaultCheck.Kind kind, String detail) {
        String name = "row-" + ++rows;
        VaultPlan plan = applied(name);
        widening.accept(name, plan);

        List<VaultCheck.Finding> findings =
                VaultCheck.of(VaultSettings.of(bao.address()), bao.rootToken()).check(plan);

        assertThat(findings).as(why).anySatisfy(finding -> {
            assertThat(finding.kind()).isEqualTo(kind);
            assertThat(finding.detail()).contains(detail.formatted(name, name));
        });
    }

    @Test
    void aMissingSetupIsReportedMissing() {
        VaultPlan plan = VaultPlanner.appRole().plan(policy("never-applied"));

        assertThat(VaultCheck.of(VaultSettings.of(bao.address()), bao.rootToken())
                        .check(plan))
                .allSatisfy(finding -> assertThat(finding.kind()).isEqualTo(VaultCheck.Kind.MISSING))
                .extracting(VaultCheck.Finding::object)
                .containsExactly(
                        "sys/policies/acl/never-applied",
                        "auth/approle/role/never-applied",
                        "identity/oidc/key/never-applied",
                        "identity/oidc/role/never-applied-a");
    }

    private static VaultPlan applied(String name) {
        VaultPlan plan = VaultPlanner.appRole().plan(policy(name));
        VaultApply.to(VaultSettings.of(bao.address()), bao.rootToken())
                .apply(plan, dir, false, VaultPlan.DEFAULT_WRAP_TTL);
        return plan;
    }

    /** One audience (role {@code <name>-a}, 90 s tokens) and one secret at {@code secret/<name>/db}. */
    private static SecurityPolicy policy(String name) {
        return SecurityPolicy.builder()
                .server(name, "")
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of("https://a.example", new TokenAudience(name + "-a", Duration.ofSeconds(90)))))
                .secret("db", new SecretLocation("secret", name + "/db", "password"))
                .build();
    }
}
