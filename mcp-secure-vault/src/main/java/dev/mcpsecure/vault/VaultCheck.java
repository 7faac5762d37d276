package dev.mcpsecure.vault;

import dev.mcpsecure.vault.internal.AclText;
import dev.mcpsecure.vault.internal.OperatorClient;
import dev.mcpsecure.vault.internal.VaultFailure;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Compares what a vault holds for a server with its {@link VaultPlan} and reports every grant
 * beyond the plan as a {@link Finding}, and everything the plan needs that is missing. Reads
 * with an operator's token (it needs {@code read} and {@code list} on {@code sys/policies/acl},
 * the auth roles and {@code identity/oidc}), which it never prints.
 *
 * <p>What it looks at: the server's ACL policies (every path and capability beyond the plan,
 * globs included), its auth roles (other policies, the {@code default} policy, longer or periodic
 * token TTLs, and for AppRole a {@code bind_secret_id} that is not true), other AppRole roles of
 * the same mount carrying its ACL policy, other ACL policies granting its identity roles, secrets
 * or transit key, its identity key (other audiences), its identity roles (longer TTL, another
 * audience or key) and other identity roles on its key. Not looked at: entity and group policies, and auth mounts other than the plan's. Not thread-safe.
 */
public final class VaultCheck {

    private final OperatorClient client;

    private VaultCheck(OperatorClient client) {
        this.client = client;
    }

    /** Checks the vault {@code settings} names, reading as the holder of {@code operatorToken}. */
    public static VaultCheck of(VaultSettings settings, String operatorToken) {
        return new VaultCheck(new OperatorClient(settings, operatorToken));
    }

    /** What kind of difference a finding is. */
    public enum Kind {
        /** Something the plan needs is not there. */
        MISSING,
        /** An ACL policy grants a path the plan does not (a glob, another secret, another role). */
        EXTRA_PATH,
        /** An ACL policy grants a planned path a capability the plan does not. */
        EXTRA_CAPABILITY,
        /** An auth role's tokens carry a policy besides the server's own ACL policy. */
        EXTRA_POLICY,
        /** An identity key may sign for an audience the policy does not list. */
        EXTRA_AUDIENCE,
        /** An identity role on the server's key that the plan does not have. */
        EXTRA_ROLE,
        /** Another role or policy gets what is the server's: its ACL policy, identity role, secret or key. */
        SHARED,
        /** A token lives, or may be renewed, longer than the plan says. */
        LONGER_TTL,
        /** An AppRole login needs less than the plan asks: no secret_id ({@code bind_secret_id} not true). */
        WEAKER_LOGIN,
        /** A value differs from the plan in a way that is not simply wider (another audience, another key). */
        CHANGED
    }

    /**
     * One difference.
     *
     * @param object the vault path it is about, such as {@code sys/policies/acl/weather}
     */
    public record Finding(Kind kind, String object, String detail) {
        /** Validates. */
        public Finding {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(object, "object");
            Objects.requireNonNull(detail, "detail");
        }

        /** {@code KIND object: detail}. */
        @Override
        public String toString() {
            return kind + " " + object + ": " + detail;
        }
    }

    /**
     * Every difference between the vault and {@code plan}; empty when the vault holds exactly the plan.
     *
     * @throws dev.mcpsecure.api.PolicyViolationException {@code VAULT_UNAVAILABLE} when a read fails
     *     (a 403 means the operator token may not read what the check needs)
     */
    public List<Finding> check(VaultPlan plan) {
        try {
            List<Finding> findings = new ArrayList<>();
            Set<String> ours = new LinkedHashSet<>();
            plan.logins().forEach(login -> ours.add(login.acl().name()));
            for (VaultPlan.Login login : plan.logins()) {
                checkAcl(plan, login.acl(), findings);
                checkRole(login.role(), findings);
                checkRoleSharing(login, findings);
            }
            checkAclSharing(plan, ours, findings);
            checkIdentity(plan, findings);
            return List.copyOf(findings);
        } catch (VaultFailure failure) {
            throw failure.toViolation("vault check for server " + plan.server());
        }
    }

