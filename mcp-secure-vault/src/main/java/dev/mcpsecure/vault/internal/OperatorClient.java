package dev.mcpsecure.vault.internal;

import dev.mcpsecure.api.Untrusted;
import dev.mcpsecure.vault.VaultSettings;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Plain HTTP calls to the vault's API with an operator's token, for {@code vault apply} and
 * {@code vault check}: one request each (no retries, since an operator is watching), no proxy,
 * no redirects. The token is held only in memory and sent only as {@code X-Vault-Token}; failures
 * carry the status and the vault's error strings, never a body.
 */
public final class OperatorClient {

    private final VaultSettings settings;
    private final String token;
    private final HttpClient http;

    /** A client for the vault {@code settings} names, sending {@code token}. */
    public OperatorClient(VaultSettings settings, String token) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("an operator token is required: set VAULT_TOKEN (or BAO_TOKEN)");
        }
        this.settings = settings;
        this.token = token.strip();
        this.http = VaultConnection.httpClient(settings);
    }

    /** The {@code data} of a read, or empty when the vault holds nothing there (404). */
    public Optional<JsonObject> read(String path) {
        return send("GET", path, null, Map.of()).map(OperatorClient::data);
    }

    /** The keys a {@code LIST} returns; empty when there is nothing (404). */
    public List<String> list(String path) {
        List<String> keys = new ArrayList<>();
        send("LIST", path, null, Map.of()).map(OperatorClient::data).ifPresent(data -> {
            JsonValue array = data.get("keys");
            if (array != null && array.isArray()) {
                array.asArray().forEach(key -> keys.add(key.asString()));
            }
        });
        return keys;
    }

    /**
     * Sends {@code body} (JSON, or {@code null}) with {@code headers}; returns the whole answer,
     * empty for 204.
     *
     * @throws VaultFailure for any status but 2xx, naming the request and the vault's errors
     */
    public JsonObject write(String method, String path, String body, Map<String, String> headers) {
        return send(method, path, body, headers)
                .orElseThrow(() -> new VaultFailure(
                        VaultFailure.Kind.NOT_FOUND, "vault answered 404 to " + method + " /v1/" + path));
    }

    private Optional<JsonObject> send(String method, String path, String body, Map<String, String> headers) {
        String operation = method + " /v1/" + path;
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + "/v1/" + path))
                .timeout(settings.readTimeout())
                .header("X-Vault-Token", token)
                .method(
                        method,
                        body == null
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (!settings.namespace().isEmpty()) {
            request.header("X-Vault-Namespace", settings.namespace());
        }
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        headers.forEach(request::header);
        HttpResponse<byte[]> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new VaultFailure(
                    VaultFailure.Kind.UNREACHABLE,
                    "vault at " + settings.address() + " could not be reached for " + operation + " ("
                            + e.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VaultFailure(VaultFailure.Kind.UNREACHABLE, "interrupted during " + operation);
        }
        int status = response.statusCode();
        if (status == 404 && (method.equals("GET") || method.equals("LIST"))) {
            return Optional.empty();
        }
        if (status / 100 != 2) {
            List<String> errors = VaultConnection.errors(response.body());
            VaultFailure.Kind kind = status == 403
                    ? VaultFailure.Kind.DENIED
                    : status == 404 ? VaultFailure.Kind.NOT_FOUND : VaultFailure.Kind.REJECTED;
            throw new VaultFailure(
                    kind,
                    "vault at " + settings.address() + " answered " + status + " to " + operation
                            + (errors.isEmpty() ? "" : ": " + Untrusted.text(String.join("; ", errors), 300)));
        }
        if (response.body().length == 0) {
            return Optional.of(new JsonObject());
        }
        try {
            return Optional.of(Json.parse(new String(response.body(), StandardCharsets.UTF_8))
                    .asObject());
        } catch (RuntimeException e) {
            throw new VaultFailure(
                    VaultFailure.Kind.INVALID_RESPONSE, "vault answered " + operation + " with something not JSON");
        }
    }

    private static JsonObject data(JsonObject answer) {
        JsonValue data = answer.get("data");
        return data != null && data.isObject() ? data.asObject() : new JsonObject();
    }

    private String base() {
        String text = settings.address().toString();
        return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
    }

    /** The vault's address; never the token. */
    @Override
    public String toString() {
        return "OperatorClient[" + settings.address() + ", token=██]";
    }
}
