package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.EgressGuard;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.core.internal.egress.EgressDenials;
import dev.mcpsecure.core.internal.egress.EgressTarget;
import dev.mcpsecure.core.internal.egress.GuardedDns;
import dev.mcpsecure.core.internal.egress.GuardedSocketFactory;
import dev.mcpsecure.core.internal.egress.PolicyEgressGuard;
import dev.mcpsecure.core.internal.pipeline.Effects;
import dev.mcpsecure.core.internal.pipeline.Telemetries;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * The HTTP client tools must use for outbound requests: only what the policy's {@code egress}
 * rules allow, decided on the address actually connected to.
 *
 * <p>Checks, in order, for the request and again for every redirect hop: the URL as {@link
 * URI} parses it (http(s) only; no user info, backslashes, non-canonical IP literals, dot
 * segments); a rule matching scheme, host, port, path prefix and method; a token only for an
 * audience that rule names. The engine (OkHttp) resolves names only through the policy, which
 * drops special addresses (loopback, private, link-local and metadata, CGNAT, multicast, the IPv6
 * forms embedding them) that no rule for the host lists in {@code allowAddresses}, and its
 * sockets check the address once more just before connecting — so a name that resolves
 * elsewhere at connect time (DNS rebinding) is refused and no other resolution is trusted. No
 * proxy is ever used (environment and JVM proxy settings are ignored), no cookies are kept,
 * redirects are followed only up to {@link Builder#maxRedirects} and only when every hop passes,
 * and the response body is read up to {@link Builder#maxResponseBytes}.
 *
 * <p>Denials throw {@link PolicyViolationException} ({@code EGRESS_SCHEME_NOT_ALLOWED}, {@code
 * EGRESS_HOST_NOT_ALLOWED}, {@code EGRESS_ADDRESS_BLOCKED}, {@code EGRESS_REDIRECT_BLOCKED},
 * {@code RESPONSE_TOO_LARGE}, {@code TOKEN_AUDIENCE_MISMATCH}, or the token source's own) before
 * any connection is opened to a refused address, and write one audit event; allowed requests are
 * audited too, with their status. Network failures and timeouts throw {@link IOException}. The
 * {@code Authorization} header is set only from the token source, only for the token's audience,
 * and never logged. Thread-safe; share one client (and its connection pool) per server.
 */
public final class EgressHttpClient implements AutoCloseable {

    /** Resolves a host name to its addresses; replace it only to inject faults in tests. */
    @FunctionalInterface
    public interface Resolver {
        /** @throws UnknownHostException when the name does not resolve */
        List<InetAddress> resolve(String host) throws UnknownHostException;
    }

    private final Shared shared;
    private final Optional<String> audience;

    private record Shared(
            OkHttpClient engine,
            PolicyEgressGuard guard,
            TokenSource tokens,
            AuditSink audit,
            String server,
            long callTimeoutNanos,
            long maxResponseBytes,
            int maxRedirects) {}

    private EgressHttpClient(Shared shared, Optional<String> audience) {
        this.shared = shared;
        this.audience = audience;
    }

    /** A builder for a client enforcing {@code policy}'s egress rules. */
    public static Builder builder(SecurityPolicy policy) {
        return new Builder(policy);
    }

    /**
     * A view of this client that sends a token for {@code audience} (from the token source) with
     * every request, and refuses requests to hosts whose rule does not name that audience. Shares
     * this client's engine and connections.
     */
    public EgressHttpClient withTokenFor(String audience) {
        Objects.requireNonNull(audience, "audience");
        return new EgressHttpClient(shared, Optional.of(audience));
    }

    /** The guard this client decides with, for checks before building a request. */
    public EgressGuard guard() {
        return shared.guard();
    }

    /** Sends a GET of {@code url}; see {@link #send}. */
    public EgressResponse get(String url) throws IOException {
        return send(EgressRequest.get(url));
    }

    /**
     * Sends {@code request}, following allowed redirects, and reads the whole response.
     *
     * @throws PolicyViolationException when the policy refuses the request, a redirect, an
     *     address or the response size; nothing was sent to a refused destination
     * @throws IOException when the network fails or the total timeout passes
     */
    public EgressResponse send(EgressRequest request) throws IOException {
        Objects.requireNonNull(request, "request");
        long started = System.nanoTime();
        long deadline = started + shared.callTimeoutNanos();
        String method = request.method();
        byte[] body = request.bodyUnsafe();
        String description = request.method() + " " + request.url();
        URI current = null;
        try {
            for (int hop = 0; ; hop++) {
                EgressTarget target;
                try {
                    current = current == null ? EgressTarget.uri(request.url()) : current;
                    target = EgressTarget.parse(current);
                } catch (PolicyViolationException e) {
                    throw denied(hop, e.decision());
                }
                description = method + " " + target.describe();
                Decision decision = shared.guard().checkRequest(target, method, audience);
                if (!decision.allowed()) {
                    throw denied(hop, decision);
                }
                Response response = execute(target, method, body, request, deadline, hop);
                try (response) {
                    Optional<String> location = redirectLocation(response);
                    if (location.isEmpty()) {
                        byte[] content = readCapped(response.body(), target);
                        audit(Decision.allow(), description + " -> " + response.code(), started);
                        return new EgressResponse(
                                response.code(), response.headers().toMultimap(), content, current, hop);
                    }
                    if (hop >= shared.maxRedirects()) {
                        throw new PolicyViolationException(Decision.deny(
                                ReasonCode.EGRESS_REDIRECT_BLOCKED,
                                "more than " + shared.maxRedirects() + " redirects, last from " + target.describe()));
                    }
                    URI next;
                    try {
                        next = current.resolve(EgressTarget.uri(location.get()));
                    } catch (PolicyViolationException | IllegalArgumentException e) {
                        throw new PolicyViolationException(Decision.deny(
                                ReasonCode.EGRESS_REDIRECT_BLOCKED,
                                "redirect from " + target.describe() + " has an invalid Location"));
                    }
                    int code = response.code();
                    boolean keepMethod = code == 307 || code == 308 || method.equals("GET") || method.equals("HEAD");
                    if (!keepMethod) {
                        method = "GET";
                        body = null;
                    }
                    current = next;
                }
            }
        } catch (PolicyViolationException e) {
            audit(e.decision(), description, started);
            throw e;
        } catch (IOException e) {
            audit(Decision.allow(), description + " -> failed: " + e.getClass().getSimpleName(), started);
            throw e;
        }
    }

    private Response execute(
            EgressTarget target, String method, byte[] body, EgressRequest request, long deadline, int hop)
            throws IOException {
        Request.Builder builder = new Request.Builder().url(engineUrl(target));
        request.headers().forEach((name, values) -> values.forEach(value -> builder.addHeader(name, value)));
        if (body == null) {
            builder.removeHeader("content-type");
        }
        RequestBody requestBody = body != null
                ? RequestBody.create(body, MediaType.parse(request.contentType().orElse("application/octet-stream")))
                : needsBody(method) ? RequestBody.create(new byte[0], (MediaType) null) : null;
        builder.method(method, requestBody);
        // the call's trace context (W3C traceparent and tracestate; baggage stays in the server)
        Telemetries.propagation().forEach((name, value) -> {
            if (name.equals("traceparent") || name.equals("tracestate")) {
                builder.header(name, value);
            }
        });
        if (audience.isPresent()) {
            builder.header(
                    "Authorization",
                    "Bearer " + shared.tokens().token(audience.get()).value());
        }
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            throw new SocketTimeoutException("the request's total timeout passed before " + target.describe());
        }
        Call call = shared.engine().newCall(builder.build());
        call.timeout().timeout(remaining, TimeUnit.NANOSECONDS);
        try {
            return call.execute();
        } catch (IOException e) {
            Optional<Decision> denial = EgressDenials.find(e);
            if (denial.isPresent()) {
                throw denied(hop, denial.get());
            }
            throw e;
        }
    }

    private static HttpUrl engineUrl(EgressTarget target) {
        String host = target.host().startsWith("[")
                ? target.host().substring(1, target.host().length() - 1)
                : target.host();
        HttpUrl.Builder url = new HttpUrl.Builder()
                .scheme(target.scheme())
                .host(host)
                .port(target.port())
                .encodedPath(target.rawPath());
        if (target.rawQuery() != null) {
            url.encodedQuery(target.rawQuery());
        }
        HttpUrl built = url.build();
        if (target.literal().isEmpty() && !built.host().equals(target.host())) {
            throw new PolicyViolationException(Decision.deny(
                    ReasonCode.EGRESS_HOST_NOT_ALLOWED,
                    "host " + target.host() + " would be sent as " + built.host() + "; refused"));
        }
        return built;
    }

    private static boolean needsBody(String method) {
        return method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
    }

    private static Optional<String> redirectLocation(Response response) {
        int code = response.code();
        boolean redirect = code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
        return redirect ? Optional.ofNullable(response.header("Location")) : Optional.empty();
    }

    private byte[] readCapped(ResponseBody body, EgressTarget target) throws IOException {
        long max = shared.maxResponseBytes();
        if (body.contentLength() > max) {
            throw tooLarge(target, body.contentLength());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(0, Math.min(body.contentLength(), max)));
        byte[] buffer = new byte[8192];
        long total = 0;
        try (InputStream in = body.byteStream()) {
            for (int n; (n = in.read(buffer)) != -1; ) {
                total += n;
                if (total > max) {
                    throw tooLarge(target, -1);
                }
                out.write(buffer, 0, n);
            }
        }
        return out.toByteArray();
    }

    private PolicyViolationException tooLarge(EgressTarget target, long declared) {
        return new PolicyViolationException(Decision.deny(
                ReasonCode.RESPONSE_TOO_LARGE,
                "response from " + target.describe() + (declared >= 0 ? " declares " + declared + " bytes," : "")
                        + " over the " + shared.maxResponseBytes() + "-byte cap"));
    }

    private static PolicyViolationException denied(int hop, Decision decision) {
        if (hop == 0) {
            return new PolicyViolationException(decision);
        }
        return new PolicyViolationException(Decision.deny(
                ReasonCode.EGRESS_REDIRECT_BLOCKED,
                "redirect " + hop + " refused (" + decision.reason() + "): " + decision.detail()));
    }

    /**
     * Records the decision: inside a call as an effect of that call, outside any call through
     * this client's own sink (if any).
     */
    private void audit(Decision decision, String detail, long startedNanos) {
        Effects.record("egress", decision, detail, startedNanos, shared.audit(), shared.server());
    }

    /** Closes idle connections and stops the engine's threads; views made by {@link #withTokenFor} share them. */
    @Override
    public void close() {
        shared.engine().dispatcher().executorService().shutdown();
        shared.engine().connectionPool().evictAll();
    }

    /** Builds an {@link EgressHttpClient}; checks each value as it is set. Not thread-safe. */
    public static final class Builder {
        private final SecurityPolicy policy;
        private TokenSource tokens;
        private AuditSink audit;
        private Resolver resolver;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration readTimeout = Duration.ofSeconds(10);
        private Duration callTimeout = Duration.ofSeconds(30);
        private long maxResponseBytes = 1024 * 1024;
        private int maxRedirects = 5;

        private Builder(SecurityPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /** Where {@link #withTokenFor} gets tokens; default none (every audience refused). */
        public Builder tokenSource(TokenSource tokens) {
            this.tokens = Objects.requireNonNull(tokens, "tokens");
            return this;
        }

        /** Where decisions are audited; default {@link Slf4jAuditSink}. */
        public Builder auditSink(AuditSink audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The name resolver; default the JDK's. Its answers still pass the address policy. */
        public Builder resolver(Resolver resolver) {
            this.resolver = Objects.requireNonNull(resolver, "resolver");
            return this;
        }

        /** Longest wait for a TCP (and TLS) connection; default 5 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive("connectTimeout", timeout);
            return this;
        }

        /** Longest wait for the next bytes of a response; default 10 s. */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = positive("readTimeout", timeout);
            return this;
        }

        /** Longest a whole request may take, redirects and body included; default 30 s. */
        public Builder callTimeout(Duration timeout) {
            this.callTimeout = positive("callTimeout", timeout);
            return this;
        }

        /** Largest response body read, 1 byte to 256 MiB; default 1 MiB. */
        public Builder maxResponseBytes(long bytes) {
            if (bytes < 1 || bytes > 256L * 1024 * 1024) {
                throw new IllegalArgumentException("maxResponseBytes " + bytes + " is not between 1 and 268435456");
            }
            this.maxResponseBytes = bytes;
            return this;
        }

        /** Most redirects followed, 0 to 20; default 5. Past it the request is refused. */
        public Builder maxRedirects(int redirects) {
            if (redirects < 0 || redirects > 20) {
                throw new IllegalArgumentException("maxRedirects " + redirects + " is not between 0 and 20");
            }
            this.maxRedirects = redirects;
            return this;
        }

        public EgressHttpClient build() {
            PolicyEgressGuard guard = new PolicyEgressGuard(policy.egress());
            Resolver effective = resolver != null ? resolver : host -> List.of(InetAddress.getAllByName(host));
            OkHttpClient engine = new OkHttpClient.Builder()
                    .proxy(Proxy.NO_PROXY)
                    .dns(new GuardedDns(guard, effective))
                    .socketFactory(new GuardedSocketFactory(guard))
                    .followRedirects(false)
                    .followSslRedirects(false)
                    .connectTimeout(connectTimeout)
                    .readTimeout(readTimeout)
                    .writeTimeout(readTimeout)
                    .build();
            TokenSource effectiveTokens = tokens != null
                    ? tokens
                    : audience -> {
                        throw new PolicyViolationException(Decision.deny(
                                ReasonCode.TOKEN_AUDIENCE_UNKNOWN, "this egress client has no token source"));
                    };
            return new EgressHttpClient(
                    new Shared(
                            engine,
                            guard,
                            effectiveTokens,
                            audit != null ? audit : new Slf4jAuditSink(),
                            policy.server().name(),
                            callTimeout.toNanos(),
                            maxResponseBytes,
                            maxRedirects),
                    Optional.empty());
        }

        private static Duration positive(String name, Duration value) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " " + value + " must be positive");
            }
            return value;
        }
    }

    @Override
    public String toString() {
        return "EgressHttpClient[" + audience.map(a -> "token for " + a).orElse("no token") + "]";
    }
}