    private void checkAcl(VaultPlan plan, VaultPlan.Acl acl, List<Finding> findings) {
        String object = "sys/policies/acl/" + acl.name();
        Optional<JsonObject> read = client.read(object);
        if (read.isEmpty()) {
            findings.add(new Finding(Kind.MISSING, object, "the ACL policy does not exist"));
            return;
        }
        String text = read.get().getString("policy", "");
        AclText.server(text)
                .filter(owner -> !owner.equals(plan.server()))
                .ifPresent(owner -> findings.add(
                        new Finding(Kind.SHARED, object, "written for server " + owner + ", not " + plan.server())));
        Map<String, Set<String>> held = AclText.parse(text);
        held.forEach((path, capabilities) -> {
            List<String> planned = acl.paths().get(path);
            Set<String> granting = granting(capabilities);
            if (planned == null && !granting.isEmpty()) {
                findings.add(new Finding(
                        Kind.EXTRA_PATH,
                        object,
                        "grants " + granting + " on " + path
                                + (path.contains("*") || path.contains("+") ? " (a glob)" : "")
                                + ", which the policy does not need"));
            } else if (planned != null) {
                granting.stream()
                        .filter(capability -> !planned.contains(capability))
                        .forEach(capability -> findings.add(new Finding(
                                Kind.EXTRA_CAPABILITY,
                                object,
                                "grants " + capability + " on " + path + "; the policy needs only " + planned)));
            }
        });
        acl.paths().forEach((path, capabilities) -> capabilities.stream()
                .filter(capability -> !held.getOrDefault(path, Set.of()).contains(capability))
                .forEach(capability -> findings.add(
                        new Finding(Kind.MISSING, object, "does not grant " + capability + " on " + path))));
    }

    private void checkRole(VaultPlan.AuthRole role, List<Finding> findings) {
        Optional<JsonObject> read = client.read(role.path());
        if (read.isEmpty()) {
            findings.add(new Finding(Kind.MISSING, role.path(), "the auth role does not exist"));
            return;
        }
        JsonObject held = read.get();
        Set<String> policies = new LinkedHashSet<>(VaultApply.strings(held.get("token_policies")));
        policies.addAll(VaultApply.strings(held.get("policies")));
        policies.stream()
                .filter(policy -> !role.policies().contains(policy))
                .forEach(policy -> findings.add(
                        new Finding(Kind.EXTRA_POLICY, role.path(), "its tokens also carry policy " + policy)));
        role.policies().stream()
                .filter(policy -> !policies.contains(policy))
                .forEach(policy -> findings.add(
                        new Finding(Kind.MISSING, role.path(), "its tokens do not carry policy " + policy)));
        if (!held.getBoolean("token_no_default_policy", false)) {
            findings.add(new Finding(Kind.EXTRA_POLICY, role.path(), "its tokens also carry the default policy"));
        }
        longer(role.path(), "token_ttl", seconds(held, "token_ttl"), role.tokenTtl(), findings);
        longer(role.path(), "token_max_ttl", seconds(held, "token_max_ttl"), role.tokenMaxTtl(), findings);
        if (role.method() == VaultPlan.Method.APPROLE) {
            checkSecretId(role, held, findings);
        }
        Duration period = seconds(held, "token_period");
        if (!period.isZero() && !period.isNegative()) {
            findings.add(new Finding(
                    Kind.LONGER_TTL,
                    role.path(),
                    "token_period " + period.toSeconds() + " s makes its tokens renewable without end"));
        }
    }

    /**
     * An AppRole must ask for a secret_id: with {@code bind_secret_id} false the role_id alone logs
     * in, and {@code vault apply} prints the role_id. The plan sets {@code secret_id_num_uses} 0
     * (no bound) and no {@code secret_id_ttl} (no bound), so no use count or TTL is wider than
     * planned and neither is looked at.
     */
    private static void checkSecretId(VaultPlan.AuthRole role, JsonObject held, List<Finding> findings) {
        JsonValue bind = held.get("bind_secret_id");
        if (bind == null || !bind.isBoolean() || !bind.asBoolean()) {
            findings.add(new Finding(
                    Kind.WEAKER_LOGIN,
                    role.path(),
                    "bind_secret_id is " + (bind == null ? "unset" : bind.toString())
                            + ": the role_id alone logs in; the plan says true"));
        }
    }

    private void checkRoleSharing(VaultPlan.Login login, List<Finding> findings) {
        VaultPlan.AuthRole role = login.role();
        String base = "auth/" + role.mount() + "/role";
        for (String other : client.list(base)) {
            if (other.equalsIgnoreCase(role.name())) {
                continue;
            }
            client.read(base + "/" + other).ifPresent(held -> {
                List<String> policies = VaultApply.strings(held.get("token_policies"));
                if (policies.contains(login.acl().name())) {
                    findings.add(new Finding(
                            Kind.SHARED,
                            base + "/" + other,
                            "another role's tokens also carry ACL policy "
                                    + login.acl().name()));
                }
            });
        }
    }

