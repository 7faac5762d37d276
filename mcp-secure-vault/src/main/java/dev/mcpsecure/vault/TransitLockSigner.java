package dev.mcpsecure.vault;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import dev.mcpsecure.api.ServerIdentity;
import dev.mcpsecure.core.Lockfile;
import dev.mcpsecure.vault.internal.VaultFailure;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Signs an {@code mcp-secure.lock} with a key that never leaves Vault's (or OpenBao's) transit
 * engine: the detached JWS the server's {@code pinning.signature} checks, written beside the
 * lockfile as {@code <lockfile>.jws}. Keys of type {@code ecdsa-p256} sign ES256, {@code rsa-2048}
 * and larger RS256 (PKCS #1 v1.5); the JWS {@code kid} is {@code <key>:v<version>}. The public key
 * to name in the policy is {@link #publicKeyPem()}: the key's latest version, as transit exports it.
 *
 * <p>The login needs {@code update} on {@code <mount>/sign/<key>} and {@code read} on {@code
 * <mount>/keys/<key>}, nothing more. Thread-safe.
 *
 * <p>From the command line (after {@code <server> lock}):
 *
 * <pre>
 * VAULT_ADDR=https://vault.example:8200 MCP_SECURE_VAULT_ROLE_ID_FILE=... MCP_SECURE_VAULT_SECRET_ID_FILE=... \
 * java -cp app.jar dev.mcpsecure.vault.TransitLockSigner --lockfile mcp-secure.lock --key lock-signing \
 *     [--mount transit] [--public-key lock-signing.pub.pem]
 * </pre>
 */
public final class TransitLockSigner {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");

    private final VaultLogin login;
    private final String mount;
    private final String key;

    private TransitLockSigner(VaultLogin login, String mount, String key) {
        this.login = Objects.requireNonNull(login, "login");
        this.mount = requireName(mount, "mount");
        this.key = requireName(key, "key");
    }

    /**
     * A signer using the transit key {@code key} at {@code mount}.
     *
     * @throws IllegalArgumentException naming a mount or key name that is not a plain name
     */
    public static TransitLockSigner create(VaultLogin login, String mount, String key) {
        return new TransitLockSigner(login, mount, key);
    }

    /**
     * The compact detached JWS over exactly {@code lockfile} ({@code header..signature}).
     *
     * @throws dev.mcpsecure.api.PolicyViolationException {@code VAULT_UNAVAILABLE} when the vault
     *     cannot sign, naming the key and the vault's error
     * @throws IllegalStateException for a key type transit cannot sign a JWS with
     */
    public String sign(byte[] lockfile) {
        try {
            KeyInfo info = keyInfo();
            JWSHeader header = new JWSHeader.Builder(info.algorithm())
                    .keyID(key + ":v" + info.version())
                    .build();
            String signingInput = header.toBase64URL() + "." + Base64URL.encode(lockfile);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("input", Base64.getEncoder().encodeToString(signingInput.getBytes(StandardCharsets.US_ASCII)));
            body.put("hash_algorithm", "sha2-256");
            body.put("marshaling_algorithm", "jws");
            body.put("key_version", info.version());
            if (info.algorithm().equals(JWSAlgorithm.RS256)) {
                body.put("signature_algorithm", "pkcs1v15");
            }
            JsonObject data = login.writeRepeatable(mount + "/sign/" + key, body);
            JsonValue signature = data.get("signature");
            if (signature == null
                    || !signature.isString()
                    || !signature.asString().startsWith("vault:v")) {
                throw new VaultFailure(
                        VaultFailure.Kind.INVALID_RESPONSE,
                        "transit answered " + mount + "/sign/" + key + " without a signature");
            }
            String value = signature.asString();
            return header.toBase64URL() + ".." + value.substring(value.indexOf(':', "vault:".length()) + 1);
        } catch (VaultFailure failure) {
            throw failure.toViolation("signing the lockfile with transit key " + mount + "/" + key);
        }
    }

    /**
     * The PEM public key of the key's latest version: what the policy's {@code
     * pinning.signature.publicKey} file holds.
     */
    public String publicKeyPem() {
        try {
            KeyInfo info = keyInfo();
            return info.publicKeyPem();
        } catch (VaultFailure failure) {
            throw failure.toViolation("reading transit key " + mount + "/" + key);
        }
    }

    private record KeyInfo(JWSAlgorithm algorithm, int version, String publicKeyPem) {}

    private KeyInfo keyInfo() {
        JsonObject data = login.read(mount + "/keys/" + key);
        String type = data.getString("type", "");
        int version = data.getInt("latest_version", 0);
        JWSAlgorithm algorithm;
        if (type.equals("ecdsa-p256")) {
            algorithm = JWSAlgorithm.ES256;
        } else if (type.startsWith("rsa-")) {
            algorithm = JWSAlgorithm.RS256;
        } else {
            throw new IllegalStateException("transit key " + mount + "/" + key + " is of type '" + type
                    + "'; a lockfile needs ecdsa-p256 or rsa-2048 (or larger)");
        }
        JsonValue keys = data.get("keys");
        JsonValue latest = keys != null && keys.isObject() ? keys.asObject().get(String.valueOf(version)) : null;
        JsonValue pem = latest != null && latest.isObject() ? latest.asObject().get("public_key") : null;
        if (version < 1 || pem == null || !pem.isString()) {
            throw new VaultFailure(
                    VaultFailure.Kind.INVALID_RESPONSE,
                    "transit key " + mount + "/" + key + " shows no public key for its latest version");
        }
        return new KeyInfo(algorithm, version, pem.asString());
    }

    private static String requireName(String value, String what) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new IllegalArgumentException(
                    "transit " + what + " must be a plain name (letters, digits, '.', '_'," + " '-') but was " + value);
        }
        return value;
    }

    /**
     * Signs a lockfile from the command line; see the class description. Logs in with AppRole from
     * {@code MCP_SECURE_VAULT_ROLE_ID_FILE} and {@code MCP_SECURE_VAULT_SECRET_ID_FILE} at {@code
     * VAULT_ADDR} (or {@code BAO_ADDR}).
     */
    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out, System.err));
    }

    /** The command line's work; returns its exit code (0 written, 64 usage, 69 vault, 74 I/O). */
    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("--mount", "transit");
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        if (args.length % 2 != 0
                || !options.containsKey("--lockfile")
                || !options.containsKey("--key")
                || !options.keySet().stream().allMatch(option -> option.matches("--(lockfile|key|mount|public-key)"))) {
            err.println("usage: TransitLockSigner --lockfile <mcp-secure.lock> --key <transit key> [--mount transit]"
                    + " [--public-key <file to write the PEM public key to>]");
            return 64;
        }
        Optional<VaultSettings> settings = VaultSettings.fromEnvironment(env);
        String roleId = env.get("MCP_SECURE_VAULT_ROLE_ID_FILE");
        String secretId = env.get("MCP_SECURE_VAULT_SECRET_ID_FILE");
        if (settings.isEmpty() || roleId == null || secretId == null) {
            err.println(
                    "set VAULT_ADDR (or BAO_ADDR), MCP_SECURE_VAULT_ROLE_ID_FILE and MCP_SECURE_VAULT_SECRET_ID_FILE");
            return 64;
        }
        Path lockfile = Path.of(options.get("--lockfile"));
        try (VaultLogin login = VaultLogin.open(
                settings.get(),
                new ServerIdentity("lock-signer", "signs mcp-secure lockfiles"),
                VaultCredentials.appRole(Path.of(roleId), Path.of(secretId)))) {
            TransitLockSigner signer = create(login, options.get("--mount"), options.get("--key"));
            Lockfile.writeSignature(lockfile, signer.sign(Files.readAllBytes(lockfile)));
            out.println("wrote " + Lockfile.signatureFile(lockfile));
            if (options.containsKey("--public-key")) {
                Path publicKey = Path.of(options.get("--public-key"));
                writeAtomically(publicKey, signer.publicKeyPem());
                out.println("wrote " + publicKey);
            }
            return 0;
        } catch (IOException e) {
            err.println("cannot read or write: " + e.getMessage());
            return 74;
        } catch (RuntimeException e) {
            err.println(e.getMessage());
            return 69;
        }
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        Path temporary = Files.createTempFile(folder, "." + file.getFileName() + ".", ".tmp");
        try {
            Files.writeString(temporary, text, StandardCharsets.US_ASCII);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** The mount and key; never a credential. */
    @Override
    public String toString() {
        return "TransitLockSigner[" + mount + "/" + key + "]";
    }
}
