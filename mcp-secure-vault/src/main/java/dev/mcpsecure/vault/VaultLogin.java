package dev.mcpsecure.vault;

import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.ServerIdentity;
import dev.mcpsecure.vault.internal.Backoff;
import dev.mcpsecure.vault.internal.VaultConnection;
import dev.mcpsecure.vault.internal.VaultFailure;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.response.AuthResponse;
import io.github.jopenlibs.vault.response.LookupResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One server's session with the vault: it logs in as that server (AppRole, JWT, Kubernetes, or a
 * fixed token for development), keeps the vault token alive, and hands it only to the
 * {@link VaultTokenSource} and {@link VaultSecretSource} built on it.
 *
 * <ul>
 *   <li><b>One login per server.</b> Each {@link ServerIdentity} (by name) may have one open login
 *       in a JVM; two servers never share a vault token, and sources refuse a login of another
 *       server.
 *   <li><b>Renewal.</b> At about two thirds of the token's TTL (with jitter) the token is renewed;
 *       when the vault can no longer extend it (its max TTL), or it is not renewable, the server
 *       logs in again. Failures back off exponentially with jitter from 1 s to 5 min.
 *   <li><b>Revocation.</b> A request refused with 403 (token revoked or expired) causes one fresh
 *       login and one retry. 5xx and I/O failures of reads are retried twice with a short backoff.
 *   <li><b>Close.</b> {@link #close()} stops renewal and revokes the token this login obtained
 *       ({@code auth/token/revoke-self}); a fixed token is neither renewed nor revoked.
 * </ul>
 *
 * <p>Credentials are read from their files at each login (a rotated file is picked up); a
 * response-wrapped secret_id is unwrapped once and then kept in memory. Nothing here logs or
 * prints a token, secret_id or JWT. Thread-safe.
 */
public final class VaultLogin implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(VaultLogin.class);
    private static final Set<String> OPEN = ConcurrentHashMap.newKeySet();
    private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
    private static final int READ_ATTEMPTS = 3;

    private final VaultConnection connection;
    private final ServerIdentity identity;
    private final VaultCredentials credentials;
    private final Clock clock;
    private final ScheduledExecutorService renewer;
    private final ThreadPoolExecutor fetcher;
    private final AtomicReference<Session> session = new AtomicReference<>();
    private final Backoff renewalBackoff = new Backoff(MIN_BACKOFF, MAX_BACKOFF);
    private volatile String unwrappedSecretId;
    private volatile ScheduledFuture<?> nextRefresh;
    private volatile boolean closed;

    /**
     * The vault token in use and what the vault said about it.
     *
     * @param ttl zero for a token that never expires
     * @param extendable whether renewing may still extend it (false once the vault clamped a renewal)
     */
    private record Session(Vault client, Instant obtainedAt, Duration ttl, boolean extendable, long number) {}

    private VaultLogin(VaultSettings settings, ServerIdentity identity, VaultCredentials credentials, Clock clock) {
        this.connection = new VaultConnection(settings);
        this.identity = identity;
        this.credentials = credentials;
        this.clock = clock;
        String name = identity.name();
        this.renewer = new ScheduledThreadPoolExecutor(1, threads("mcp-secure-vault-renew-" + name));
        ((ScheduledThreadPoolExecutor) renewer).setRemoveOnCancelPolicy(true);
        this.fetcher = new ThreadPoolExecutor(
                4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), threads("mcp-secure-vault-fetch-" + name));
        fetcher.allowCoreThreadTimeOut(true);
    }

    /**
     * Logs in now as {@code identity}.
     *
     * @throws IllegalStateException if {@code identity} already has an open login in this JVM
     * @throws PolicyViolationException {@link ReasonCode#VAULT_UNAVAILABLE} if the login fails; the
     *     message says why (unreachable, credentials refused, unreadable credential file)
     */
    public static VaultLogin open(VaultSettings settings, ServerIdentity identity, VaultCredentials credentials) {
        return open(settings, identity, credentials, Clock.systemUTC());
    }

    static VaultLogin open(VaultSettings settings, ServerIdentity identity, VaultCredentials credentials, Clock clock) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(credentials, "credentials");
        if (!OPEN.add(identity.name())) {
            throw new IllegalStateException("server " + identity.name()
                    + " already has an open vault login in this JVM; build its token and secret sources on that"
                    + " login, or close it first (two servers must never share a vault token)");
        }
        VaultLogin login = new VaultLogin(settings, identity, credentials, clock);
        try {
            if (credentials instanceof VaultCredentials.Token) {
                LOG.warn(
                        "server {} uses a fixed vault token: for development only; use AppRole, JWT or Kubernetes"
                                + " login in production",
                        identity.name());
            }
            login.replace(login.login());
            return login;
        } catch (VaultFailure failure) {
            login.close();
            throw failure.toViolation(
                    "vault login for server " + identity.name() + " (" + credentials.describe() + ")");
        } catch (RuntimeException e) {
            login.close();
            throw e;
        }
    }

    /** The server this login belongs to. */
    public ServerIdentity identity() {
        return identity;
    }

    /** The connection settings. */
    public VaultSettings settings() {
        return connection.settings();
    }

    /** Whether {@link #close()} has been called. */
    public boolean closed() {
        return closed;
    }

    /**
     * Stops renewal and revokes the token this login obtained (best effort, bounded by the read
     * timeout). Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        renewer.shutdownNow();
        fetcher.shutdownNow();
        Session last = session.getAndSet(null);
        if (last != null && !(credentials instanceof VaultCredentials.Token)) {
            try {
                connection.call("revoke-self", () -> {
                    last.client().auth().revokeSelf();
                    return null;
                });
                LOG.info("server {}: vault token revoked", identity.name());
            } catch (VaultFailure e) {
                LOG.warn(
                        "server {}: could not revoke its vault token on close ({}); it expires on its own",
                        identity.name(),
                        e.getMessage());
            }
        }
        OPEN.remove(identity.name());
    }

    /** Names the server and the login method; never a credential. */
    @Override
    public String toString() {
        return "VaultLogin[server=" + identity.name() + ", " + credentials.describe() + ", vault="
                + connection.settings().address() + "]";
    }

    // for the sources in this package

    /**
     * @throws IllegalArgumentException if {@code policy} is for another server than this login
     */
    void requireSameServer(dev.mcpsecure.api.SecurityPolicy policy) {
        if (!policy.server().name().equals(identity.name())) {
            throw new IllegalArgumentException(
                    "the policy is for server " + policy.server().name() + " but the vault login is server "
                            + identity.name() + "'s; open a VaultLogin for each server");
        }
    }

    /** How long a caller waits for a fetch by default: the connect plus the read timeout. */
    Duration defaultWait() {
        return connection.settings().connectTimeout().plus(connection.settings().readTimeout());
    }

    ExecutorService fetcher() {
        return fetcher;
    }

    Clock clock() {
        return clock;
    }

    /**
     * The {@code data} object at {@code path}, read with this server's token: a 403 causes one
     * fresh login and one retry; 5xx and I/O failures are retried with a short backoff.
     *
     * @throws VaultFailure when the read cannot succeed
     */
    JsonObject read(String path) {
        String operation = "read " + path;
        return withSession(
                operation,
                s -> connection.data(
                        operation,
                        connection.call(operation, () -> s.client().logical().read(path))));
    }

    /**
     * The {@code data} object of a write of {@code body} to {@code path}, with the retries of
     * {@link #read}: only for writes that are safe to repeat, such as a transit signature.
     */
    JsonObject writeRepeatable(String path, Map<String, Object> body) {
        String operation = "write " + path;
        return withSession(
                operation,
                s -> connection.data(
                        operation,
                        connection.call(operation, () -> s.client().logical().write(path, body))));
    }

    /** The raw body of an answer that is not wrapped in {@code data}, such as a JWKS. */
    byte[] readRaw(String path) {
        String operation = "read " + path;
        return withSession(
                operation,
                s -> connection.body(
                        operation,
                        connection.call(operation, () -> s.client().logical().read(path))));
    }

    private interface SessionCall<T> {
        T call(Session session);
    }

    private <T> T withSession(String operation, SessionCall<T> call) {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));
        boolean renewedLogin = false;
        for (int attempt = 1; ; attempt++) {
            Session current = current();
            try {
                return call.call(current);
            } catch (VaultFailure failure) {
                if (failure.kind() == VaultFailure.Kind.DENIED && !renewedLogin) {
                    if (tokenValid(current)) {
                        throw new VaultFailure(
                                VaultFailure.Kind.DENIED,
                                failure.getMessage() + " (the token of server " + identity.name()
                                        + " is valid: its vault policy does not allow " + operation + ")");
                    }
                    renewedLogin = true;
                    LOG.info("server {}: vault no longer accepts its token; logging in again", identity.name());
                    relogin(current);
                    continue;
                }
                if (!failure.retryable() || attempt >= READ_ATTEMPTS || closed) {
                    throw failure;
                }
                sleep(backoff.next());
            }
        }
    }

    /** Whether the vault still accepts the session's token; a 403 on lookup-self means it does not. */
    private boolean tokenValid(Session s) {
        try {
            connection.call("lookup-self", () -> s.client().auth().lookupSelf());
            return true;
        } catch (VaultFailure failure) {
            if (failure.kind() == VaultFailure.Kind.DENIED) {
                return false;
            }
            throw failure;
        }
    }

    private Session current() {
        Session current = session.get();
        if (current == null) {
            throw new VaultFailure(
                    VaultFailure.Kind.UNREACHABLE, "the vault login of server " + identity.name() + " is closed");
        }
        return current;
    }

    /** Logs in again unless another thread already replaced {@code stale}. */
    private synchronized void relogin(Session stale) {
        if (session.get() != stale || closed) {
            return;
        }
        if (credentials instanceof VaultCredentials.Token) {
            throw new VaultFailure(
                    VaultFailure.Kind.DENIED,
                    "the fixed vault token of server " + identity.name() + " was refused and cannot log in again");
        }
        replace(login());
    }

    private synchronized void replace(Session fresh) {
        if (closed) {
            return;
        }
        session.set(fresh);
        ScheduledFuture<?> previous = nextRefresh;
        if (previous != null) {
            previous.cancel(false);
        }
        renewalBackoff.reset();
        scheduleRefresh(fresh);
    }

    private void scheduleRefresh(Session s) {
        if (s.ttl().isZero() || closed) {
            return; // a token that never expires (development root token)
        }
        long twoThirds = s.ttl().toMillis() * 2 / 3;
        long delay = (long) (twoThirds * ThreadLocalRandom.current().nextDouble(0.9, 1.0));
        schedule(Duration.ofMillis(delay));
    }

    private void schedule(Duration delay) {
        try {
            nextRefresh = renewer.schedule(this::refresh, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }

    /** On the renewal thread: renew while the vault extends the token, else log in again. */
    private void refresh() {
        Session s = session.get();
        if (s == null || closed) {
            return;
        }
        try {
            if (s.extendable()) {
                AuthResponse renewed = connection.call(
                        "renew-self", () -> s.client().auth().renewSelf(s.ttl().toSeconds()));
                Duration granted = Duration.ofSeconds(renewed.getAuthLeaseDuration());
                boolean extendable = renewed.isAuthRenewable() && granted.compareTo(s.ttl()) >= 0;
                Session next = new Session(s.client(), clock.instant(), granted, extendable, s.number());
                synchronized (this) {
                    if (session.compareAndSet(s, next)) {
                        renewalBackoff.reset();
                        scheduleRefresh(next);
                    }
                }
                LOG.debug("server {}: vault token renewed for {} s", identity.name(), granted.toSeconds());
            } else if (credentials instanceof VaultCredentials.Token) {
                LOG.warn("server {}: its fixed vault token can no longer be renewed and will expire", identity.name());
            } else {
                relogin(s);
            }
        } catch (VaultFailure failure) {
            if (failure.kind() == VaultFailure.Kind.DENIED && !(credentials instanceof VaultCredentials.Token)) {
                // revoked or expired: the next attempt logs in instead of renewing
                session.compareAndSet(s, new Session(s.client(), s.obtainedAt(), s.ttl(), false, s.number()));
            }
            Duration wait;
            synchronized (this) {
                wait = renewalBackoff.next();
            }
            LOG.warn(
                    "server {}: keeping its vault token alive failed ({}); retrying in {} ms",
                    identity.name(),
                    failure.getMessage(),
                    wait.toMillis());
            schedule(wait);
        }
    }

    private Session login() {
        Vault anonymous = connection.client(null);
        AuthResponse auth;
        String describe = credentials.describe();
        if (credentials instanceof VaultCredentials.AppRole appRole) {
            String roleId = readCredential(appRole.roleIdFile(), "role_id");
            String secretId = appRole.secretIdWrapped()
                    ? unwrappedSecretId(appRole)
                    : readCredential(appRole.secretIdFile(), "secret_id");
            auth = connection.call(
                    "login " + describe, () -> anonymous.auth().loginByAppRole(appRole.mount(), roleId, secretId));
        } else if (credentials instanceof VaultCredentials.Jwt jwt) {
            String token = readCredential(jwt.tokenFile(), "JWT");
            auth = connection.call("login " + describe, () -> anonymous
                    .auth()
                    .loginByJwt(
                            jwt.kubernetes() ? "kubernetes" : jwt.mount(), jwt.role(), token, "auth/" + jwt.mount()));
        } else {
            VaultCredentials.Token fixed = (VaultCredentials.Token) credentials;
            Vault client = connection.client(fixed.token());
            LookupResponse self =
                    connection.call("lookup-self", () -> client.auth().lookupSelf());
            return new Session(client, clock.instant(), Duration.ofSeconds(self.getTTL()), self.isRenewable(), 0);
        }
        String token = auth.getAuthClientToken();
        if (token == null || token.isEmpty()) {
            throw new VaultFailure(
                    VaultFailure.Kind.INVALID_RESPONSE, "vault login " + describe + " returned no token");
        }
        Duration ttl = Duration.ofSeconds(auth.getAuthLeaseDuration());
        Session previous = session.get();
        long number = previous == null ? 1 : previous.number() + 1;
        LOG.info(
                "server {}: logged in to vault {} with {} (token ttl {} s, renewable {}, login #{})",
                identity.name(),
                connection.settings().address(),
                describe,
                ttl.toSeconds(),
                auth.isAuthRenewable(),
                number);
        return new Session(connection.client(token), clock.instant(), ttl, auth.isAuthRenewable(), number);
    }

    private String unwrappedSecretId(VaultCredentials.AppRole appRole) {
        String known = unwrappedSecretId;
        if (known != null) {
            return known;
        }
        String wrapping = readCredential(appRole.secretIdFile(), "wrapped secret_id");
        Vault unwrapper = connection.client(wrapping);
        JsonObject data = connection
                .call("unwrap secret_id", () -> unwrapper.sys().wrapping().unwrap())
                .getData();
        String secretId = data == null ? null : data.getString("secret_id", null);
        if (secretId == null || secretId.isEmpty()) {
            throw new VaultFailure(
                    VaultFailure.Kind.INVALID_RESPONSE,
                    "the wrapping token in " + appRole.secretIdFile() + " did not wrap a secret_id");
        }
        unwrappedSecretId = secretId;
        return secretId;
    }

    private static String readCredential(Path file, String what) {
        try {
            String value = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (value.isEmpty()) {
                throw new VaultFailure(VaultFailure.Kind.REJECTED, "the " + what + " file " + file + " is empty");
            }
            return value;
        } catch (IOException e) {
            throw new VaultFailure(
                    VaultFailure.Kind.REJECTED,
                    "the " + what + " file " + file + " cannot be read ("
                            + e.getClass().getSimpleName() + "); mount the credential there or fix the path");
        }
    }

    private static void sleep(Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VaultFailure(VaultFailure.Kind.UNREACHABLE, "interrupted while waiting to retry the vault");
        }
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
