package dev.mcpsecure.http;

import dev.mcpsecure.api.BearerAuthPolicy;
import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenVerifier;
import dev.mcpsecure.api.TransportPolicy;
import dev.mcpsecure.api.VerifiedToken;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.internal.pipeline.Inbound;
import dev.mcpsecure.core.internal.pipeline.ServerInternals;
import dev.mcpsecure.http.internal.Heartbeats;
import dev.mcpsecure.http.internal.HttpGate;
import dev.mcpsecure.http.internal.SessionReaper;
import dev.mcpsecure.http.internal.SessionTable;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import jakarta.servlet.DispatcherType;
import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.MinimumDataRateHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Hosts a {@link SecureMcpServer} on the MCP streamable HTTP transport in an embedded Jetty,
 * secure by default where the SDK's transport is open by default:
 *
 * <ul>
 *   <li>Listens on {@code transport.bind} (127.0.0.1 unless the policy opts in to a public bind,
 *       which also requires {@code transport.auth}).
 *   <li>Refuses a {@code Host} that is not this server's (DNS rebinding) and an {@code Origin} not
 *       in {@code transport.allowedOrigins} (403); a body over {@link Builder#maxRequestBytes}
 *       (413, never buffered whole); an unknown {@code MCP-Protocol-Version} (400).
 *   <li>With {@code transport.auth}: every request needs a bearer token that
 *       {@link JwtTokenVerifier} accepts for this server's resource URI, or gets 401 with
 *       {@code WWW-Authenticate: Bearer resource_metadata="…"}; the Protected Resource Metadata
 *       (RFC 9728) is served at {@code /.well-known/oauth-protected-resource}; a {@code tools/call}
 *       for a tool whose scopes the token lacks gets 403 {@code insufficient_scope}, and
 *       {@code tools/list} shows each caller only the tools its scopes allow.
 *   <li>The incoming token stops here: tools see the caller's {@link VerifiedToken} (subject,
 *       client id, scopes), never the token, and call other services with {@code TokenSource}
 *       tokens only.
 * </ul>
 *
 * <p>Every refusal is audited through the server's audit sink. Why Jetty:
 * {@code docs/adr/0002-http-hosting.md}. Close it to stop listening and close the MCP server.
 */
public final class SecureHttpServer implements AutoCloseable {

    /** The MCP endpoint path when none is set. */
    public static final String DEFAULT_ENDPOINT = "/mcp";
    /** The request body cap when none is set: 4 MiB. */
    public static final long DEFAULT_MAX_REQUEST_BYTES = 4L << 20;
    /** How often an open event stream gets a heartbeat comment when none is set: 15 s. */
    public static final Duration DEFAULT_STREAM_HEARTBEAT = Duration.ofSeconds(15);

    private final Server jetty;
    private final SecureMcpServer mcp;
    private final URI endpointUri;
    private final SessionReaper reaper;
    private final SessionTable sessions;
    private final Heartbeats heartbeats;

    private SecureHttpServer(
            Server jetty,
            SecureMcpServer mcp,
            URI endpointUri,
            SessionReaper reaper,
            SessionTable sessions,
            Heartbeats heartbeats) {
        this.jetty = jetty;
        this.mcp = mcp;
        this.endpointUri = endpointUri;
        this.reaper = reaper;
        this.sessions = sessions;
        this.heartbeats = heartbeats;
    }

    /** The MCP sessions live now (created, not yet deleted or expired). */
    public int liveSessions() {
        return sessions.live();
    }

    /** A builder for the server {@code server} describes (its policy gives the transport settings). */
    public static Builder builder(SecureMcpServer.Builder server, SecurityPolicy policy) {
        return new Builder(server, policy);
    }

    /** The MCP endpoint as clients reach it, such as {@code http://127.0.0.1:43117/mcp}. */
    public URI endpoint() {
        return endpointUri;
    }

    /** The port listened on. */
    public int port() {
        return endpointUri.getPort();
    }

    /** The SDK's sync view of the MCP server behind the transport. */
    public McpSyncServer mcpServer() {
        return mcp.sync();
    }

    /** The secured server behind the transport: its runtime tools and audit counters. */
    public SecureMcpServer server() {
        return mcp;
    }

    /** Stops listening and closes the MCP server. */
    @Override
    public void close() {
        reaper.close();
        heartbeats.close();
        try {
            mcp.close();
        } finally {
            try {
                jetty.stop();
            } catch (Exception e) {
                throw new IllegalStateException("the HTTP server did not stop cleanly", e);
            }
        }
    }

