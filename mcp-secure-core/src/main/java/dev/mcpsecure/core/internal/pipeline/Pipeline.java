package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.CallContext;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.Telemetry;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.Untrusted;
import dev.mcpsecure.api.VerifiedToken;
import dev.mcpsecure.api.internal.CurrentCall;
import dev.mcpsecure.core.AuditCounters;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.ElicitResult;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The one call pipeline of a server: every {@code tools/call}, on every transport, passes {@link
 * #call}, whose steps stand in that one method in their fixed order. Transports only hand calls
 * in ({@link Inbound}) and map the outcome to their protocol; none decides admission itself. Also
 * the server's one audit door ({@link #audit}): every record of the server passes the same gate
 * (fail mode, timeout, counters). Thread-safe.
 */
public final class Pipeline {

    /** The Reactor context key under which an async tool finds its {@link CallContext}. */
    public static final Class<CallContext> CONTEXT_KEY = CallContext.class;

    private static final Set<String> SERVED_METHODS = Set.of(
            McpSchema.METHOD_INITIALIZE,
            McpSchema.METHOD_PING,
            McpSchema.METHOD_TOOLS_LIST,
            McpSchema.METHOD_TOOLS_CALL,
            McpSchema.METHOD_LOGGING_SET_LEVEL);

    /** The tool name telemetry is given for a call naming no tool of this server. */
    public static final String UNKNOWN_TOOL = "_unknown";

    /** The longest arguments (canonical JSON, in characters) a confirmation question shows. */
    static final int MAX_CONFIRMATION_ARGUMENTS = 2_000;

    private final String serverName;
    private final PolicyToolGuard guard;
    private final Semaphore serverPermits;
    private final Redactor redactor;
    private final AuditGate auditGate;
    private final boolean includeArguments;
    private final Duration confirmationTimeout;
    private final Incidents incidents = new Incidents();
    private final ExecutorService toolThreads;
    private final JsonSchemaValidator schemas;
    private final Map<String, SecuredTool> tools = new ConcurrentHashMap<>();
    private final PendingConfirmations pending = new PendingConfirmations();
    private final Telemetry telemetry;
    private final String callPrefix;
    private final AtomicLong calls = new AtomicLong();
    private volatile ToolSurface surface;

    /**
     * @param gate the server's audit door
     * @param schemas checks arguments against input schemas
     * @param confirmationTimeout how long a confirmation question waits for the user
     * @param telemetry told when each call starts, its effects, and how it ended
     */
    public Pipeline(
            SecurityPolicy policy,
            Redactor redactor,
            AuditGate gate,
            JsonSchemaValidator schemas,
            Duration confirmationTimeout,
            Telemetry telemetry) {
        this.telemetry = Telemetries.safe(telemetry);
        this.serverName = policy.server().name();
        this.guard = new PolicyToolGuard(policy, System::nanoTime);
        this.serverPermits = new Semaphore(policy.limits().maxConcurrentCalls());
        this.redactor = redactor;
        this.auditGate = gate;
        this.schemas = schemas;
        this.includeArguments = policy.audit().includeArguments();
        this.confirmationTimeout = confirmationTimeout;
        this.toolThreads = Executors.newCachedThreadPool(daemonThreads("mcp-secure-tool-"));
        byte[] prefix = new byte[4];
        new SecureRandom().nextBytes(prefix);
        this.callPrefix = HexFormat.of().formatHex(prefix) + "-";
    }

    /**
     * The audit door of a server, for records made before a pipeline exists (start-up) and then
     * by it; {@code telemetry} hears of every record.
     */
    public static AuditGate gate(AuditSink sink, SecurityPolicy policy, Telemetry telemetry) {
        return new AuditGate(sink, policy.audit(), System::nanoTime, Telemetries.safe(telemetry));
    }

    /**
     * Serves one call: every step, in this order, each refusing with its reason code.
     *
     * <ol>
     *   <li>admission: the name is a tool mcp-secure registered and still holds (not withheld for
     *       drift, not replaced), the policy lists it and enables its risks, the caller's token
     *       carries its scopes;
     *   <li>arguments: size limit, then the tool's input schema;
     *   <li>rate limit of the tool for this caller (its principal when authenticated, else its
     *       session);
     *   <li>confirmation by the user, for {@code confirm} tools, before any permit is taken (an
     *       unanswered question holds no slot);
     *   <li>concurrency: server-wide and the tool's own permits;
     *   <li>the tool's code, under its deadline, with the call bound as {@link CallContext};
     *   <li>output size cap;
     *   <li>redaction of every token and secret handed out;
     *   <li>one {@link AuditEvent.Kind#CALL} record; fail closed, a result that cannot be
     *       recorded is withheld.
     * </ol>
     *
     * Nothing the tool throws reaches the client except as a reason code and incident id.
     */
    public Mono<CallToolResult> call(Inbound inbound) {
        return Mono.defer(() -> {
            Call call = open(inbound);
            SecuredTool tool = tools.get(inbound.tool());
            Decision decision = admit(inbound.tool(), inbound.caller(), tool);
            if (decision.allowed()) {
                decision = checkArguments(call, tool);
            }
            if (decision.allowed()) {
                decision = guard.checkRate(tool.name(), rateKey(inbound));
            }
            if (!decision.allowed() || inbound.exchange() == null) {
                return Mono.just(finish(call, Outcome.denied(decision.allowed() ? unroutable(call) : decision)));
            }
            return confirm(call, tool)
                    .flatMap(confirmed -> {
                        if (!confirmed.allowed()) {
                            return Mono.just(Outcome.denied(confirmed));
                        }
                        Permits permits = Permits.acquire(serverPermits, tool);
                        if (permits.refusal() != null) {
                            return Mono.just(Outcome.denied(permits.refusal()));
                        }
                        return invoke(call, tool, permits)
                                .map(outcome -> capOutput(tool, outcome))
                                .map(this::redact)
                                .doOnCancel(permits::releaseUnlessHanded)
                                .doOnError(error -> permits.releaseUnlessHanded());
                    })
                    .map(outcome -> finish(call, outcome))
                    .doOnCancel(call.observation::abandon)
                    .doOnError(error -> call.observation.abandon());
        });
    }

    /**
     * The admission step alone, for a transport that must answer a call before the SDK sees it:
     * empty when the call may go on to the SDK (where {@link #call} runs every step); else the
     * refusal, already audited as the call's one record, for the transport to map to its status.
     */
    public Optional<Refusal> screen(String tool, VerifiedToken caller, Supplier<Inbound> details) {
        String name = Objects.requireNonNullElse(tool, "");
        Decision decision = admit(name, caller, tools.get(name));
        if (decision.allowed()) {
            return Optional.empty(); // nothing opened, digested or recorded: the SDK's call does that
        }
        return Optional.of(new Refusal(decision, finish(open(details.get()), Outcome.denied(decision))));
    }

    /**
     * Whether this server serves requests of {@code method} ({@code initialize}, {@code ping},
     * {@code tools/list}, {@code tools/call}, {@code logging/setLevel}); a refusal ({@code
     * METHOD_NOT_SERVED}) is audited as a {@link AuditEvent.Kind#MESSAGE} record.
     */
    public Decision checkMethod(String method, String sessionId) {
        if (SERVED_METHODS.contains(method)) {
            return Decision.allow();
        }
        Decision refusal = Decision.deny(
                ReasonCode.METHOD_NOT_SERVED, "method '" + Untrusted.text(method) + "' is not served by this server");
        audit(AuditEvent.message(serverName, sessionId, refusal));
        return refusal;
    }

    /**
     * Whether {@code tools/list} shows {@code tool} to {@code caller} ({@code null}: no
     * authentication): the very definition mcp-secure registered and listed, and, for an
     * authenticated caller, one whose scopes the caller holds — the admission step's scope rule.
     */
    public boolean lists(McpSchema.Tool tool, VerifiedToken caller) {
        ToolSurface current = surface;
        if (current == null || !current.listable(tool)) {
            return false;
        }
        return caller == null
                || (guard.policy(tool.name()) != null
                        && guard.checkScopes(tool.name(), caller.scopes()).allowed());
    }

    /** A call refused before the SDK saw it: the decision and the result already recorded. */
    public record Refusal(Decision decision, CallToolResult result) {}

    // ---- the steps ---------------------------------------------------------------------------

    private Call open(Inbound inbound) {
        CanonicalJson arguments = CanonicalJson.of(inbound.arguments());
        McpSchema.Implementation client = inbound.client();
        VerifiedToken caller = inbound.caller();
        CallContext context = new CallContext(
                callPrefix + calls.incrementAndGet(),
                serverName,
                inbound.sessionId(),
                client == null ? null : client.name(),
                client == null ? null : client.version(),
                caller == null ? null : caller.subject(),
                caller == null || caller.clientId().isEmpty() ? null : caller.clientId(),
                shownName(inbound.tool()),
                arguments.sha256(),
                null);
        long start = System.nanoTime();
        // telemetry sees a name the client chose only when it is a tool of this server: spans and
        // metric attributes stay few (the audit record keeps the name as sent)
        CallContext observed = tools.containsKey(inbound.tool())
                ? context
                : new CallContext(
                        context.callId(),
                        context.server(),
                        context.sessionId(),
                        context.clientName(),
                        context.clientVersion(),
                        context.subject(),
                        context.clientId(),
                        UNKNOWN_TOOL,
                        context.argumentsSha256(),
                        null);
        return new Call(inbound, context, arguments, start, telemetry.start(observed, inbound.telemetry()));
    }

    private Decision admit(String name, VerifiedToken caller, SecuredTool tool) {
        ToolSurface current = surface;
        Decision routed = current == null ? null : current.refusal(name);
        if (routed != null) {
            return routed;
        }
        if (tool == null) {
            return Decision.deny(
                    ReasonCode.TOOL_NOT_ALLOWED, "tool '" + shownName(name) + "' does not exist on this server");
        }
        Decision exposure = guard.checkExposure(tool.name(), tool.declaredRisks());
        if (!exposure.allowed()) {
            return exposure;
        }
        return caller == null ? exposure : guard.checkScopes(tool.name(), caller.scopes());
    }

    /**
     * Whose allowance a call takes from: an authenticated caller's own (so a new session does not
     * reset it), else the session's.
     */
    private static String rateKey(Inbound inbound) {
        return inbound.caller() != null
                ? "principal:" + inbound.caller().principal()
                : "session:" + inbound.sessionId();
    }

    private Decision checkArguments(Call call, SecuredTool tool) {
        Decision size = guard.checkArgumentSize(call.arguments.bytes());
        if (!size.allowed()) {
            return size;
        }
        Map<String, Object> schema = tool.definition().inputSchema();
        if (schema == null || schema.isEmpty()) {
            return size;
        }
        JsonSchemaValidator.ValidationResponse checked;
        try {
            checked = schemas.validate(schema, call.inbound.arguments() == null ? Map.of() : call.inbound.arguments());
        } catch (RuntimeException e) {
            checked = JsonSchemaValidator.ValidationResponse.asInvalid("");
        }
        return checked.valid()
                ? size
                : Decision.deny(
                        ReasonCode.ARGUMENTS_INVALID,
                        "the arguments do not match the input schema of tool '" + call.context.tool() + "'"
                                + schemaProblems(checked.errorMessage()));
    }

    /**
     * The validator's findings as the client may see them: the list it gives between brackets
     * (JSON pointers and what is wrong there, such as {@code /path: integer found, string
     * expected}), through the one sanitizer and cut; nothing when there is no such list or it
     * looks like exception text.
     */
    private static String schemaProblems(String message) {
        int open = message == null ? -1 : message.indexOf('[');
        int close = message == null ? -1 : message.lastIndexOf(']');
        if (open < 0 || close <= open) {
            return "";
        }
        String found = message.substring(open + 1, close).strip().replaceAll("(^|, ): ", "$1");
        if (found.isEmpty() || found.contains("Exception") || found.contains("\tat ")) {
            return "";
        }
        return ": " + Untrusted.text(found, 300);
    }

    private Mono<Decision> confirm(Call call, SecuredTool tool) {
        if (!tool.policy().confirm()) {
            return Mono.just(Decision.allow());
        }
        String name = tool.name();
        McpSchema.ClientCapabilities capabilities = call.inbound.exchange().getClientCapabilities();
        if (capabilities == null || capabilities.elicitation() == null) {
            return Mono.just(Decision.deny(
                    ReasonCode.CONFIRMATION_UNAVAILABLE,
                    "tool '" + name + "' needs the user's confirmation, but this client cannot ask (no elicitation)"));
        }
        String json = call.arguments.json();
        if (json.length() > MAX_CONFIRMATION_ARGUMENTS) {
            return Mono.just(Decision.deny(
                    ReasonCode.ARGUMENTS_TOO_LARGE,
                    "the arguments of tool '" + name + "' are too long to show the user whole for confirmation ("
                            + json.length() + " characters, at most " + MAX_CONFIRMATION_ARGUMENTS + ")"));
        }
        String shown = Untrusted.text(json, Integer.MAX_VALUE); // every argument, control and bidi characters escaped
        McpSchema.ElicitRequest question = McpSchema.ElicitFormRequest.builder(
                        "Allow the tool '" + name + "' to run with these arguments? " + shown,
                        Map.of("type", "object", "properties", Map.of()))
                .build();
        String session = "session:" + call.context.sessionId();
        String[] keys =
                call.inbound.caller() == null ? new String[] {session} : new String[] {session, rateKey(call.inbound)};
        Optional<Mono<String>> sessionEnded = pending.take(session, keys);
        if (sessionEnded.isEmpty()) {
            return Mono.just(Decision.deny(
                    ReasonCode.CONFIRMATION_UNAVAILABLE,
                    "too many confirmations are waiting for this caller's answer (at most " + PendingConfirmations.MAX
                            + "); answer them first"));
        }
        Connection connection = Connection.of(call.inbound.exchange().transportContext());
        Mono<String> gone =
                connection == null ? sessionEnded.get() : Mono.firstWithValue(sessionEnded.get(), connection.ended());
        Duration wait = confirmationTimeout;
        Mono<Decision> answered = call.inbound
                .exchange()
                .createElicitation(question)
                .timeout(wait)
                .map(answer -> answer.action() == ElicitResult.Action.ACCEPT
                        ? Decision.allow()
                        : Decision.deny(
                                ReasonCode.USER_DECLINED,
                                "the user "
                                        + (answer.action() == ElicitResult.Action.DECLINE ? "declined" : "cancelled")
                                        + " the call of tool '" + name + "'"))
                .onErrorResume(
                        TimeoutException.class,
                        e -> Mono.just(Decision.deny(
                                ReasonCode.USER_DECLINED,
                                "the user did not confirm tool '" + name + "' within " + wait.toSeconds() + "s")))
                .onErrorResume(e -> Mono.just(Decision.deny(
                        ReasonCode.CONFIRMATION_UNAVAILABLE, "the client did not answer the confirmation request")));
        // the rest of the call (its record, the SDK's answer) runs on the thread that ends it: the
        // owner's DELETE (before the SDK closes the session, so the answer still reaches the
        // client), the reaper, or a heartbeat writer (a pool of its own, not the timer)
        Mono<Decision> abandoned = gone.map(why -> Decision.deny(
                ReasonCode.CONFIRMATION_UNAVAILABLE,
                "the confirmation of tool '" + name + "' ended unanswered: " + why));
        // whichever comes first; the other is cancelled, and the question's places are given back once
        return Mono.firstWithSignal(answered, abandoned).doFinally(signal -> pending.give(session, keys));
    }

    /**
     * Ends the confirmation questions waiting in session {@code sessionId}: its transport saw it end
     * (closed, deleted, expired). Each waiting call is refused ({@code CONFIRMATION_UNAVAILABLE})
     * and runs nothing. Nothing when none waits.
     */
    public void sessionEnded(String sessionId) {
        pending.end("session:" + sessionId, "the session ended");
    }

    private Mono<Outcome> invoke(Call call, SecuredTool tool, Permits permits) {
        permits.handToTool();
        if (tool.invoker() == null) {
            permits.release();
            return Mono.just(
                    failure(call, tool, new IllegalStateException("tool '" + tool.name() + "' has no handler")));
        }
        Duration timeout = tool.policy().timeout();
        CallContext bound = call.context.withDeadline(Instant.now().plus(timeout));
        Telemetry.Observation observation = call.observation;
        CurrentCall.Binding binding = new CurrentCall.Binding(
                bound,
                effect -> {
                    auditEffect(effect);
                    observation.effect(effect);
                },
                observation);
        return tool.invoker()
                .invoke(call.inbound.exchange(), call.inbound.request(), permits::release, binding)
                .timeout(timeout)
                .map(result -> new Outcome(result, Decision.allow(), 0, null))
                .switchIfEmpty(Mono.fromSupplier(
                        () -> failure(call, tool, new IllegalStateException("tool returned no result"))))
                .onErrorResume(e -> Mono.just(failure(call, tool, e)))
                .contextWrite(context -> context.put(CONTEXT_KEY, bound));
    }

    private Outcome capOutput(SecuredTool tool, Outcome outcome) {
        if (outcome.decision().allowed()
                && CanonicalJson.longerThan(outcome.result(), tool.policy().maxOutputBytes())) {
            return Outcome.denied(Decision.deny(
                    ReasonCode.OUTPUT_TOO_LARGE,
                    "the result of tool '" + tool.name() + "' is larger than its limit of "
                            + tool.policy().maxOutputBytes() + " bytes"));
        }
        return outcome;
    }

    private Outcome redact(Outcome outcome) {
        if (!outcome.decision().allowed()) {
            return outcome;
        }
        Redactor.Redacted redacted = redactor.redact(outcome.result());
        return new Outcome(redacted.result(), outcome.decision(), redacted.count(), null);
    }

    private CallToolResult finish(Call call, Outcome outcome) {
        long micros = (System.nanoTime() - call.startNanos) / 1_000;
        String arguments = includeArguments ? redactor.redactText(call.arguments.json()) : null;
        AuditEvent event = AuditEvent.call(
                call.context, outcome.decision(), micros, outcome.redactions(), outcome.incidentId(), arguments);
        boolean recorded = auditGate.record(event);
        call.observation.end(event);
        if (!recorded && outcome.decision().allowed()) {
            return ToolResults.denied(
                    Decision.deny(
                            ReasonCode.AUDIT_UNAVAILABLE, "the call could not be audited, so its result is withheld"),
                    null);
        }
        return outcome.result();
    }

    private Decision unroutable(Call call) {
        return Decision.deny(
                ReasonCode.TOOL_NOT_ALLOWED, "tool '" + call.context.tool() + "' cannot be served on this transport");
    }

    private Outcome failure(Call call, SecuredTool tool, Throwable error) {
        if (error instanceof TimeoutException) {
            return Outcome.denied(Decision.deny(
                    ReasonCode.TIMEOUT,
                    "tool '" + tool.name() + "' did not finish within "
                            + tool.policy().timeout().toMillis() + " ms"));
        }
        if (error instanceof PolicyViolationException violation) {
            return Outcome.denied(violation.decision());
        }
        String incident = incidents.record(call.context, error);
        Decision decision = Decision.deny(
                ReasonCode.TOOL_FAILED,
                "tool '" + tool.name() + "' failed; incident " + incident + " is in the server log");
        return new Outcome(ToolResults.denied(decision, incident), decision, 0, incident);
    }

    // ---- registration, surface, audit door -----------------------------------------------------

    /** Registers a sync tool; its calls run on the pipeline's tool threads. */
    public void register(McpSchema.Tool definition, SyncToolSpecification spec, Set<RiskClass> declaredRisks) {
        add(definition, declaredRisks, ToolInvoker.of(spec, toolThreads));
    }

    /** Registers an async tool. */
    public void register(McpSchema.Tool definition, AsyncToolSpecification spec, Set<RiskClass> declaredRisks) {
        add(definition, declaredRisks, ToolInvoker.of(spec));
    }

    /** Registers a tool the policy does not expose: listed nowhere, never run, every call refused. */
    public void registerRefused(McpSchema.Tool definition, Set<RiskClass> declaredRisks) {
        add(definition, declaredRisks, null);
    }

    /** Forgets the tool {@code name}. */
    public void unregister(String name) {
        tools.remove(name);
    }

    /** The SDK specification of a registered tool: {@code definition} whose handler is {@link #call}. */
    public AsyncToolSpecification specification(McpSchema.Tool definition) {
        return new AsyncToolSpecification(definition, (exchange, request) -> call(Inbound.of(exchange, request)));
    }

    private void add(McpSchema.Tool definition, Set<RiskClass> declaredRisks, ToolInvoker invoker) {
        ToolPolicy policy = guard.policy(definition.name());
        Semaphore permits = new Semaphore(policy == null ? 0 : policy.maxConcurrency());
        tools.put(definition.name(), new SecuredTool(definition, declaredRisks, policy, invoker, permits));
    }

    /** Gives the pipeline the surface that says which names the SDK holds. */
    public void surface(ToolSurface surface) {
        this.surface = surface;
    }

    /** A tool name as refusals and the audit show it: cut to 128 characters, control characters escaped. */
    public static String shownName(String name) {
        return name == null ? null : Untrusted.text(name, 128);
    }

    /**
     * Audits a decision about the tool surface rather than a call: a tool not exposed, withheld
     * for drift, flagged by the lint (a {@code finding} in report mode), or added behind
     * mcp-secure's back.
     *
     * @return false if the record could not be written
     */
    public boolean auditSurface(String tool, Decision decision, boolean finding) {
        return audit(AuditEvent.surface(serverName, shownName(tool), decision, finding));
    }

    /** {@link #auditSurface(String, Decision, boolean)} of a decision that is not a finding. */
    public boolean auditSurface(String tool, Decision decision) {
        return auditSurface(tool, decision, false);
    }

    /** The guard deciding exposure and calls. */
    public PolicyToolGuard guard() {
        return guard;
    }

    /**
     * The server's one audit door: records {@code event} through the gate.
     *
     * @return false if a call must not report an allowed result (the record was not written in
     *     time and the audit policy fails closed)
     */
    public boolean audit(AuditEvent event) {
        return auditGate.record(event);
    }

    /** The audit door of effects inside a call: fail closed, a lost record refuses the effect. */
    private void auditEffect(AuditEvent event) {
        if (!auditGate.record(event) && event.allowed()) {
            throw new PolicyViolationException(Decision.deny(
                    ReasonCode.AUDIT_UNAVAILABLE,
                    "the " + event.action() + " could not be audited, so it was refused"));
        }
    }

    /** How many audit records were recorded, failed and dropped. */
    public AuditCounters auditCounters() {
        return auditGate.counters();
    }

    /** Stops the threads sync tools run on; running tools are interrupted. */
    public void shutdown() {
        toolThreads.shutdownNow();
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Per-call state. */
    private record Call(
            Inbound inbound,
            CallContext context,
            CanonicalJson arguments,
            long startNanos,
            Telemetry.Observation observation) {}

    /** How a call ended: the result to send and the decision to audit. */
    private record Outcome(CallToolResult result, Decision decision, int redactions, String incidentId) {
        static Outcome denied(Decision decision) {
            return new Outcome(ToolResults.denied(decision, null), decision, 0, null);
        }
    }

    /**
     * Confirmation questions waiting for an answer, counted per session and per caller (the
     * principal when authenticated): at most {@link #MAX} each, so unanswered questions cannot pile
     * up; and, per session with a question waiting, the signal that the session ended ({@link
     * #end}), on which its questions stop waiting. Thread-safe: one lock, held only to count.
     */
    private static final class PendingConfirmations {
        static final int MAX = 4;
        private final Map<String, Integer> counts = new HashMap<>();
        private final Map<String, Sinks.One<String>> sessionEnds = new HashMap<>();

        /**
         * Takes one place under {@code session} and every other key: the signal that {@code
         * session} ended, or empty and no place when a key is full.
         */
        synchronized Optional<Mono<String>> take(String session, String[] keys) {
            for (String key : keys) {
                if (counts.getOrDefault(key, 0) >= MAX) {
                    return Optional.empty();
                }
            }
            for (String key : keys) {
                counts.merge(key, 1, Integer::sum);
            }
            return Optional.of(
                    sessionEnds.computeIfAbsent(session, key -> Sinks.one()).asMono());
        }

        synchronized void give(String session, String[] keys) {
            for (String key : keys) {
                Integer left = counts.computeIfPresent(key, (k, count) -> count <= 1 ? null : count - 1);
                if (left == null && key.equals(session)) {
                    sessionEnds.remove(session); // nothing waits on it any more
                }
            }
        }

        /** Ends every question waiting in {@code session}; {@code why} is the refusal's detail. */
        void end(String session, String why) {
            Sinks.One<String> end;
            synchronized (this) {
                end = sessionEnds.remove(session);
            }
            if (end != null) {
                end.tryEmitValue(why);
            }
        }
    }

    /**
     * A call's hold on the server's and its tool's concurrency permits. Released exactly once:
     * by the tool's code when it really stops (even after its timeout), or here when the call
     * ends before the tool was handed the call.
     */
    private static final class Permits {
        private final Semaphore server;
        private final Semaphore tool;
        private final Decision refusal;
        private final AtomicBoolean released = new AtomicBoolean();
        private final AtomicBoolean handed = new AtomicBoolean();

        private Permits(Semaphore server, Semaphore tool, Decision refusal) {
            this.server = server;
            this.tool = tool;
            this.refusal = refusal;
        }

        static Permits acquire(Semaphore server, SecuredTool tool) {
            if (!server.tryAcquire()) {
                return new Permits(
                        null,
                        null,
                        Decision.deny(
                                ReasonCode.CONCURRENCY_LIMITED,
                                "the server is running its maximum number of calls; try again"));
            }
            if (!tool.permits().tryAcquire()) {
                server.release();
                return new Permits(
                        null,
                        null,
                        Decision.deny(
                                ReasonCode.CONCURRENCY_LIMITED,
                                "tool '" + tool.name() + "' is running its maximum of "
                                        + tool.policy().maxConcurrency() + " calls; try again"));
            }
            return new Permits(server, tool.permits(), null);
        }

        Decision refusal() {
            return refusal;
        }

        void handToTool() {
            handed.set(true);
        }

        void release() {
            if (released.compareAndSet(false, true)) {
                tool.release();
                server.release();
            }
        }

        void releaseUnlessHanded() {
            if (!handed.get()) {
                release();
            }
        }
    }
}
