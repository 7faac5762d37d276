package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecretSource;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.internal.pinning.ToolLint;
import dev.mcpsecure.core.internal.pipeline.GuardedStreamableProvider;
import dev.mcpsecure.core.internal.pipeline.GuardedTransportProvider;
import dev.mcpsecure.core.internal.pipeline.Pipeline;
import dev.mcpsecure.core.internal.pipeline.RedactingSources;
import dev.mcpsecure.core.internal.pipeline.Redactor;
import dev.mcpsecure.core.internal.pipeline.SecuredTool;
import dev.mcpsecure.core.internal.pipeline.ToolSurface;
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
 * <p>With {@code pinning.lockfile} in the policy, each tool must also match its pin ({@link
 * ToolPins}, {@link Lockfile}): drift refuses the build ({@link PinningException}) or, in report
 * mode, withholds the tool ({@code TOOL_DEFINITION_CHANGED}). Every listed tool carries its pin in
 * {@code _meta} under {@link ToolPins#META_KEY}.
 *
 * <p>Add tools through this builder, or while the server runs through {@link
 * Builder#runtimeTools()}: a tool added with the SDK server's own {@code addTool} bypasses the
 * pipeline, so it is never listed nor called, and a registered tool it replaces is refused.
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
        private final Map<String, Registration> declared = new LinkedHashMap<>();
        private AuditSink auditSink;
        private TokenSource tokenSource;
        private SecretSource secretSource;
        private TokenSource tokens;
        private EgressHttpClient egress;
        private SecretSource secrets;
        private boolean strict;
        private String version;
        private Duration confirmationTimeout;
        private Prepared prepared;
        private RuntimeTools runtimeTools;

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
                    McpServer.async(new GuardedTransportProvider(transport, prepared.surface(), prepared.pipeline())));
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
            Prepared prepared = prepare();
            return new McpSyncServer(
                    prepared.finish(McpServer.async(new GuardedStreamableProvider(transport, prepared.surface()))));
        }

        /**
         * Why a call to {@code toolName} must be answered without the SDK, for transports that
         * answer calls before it ({@code SecureHttpServer}): {@code null} when the SDK holds the
         * definition mcp-secure registered; else the denial ({@code TOOL_NOT_ALLOWED} for an unknown
         * name, {@code TOOL_DEFINITION_CHANGED} for a drifted or replaced tool). Thread-safe.
         *
         * @throws IllegalStateException before the server is built
         */
        public Decision refusalFor(String toolName) {
            if (prepared == null) {
                throw new IllegalStateException("build the server first");
            }
            return prepared.surface().refusal(toolName);
        }

        /**
         * How many call audit events were recorded, failed and dropped since the server was built
         * (all zero before). Thread-safe.
         */
        public AuditCounters auditCounters() {
            return prepared == null
                    ? new AuditCounters(0, 0, 0)
                    : prepared.pipeline().auditCounters();
        }

        /**
         * The handle through which the app adds and removes tools while the server runs; usable
         * once the server is built. Thread-safe.
         */
        public RuntimeTools runtimeTools() {
            if (runtimeTools == null) {
                runtimeTools = new RuntimeTools(this);
            }
            return runtimeTools;
        }

        /**
         * The lockfile that pins the tools registered so far (exposed or not, with their declared
         * risks) and the policy's programs: what the {@code lock} command writes.
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

        /** The definitions of the tools registered at start and declared for runtime. */
        private List<McpSchema.Tool> surfaceTools() {
            List<McpSchema.Tool> all = new ArrayList<>();
            tools.values().forEach(registration -> all.add(registration.tool()));
            declared.values().forEach(registration -> all.add(registration.tool()));
            return all;
        }

        /** The secured tool specifications and the filter that lists them, ready for any transport. */
        private record Prepared(
                Pipeline pipeline,
                ToolSurface surface,
                List<AsyncToolSpecification> specs,
                SecurityPolicy policy,
                String name,
                String version) {
            McpAsyncServer finish(McpServer.AsyncSpecification<?> spec) {
                McpAsyncServer built = spec.serverInfo(name, version == null ? "unversioned" : version)
                        .capabilities(McpSchema.ServerCapabilities.builder()
                                .tools(true)
                                .build())
                        .tools(specs)
                        .addToolFilter((context, tool) -> Mono.just(
                                surface.listable(tool) && VerifiedTokens.grants(context, policy, tool.name())))
                        .build();
                surface.attach(built);
                return built;
            }
        }

        private Prepared prepare() {
            if (prepared != null) {
                throw new IllegalStateException("this builder already built a server; build once");
            }
            AuditSink sink = effectiveAuditSink();
            Pipeline pipeline = new Pipeline(
                    policy,
                    redactor,
                    sink,
                    confirmationTimeout == null ? DEFAULT_CONFIRMATION_TIMEOUT : confirmationTimeout);
            ToolSurface surface;
            try {
                surface = Pinning.surface(policy.pinning(), pipeline);
            } catch (PinningException e) {
                pipeline.auditSurface(
                        null, Decision.deny(ReasonCode.LOCKFILE_INVALID, String.join("; ", e.problems())));
                pipeline.shutdown();
                throw e;
            }
            List<String> pinProblems = new ArrayList<>(surface.programDrift(policy.commands()));
            List<String> lintProblems = Pinning.lint(policy, surfaceTools(), pipeline);
            List<AsyncToolSpecification> specs = new ArrayList<>();
            List<String> refused = new ArrayList<>();
            for (Registration registration : tools.values()) {
                String name = registration.tool().name();
                Decision exposure = pipeline.guard().checkExposure(name, registration.risks());
                Decision pin = exposure.allowed() ? surface.check(registration.tool(), registration.risks()) : exposure;
                McpSchema.Tool published = ToolSurface.published(registration.tool());
                SecuredTool secured;
                if (exposure.allowed() && pin.allowed()) {
                    surface.register(published, true);
                    secured = registration.sync() != null
                            ? pipeline.secure(registration.sync(), registration.risks())
                            : pipeline.secure(registration.async(), registration.risks());
                } else if (!exposure.allowed()) {
                    refused.add(exposure.reason() + ": " + exposure.detail());
                    LOG.warn("not exposing tool '{}': {} ({})", name, exposure.detail(), exposure.reason());
                    pipeline.auditSurface(
                            name, Decision.deny(exposure.reason(), "not exposed at start: " + exposure.detail()));
                    surface.register(published, false);
                    secured = pipeline.refused(name, registration.risks());
                } else {
                    pinProblems.add(pin.detail());
                    LOG.warn("withholding tool '{}': {} ({})", name, pin.detail(), pin.reason());
                    pipeline.auditSurface(name, Decision.deny(pin.reason(), "withheld at start: " + pin.detail()));
                    surface.withhold(name, pin);
                    continue;
                }
                specs.add(new AsyncToolSpecification(published, secured::call));
            }
            if (strict && !refused.isEmpty()) {
                pipeline.shutdown();
                throw new IllegalStateException("strict mode: the policy does not expose these registered tools: "
                        + String.join("; ", refused) + ". Enable them in the policy or stop registering them.");
            }
            List<String> failures = new ArrayList<>();
            if (policy.pinning().mode() == PinningPolicy.Mode.ENFORCE) {
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
            prepared = new Prepared(
                    pipeline, surface, specs, policy, policy.server().name(), version);
            return prepared;
        }

        private void add(Registration registration) {
            if (tools.putIfAbsent(registration.tool().name(), registration) != null) {
                throw new IllegalStateException("tool '" + registration.tool().name() + "' was already added");
            }
        }

        private Prepared prepared() {
            if (prepared == null || prepared.surface().server() == null) {
                throw new IllegalStateException("build the server before adding or removing tools at runtime");
            }
            return prepared;
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
        private final Builder builder;

        private RuntimeTools(Builder builder) {
            this.builder = builder;
        }

        /**
         * Adds a sync tool declaring {@code risks} (none: {@link RiskClass#READ_ONLY}).
         *
         * @return allow when the tool is now listed and callable, else the denial
         * @throws IllegalStateException before the server is built
         */
        public Decision add(SyncToolSpecification spec, RiskClass... risks) {
            Objects.requireNonNull(spec, "spec");
            return add(spec.tool(), Builder.declared(risks), set -> builder.prepared()
                    .pipeline()
                    .secure(spec, set));
        }

        /**
         * Adds an async tool declaring {@code risks} (none: {@link RiskClass#READ_ONLY}).
         *
         * @return allow when the tool is now listed and callable, else the denial
         * @throws IllegalStateException before the server is built
         */
        public Decision add(AsyncToolSpecification spec, RiskClass... risks) {
            Objects.requireNonNull(spec, "spec");
            return add(spec.tool(), Builder.declared(risks), set -> builder.prepared()
                    .pipeline()
                    .secure(spec, set));
        }

        /**
         * Declares a tool the app may add at runtime, declaring {@code risks}, so that the {@code
         * lock} command pins it and the start-up lint reads it. Declaring neither lists nor runs
         * it; {@link #add} still checks it against the lockfile when it is added. Call it where the
         * app adds its start-up tools, so the lock command sees it.
         *
         * @throws IllegalStateException if a tool of that name was already added or declared
         */
        public RuntimeTools declare(McpSchema.Tool tool, RiskClass... risks) {
            Objects.requireNonNull(tool, "tool");
            synchronized (builder) {
                if (builder.tools.containsKey(tool.name())
                        || builder.declared.putIfAbsent(
                                        tool.name(), new Registration(tool, null, null, Builder.declared(risks)))
                                != null) {
                    throw new IllegalStateException("tool '" + tool.name() + "' was already added or declared");
                }
            }
            return this;
        }

        /**
         * Removes a tool added at start or at runtime; clients are sent {@code tools/list_changed}.
         *
         * @throws IllegalStateException before the server is built
         */
        public void remove(String name) {
            Builder.Prepared prepared = builder.prepared();
            prepared.surface().forget(name);
            prepared.surface().server().removeTool(name).block();
        }

        private synchronized Decision add(
                McpSchema.Tool tool,
                Set<RiskClass> risks,
                java.util.function.Function<Set<RiskClass>, SecuredTool> secure) {
            Builder.Prepared prepared = builder.prepared();
            Pipeline pipeline = prepared.pipeline();
            String name = tool.name();
            Decision decision = pipeline.guard().checkExposure(name, risks);
            if (decision.allowed()) {
                decision = prepared.surface().check(tool, risks);
            }
            if (decision.allowed()) {
                List<McpSchema.Tool> all = new ArrayList<>();
                prepared.surface().server().listTools().subscribe(all::add);
                all.removeIf(existing -> existing.name().equals(name));
                all.add(tool);
                List<String> findings = Pinning.lint(builder.policy, all, pipeline, name);
                if (!findings.isEmpty() && builder.policy.pinning().lint() == PinningPolicy.Lint.STRICT) {
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
                if (!prepared.surface().isRegistered(name)) {
                    prepared.surface().withhold(name, decision);
                }
                return decision;
            }
            McpSchema.Tool published = ToolSurface.published(tool);
            SecuredTool secured = secure.apply(risks);
            prepared.surface().register(published, true);
            prepared.surface()
                    .server()
                    .addTool(new AsyncToolSpecification(published, secured::call))
                    .block();
            pipeline.auditSurface(name, Decision.allow());
            return Decision.allow();
        }
    }
}