    private void checkAclSharing(VaultPlan plan, Set<String> ours, List<Finding> findings) {
        List<String> owned = new ArrayList<>();
        plan.identityRoles().forEach(role -> owned.add("identity/oidc/token/" + role.name()));
        for (VaultPlan.Login login : plan.logins()) {
            login.acl().paths().keySet().stream()
                    .filter(path -> !path.startsWith("auth/token/"))
                    .filter(path -> !owned.contains(path))
                    .forEach(owned::add);
        }
        for (String other : client.list("sys/policies/acl")) {
            if (ours.contains(other) || other.equals("root")) {
                continue;
            }
            String object = "sys/policies/acl/" + other;
            client.read(object).ifPresent(held -> AclText.parse(held.getString("policy", ""))
                    .forEach((pattern, capabilities) -> {
                        if (granting(capabilities).isEmpty()) {
                            return;
                        }
                        owned.stream()
                                .filter(path -> AclText.covers(pattern, path))
                                .forEach(path -> findings.add(new Finding(
                                        Kind.SHARED,
                                        object,
                                        "also grants " + path + " of server " + plan.server() + " (as " + pattern
                                                + ")")));
                    }));
        }
    }

    private void checkIdentity(VaultPlan plan, List<Finding> findings) {
        plan.identityKey().ifPresent(key -> {
            Optional<JsonObject> read = client.read(key.path());
            if (read.isEmpty()) {
                findings.add(new Finding(Kind.MISSING, key.path(), "the identity key does not exist"));
                return;
            }
            VaultApply.strings(read.get().get("allowed_client_ids")).stream()
                    .filter(id -> !key.allowedClientIds().contains(id))
                    .forEach(id -> findings.add(new Finding(
                            Kind.EXTRA_AUDIENCE,
                            key.path(),
                            "may sign for " + (id.equals("*") ? "every audience (*)" : id)
                                    + ", which the policy does not list")));
        });
        Set<String> planned = new LinkedHashSet<>();
        for (VaultPlan.IdentityRole role : plan.identityRoles()) {
            planned.add(role.name());
            Optional<JsonObject> read = client.read(role.path());
            if (read.isEmpty()) {
                findings.add(new Finding(Kind.MISSING, role.path(), "the identity role does not exist"));
                continue;
            }
            JsonObject held = read.get();
            longer(role.path(), "ttl", seconds(held, "ttl"), role.ttl(), findings);
            String clientId = held.getString("client_id", "");
            if (!clientId.equals(role.clientId())) {
                findings.add(new Finding(
                        Kind.CHANGED,
                        role.path(),
                        "mints for client_id " + clientId + ", but the policy's audience is " + role.clientId()));
            }
            String key = held.getString("key", "");
            if (!key.equals(role.key())) {
                findings.add(new Finding(
                        Kind.SHARED, role.path(), "is on key " + key + ", not server " + plan.server() + "'s key"));
            }
        }
        plan.identityKey().ifPresent(key -> {
            for (String other : client.list("identity/oidc/role")) {
                if (planned.contains(other)) {
                    continue;
                }
                String object = "identity/oidc/role/" + other;
                client.read(object)
                        .filter(held -> key.name().equals(held.getString("key", "")))
                        .ifPresent(held -> findings.add(new Finding(
                                Kind.EXTRA_ROLE,
                                object,
                                "mints on server " + plan.server() + "'s key, but the policy has no such role")));
            }
        });
    }

    private static void longer(String object, String field, Duration held, Duration planned, List<Finding> findings) {
        if (held.isZero()) {
            findings.add(new Finding(
                    Kind.LONGER_TTL,
                    object,
                    field + " is unset (the vault's default, often 32 days); the plan says " + planned.toSeconds()
                            + " s"));
        } else if (held.compareTo(planned) > 0) {
            findings.add(new Finding(
                    Kind.LONGER_TTL,
                    object,
                    field + " is " + held.toSeconds() + " s; the plan says " + planned.toSeconds() + " s"));
        }
    }

    private static Duration seconds(JsonObject object, String field) {
        JsonValue value = object.get(field);
        if (value == null) {
            return Duration.ZERO;
        }
        if (value.isNumber()) {
            return Duration.ofSeconds(value.asLong());
        }
        if (value.isString() && value.asString().matches("[0-9]+s?")) {
            return Duration.ofSeconds(Long.parseLong(value.asString().replace("s", "")));
        }
        return Duration.ZERO;
    }

    private static Set<String> granting(Set<String> capabilities) {
        Set<String> granting = new LinkedHashSet<>(capabilities);
        granting.remove("deny");
        return granting;
    }

    /** The vault; never the token. */
    @Override
    public String toString() {
        return "VaultCheck[" + client + "]";
    }
}
