package dev.mcpsecure.vault;

import dev.mcpsecure.vault.internal.AclText;
import dev.mcpsecure.vault.internal.OperatorClient;
import dev.mcpsecure.vault.internal.VaultFailure;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Applies a {@link VaultPlan} to a vault with an operator's token, which it holds only in memory
 * and never prints or stores. Sends exactly {@link VaultPlan#requests}, and first checks, before
 * writing anything, that applying takes nothing from another server and widens nothing unasked:
 *
 * <ul>
 *   <li>an ACL policy of the plan's name that another server's plan wrote (its first line names
 *       that server) is refused always: the names collide;
 *   <li>an existing ACL policy of the name that mcp-secure did not write, or that grants less
 *       than the plan (applying would widen it), is refused unless {@code replace};
 *   <li>an identity role of the plan's name signed by another key than the server's is refused
 *       always: two servers never share a role;
 *   <li>an existing auth role of the name whose tokens carry other policies is refused unless
 *       {@code replace};
 *   <li>an existing identity key of the name that may sign for an audience the policy does not
 *       list, or whose algorithm or rotation differ from the plan's (mcp-secure did not write it
 *       so), is refused unless {@code replace}; the key shares the ACL policy's name, so another
 *       server's key is refused always with its ACL policy;
 *   <li>a JWT or Kubernetes auth mount that is not enabled is refused: configuring it is the
 *       operator's.
 * </ul>
 *
 * <p>Applying the same plan again changes nothing but issues a new secret_id. For each AppRole
 * login it writes {@code <out>/<role>/role_id} and {@code <out>/<role>/secret_id} (the
 * response-wrapping token of a new secret_id, which the server unwraps once with {@link
 * VaultCredentials#appRoleWrapped}), both readable by the owner only. Not thread-safe.
 */
public final class VaultApply {

    private final OperatorClient client;

    private VaultApply(OperatorClient client) {
        this.client = client;
    }

    /**
     * Applies to the vault {@code settings} names, as the holder of {@code operatorToken}.
     *
     * @throws IllegalArgumentException if the token is empty
     */
    public static VaultApply to(VaultSettings settings, String operatorToken) {
        return new VaultApply(new OperatorClient(settings, operatorToken));
    }

    /** Why a plan was not applied; nothing was written. */
    public static final class RefusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * What applying wrote for one AppRole login.
     *
     * @param role the AppRole role's name
     * @param roleId the role_id (not a secret on its own)
     * @param roleIdFile where the role_id was written
     * @param secretIdFile where the wrapped secret_id was written
     */
    public record Issued(String role, String roleId, Path roleIdFile, Path secretIdFile) {
        /** Validates. */
        public Issued {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(roleId, "roleId");
            Objects.requireNonNull(roleIdFile, "roleIdFile");
            Objects.requireNonNull(secretIdFile, "secretIdFile");
        }
    }

    /**
     * Applies {@code plan}.
     *
     * @param out the folder for each AppRole login's {@code <role>/role_id} and {@code
     *     <role>/secret_id}
     * @param replace whether an existing ACL policy, auth role or identity key may be widened or taken over
     * @param wrapTtl how long the wrapped secret_id may wait to be unwrapped: 10 s to 24 h
     * @return one entry per AppRole login, in the plan's order
     * @throws RefusedException when a check fails (nothing was written); the message names the
     *     object and the fix
     * @throws dev.mcpsecure.api.PolicyViolationException {@code VAULT_UNAVAILABLE} when a request fails
     * @throws UncheckedIOException when a file cannot be written
     */
    public List<Issued> apply(VaultPlan plan, Path out, boolean replace, Duration wrapTtl) {
        VaultSettings.requireBetween("wrapTtl", wrapTtl, Duration.ofSeconds(10), Duration.ofHours(24));
        Objects.requireNonNull(out, "out");
        try {
            JsonObject auth = client.read("sys/auth").orElseGet(JsonObject::new);
            refuseConflicts(plan, auth, replace);
            JsonObject mounts = plan.transitKey().isPresent()
                    ? client.read("sys/mounts").orElseGet(JsonObject::new)
                    : new JsonObject();
            List<Issued> issued = new ArrayList<>();
            String roleId = null;
            for (VaultPlan.Request request : plan.requests(wrapTtl)) {
                switch (request.kind()) {
                    case WRITE -> send(request);
                    case ENABLE_AUTH -> {
                        if (auth.get(request.path().substring("sys/auth/".length()) + "/") == null) {
                            send(request);
                        }
                    }
                    case ENABLE_ENGINE -> {
                        if (mounts.get(request.path().substring("sys/mounts/".length()) + "/") == null) {
                            send(request);
                        }
                    }
                    case CREATE_KEY -> {
                        if (client.read(request.path()).isEmpty()) {
                            send(request);
                        }
                    }
                    case ROLE_ID ->
                        roleId = string(client.read(request.path()).orElseGet(JsonObject::new), "role_id", request);
                    case SECRET_ID -> issued.add(issue(request, roleId, out));
                }
            }
            return List.copyOf(issued);
        } catch (VaultFailure failure) {
            throw failure.toViolation("vault apply for server " + plan.server());
        }
    }

    private void refuseConflicts(VaultPlan plan, JsonObject auth, boolean replace) {
        List<String> refusals = new ArrayList<>();
        for (VaultPlan.Login login : plan.logins()) {
            VaultPlan.Acl acl = login.acl();
            client.read("sys/policies/acl/" + acl.name()).ifPresent(existing -> {
                String text = existing.getString("policy", "");
                Optional<String> owner = AclText.server(text);
                if (owner.isPresent() && !owner.get().equals(plan.server())) {
                    refusals.add("ACL policy " + acl.name() + " is server " + owner.get() + "'s, and server "
                            + plan.server() + " maps to the same vault name: rename one in its policy's server.name");
                } else if (owner.isEmpty() && !replace) {
                    refusals.add("ACL policy " + acl.name()
                            + " exists and was not written by mcp-secure: review it, then apply with --replace");
                } else if (!replace) {
                    List<String> widening = widening(AclText.parse(text), acl.paths());
                    if (!widening.isEmpty()) {
                        refusals.add("applying would widen ACL policy " + acl.name() + " by " + widening
                                + ": review the plan, then apply with --replace");
                    }
                }
            });
            VaultPlan.AuthRole role = login.role();
            if (role.method() != VaultPlan.Method.APPROLE && auth.get(role.mount() + "/") == null) {
                refusals.add("no auth method is enabled at auth/" + role.mount() + ": enable and configure "
                        + role.method().name().toLowerCase(java.util.Locale.ROOT) + " auth there first");
            }
            client.read(role.path()).ifPresent(existing -> {
                List<String> policies = strings(existing.get("token_policies"));
                if (!replace && !policies.equals(role.policies())) {
                    refusals.add("auth role " + role.path() + " exists with token policies " + policies + ", not "
                            + role.policies() + ": review it, then apply with --replace");
                }
            });
        }
        plan.identityKey().ifPresent(key -> client.read(key.path()).ifPresent(existing -> {
            List<String> foreign = strings(existing.get("allowed_client_ids")).stream()
                    .filter(id -> !key.allowedClientIds().contains(id))
                    .toList();
            List<String> changed = keyChanges(existing, key);
            if (!replace && !foreign.isEmpty()) {
                refusals.add("identity key " + key.name() + " exists and may sign for " + foreign
                        + ", which the policy of server " + plan.server()
                        + " does not list (mcp-secure did not write it): review it, then apply with --replace");
            } else if (!replace && !changed.isEmpty()) {
                refusals.add("identity key " + key.name() + " exists with " + String.join(", ", changed)
                        + ": review it, then apply with --replace");
            }
        }));
        for (VaultPlan.IdentityRole role : plan.identityRoles()) {
            client.read(role.path()).ifPresent(existing -> {
                String key = existing.getString("key", "");
                if (!key.equals(role.key())) {
                    refusals.add("identity role " + role.name() + " exists on key " + key + ", not on server "
                            + plan.server() + "'s key " + role.key()
                            + ": two servers never share a role; name another role in tokens.audiences");
                }
            });
        }
        if (!refusals.isEmpty()) {
            throw new RefusedException(
                    "vault apply for server " + plan.server() + " wrote nothing:\n  " + String.join("\n  ", refusals));
        }
    }

    /** How an existing identity key differs from the one {@code key} writes (algorithm, rotation), as text. */
    private static List<String> keyChanges(JsonObject existing, VaultPlan.IdentityKey key) {
        List<String> changes = new ArrayList<>();
        String algorithm = existing.getString("algorithm", "");
        if (!algorithm.equals(VaultPlan.IdentityKey.ALGORITHM)) {
            changes.add("algorithm " + algorithm + ", not the plan's " + VaultPlan.IdentityKey.ALGORITHM);
        }
        for (String field : List.of("rotation_period", "verification_ttl")) {
            long held = seconds(existing.get(field));
            long planned = VaultPlan.IdentityKey.ROTATION.toSeconds();
            if (held != planned) {
                changes.add(field + " " + held + " s, not the plan's " + planned + " s");
            }
        }
        return changes;
    }

    /** A duration the vault answered as seconds ({@code 3600} or {@code "3600s"}); -1 when it is neither. */
    static long seconds(JsonValue value) {
        if (value != null && value.isNumber()) {
            return value.asLong();
        }
        if (value != null && value.isString() && value.asString().matches("[0-9]+s?")) {
            return Long.parseLong(value.asString().replace("s", ""));
        }
        return -1;
    }

    /** Each grant of {@code planned} that {@code existing} does not hold, as {@code path: capability}. */
    static List<String> widening(Map<String, Set<String>> existing, Map<String, List<String>> planned) {
        List<String> wider = new ArrayList<>();
        planned.forEach((path, capabilities) -> {
            Set<String> held = existing.getOrDefault(path, Set.of());
            capabilities.stream().filter(c -> !held.contains(c)).forEach(c -> wider.add(path + ": " + c));
        });
        return wider;
    }

    private void send(VaultPlan.Request request) {
        client.write(
                request.method(), request.path(), request.body().isEmpty() ? null : request.body(), request.headers());
    }

    private Issued issue(VaultPlan.Request request, String roleId, Path out) {
        String path = request.path();
        String role = path.substring(path.lastIndexOf("/role/") + "/role/".length(), path.lastIndexOf('/'));
        JsonObject answer = client.write(request.method(), path, request.body(), request.headers());
        JsonValue wrapInfo = answer.get("wrap_info");
        String wrapping =
                wrapInfo != null && wrapInfo.isObject() ? wrapInfo.asObject().getString("token", null) : null;
        if (roleId == null || wrapping == null || wrapping.isEmpty()) {
            throw new VaultFailure(
                    VaultFailure.Kind.INVALID_RESPONSE,
                    "vault answered " + path + " without a role_id or a wrapped secret_id");
        }
        Path folder = out.resolve(role);
        Path roleIdFile = folder.resolve("role_id");
        Path secretIdFile = folder.resolve("secret_id");
        try {
            Files.createDirectories(folder);
            writePrivate(roleIdFile, roleId);
            writePrivate(secretIdFile, wrapping);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the AppRole files of " + role + " under " + folder, e);
        }
        return new Issued(role, roleId, roleIdFile, secretIdFile);
    }

    private static void writePrivate(Path file, String value) throws IOException {
        Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the temporary file is already private to the user
            }
            Files.writeString(temporary, value + "\n", StandardCharsets.US_ASCII);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static String string(JsonObject data, String field, VaultPlan.Request request) {
        String value = data.getString(field, null);
        if (value == null || value.isEmpty()) {
            throw new VaultFailure(
                    VaultFailure.Kind.INVALID_RESPONSE, "vault answered " + request.path() + " without " + field);
        }
        return value;
    }

    static List<String> strings(JsonValue value) {
        List<String> strings = new ArrayList<>();
        if (value != null && value.isArray()) {
            value.asArray().forEach(item -> strings.add(item.isString() ? item.asString() : item.toString()));
        } else if (value != null && value.isString() && !value.asString().isEmpty()) {
            for (String item : value.asString().split(",")) {
                strings.add(item.strip());
            }
        }
        return strings;
    }

    /** The vault; never the token. */
    @Override
    public String toString() {
        return "VaultApply[" + client + "]";
    }
}
