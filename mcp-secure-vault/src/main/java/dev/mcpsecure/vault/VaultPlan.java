package dev.mcpsecure.vault;

import dev.mcpsecure.vault.internal.AclText;
import io.github.jopenlibs.vault.json.JsonArray;
import io.github.jopenlibs.vault.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a vault must hold for one server, and nothing more: made by {@link VaultPlanner} from the
 * server's policy, applied by {@link VaultApply}, compared with a vault by {@link VaultCheck}.
 * Holds no credential.
 *
 * @param server the policy's server name
 * @param name the vault object name the server's ACL policy, auth role and identity key share
 *     ({@link VaultPlanner#objectName})
 * @param logins the server's login, then the lock signer's if the plan has a transit key; each with
 *     its own ACL policy
 * @param identityKey the identity OIDC key signing the server's tokens; empty when the policy
 *     lists no audience
 * @param identityRoles one identity-token role per audience of the policy, in the policy's order
 * @param transitKey the transit key lockfiles are signed with, if planned
 */
public record VaultPlan(
        String server,
        String name,
        List<Login> logins,
        Optional<IdentityKey> identityKey,
        List<IdentityRole> identityRoles,
        Optional<TransitKey> transitKey) {

    /** How long a response-wrapped secret_id may wait to be unwrapped when none is given: 10 minutes. */
    public static final Duration DEFAULT_WRAP_TTL = Duration.ofMinutes(10);

    /** Copies the lists. */
    public VaultPlan {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(name, "name");
        logins = List.copyOf(logins);
        Objects.requireNonNull(identityKey, "identityKey");
        identityRoles = List.copyOf(identityRoles);
        Objects.requireNonNull(transitKey, "transitKey");
    }

    /** The server's own login (the first). */
    public Login serverLogin() {
        return logins.get(0);
    }

    /** The auth methods a login can use. */
    public enum Method {
        /** AppRole: a role_id and a secret_id. */
        APPROLE,
        /** JWT auth, bound to the workload's subject and audience. */
        JWT,
        /** Kubernetes auth, bound to the pod's service account. */
        KUBERNETES
    }

    /** One login: the auth role it logs in with and the one ACL policy its tokens carry. */
    public record Login(AuthRole role, Acl acl) {
        /** Validates. */
        public Login {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(acl, "acl");
        }
    }

    /**
     * An auth role: its tokens carry exactly {@code policies} (no {@code default} policy), live
     * {@code tokenTtl} and cannot be renewed past {@code tokenMaxTtl}.
     *
     * @param bindings what binds a JWT or Kubernetes role to the workload ({@code bound_subject},
     *     {@code bound_service_account_names}...); empty for AppRole
     */
    public record AuthRole(
            Method method,
            String mount,
            String name,
            List<String> policies,
            Duration tokenTtl,
            Duration tokenMaxTtl,
            Map<String, List<String>> bindings) {
        /** Copies the collections. */
        public AuthRole {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(mount, "mount");
            Objects.requireNonNull(name, "name");
            policies = List.copyOf(policies);
            Objects.requireNonNull(tokenTtl, "tokenTtl");
            Objects.requireNonNull(tokenMaxTtl, "tokenMaxTtl");
            bindings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(bindings));
        }

        /** {@code auth/<mount>/role/<name>}. */
        public String path() {
            return "auth/" + mount + "/role/" + name;
        }

        /** The JSON body that writes the role. */
        public String body() {
            JsonObject body = new JsonObject();
            if (method == Method.JWT) {
                body.add("role_type", "jwt").add("user_claim", "sub");
            }
            bindings.forEach((key, values) -> body.add(key, strings(values)));
            body.add("token_policies", strings(policies))
                    .add("token_no_default_policy", true)
                    .add("token_ttl", seconds(tokenTtl))
                    .add("token_max_ttl", seconds(tokenMaxTtl))
                    .add("token_period", "0s");
            if (method == Method.APPROLE) {
                body.add("bind_secret_id", true).add("secret_id_num_uses", 0);
            }
            return body.toString();
        }
    }

    /**
     * An ACL policy granting exactly {@code paths} (path to capabilities, in order).
     *
     * @param server whose policy it is; its first line says so
     */
    public record Acl(String name, String server, Map<String, List<String>> paths) {
        /** Copies the map and its lists. */
        public Acl {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(server, "server");
            Map<String, List<String>> copy = new LinkedHashMap<>();
            paths.forEach((path, capabilities) -> copy.put(path, List.copyOf(capabilities)));
            paths = java.util.Collections.unmodifiableMap(copy);
        }

        /** The policy's HCL text. */
        public String text() {
            return AclText.render(server, paths);
        }
    }

    /** An identity OIDC key that may sign tokens only for {@code allowedClientIds} (the audiences). */
    public record IdentityKey(String name, List<String> allowedClientIds) {
        /** The signing algorithm the key is written with. */
        public static final String ALGORITHM = "RS256";

        /** The key's rotation period, and how long a rotated-out key still verifies. */
        public static final Duration ROTATION = Duration.ofHours(24);

        /** Copies the list. */
        public IdentityKey {
            Objects.requireNonNull(name, "name");
            allowedClientIds = List.copyOf(allowedClientIds);
        }

        /** {@code identity/oidc/key/<name>}. */
        public String path() {
            return "identity/oidc/key/" + name;
        }

        /** The JSON body that writes the key. */
        public String body() {
            return new JsonObject()
                    .add("algorithm", ALGORITHM)
                    .add("allowed_client_ids", strings(allowedClientIds))
                    .add("rotation_period", ROTATION.toHours() + "h")
                    .add("verification_ttl", ROTATION.toHours() + "h")
                    .toString();
        }
    }

    /** An identity-token role: tokens with {@code aud} = {@code clientId}, living {@code ttl}, signed by {@code key}. */
    public record IdentityRole(String name, String key, String clientId, Duration ttl) {
        /** Validates. */
        public IdentityRole {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(ttl, "ttl");
        }

        /** {@code identity/oidc/role/<name>}. */
        public String path() {
            return "identity/oidc/role/" + name;
        }

        /** The JSON body that writes the role. */
        public String body() {
            return new JsonObject()
                    .add("key", key)
                    .add("client_id", clientId)
                    .add("ttl", seconds(ttl))
                    .toString();
        }
    }

    /** A transit key of type {@code ecdsa-p256} at {@code mount}, which never leaves the vault. */
    public record TransitKey(String mount, String name) {
        /** Validates. */
        public TransitKey {
            Objects.requireNonNull(mount, "mount");
            Objects.requireNonNull(name, "name");
        }

        /** {@code <mount>/keys/<name>}. */
        public String path() {
            return mount + "/keys/" + name;
        }
    }

    /**
     * One API request of the plan, exactly as {@link VaultApply} sends it (with the operator's
     * token in {@code X-Vault-Token}, not shown).
     *
     * @param kind when it is sent and what becomes of its answer
     * @param headers headers besides the token, such as {@code X-Vault-Wrap-TTL}
     * @param body the JSON body, or {@code ""} for none
     */
    public record Request(Kind kind, String method, String path, Map<String, String> headers, String body) {

        /** When a request is sent and what becomes of its answer. */
        public enum Kind {
            /** Always sent; writes are idempotent. */
            WRITE("always"),
            /** Enables an auth method; sent only when nothing is mounted at its path. */
            ENABLE_AUTH("only when nothing is mounted at this auth path"),
            /** Enables a secrets engine; sent only when nothing is mounted at its path. */
            ENABLE_ENGINE("only when nothing is mounted at this path"),
            /** Creates a key; sent only when the key does not exist (a key is never replaced). */
            CREATE_KEY("only when the key does not exist"),
            /** Reads an AppRole's role_id: printed and written to a file. */
            ROLE_ID("the role_id: printed, and written to <out>/<role>/role_id"),
            /** Issues a response-wrapped secret_id: written to a file for the server, never printed. */
            SECRET_ID("a response-wrapped secret_id: written to <out>/<role>/secret_id, never printed");

            private final String note;

            Kind(String note) {
                this.note = note;
            }

            /** When it is sent, or what becomes of its answer. */
            public String note() {
                return note;
            }
        }

        /** Copies the headers. */
        public Request {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(path, "path");
            headers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
            Objects.requireNonNull(body, "body");
        }

        /** The request line, its headers and body, after a comment saying when it is sent. */
        @Override
        public String toString() {
            StringBuilder text = new StringBuilder();
            text.append("# ").append(kind.note()).append('\n');
            text.append(method).append(" /v1/").append(path).append('\n');
            headers.forEach((header, value) ->
                    text.append(header).append(": ").append(value).append('\n'));
            if (!body.isEmpty()) {
                text.append(body).append('\n');
            }
            return text.toString();
        }
    }

    /**
     * Every request {@link VaultApply} makes for this plan, in order; mounts are enabled only
     * where nothing is mounted, and AppRole logins end with reading the role_id and issuing a
     * response-wrapped secret_id that lives {@code wrapTtl}.
     */
    public List<Request> requests(Duration wrapTtl) {
        List<Request> requests = new ArrayList<>();
        for (String mount : authMounts()) {
            requests.add(new Request(
                    Request.Kind.ENABLE_AUTH,
                    "POST",
                    "sys/auth/" + mount,
                    Map.of(),
                    new JsonObject().add("type", "approle").toString()));
        }
        transitKey.ifPresent(key -> {
            requests.add(new Request(
                    Request.Kind.ENABLE_ENGINE,
                    "POST",
                    "sys/mounts/" + key.mount(),
                    Map.of(),
                    new JsonObject().add("type", "transit").toString()));
            requests.add(new Request(
                    Request.Kind.CREATE_KEY,
                    "POST",
                    key.path(),
                    Map.of(),
                    new JsonObject().add("type", "ecdsa-p256").toString()));
        });
        identityKey.ifPresent(key -> requests.add(write("POST", key.path(), key.body())));
        identityRoles.forEach(role -> requests.add(write("POST", role.path(), role.body())));
        for (Login login : logins) {
            requests.add(write(
                    "PUT",
                    "sys/policies/acl/" + login.acl().name(),
                    new JsonObject().add("policy", login.acl().text()).toString()));
            AuthRole role = login.role();
            requests.add(write("POST", role.path(), role.body()));
            if (role.method() == Method.APPROLE) {
                requests.add(new Request(Request.Kind.ROLE_ID, "GET", role.path() + "/role-id", Map.of(), ""));
                requests.add(new Request(
                        Request.Kind.SECRET_ID,
                        "POST",
                        role.path() + "/secret-id",
                        Map.of("X-Vault-Wrap-TTL", seconds(wrapTtl)),
                        "{}"));
            }
        }
        return List.copyOf(requests);
    }

    /** For review: each ACL policy in HCL and each role and key as the JSON the vault is sent, then the requests. */
    public String review(Duration wrapTtl) {
        StringBuilder text = new StringBuilder();
        text.append("# vault plan for server ")
                .append(server)
                .append(" (vault name ")
                .append(name)
                .append(")\n");
        for (Login login : logins) {
            text.append("\n## ACL policy ").append(login.acl().name()).append('\n');
            text.append(login.acl().text());
            text.append("\n## ")
                    .append(login.role().method().name().toLowerCase(java.util.Locale.ROOT))
                    .append(" role ")
                    .append(login.role().path())
                    .append('\n')
                    .append(login.role().body())
                    .append('\n');
        }
        identityKey.ifPresent(key -> text.append("\n## identity token key ")
                .append(key.path())
                .append('\n')
                .append(key.body())
                .append('\n'));
        for (IdentityRole role : identityRoles) {
            text.append("\n## identity token role ")
                    .append(role.path())
                    .append('\n')
                    .append(role.body())
                    .append('\n');
        }
        transitKey.ifPresent(key ->
                text.append("\n## transit key ").append(key.path()).append(" (ecdsa-p256, for signing lockfiles)\n"));
        text.append("\n## API requests, in order (X-Vault-Token: the operator's token)\n");
        for (Request request : requests(wrapTtl)) {
            text.append('\n').append(request);
        }
        return text.toString();
    }

    private List<String> authMounts() {
        return logins.stream()
                .map(Login::role)
                .filter(role -> role.method() == Method.APPROLE)
                .map(AuthRole::mount)
                .distinct()
                .toList();
    }

    private static Request write(String method, String path, String body) {
        return new Request(Request.Kind.WRITE, method, path, Map.of(), body);
    }

    static String seconds(Duration duration) {
        return duration.toSeconds() + "s";
    }

    private static JsonArray strings(List<String> values) {
        JsonArray array = new JsonArray();
        values.forEach(array::add);
        return array;
    }
}
