package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecretSource;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.internal.pipeline.GuardedTransportProvider;
import dev.mcpsecure.core.internal.pipeline.Pipeline;
import dev.mcpsecure.core.internal.pipeline.RedactingSources;
import dev.mcpsecure.core.internal.pipeline.Redactor;
import dev.mcpsecure.core.internal.pipeline.SecuredTool;
import dev.mcpsecure.core.internal.pipeline.VerifiedTokens;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Builds an MCP SDK server whose tools are all behind the policy's guard pipeline.
 *
 * <p>Give it the tool specifications the app would give {@code McpServer}, each with the risk
 * classes it declares. At build:
 *
 * <ul>
 *   <li>a tool the policy does not list, or whose declared risks the policy does not enable for
 *       it, is not exposed: its code is never called, {@code tools/list} does not show it, a call
 *       to it gets {@code TOOL_NOT_ALLOWED} or {@code RISK_NOT_ENABLED}, and the build logs a
 *       warning and an audit event; {@link Builder#strict()} makes it a build error instead;
 *   <li>every exposed tool's handler is wrapped in the fixed pipeline: tool allowed, risk enabled,
 *       argument size, the tool's rate limit (for each session), concurrency (per tool and server
 *       wide), confirmation through elicitation for {@code confirm} tools, the tool under its
 *       timeout, output size cap, redaction of every token and secret value handed out through
 *       {@link Builder#tokens()} and {@link Builder#secrets()}, and one audit event.
 * </ul>
 *
 * <p>Denials and failures are error results ({@code isError}) whose text starts with the reason
 * code, which {@code _meta["dev.mcpsecure/reason"]} also carries; a failure carries an incident id
 * whose exception is only in the server log. A call to a name no one registered is answered the
 * same way ({@code TOOL_NOT_ALLOWED}, audited) before the SDK sees it, on every transport provider
 * built on {@code McpServerSession} (stdio, and the testkit's in-memory pair).
 *
 * <p>Add tools only through this builder: a tool added later with the SDK server's own {@code
 * addTool} bypasses the pipeline.
 */
public final class SecureMcpServer {

    /** How long a confirmation question waits for the user when not set. */
    public static final Duration DEFAULT_CONFIRMATION_TIMEOUT = Duration.ofMinutes(2);

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.core");

    private SecureMcpServer() {}

    /** A builder for a server enforcing {@code policy}. */
    public static Builder builder(SecurityPolicy policy) {
        return new Builder(policy);
    }

    /** Builds a secured server. Not thread-safe; build once. */
    public static final class Builder {
        private final SecurityPolicy policy;
        private final Redactor redactor = new Redactor();
        private final Map<String, Registration> tools = new LinkedHashMap<>();
        private AuditSink auditSink;
        private TokenSource tokenSource;
        private SecretSource secretSource;
        private TokenSource tokens;
        private EgressHttpClient egress;
        private SecretSource secrets;
        private boolean strict;
        private String version;
        private Duration confirmationTimeout;

        private Builder(SecurityPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /** The policy this server enforces, for tools that need its parts (such as {@code filesystem}). */
        public SecurityPolicy policy() {
            return policy;
        }

        /** Where audit events go; default {@link Slf4jAuditSink}. */
        public Builder auditSink(AuditSink sink) {
            requireUnset(auditSink, "auditSink");
            this.auditSink = Objects.requireNonNull(sink, "sink");
            return this;
        }

        /**
         * The audit sink the server will use, fixing the default now if none was set: for
         * transports that make decisions of their own (HTTP authentication) to record them.
         */
        public AuditSink effectiveAuditSink() {
            if (auditSink == null) {
                auditSink = new Slf4jAuditSink();
            }
            return auditSink;
        }

        /**
         * Where tool code gets tokens. Default: a {@link LocalTokenIssuer} (a development issuer,
         * which logs a warning) when the policy lists token audiences, otherwise none (every
         * audience refused). Set before {@link #tokens()}.
         */
        public Builder tokenSource(TokenSource source) {
            requireUnset(tokenSource, "tokenSource");
            if (tokens != null) {
                throw new IllegalStateException("set tokenSource before calling tokens()");
            }
            this.tokenSource = Objects.requireNonNull(source, "source");
            return this;
        }

        /** Where tool code gets secrets; default none (every name refused). Set before {@link #secrets()}. */
        public Builder secretSource(SecretSource source) {
            requireUnset(secretSource, "secretSource");
            if (secrets != null) {
                throw new IllegalStateException("set secretSource before calling secrets()");
            }
            this.secretSource = Objects.requireNonNull(source, "source");
            return this;
        }

        /**
         * The token source tool code must use: every token it hands out is redacted from tool
         * results. Thread-safe.
         */
        public TokenSource tokens() {
            if (tokens == null) {
                if (tokenSource == null && !policy.tokens().audiences().isEmpty()) {
                    tokenSource = LocalTokenIssuer.create(policy);
                }
                tokens = RedactingSources.tokens(tokenSource, redactor);
            }
            return tokens;
        }

        /**
         * The secret source tool code must use: every secret it hands out is redacted from tool
         * results. Thread-safe.
         */
        public SecretSource secrets() {
            if (secrets == null) {
                secrets = RedactingSources.secrets(secretSource, redactor);
            }
            return secrets;
        }

        /**
         * The HTTP client tool code must use for outbound requests: the policy's egress rules,
         * tokens from {@link #tokens()} (so they are redacted from results), and decisions to this
         * server's audit sink. Set {@code tokenSource} and {@code auditSink} first. Thread-safe;
         * one per builder.
         */
        public EgressHttpClient egress() {
            if (egress == null) {
                egress = EgressHttpClient.builder(policy)
                        .tokenSource(tokens())
                        .auditSink(effectiveAuditSink())
                        .build();
            }
            return egress;
        }

        /** Adds a sync tool declaring {@code risks} (none: {@link RiskClass#READ_ONLY}). */
        public Builder tool(SyncToolSpecification spec, RiskClass... risks) {
            add(new Registration(Objects.requireNonNull(spec, "spec").tool(), spec, null, declared(risks)));
            return this;
        }

        /** Adds an async tool declaring {@code risks} (none: {@link RiskClass#READ_ONLY}). */
        public Builder tool(AsyncToolSpecification spec, RiskClass... risks) {
            add(new Registration(Objects.requireNonNull(spec, "spec").tool(), null, spec, declared(risks)));
            return this;
        }

        /** Makes a registered tool the policy does not expose a build error rather than a warning. */
        public Builder strict() {
            this.strict = true;
            return this;
        }

        /** The version the server reports in its {@code serverInfo}; its name is the policy's server name. */
        public Builder version(String version) {
            requireUnset(this.version, "version");
            this.version = Objects.requireNonNull(version, "version");
            return this;
        }

        /** How long a confirmation question waits for the user; default {@link #DEFAULT_CONFIRMATION_TIMEOUT}. */
        public Builder confirmationTimeout(Duration timeout) {
            requireUnset(confirmationTimeout, "confirmationTimeout");
            if (timeout == null
                    || timeout.isNegative()
                    || timeout.isZero()
                    || timeout.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("confirmationTimeout must be between 1ms and 1h but was " + timeout);
            }
            this.confirmationTimeout = timeout;
            return this;
        }

        /**
         * Builds a sync server on {@code transport}.
         *
         * @throws IllegalStateException in {@link #strict()} mode, naming every tool the policy does not expose
         */
        public McpSyncServer buildSync(McpServerTransportProvider transport) {
            return new McpSyncServer(buildAsync(transport));
        }

        /**
         * Builds an async server on {@code transport}.
         *
         * @throws IllegalStateException in {@link #strict()} mode, naming every tool the policy does not expose
         */
        public McpAsyncServer buildAsync(McpServerTransportProvider transport) {
            Objects.requireNonNull(transport, "transport");
            Prepared prepared = prepare();
            return prepared.finish(
                    McpServer.async(new GuardedTransportProvider(transport, tools.keySet(), prepared.pipeline())));
        }

        /**
         * Builds a sync server on a streamable HTTP transport. Host it with {@code SecureHttpServer}
         * (module {@code mcp-secure-http}), which checks Host, Origin and bearer tokens and answers
         * calls to tools the policy does not list before the SDK sees them.
         *
         * @throws IllegalStateException in {@link #strict()} mode, naming every tool the policy does not expose
         */
        public McpSyncServer buildSync(McpStreamableServerTransportProvider transport) {
            Objects.requireNonNull(transport, "transport");
            return new McpSyncServer(prepare().finish(McpServer.async(transport)));
        }

        /** The secured tool specifications and the filter that lists them, ready for any transport. */
        private record Prepared(
                Pipeline pipeline,
                List<AsyncToolSpecification> specs,
                Set<String> exposed,
                SecurityPolicy policy,
                String name,
                String version) {
            McpAsyncServer finish(McpServer.AsyncSpecification<?> spec) {
                return spec.serverInfo(name, version == null ? "unversioned" : version)
                        .capabilities(McpSchema.ServerCapabilities.builder()
                                .tools(true)
                                .build())
                        .tools(specs)
                        .addToolFilter((context, tool) -> Mono.just(
                                exposed.contains(tool.name()) && VerifiedTokens.grants(context, policy, tool.name())))
                        .build();
            }
        }

        private Prepared prepare() {
            AuditSink sink = effectiveAuditSink();
            Pipeline pipeline = new Pipeline(
                    policy,
                    redactor,
                    sink,
                    confirmationTimeout == null ? DEFAULT_CONFIRMATION_TIMEOUT : confirmationTimeout);
            List<AsyncToolSpecification> specs = new ArrayList<>();
            Set<String> exposed = new java.util.HashSet<>();
            List<String> refused = new ArrayList<>();
            for (Registration registration : tools.values()) {
                String name = registration.tool().name();
                Decision exposure = pipeline.guard().checkExposure(name, registration.risks());
                SecuredTool secured;
                if (exposure.allowed()) {
                    exposed.add(name);
                    secured = registration.sync() != null
                            ? pipeline.secure(registration.sync(), registration.risks())
                            : pipeline.secure(registration.async(), registration.risks());
                } else {
                    refused.add(exposure.reason() + ": " + exposure.detail());
                    LOG.warn("not exposing tool '{}': {} ({})", name, exposure.detail(), exposure.reason());
                    pipeline.audit(new AuditEvent(
                            Instant.now(),
                            policy.server().name(),
                            null,
                            null,
                            null,
                            null,
                            null,
                            name,
                            false,
                            exposure.reason(),
                            null,
                            0,
                            0,
                            null,
                            "not exposed at start: " + exposure.detail(),
                            null));
                    secured = pipeline.refused(name, registration.risks());
                }
                specs.add(new AsyncToolSpecification(registration.tool(), secured::call));
            }
            if (strict && !refused.isEmpty()) {
                pipeline.shutdown();
                throw new IllegalStateException("strict mode: the policy does not expose these registered tools: "
                        + String.join("; ", refused) + ". Enable them in the policy or stop registering them.");
            }
            for (ToolPolicy listed : policy.tools()) {
                if (!tools.containsKey(listed.name())) {
                    LOG.warn("the policy lists tool '{}', but the server registers no such tool", listed.name());
                }
            }
            return new Prepared(
                    pipeline, specs, exposed, policy, policy.server().name(), version);
        }

        private void add(Registration registration) {
            if (tools.putIfAbsent(registration.tool().name(), registration) != null) {
                throw new IllegalStateException("tool '" + registration.tool().name() + "' was already added");
            }
        }

        private static Set<RiskClass> declared(RiskClass... risks) {
            EnumSet<RiskClass> set = EnumSet.of(RiskClass.READ_ONLY);
            for (RiskClass risk : risks) {
                set.add(Objects.requireNonNull(risk, "risk"));
            }
            return set;
        }

        private static void requireUnset(Object current, String option) {
            if (current != null) {
                throw new IllegalStateException(option + " was already set");
            }
        }
    }

    private record Registration(
            McpSchema.Tool tool, SyncToolSpecification sync, AsyncToolSpecification async, Set<RiskClass> risks) {}
}
