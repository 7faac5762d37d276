package dev.mcpsecure.vault.internal;

import dev.mcpsecure.api.Untrusted;
import dev.mcpsecure.vault.VaultSettings;
import io.github.jopenlibs.vault.EnvironmentLoader;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonArray;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.response.LogicalResponse;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The Vault Java Driver, set up the one safe way for this library: one {@link HttpClient} per
 * identity (no proxy, no redirects), explicit timeouts, engine version 1 so that paths are sent as
 * written (the driver's default rewrites {@code identity/oidc/token/r} into a KV v2 path), no
 * driver retries (its loop retries 4xx and swallows interrupts; callers retry 5xx and I/O
 * themselves), and nothing read from the environment. Every failure becomes a {@link VaultFailure}
 * whose message holds the status and the vault's error strings, never a body.
 *
 * <p>Thread-safe: each {@link #client(String)} has its own {@link VaultConfig}, because the
 * driver keeps the token in that mutable object.
 */
public final class VaultConnection {

    private static final EnvironmentLoader NO_ENVIRONMENT = new EnvironmentLoader() {
        private static final long serialVersionUID = 1L;

        @Override
        public String loadVariable(String name) {
            return null;
        }
    };

    private final VaultSettings settings;
    private final HttpClient http;
    private final String address;

    /** A connection to the vault {@code settings} names. */
    public VaultConnection(VaultSettings settings) {
        this.settings = settings;
        this.http = httpClient(settings);
        String text = settings.address().toString();
        this.address = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
    }

    /** The one HTTP client setup for a vault: HTTP/1.1, the connect timeout, no proxy, no redirects. */
    static HttpClient httpClient(VaultSettings settings) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.connectTimeout())
                .proxy(HttpClient.Builder.NO_PROXY)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public VaultSettings settings() {
        return settings;
    }

    /** A driver client sending {@code token} ({@code null}: none), with its own configuration. */
    public Vault client(String token) {
        VaultConfig config = new VaultConfig()
                .environmentLoader(NO_ENVIRONMENT)
                .address(address)
                .httpClient(http)
                .openTimeout(seconds(settings.connectTimeout().toMillis()))
                .readTimeout(seconds(settings.readTimeout().toMillis()))
                .engineVersion(1);
        if (token != null) {
            config.token(token);
        }
        try {
            if (!settings.namespace().isEmpty()) {
                config.nameSpace(settings.namespace());
            }
            return Vault.create(config.build(), 1);
        } catch (VaultException e) {
            throw new IllegalStateException("vault client configuration for " + address + " was refused", e);
        }
    }

    /** One driver operation, which may throw the driver's exception. */
    @FunctionalInterface
    public interface DriverCall<T> {
        T call() throws VaultException;
    }

    /**
     * Runs {@code call}, translating the driver's exception.
     *
     * @param operation names the request in messages, such as {@code read identity/oidc/token/weather}
     * @throws VaultFailure classified by status or I/O cause
     */
    public <T> T call(String operation, DriverCall<T> call) {
        try {
            return call.call();
        } catch (VaultException e) {
            throw failure(operation, e);
        } catch (RuntimeException e) {
            throw new VaultFailure(
                    VaultFailure.Kind.INVALID_RESPONSE,
                    "vault at " + address + " gave an unreadable answer to " + operation + " ("
                            + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * The {@code data} object of a logical read, after checking its status (the driver returns
     * most 4xx answers without throwing).
     */
    public JsonObject data(String operation, LogicalResponse response) {
        int status = response.getRestResponse().getStatus();
        if (status != 200) {
            throw byStatus(operation, status, errors(response.getRestResponse().getBody()));
        }
        JsonObject data = response.getDataObject();
        if (data == null) {
            throw new VaultFailure(
                    VaultFailure.Kind.INVALID_RESPONSE, "vault answered " + operation + " without a data object");
        }
        return data;
    }

    /** The body of a 200 answer, for the few endpoints that do not wrap their answer in {@code data}. */
    public byte[] body(String operation, LogicalResponse response) {
        int status = response.getRestResponse().getStatus();
        if (status != 200) {
            throw byStatus(operation, status, errors(response.getRestResponse().getBody()));
        }
        return response.getRestResponse().getBody();
    }

    private VaultFailure failure(String operation, VaultException e) {
        if (e.getHttpStatusCode() > 0) {
            return byStatus(operation, e.getHttpStatusCode(), errorsInMessage(e.getMessage()));
        }
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof HttpTimeoutException) {
                return new VaultFailure(
                        VaultFailure.Kind.UNREACHABLE,
                        "vault at " + address + " did not answer " + operation + " in time (connect timeout "
                                + settings.connectTimeout().toMillis() + " ms, read timeout "
                                + settings.readTimeout().toMillis() + " ms)");
            }
            if (cause instanceof ConnectException) {
                return new VaultFailure(
                        VaultFailure.Kind.UNREACHABLE,
                        "vault at " + address + " refused the connection for " + operation + "; is it running?");
            }
            if (cause instanceof java.io.IOException) {
                return new VaultFailure(
                        VaultFailure.Kind.UNREACHABLE,
                        "vault at " + address + " could not be reached for " + operation + " ("
                                + cause.getClass().getSimpleName() + ")");
            }
        }
        return new VaultFailure(
                VaultFailure.Kind.UNREACHABLE, "vault at " + address + " could not be reached for " + operation);
    }

    private VaultFailure byStatus(String operation, int status, List<String> errors) {
        VaultFailure.Kind kind = status == 403
                ? VaultFailure.Kind.DENIED
                : status == 404
                        ? VaultFailure.Kind.NOT_FOUND
                        : status == 429 || status >= 500 ? VaultFailure.Kind.SERVER_ERROR : VaultFailure.Kind.REJECTED;
        String said = errors.isEmpty() ? "" : ": " + clip(String.join("; ", errors));
        return new VaultFailure(kind, "vault at " + address + " answered " + status + " to " + operation + said);
    }

    /** The {@code errors} strings of a vault error body; never other fields. */
    static List<String> errors(byte[] body) {
        List<String> errors = new ArrayList<>();
        if (body == null || body.length == 0) {
            return errors;
        }
        try {
            JsonValue parsed = Json.parse(new String(body, StandardCharsets.UTF_8));
            JsonValue list = parsed.isObject() ? parsed.asObject().get("errors") : null;
            if (list != null && list.isArray()) {
                JsonArray array = list.asArray();
                for (JsonValue value : array) {
                    if (value.isString()) {
                        errors.add(value.asString());
                    }
                }
            }
        } catch (RuntimeException e) {
            // not JSON: say nothing rather than echo a body
        }
        return errors;
    }

    private static List<String> errorsInMessage(String message) {
        String marker = "Response body: ";
        int at = message == null ? -1 : message.indexOf(marker);
        return at < 0
                ? List.of()
                : errors(message.substring(at + marker.length()).getBytes(StandardCharsets.UTF_8));
    }

    private static String clip(String text) {
        return Untrusted.text(text, 200);
    }

    private static int seconds(long millis) {
        return (int) Math.max(1, (millis + 999) / 1000);
    }
}
