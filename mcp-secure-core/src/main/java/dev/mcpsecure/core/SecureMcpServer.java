package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecretSource;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.Telemetry;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.internal.pinning.ToolLint;
import dev.mcpsecure.core.internal.pipeline.AuditGate;
import dev.mcpsecure.core.internal.pipeline.Frozen;
import dev.mcpsecure.core.internal.pipeline.GuardedStreamableProvider;
import dev.mcpsecure.core.internal.pipeline.GuardedTransportProvider;
import dev.mcpsecure.core.internal.pipeline.Pipeline;
import dev.mcpsecure.core.internal.pipeline.RedactingSources;
import dev.mcpsecure.core.internal.pipeline.Redactor;
import dev.mcpsecure.core.internal.pipeline.ServerInternals;
import dev.mcpsecure.core.internal.pipeline.Telemetries;
import dev.mcpsecure.core.internal.pipeline.ToolSurface;
import dev.mcpsecure.core.internal.pipeline.VerifiedTokens;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;
import java.time.Duration;
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
 * A running MCP SDK server whose every tool call passes one call pipeline under the policy: built
 * by {@link Builder}, which only configures.
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
 * <p>With {@code pinning.lockfile} in the policy, each tool must also match its pin ({@link
 * ToolPins}, {@link Lockfile}): drift refuses the build ({@link PinningException}) or, in report
 * mode, withholds the tool ({@code TOOL_DEFINITION_CHANGED}). Every listed tool carries its pin in
 * {@code _meta} under {@link ToolPins#META_KEY}.
 *
 * <p>Add tools through the builder, or while the server runs through {@link #runtimeTools()}: a
 * tool added with the SDK server's own {@code addTool} bypasses the pipeline, so it is never
 * listed nor called, and a registered tool it replaces is refused.
 *
 * <p>Every {@code tools/call} gets a {@link dev.mcpsecure.api.CallContext} (call id, session,
 * caller, tool, argument digest, deadline) that tool code reads with {@code CallContext.current()};
 * {@link SecureFiles}, {@link SecureExec}, {@link EgressHttpClient} and the sources of {@link
 * Builder#tokens()} and {@link Builder#secrets()} audit what they do inside a call as {@code effect}
 * records carrying that call's id. Every record of the server (calls, effects, transport refusals,
 * malformed messages, start-up, the tool surface) passes one audit gate (fail mode, timeout,
 * counters).
 */
public final class SecureMcpServer implements AutoCloseable {

    /** How long a confirmation question waits for the user when not set. */
    public static final Duration DEFAULT_CONFIRMATION_TIMEOUT = Duration.ofMinutes(2);

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.core");

    static {
        ServerInternals.grant(server -> server.pipeline, server -> server.sessions);
    }

    private final McpAsyncServer async;
    private final McpSyncServer sync;
    private final Pipeline pipeline;
    private final ToolSurface surface;
    private final RuntimeTools runtimeTools;
    private final GuardedStreamableProvider sessions;

    private SecureMcpServer(
            McpAsyncServer async,
            Pipeline pipeline,
            ToolSurface surface,
            GuardedStreamableProvider sessions,
            Builder builder) {
        this.async = async;
        this.sessions = sessions;
        this.sync = new McpSyncServer(async);
        this.pipeline = pipeline;
        this.surface = surface;
        this.runtimeTools = new RuntimeTools(this, builder.policy);
        String name = builder.policy.server().name();
        Telemetries.safe(builder.telemetry).serving(new Telemetry.ServerState() {
            @Override
            public String server() {
                return name;
            }

            @Override
            public long auditRecorded() {
                return pipeline.auditCounters().recorded();
            }

            @Override
            public long auditFailed() {
                return pipeline.auditCounters().failed();
            }

            @Override
            public long auditDropped() {
                return pipeline.auditCounters().dropped();
            }

            @Override
            public int liveSessions() {
                return sessions == null ? -1 : sessions.live();
            }
        });
    }

    /** A builder for a server enforcing {@code policy}. */
    public static Builder builder(SecurityPolicy policy) {
        return new Builder(policy);
    }

    /** The SDK's sync view of this server. */
    public McpSyncServer sync() {
        return sync;
    }

    /** The SDK's async view of this server. */
    public McpAsyncServer async() {
        return async;
    }

    /** The handle through which the app adds and removes tools while the server runs. Thread-safe. */
    public RuntimeTools runtimeTools() {
        return runtimeTools;
    }

    /** How many audit records were recorded, failed and dropped since the server was built. Thread-safe. */
    public AuditCounters auditCounters() {
        return pipeline.auditCounters();
    }

    /** Closes the SDK server (its sessions and transport) and stops the tool threads. */
    @Override
    public void close() {
        try {
            sync.closeGracefully();
        } finally {
            pipeline.shutdown();
        }
    }

    /**
     * Configures a secured server; {@link #build} hands back the running {@link SecureMcpServer}.
     * Not thread-safe; build once.
     */
    public static final class Builder {
        private final SecurityPolicy policy;
        private final Redactor redactor = new Redactor();
        private final Map<String, Registration> tools = new LinkedHashMap<>();
        private final Map<String, Registration> declared = new LinkedHashMap<>();
        private AuditSink auditSink;
        private AuditGate gate;
        private TokenSource tokenSource;
        private SecretSource secretSource;
        private TokenSource tokens;
        private EgressHttpClient egress;
        private SecretSource secrets;
        private boolean strict;
        private String version;
        private Duration confirmationTimeout;
        private Telemetry telemetry = Telemetry.NONE;
        private boolean built;

        private Builder(SecurityPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /** The policy this server enforces, for tools that need its parts (such as {@code filesystem}). */
        public SecurityPolicy policy() {
            return policy;
        }

        /**
         * Where audit records go; default {@link Slf4jAuditSink}. Set it before {@link #tokens()},
         * {@link #secrets()} and {@link #egress()}, which record through it.
         */
        public Builder auditSink(AuditSink sink) {
            requireUnset(auditSink, "auditSink");
            if (gate != null) {
                throw new IllegalStateException("set auditSink before tokens(), secrets(), egress() or build");
            }
            this.auditSink = Objects.requireNonNull(sink, "sink");
            return this;
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
         * The token source tool code must use, captured when its tools are added: every token it
         * hands out is redacted from tool results, and each one (or refusal) is audited as an
         * {@code effect} of the call that asked. Thread-safe.
         */
        public TokenSource tokens() {
            if (tokens == null) {
                if (tokenSource == null && !policy.tokens().audiences().isEmpty()) {
                    tokenSource = LocalTokenIssuer.create(policy);
                }
                tokens = RedactingSources.tokens(
                        tokenSource, redactor, gate(), policy.server().name());
            }
            return tokens;
        }

        /**
         * The secret source tool code must use, captured when its tools are added: every secret
         * it hands out is redacted from tool results, and each one (or refusal) is audited as an
         * {@code effect} of the call that asked. Thread-safe.
         */
        public SecretSource secrets() {
            if (secrets == null) {
                secrets = RedactingSources.secrets(
                        secretSource, redactor, gate(), policy.server().name());
            }
            return secrets;
        }

        /**
         * The HTTP client tool code must use for outbound requests, captured when its tools are
         * added: the policy's egress rules, tokens from {@link #tokens()} (so they are redacted from
         * results), and its decisions audited through this server's audit gate. Thread-safe; one
         * per builder.
         */
        public EgressHttpClient egress() {
            if (egress == null) {
                AuditGate door = gate();
                egress = EgressHttpClient.builder(policy)
                        .tokenSource(tokens())
                        .auditSink(door::record)
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

        /**
         * Declares a tool the app may add at runtime ({@link RuntimeTools#add}), declaring {@code
         * risks}, so that the {@code lock} command pins it and the start-up lint reads it. Declaring
         * neither lists nor runs it; {@code add} still checks it against the lockfile.
         *
         * @throws IllegalStateException if a tool of that name was already added or declared
         */
        public Builder declare(McpSchema.Tool tool, RiskClass... risks) {
            Objects.requireNonNull(tool, "tool");
            if (tools.containsKey(tool.name())
                    || declared.putIfAbsent(tool.name(), new Registration(tool, null, null, declared(risks))) != null) {
                throw new IllegalStateException("tool '" + tool.name() + "' was already added or declared");
            }
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
        /**
         * Where the server reports spans, metrics and records ({@code mcp-secure-otel}'s {@code
         * McpSecureTelemetry} for OpenTelemetry); default {@link Telemetry#NONE}. It hears of each
         * call, effect and audit record after the decision is made and recorded; what it throws
         * is logged and ignored.
         *
         * @throws IllegalStateException if set twice
         */
        public Builder telemetry(Telemetry telemetry) {
            Objects.requireNonNull(telemetry, "telemetry");
            if (this.telemetry != Telemetry.NONE) {
                throw new IllegalStateException("telemetry was already set");
            }
            this.telemetry = telemetry;
            if (gate != null) {
                gate.telemetry(telemetry); // the audit door already made (start-up records) hears from now on
            }
            return this;
        }

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
         * Builds the server on a session-based transport (stdio, the testkit's in-memory pair):
         * each SDK session is wrapped so that every {@code tools/call} is screened by the pipeline
         * before the SDK sees it, and requests for methods the server does not serve are refused
         * ({@code METHOD_NOT_SERVED}) and audited.
         *
         * @throws IllegalStateException in {@link #strict()} mode, naming every tool the policy does not expose
         * @throws PinningException when the tools do not match the lockfile (enforce mode) or it cannot be trusted
         */
        public SecureMcpServer build(McpServerTransportProvider transport) {
            Objects.requireNonNull(transport, "transport");
            Prepared prepared = prepare();
            return prepared.finish(
                    McpServer.async(new GuardedTransportProvider(transport, prepared.surface(), prepared.pipeline())),
                    null,
                    this);
        }

        /**
         * Builds the server on a streamable HTTP transport. Host it with {@code SecureHttpServer}
         * (module {@code mcp-secure-http}), whose gate hands every {@code tools/call} to this
         * server's pipeline before the SDK sees it.
         *
         * @throws IllegalStateException in {@link #strict()} mode, naming every tool the policy does not expose
         * @throws PinningException when the tools do not match the lockfile (enforce mode) or it cannot be trusted
         */
        public SecureMcpServer build(McpStreamableServerTransportProvider transport) {
            Objects.requireNonNull(transport, "transport");
            Prepared prepared = prepare();
            GuardedStreamableProvider guarded =
                    new GuardedStreamableProvider(transport, prepared.surface(), prepared.pipeline());
            return prepared.finish(McpServer.async(guarded), guarded, this);
        }

        /**
         * The lockfile that pins the tools registered and declared so far (exposed or not, with
         * their declared risks) and the policy's programs: what the {@code lock} command writes.
         */
        public Lockfile lock() {
            Map<McpSchema.Tool, Set<RiskClass>> pins = new LinkedHashMap<>();
            tools.values().forEach(registration -> pins.put(registration.tool(), registration.risks()));
            declared.values().forEach(registration -> pins.put(registration.tool(), registration.risks()));
            return Lockfile.of(policy.server().name(), pins, policy.commands());
        }

        /**
         * The poisoning lint's findings on the tools registered and declared so far, each a
         * sentence naming tool, field and offset.
         */
        public List<String> lint() {
            return new ToolLint(policy.egress())
                    .check(surfaceTools()).stream()
                            .map(ToolLint.Finding::toString)
                            .toList();
        }

        /** The server's one audit gate, made once from the configured sink; for the launchers' start-up records. */
        AuditGate gate() {
            if (gate == null) {
                gate = Pipeline.gate(auditSink == null ? new Slf4jAuditSink() : auditSink, policy, telemetry);
            }
            return gate;
        }

        /** The definitions of the tools registered at start and declared for runtime. */
        private List<McpSchema.Tool> surfaceTools() {
            List<McpSchema.Tool> all = new ArrayList<>();
            tools.values().forEach(registration -> all.add(registration.tool()));
            declared.values().forEach(registration -> all.add(registration.tool()));
            return all;
        }

        /** The secured tool specifications and the surface that lists them, ready for any transport. */
        private record Prepared(
                Pipeline pipeline, ToolSurface surface, List<AsyncToolSpecification> specs, String version) {
            SecureMcpServer finish(
                    McpServer.AsyncSpecification<?> spec, GuardedStreamableProvider sessions, Builder builder) {
                SecurityPolicy policy = builder.policy;
                McpAsyncServer built = spec.serverInfo(
                                policy.server().name(), version == null ? "unversioned" : version)
                        .capabilities(McpSchema.ServerCapabilities.builder()
                                .tools(true)
                                .build())
                        .validateToolInputs(false) // the pipeline checks arguments, refusing with a reason code
                        .tools(specs)
                        .addToolFilter((context, tool) -> Mono.just(pipeline.lists(tool, VerifiedTokens.of(context))))
                        .build();
                surface.attach(built);
                return new SecureMcpServer(built, pipeline, surface, sessions, builder);
            }
        }

        private Prepared prepare() {
            if (built) {
                throw new IllegalStateException("this builder already built a server; build once");
            }
            built = true;
            Pipeline pipeline = new Pipeline(
                    policy,
                    redactor,
                    gate(),
                    McpJsonDefaults.getSchemaValidator(),
                    confirmationTimeout == null ? DEFAULT_CONFIRMATION_TIMEOUT : confirmationTimeout,
                    telemetry);
            ToolSurface surface;
            try {
                surface = Pinning.surface(policy.pinning(), pipeline);
            } catch (PinningException e) {
                pipeline.auditSurface(
                        null, Decision.deny(ReasonCode.LOCKFILE_INVALID, String.join("; ", e.problems())));
                pipeline.shutdown();
                throw e;
            }
            pipeline.surface(surface);
            List<String> pinProblems = new ArrayList<>(surface.programDrift(policy.commands()));
            List<String> lintProblems = Pinning.lint(policy, surfaceTools(), pipeline);
            List<AsyncToolSpecification> specs = new ArrayList<>();
            List<String> refused = new ArrayList<>();
            boolean report = policy.pinning().mode() == PinningPolicy.Mode.REPORT;
            for (Registration registration : tools.values()) {
                String name = registration.tool().name();
                Decision exposure = pipeline.guard().checkExposure(name, registration.risks());
                Decision pin = exposure.allowed() ? surface.check(registration.tool(), registration.risks()) : exposure;
                McpSchema.Tool published = ToolSurface.published(registration.tool());
                if (exposure.allowed() && pin.allowed()) {
                    surface.register(published, true);
                    registration.registerWith(pipeline, published);
                } else if (!exposure.allowed()) {
                    refused.add(exposure.reason() + ": " + exposure.detail());
                    LOG.warn("not exposing tool '{}': {} ({})", name, exposure.detail(), exposure.reason());
                    pipeline.auditSurface(
                            name, Decision.deny(exposure.reason(), "not exposed at start: " + exposure.detail()));
                    surface.register(published, false);
                    pipeline.registerRefused(published, registration.risks());
                } else {
                    pinProblems.add(pin.detail());
                    LOG.warn("withholding tool '{}': {} ({})", name, pin.detail(), pin.reason());
                    pipeline.auditSurface(name, Decision.deny(pin.reason(), "withheld at start: " + pin.detail()));
                    surface.withhold(name, pin);
                    continue;
                }
                specs.add(pipeline.specification(published));
            }
            if (strict && !refused.isEmpty()) {
                pipeline.shutdown();
                throw new IllegalStateException("strict mode: the policy does not expose these registered tools: "
                        + String.join("; ", refused) + ". Enable them in the policy or stop registering them.");
            }
            List<String> failures = new ArrayList<>();
            if (!report) {
                failures.addAll(pinProblems);
            } else {
                pinProblems.forEach(problem -> LOG.warn("pinning drift (report mode): {}", problem));
            }
            if (policy.pinning().lint() == PinningPolicy.Lint.STRICT) {
                failures.addAll(lintProblems);
            }
            if (!failures.isEmpty()) {
                pipeline.shutdown();
                throw new PinningException(failures);
            }
            for (ToolPolicy listed : policy.tools()) {
                if (!tools.containsKey(listed.name())) {
                    LOG.warn("the policy lists tool '{}', but the server registers no such tool", listed.name());
                }
            }
            return new Prepared(pipeline, surface, specs, version);
        }

        private void add(Registration registration) {
            if (tools.containsKey(registration.tool().name())
                    || declared.containsKey(registration.tool().name())) {
                throw new IllegalStateException("tool '" + registration.tool().name() + "' was already added");
            }
            tools.put(registration.tool().name(), registration);
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

    /** A tool as the app handed it in; {@code tool} is a deep, unmodifiable copy of its definition. */
    private record Registration(
            McpSchema.Tool tool, SyncToolSpecification sync, AsyncToolSpecification async, Set<RiskClass> risks) {
        Registration {
            tool = Frozen.tool(tool); // the app's later edits to its schema maps change nothing here
        }

        void registerWith(Pipeline pipeline, McpSchema.Tool published) {
            if (sync != null) {
                pipeline.register(published, sync, risks);
            } else {
                pipeline.register(published, async, risks);
            }
        }
    }

    /**
     * Adds and removes tools while the server runs, through the same checks as at start: the tool
     * must be one the policy exposes with its declared risks, match its pin when the policy names
     * a lockfile (in either pinning mode: a running server has nothing to refuse to start), and,
     * with {@code pinning.lint: strict}, have no poisoning findings. A tool that passes is wrapped
     * in the pipeline, listed and callable, and clients are sent {@code tools/list_changed}; one
     * that fails is neither listed nor callable (calls get its reason code), and the refusal is
     * logged and audited.
     *
     * <p>Tools added with the SDK server's own {@code addTool} bypass these checks and the
     * pipeline, so mcp-secure never lists them or lets them run, and refuses a registered name
     * whose definition such a call replaced ({@code TOOL_DEFINITION_CHANGED}).
     *
     * <p>Thread-safe. The methods block until the SDK has taken the change; do not call them on a
     * non-blocking Reactor thread.
     */
    public static final class RuntimeTools {
        private final SecureMcpServer server;
        private final SecurityPolicy policy;

        private RuntimeTools(SecureMcpServer server, SecurityPolicy policy) {
            this.server = server;
            this.policy = policy;
        }

        /**
         * Adds a sync tool declaring {@code risks} (none: {@link RiskClass#READ_ONLY}).
         *
         * @return allow when the tool is now listed and callable, else the denial
         */
        public Decision add(SyncToolSpecification spec, RiskClass... risks) {
            Objects.requireNonNull(spec, "spec");
            return add(new Registration(spec.tool(), spec, null, Builder.declared(risks)));
        }

        /**
         * Adds an async tool declaring {@code risks} (none: {@link RiskClass#READ_ONLY}).
         *
         * @return allow when the tool is now listed and callable, else the denial
         */
        public Decision add(AsyncToolSpecification spec, RiskClass... risks) {
            Objects.requireNonNull(spec, "spec");
            return add(new Registration(spec.tool(), null, spec, Builder.declared(risks)));
        }

        /** Removes a tool added at start or at runtime; clients are sent {@code tools/list_changed}. */
        public void remove(String name) {
            server.surface.forget(name);
            server.pipeline.unregister(name);
            server.async.removeTool(name).block();
        }

        private synchronized Decision add(Registration registration) {
            Pipeline pipeline = server.pipeline;
            ToolSurface surface = server.surface;
            McpSchema.Tool tool = registration.tool();
            String name = tool.name();
            Decision decision = pipeline.guard().checkExposure(name, registration.risks());
            if (decision.allowed()) {
                decision = surface.check(tool, registration.risks());
            }
            if (decision.allowed()) {
                List<McpSchema.Tool> all = new ArrayList<>();
                server.async.listTools().subscribe(all::add);
                all.removeIf(existing -> existing.name().equals(name));
                all.add(tool);
                List<String> findings = Pinning.lint(policy, all, pipeline, name);
                if (!findings.isEmpty() && policy.pinning().lint() == PinningPolicy.Lint.STRICT) {
                    decision = Decision.deny(
                            ReasonCode.TOOL_DEFINITION_SUSPICIOUS,
                            "tool '" + name + "' has poisoning findings and pinning.lint is strict: "
                                    + String.join("; ", findings));
                }
            }
            if (!decision.allowed()) {
                LOG.warn("not adding tool '{}' at runtime: {} ({})", name, decision.detail(), decision.reason());
                pipeline.auditSurface(
                        name, Decision.deny(decision.reason(), "not added at runtime: " + decision.detail()));
                if (!surface.isRegistered(name)) {
                    surface.withhold(name, decision);
                }
                return decision;
            }
            McpSchema.Tool published = ToolSurface.published(tool);
            registration.registerWith(pipeline, published);
            surface.register(published, true);
            server.async.addTool(pipeline.specification(published)).block();
            pipeline.auditSurface(name, Decision.allow());
            return Decision.allow();
        }
    }
}
