package dev.mcpsecure.vault;

import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecurityPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Makes the {@link VaultPlan} for a server's policy: what the vault must hold for it, and nothing
 * more.
 *
 * <ul>
 *   <li>One auth role (AppRole by default; JWT or Kubernetes bound to the workload) whose tokens
 *       carry only the server's ACL policy (not {@code default}) and live {@link
 *       Builder#loginTtl} (default 15 min) with the same max TTL: the login renews nothing, it
 *       logs in again.
 *   <li>One identity-token role per audience: {@code client_id} the audience, {@code ttl} the
 *       policy's, on an identity key of the server's own that may sign only for its audiences.
 *   <li>One ACL policy granting {@code read} on exactly {@code identity/oidc/token/<role>} of those
 *       roles and exactly {@code <mount>/data/<path>} of the policy's secrets (no globs), and what
 *       {@link VaultLogin} does with its own token ({@code auth/token/lookup-self},
 *       {@code renew-self}, {@code revoke-self}).
 *   <li>With {@link Builder#transitKey}: the transit key lockfiles are signed with, and a second
 *       login (role and ACL {@code <name>-lock-signer}) allowed only to sign with it and read it.
 * </ul>
 *
 * <p><b>Names.</b> A server's vault objects are named by {@link #objectName}: the server name in
 * lower case with {@code .} and {@code _} turned into {@code -}. Vault folds the case of ACL
 * policy and AppRole names, so {@code Weather} and {@code weather} would share one; two server
 * names <em>collide</em> when their object names are equal, and {@link #plan(List)} refuses that
 * (as it refuses two servers naming the same identity role, case folded). Names Vault reserves
 * ({@code default}, {@code root}) are refused. Thread-safe and immutable.
 */
public final class VaultPlanner {

    /** How long login tokens live when not set: 15 minutes. */
    public static final Duration DEFAULT_LOGIN_TTL = Duration.ofMinutes(15);

    private static final Set<String> RESERVED = Set.of("default", "root");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Map<String, List<String>> SELF = selfPaths();

    private final VaultPlan.Method method;
    private final String mount;
    private final Map<String, List<String>> bindings;
    private final Duration loginTtl;
    private final Optional<VaultPlan.TransitKey> transit;

    private VaultPlanner(Builder builder) {
        this.method = builder.method == null ? VaultPlan.Method.APPROLE : builder.method;
        this.mount = builder.mount == null ? "approle" : builder.mount;
        this.bindings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(builder.bindings));
        this.loginTtl = builder.loginTtl;
        this.transit = Optional.ofNullable(builder.transit);
    }

    /** A planner for AppRole logins with the default login TTL and no transit key. */
    public static VaultPlanner appRole() {
        return builder().build();
    }

    /** Configures a planner. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The vault object name of a server: lower case, {@code .} and {@code _} as {@code -}.
     *
     * @throws IllegalArgumentException for a name Vault reserves
     */
    public static String objectName(String server) {
        String name = server.toLowerCase(Locale.ROOT).replace('.', '-').replace('_', '-');
        if (RESERVED.contains(name)) {
            throw new IllegalArgumentException("server name " + server + " would name the vault's built-in policy '"
                    + name + "'; rename the server in the policy's server.name");
        }
        return name;
    }

    /** The plan for one server's policy. */
    public VaultPlan plan(SecurityPolicy policy) {
        String server = policy.server().name();
        String name = objectName(server);
        Map<String, List<String>> paths = new LinkedHashMap<>();
        List<VaultPlan.IdentityRole> roles = new ArrayList<>();
        policy.tokens().audiences().forEach((audience, minting) -> {
            roles.add(new VaultPlan.IdentityRole(minting.role(), name, audience, minting.ttl()));
            paths.put("identity/oidc/token/" + minting.role(), List.of("read"));
        });
        for (SecretLocation location : policy.secrets().secrets().values()) {
            paths.put(location.mount() + "/data/" + location.path(), List.of("read"));
        }
        paths.putAll(SELF);
        List<VaultPlan.Login> logins = new ArrayList<>();
        logins.add(login(server, name, method, mount, bindings, paths));
        transit.ifPresent(key -> {
            if (policy.pinning().signature().isEmpty()) {
                throw new IllegalArgumentException("a transit key was asked for, but the policy of " + server
                        + " requires no signed lockfile (pinning.signature); add it, or drop --transit-key");
            }
            Map<String, List<String>> signing = new LinkedHashMap<>();
            signing.put(key.mount() + "/sign/" + key.name(), List.of("update"));
            signing.put(key.path(), List.of("read"));
            signing.putAll(SELF);
            logins.add(login(server, name + "-lock-signer", VaultPlan.Method.APPROLE, "approle", Map.of(), signing));
        });
        Optional<VaultPlan.IdentityKey> key = roles.isEmpty()
                ? Optional.empty()
                : Optional.of(new VaultPlan.IdentityKey(
                        name, List.copyOf(policy.tokens().audiences().keySet())));
        return new VaultPlan(server, name, logins, key, roles, transit);
    }

    /**
     * The plans of several servers that share one vault.
     *
     * @throws IllegalArgumentException when two servers' names collide (see the class description)
     *     or two servers name the same identity role; the message names both servers and the fix
     */
    public List<VaultPlan> plan(List<SecurityPolicy> policies) {
        Map<String, String> objects = new HashMap<>();
        Map<String, String> identityRoles = new HashMap<>();
        List<VaultPlan> plans = new ArrayList<>();
        for (SecurityPolicy policy : policies) {
            VaultPlan plan = plan(policy);
            for (VaultPlan.Login login : plan.logins()) {
                String other = objects.putIfAbsent(login.acl().name(), plan.server());
                if (other != null) {
                    throw new IllegalArgumentException("servers " + other + " and " + plan.server()
                            + " would share the vault name " + login.acl().name()
                            + " (vault folds case; '.', '_' and '-' are one): rename one in its policy's server.name");
                }
            }
            for (VaultPlan.IdentityRole role : plan.identityRoles()) {
                String other = identityRoles.putIfAbsent(role.name().toLowerCase(Locale.ROOT), plan.server());
                if (other != null) {
                    throw new IllegalArgumentException("servers " + other + " and " + plan.server()
                            + " both name identity role " + role.name()
                            + ": two servers never share a role; give each its own in tokens.audiences");
                }
            }
            plans.add(plan);
        }
        return List.copyOf(plans);
    }

    private VaultPlan.Login login(
            String server,
            String name,
            VaultPlan.Method method,
            String mount,
            Map<String, List<String>> bindings,
            Map<String, List<String>> paths) {
        VaultPlan.AuthRole role =
                new VaultPlan.AuthRole(method, mount, name, List.of(name), loginTtl, loginTtl, bindings);
        return new VaultPlan.Login(role, new VaultPlan.Acl(name, server, paths));
    }

    private static Map<String, List<String>> selfPaths() {
        Map<String, List<String>> self = new LinkedHashMap<>();
        self.put("auth/token/lookup-self", List.of("read"));
        self.put("auth/token/renew-self", List.of("update"));
        self.put("auth/token/revoke-self", List.of("update"));
        return java.util.Collections.unmodifiableMap(self);
    }

    /** Configures a {@link VaultPlanner}. Not thread-safe; each option may be set once. */
    public static final class Builder {
        private VaultPlan.Method method;
        private String mount;
        private final Map<String, List<String>> bindings = new LinkedHashMap<>();
        private Duration loginTtl = DEFAULT_LOGIN_TTL;
        private boolean loginTtlSet;
        private VaultPlan.TransitKey transit;

        private Builder() {}

        /** AppRole at {@code auth/<mount>} (the default is AppRole at {@code auth/approle}). */
        public Builder appRole(String mount) {
            setMethod(VaultPlan.Method.APPROLE, mount);
            return this;
        }

        /**
         * JWT auth at {@code auth/<mount>}: the role accepts only tokens whose {@code sub} is
         * {@code boundSubject} and whose {@code aud} holds {@code boundAudience}. The mount and its
         * keys are the operator's to configure.
         */
        public Builder jwt(String mount, String boundSubject, String boundAudience) {
            setMethod(VaultPlan.Method.JWT, mount);
            bindings.put("bound_subject", List.of(requireValue("bound subject", boundSubject)));
            bindings.put("bound_audiences", List.of(requireValue("bound audience", boundAudience)));
            return this;
        }

        /** Kubernetes auth at {@code auth/<mount>}: only the service account {@code namespace/serviceAccount}. */
        public Builder kubernetes(String mount, String namespace, String serviceAccount) {
            setMethod(VaultPlan.Method.KUBERNETES, mount);
            bindings.put("bound_service_account_names", List.of(requirePlain("service account", serviceAccount)));
            bindings.put("bound_service_account_namespaces", List.of(requirePlain("namespace", namespace)));
            return this;
        }

        /** How long login tokens live, and at most: 1 min to 1 h, default 15 min. */
        public Builder loginTtl(Duration ttl) {
            if (loginTtlSet) {
                throw new IllegalStateException("loginTtl is already set to " + loginTtl);
            }
            this.loginTtl = VaultSettings.requireBetween("loginTtl", ttl, Duration.ofMinutes(1), Duration.ofHours(1));
            loginTtlSet = true;
            return this;
        }

        /** Plans the transit key {@code <mount>/keys/<key>} for signing the server's lockfile, and a signer login. */
        public Builder transitKey(String mount, String key) {
            if (transit != null) {
                throw new IllegalStateException("the transit key is already set to " + transit.path());
            }
            transit = new VaultPlan.TransitKey(requirePlain("transit mount", mount), requirePlain("transit key", key));
            return this;
        }

        /** The planner. */
        public VaultPlanner build() {
            return new VaultPlanner(this);
        }

        private void setMethod(VaultPlan.Method chosen, String at) {
            if (method != null) {
                throw new IllegalStateException(
                        "the auth method is already " + method.name().toLowerCase(Locale.ROOT) + "; choose one");
            }
            if (at == null || !VaultCredentials.MOUNT.matcher(at).matches() || at.contains("..")) {
                throw new IllegalArgumentException(
                        "auth mount " + at + " is not a vault mount path; write it like approle or team/jwt");
            }
            method = chosen;
            mount = at;
        }

        private static String requirePlain(String what, String value) {
            if (value == null || !PLAIN.matcher(value).matches()) {
                throw new IllegalArgumentException(what + " must be letters, digits, '.', '_' or '-' but was " + value);
            }
            return value;
        }

        private static String requireValue(String what, String value) {
            if (value == null || value.isBlank() || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException(what + " must be printable ASCII without spaces but was " + value);
            }
            return value;
        }
    }
}
