package dev.mcpsecure.vault;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a server proves its identity to the vault. Credentials come from files (mounted secrets,
 * a Kubernetes service-account token), read again at each login so a rotated file is picked up;
 * never from environment variables or the policy. {@code toString()} prints no credential.
 */
public sealed interface VaultCredentials {

    /** The kubernetes service-account token file inside a pod. */
    Path KUBERNETES_TOKEN_FILE = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token");

    /** A short label for logs and messages, such as {@code approle at auth/approle}. */
    String describe();

    /**
     * AppRole: role_id and secret_id each in a file.
     *
     * @param mount the auth mount, {@code approle} by default
     * @param secretIdWrapped whether {@code secretIdFile} holds a response-wrapping token to unwrap
     *     (once) instead of the secret_id itself
     */
    record AppRole(String mount, Path roleIdFile, Path secretIdFile, boolean secretIdWrapped)
            implements VaultCredentials {
        /** Validates. */
        public AppRole {
            requireMount(mount);
            Objects.requireNonNull(roleIdFile, "roleIdFile");
            Objects.requireNonNull(secretIdFile, "secretIdFile");
        }

        @Override
        public String describe() {
            return "approle at auth/" + mount + (secretIdWrapped ? " (wrapped secret_id)" : "");
        }
    }

    /** JWT auth (also Kubernetes, when {@code kubernetes}): a role and a token read from a file. */
    record Jwt(String mount, String role, Path tokenFile, boolean kubernetes) implements VaultCredentials {
        /** Validates. */
        public Jwt {
            requireMount(mount);
            if (role == null || !MOUNT.matcher(role).matches()) {
                throw new IllegalArgumentException(
                        "role " + role + " is not a vault role name (letters, digits, '_', '.', '-')");
            }
            Objects.requireNonNull(tokenFile, "tokenFile");
        }

        @Override
        public String describe() {
            return (kubernetes ? "kubernetes" : "jwt") + " role " + role + " at auth/" + mount;
        }
    }

    /** A vault token given directly: for development only; logs a warning and is never renewed or revoked. */
    record Token(String token) implements VaultCredentials {
        /** Validates. */
        public Token {
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("a vault token must not be empty");
            }
        }

        @Override
        public String describe() {
            return "a fixed token (development only)";
        }

        /** Never the token. */
        @Override
        public String toString() {
            return "Token[token=██]";
        }
    }

    /** AppRole at {@code auth/approle} with plain role_id and secret_id files. */
    static VaultCredentials appRole(Path roleIdFile, Path secretIdFile) {
        return new AppRole("approle", roleIdFile, secretIdFile, false);
    }

    /** AppRole at {@code auth/approle}; {@code wrappedSecretIdFile} holds a wrapping token for the secret_id. */
    static VaultCredentials appRoleWrapped(Path roleIdFile, Path wrappedSecretIdFile) {
        return new AppRole("approle", roleIdFile, wrappedSecretIdFile, true);
    }

    /** JWT auth at {@code auth/<mount>} with the token in {@code tokenFile}. */
    static VaultCredentials jwt(String mount, String role, Path tokenFile) {
        return new Jwt(mount, role, tokenFile, false);
    }

    /** Kubernetes auth at {@code auth/kubernetes} with the pod's service-account token. */
    static VaultCredentials kubernetes(String role) {
        return new Jwt("kubernetes", role, KUBERNETES_TOKEN_FILE, true);
    }

    /** A fixed token; development only. */
    static VaultCredentials token(String token) {
        return new Token(token);
    }

    /** Vault mount and role names: letters, digits, '_', '.', '-', and '/' between segments. */
    Pattern MOUNT = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");

    private static void requireMount(String mount) {
        if (mount == null || !MOUNT.matcher(mount).matches() || mount.contains("..")) {
            throw new IllegalArgumentException(
                    "auth mount " + mount + " is not a vault mount path; write it like approle or team/jwt");
        }
    }
}