    /** Configures and starts a {@link SecureHttpServer}. Not thread-safe. */
    public static final class Builder {
        private final SecureMcpServer.Builder server;
        private final SecurityPolicy policy;
        private int port;
        private String endpoint = DEFAULT_ENDPOINT;
        private long maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
        private TokenVerifier verifier;
        private LongSupplier sessionClock = System::nanoTime;
        private Duration streamHeartbeat = DEFAULT_STREAM_HEARTBEAT;

        private Builder(SecureMcpServer.Builder server, SecurityPolicy policy) {
            this.server = Objects.requireNonNull(server, "server");
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /** The port to listen on; default 0 (any free port, see {@link SecureHttpServer#port()}). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be between 0 and 65535 but was " + port);
            }
            this.port = port;
            return this;
        }

        /** The MCP endpoint path; default {@link #DEFAULT_ENDPOINT}. */
        public Builder endpoint(String path) {
            if (path == null || !path.matches("/[A-Za-z0-9_./-]*") || path.contains("..")) {
                throw new IllegalArgumentException("endpoint must be a plain path such as /mcp but was " + path);
            }
            this.endpoint = path;
            return this;
        }

        /** The request body cap: 1 KiB to 64 MiB; default {@link #DEFAULT_MAX_REQUEST_BYTES}. */
        public Builder maxRequestBytes(long bytes) {
            if (bytes < 1024 || bytes > (64L << 20)) {
                throw new IllegalArgumentException("maxRequestBytes must be between 1 KiB and 64 MiB but was " + bytes);
            }
            this.maxRequestBytes = bytes;
            return this;
        }

        /**
         * The bearer-token verifier; default {@link JwtTokenVerifier#fromPolicy} of
         * {@code transport.auth}. Requires {@code transport.auth} (its resource and authorization
         * servers are published in the metadata).
         */
        public Builder tokenVerifier(TokenVerifier verifier) {
            this.verifier = Objects.requireNonNull(verifier, "verifier");
            return this;
        }

        /**
         * How often an open event stream (an SSE answer or a session's GET stream) gets an SSE
         * comment line between events: 10 ms to 5 min; default {@link #DEFAULT_STREAM_HEARTBEAT}.
         * Keeps proxies from closing a quiet stream, and is how the server finds a client that
         * went away while its call waits (a confirmation question then ends at once instead of at
         * its timeout).
         */
        public Builder streamHeartbeat(Duration period) {
            Objects.requireNonNull(period, "streamHeartbeat");
            if (period.compareTo(Duration.ofMillis(10)) < 0 || period.compareTo(Duration.ofMinutes(5)) > 0) {
                throw new IllegalArgumentException("streamHeartbeat must be between 10 ms and 5 min but was " + period);
            }
            this.streamHeartbeat = period;
            return this;
        }

        /** The clock session idleness is measured with; for tests. */
        Builder sessionClock(LongSupplier nanoTime) {
            this.sessionClock = nanoTime;
            return this;
        }

        /**
         * Builds the MCP server on the transport and starts listening.
         *
         * @throws IllegalStateException if a verifier was given without {@code transport.auth}, or
         *     the address cannot be bound (the message names it)
         */
        public SecureHttpServer start() {
            TransportPolicy transport = policy.transport();
            BearerAuthPolicy auth = transport.auth().orElse(null);
            if (verifier != null && auth == null) {
                throw new IllegalStateException(
                        "a token verifier needs transport.auth in the policy (resource, issuer, jwksUrl)");
            }
            TokenVerifier effectiveVerifier =
                    auth == null ? null : verifier != null ? verifier : JwtTokenVerifier.fromPolicy(auth);

            HttpServletStreamableServerTransportProvider provider =
                    HttpServletStreamableServerTransportProvider.builder()
                            .sessionSweepInterval(
                                    transport.sessionIdleTimeout()) // drops sessions idle that long, and those the
                            // reaper ended
                            .mcpEndpoint(endpoint)
                            .maxRequestSize((int) Math.min(Integer.MAX_VALUE, maxRequestBytes))
                            .contextExtractor(Builder::transportContext)
                            .build();

            QueuedThreadPool threads = new QueuedThreadPool(64, 4, 60_000);
            threads.setName("mcp-secure-http");
            threads.setDaemon(true);
            Server jetty = new Server(threads);
            HttpConfiguration http = new HttpConfiguration();
            http.setSendServerVersion(false);
            http.setSendXPoweredBy(false);
            http.setRequestHeaderSize(32 * 1024);

            ServerConnector connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
            connector.setHost(transport.bind());
            connector.setPort(port);
            connector.setIdleTimeout(transport.readTimeout().toMillis());
            jetty.addConnector(connector);

            try {
                connector.open();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(
                        "cannot listen on " + transport.bind() + ":" + port + " (" + e.getMessage() + ")", e);
            }
            int bound = connector.getLocalPort();
            String hostPart = transport.bind().contains(":") ? "[" + transport.bind() + "]" : transport.bind();
            URI local = URI.create("http://" + hostPart + ":" + bound + endpoint);
            String resource = auth == null ? local.toString() : auth.resource();
            URI resourceUri = URI.create(resource);
            String metadataUrl = resourceUri.getScheme() + "://" + resourceUri.getRawAuthority()
                    + "/.well-known/oauth-protected-resource"
                    + (resourceUri.getRawPath() == null ? "" : resourceUri.getRawPath());

            SessionTable sessions = new SessionTable(
                    transport.maxSessions(),
                    transport.maxSessionsPerPrincipal(),
                    transport.sessionIdleTimeout(),
                    sessionClock);
            SessionReaper reaper = new SessionReaper(sessions);
            Heartbeats heartbeats = new Heartbeats(streamHeartbeat);
            SecureMcpServer mcp = server.build(provider);
            HttpGate gate = new HttpGate(new HttpGate.Settings(
                    policy,
                    endpoint,
                    allowedHosts(transport.bind(), bound, resourceUri),
                    Set.copyOf(transport.allowedOrigins()),
                    Set.copyOf(provider.protocolVersions()),
                    maxRequestBytes,
                    effectiveVerifier,
                    resource,
                    metadataUrl,
                    auth == null ? List.of() : auth.authorizationServers(),
                    ServerInternals.pipeline(mcp),
                    sessions,
                    reaper,
                    heartbeats));
            ServletContextHandler context = new ServletContextHandler();
            context.setContextPath("/");
            ServletHolder holder = new ServletHolder(provider);
            holder.setAsyncSupported(true);
            context.addServlet(holder, "/*");
            context.addFilter(new FilterHolder(gate), "/*", EnumSet.of(DispatcherType.REQUEST));
            // a request body slower than this on average is cut off (reads fail): a client trickling
            // bytes cannot hold a worker thread; responses (SSE streams) have no minimum rate
            jetty.setHandler(new MinimumDataRateHandler(context, TransportPolicy.MIN_REQUEST_BYTES_PER_SECOND, 0));

            try {
                jetty.start();
            } catch (Exception e) {
                reaper.close();
                heartbeats.close();
                mcp.close();
                try {
                    jetty.stop();
                } catch (Exception stopping) {
                    e.addSuppressed(stopping);
                }
                throw new IllegalStateException("cannot start the HTTP server on " + local + ": " + e.getMessage(), e);
            }
            reaper.start(ServerInternals.sessions(mcp), reapPeriod(transport));
            ServerInternals.sessions(mcp).countLiveWith(sessions::live);
            return new SecureHttpServer(jetty, mcp, local, reaper, sessions, heartbeats);
        }

        /** What the gate learnt of a request, for the pipeline: its verified caller and its connection. */
        private static McpTransportContext transportContext(jakarta.servlet.http.HttpServletRequest request) {
            Map<String, Object> known = new java.util.HashMap<>();
            if (request.getAttribute(HttpGate.CALLER) instanceof VerifiedToken caller) {
                known.put(VerifiedToken.TRANSPORT_CONTEXT_KEY, caller);
            }
            for (String key : List.of(HttpGate.CONNECTION, Inbound.TELEMETRY_CONTEXT_KEY)) {
                if (request.getAttribute(key) != null) {
                    known.put(key, request.getAttribute(key));
                }
            }
            return known.isEmpty() ? McpTransportContext.EMPTY : McpTransportContext.create(known);
        }

        /** How often idle sessions are looked for: a quarter of the idle timeout, at most a minute. */
        private static Duration reapPeriod(TransportPolicy transport) {
            Duration period = transport.sessionIdleTimeout().dividedBy(4);
            return period.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : period;
        }

        /** {@code host:port} forms a client may send for this server, lower case. */
        private static Set<String> allowedHosts(String bind, int port, URI resource) {
            Set<String> hosts = new LinkedHashSet<>();
            if (Cidr.isLoopbackHost(bind)) {
                hosts.add("localhost:" + port);
                hosts.add("127.0.0.1:" + port);
                hosts.add("[::1]:" + port);
            } else {
                hosts.add((bind.contains(":") ? "[" + bind + "]" : bind) + ":" + port);
            }
            if (resource.getHost() != null) {
                String host = resource.getHost().toLowerCase(Locale.ROOT);
                int resourcePort = resource.getPort();
                int defaultPort = "https".equalsIgnoreCase(resource.getScheme()) ? 443 : 80;
                if (resourcePort == -1 || resourcePort == defaultPort) {
                    hosts.add(host);
                    hosts.add(host + ":" + defaultPort);
                } else {
                    hosts.add(host + ":" + resourcePort);
                }
            }
            return Set.copyOf(hosts);
        }
    }
}
