package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.ToolCall;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.VerifiedToken;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.ElicitResult;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;

/**
 * One tool behind the fixed pipeline: tool allowed, risk enabled, argument size, rate limits,
 * concurrency limits, confirmation, the tool under its timeout, output size cap, redaction, audit.
 * The order is fixed here and cannot be changed by the app. Every call ends in exactly one audit
 * event, and nothing the tool throws reaches the client except as a reason code and incident id.
 */
public final class SecuredTool {

    private final String name;
    private final Set<RiskClass> declaredRisks;
    private final ToolInvoker invoker;
    private final Pipeline pipeline;
    private final ToolPolicy policy;
    private final Semaphore permits;
    private final Decision refusal;

    /**
     * @param invoker the tool's code, or {@code null} for a stand-in that never runs any
     * @param refusal the answer to every call, for names that do not exist; else {@code null}
     */
    SecuredTool(String name, Set<RiskClass> declaredRisks, ToolInvoker invoker, Pipeline pipeline, Decision refusal) {
        this.name = name;
        this.declaredRisks = Set.copyOf(declaredRisks);
        this.invoker = invoker;
        this.pipeline = pipeline;
        this.policy = pipeline.guard().policy(name);
        this.permits = policy == null ? new Semaphore(0) : new Semaphore(policy.maxConcurrency());
        this.refusal = refusal;
    }

    /** The call handler to register with the SDK in place of the tool's own. */
    public Mono<CallToolResult> call(McpAsyncServerExchange exchange, CallToolRequest request) {
        return Mono.defer(() -> {
            Call call = new Call(exchange, System.nanoTime());
            CanonicalJson arguments = CanonicalJson.of(request.arguments());
            call.arguments = arguments;
            Decision decision = refusal != null
                    ? refusal
                    : pipeline.guard()
                            .checkCall(new ToolCall(
                                    name,
                                    declaredRisks,
                                    call.caller == null ? Optional.empty() : Optional.of(call.caller.scopes()),
                                    call.sessionId(),
                                    arguments.bytes()));
            if (!decision.allowed()) {
                return Mono.just(finish(call, Outcome.denied(decision)));
            }
            if (!pipeline.serverPermits().tryAcquire()) {
                return Mono.just(finish(
                        call,
                        Outcome.denied(Decision.deny(
                                ReasonCode.CONCURRENCY_LIMITED,
                                "the server is running its maximum number of calls; try again"))));
            }
            if (!permits.tryAcquire()) {
                pipeline.serverPermits().release();
                return Mono.just(finish(
                        call,
                        Outcome.denied(Decision.deny(
                                ReasonCode.CONCURRENCY_LIMITED,
                                "tool '" + name + "' is running its maximum of " + policy.maxConcurrency()
                                        + " calls; try again"))));
            }
            AtomicBoolean released = new AtomicBoolean();
            Runnable release = () -> {
                if (released.compareAndSet(false, true)) {
                    permits.release();
                    pipeline.serverPermits().release();
                }
            };
            AtomicBoolean handedToTool = new AtomicBoolean();
            Runnable releaseUnlessHanded = () -> {
                if (!handedToTool.get()) {
                    release.run();
                }
            };
            return confirm(exchange, arguments)
                    .flatMap(confirmation -> {
                        if (!confirmation.allowed()) {
                            release.run();
                            return Mono.just(Outcome.denied(confirmation));
                        }
                        handedToTool.set(true);
                        return run(exchange, request, release);
                    })
                    .doOnCancel(releaseUnlessHanded)
                    .doOnError(error -> releaseUnlessHanded.run())
                    .map(outcome -> finish(call, outcome));
        });
    }

    private Mono<Decision> confirm(McpAsyncServerExchange exchange, CanonicalJson arguments) {
        if (!policy.confirm()) {
            return Mono.just(Decision.allow());
        }
        McpSchema.ClientCapabilities capabilities = exchange.getClientCapabilities();
        if (capabilities == null || capabilities.elicitation() == null) {
            return Mono.just(Decision.deny(
                    ReasonCode.CONFIRMATION_UNAVAILABLE,
                    "tool '" + name + "' needs the user's confirmation, but this client cannot ask (no elicitation)"));
        }
        String shown = arguments.json().length() > 500 ? arguments.json().substring(0, 500) + "..." : arguments.json();
        McpSchema.ElicitRequest question = McpSchema.ElicitFormRequest.builder(
                        "Allow the tool '" + name + "' to run with these arguments? " + shown,
                        Map.of("type", "object", "properties", Map.of()))
                .build();
        Duration wait = pipeline.confirmationTimeout();
        return exchange.createElicitation(question)
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
    }

    private Mono<Outcome> run(McpAsyncServerExchange exchange, CallToolRequest request, Runnable release) {
        if (invoker == null) {
            release.run();
            return Mono.just(failure(new IllegalStateException("tool '" + name + "' has no handler")));
        }
        return invoker.invoke(exchange, request, release)
                .timeout(policy.timeout())
                .map(this::checkedResult)
                .switchIfEmpty(Mono.fromSupplier(() -> failure(new IllegalStateException("tool returned no result"))))
                .onErrorResume(e -> Mono.just(failure(e)));
    }

    private Outcome checkedResult(CallToolResult result) {
        if (CanonicalJson.longerThan(result, policy.maxOutputBytes())) {
            return Outcome.denied(Decision.deny(
                    ReasonCode.OUTPUT_TOO_LARGE,
                    "the result of tool '" + name + "' is larger than its limit of " + policy.maxOutputBytes()
                            + " bytes"));
        }
        Redactor.Redacted redacted = pipeline.redactor().redact(result);
        return new Outcome(redacted.result(), Decision.allow(), redacted.count(), null);
    }

    private Outcome failure(Throwable error) {
        if (error instanceof TimeoutException) {
            return Outcome.denied(Decision.deny(
                    ReasonCode.TIMEOUT,
                    "tool '" + name + "' did not finish within "
                            + policy.timeout().toMillis() + " ms"));
        }
        if (error instanceof PolicyViolationException violation) {
            return Outcome.denied(violation.decision());
        }
        String incident = pipeline.incidents().record(name, error);
        Decision decision = Decision.deny(
                ReasonCode.TOOL_FAILED, "tool '" + name + "' failed; incident " + incident + " is in the server log");
        return new Outcome(ToolResults.denied(decision, incident), decision, 0, incident);
    }

    private CallToolResult finish(Call call, Outcome outcome) {
        long micros = (System.nanoTime() - call.startNanos) / 1_000;
        Decision decision = outcome.decision();
        String arguments = pipeline.includeArguments() && call.arguments != null
                ? pipeline.redactor().redactText(call.arguments.json())
                : null;
        McpSchema.Implementation client = call.exchange.getClientInfo();
        AuditEvent event = new AuditEvent(
                Instant.now(),
                pipeline.serverName(),
                call.sessionId(),
                client == null ? null : client.name(),
                client == null ? null : client.version(),
                call.caller == null ? null : call.caller.subject(),
                call.caller == null || call.caller.clientId().isEmpty() ? null : call.caller.clientId(),
                name,
                decision.allowed(),
                decision.reason(),
                call.arguments == null ? null : call.arguments.sha256(),
                micros,
                outcome.redactions(),
                outcome.incidentId(),
                decision.detail(),
                arguments);
        if (!pipeline.audit(event) && decision.allowed()) {
            return ToolResults.denied(
                    Decision.deny(
                            ReasonCode.AUDIT_UNAVAILABLE, "the call could not be audited, so its result is withheld"),
                    null);
        }
        return outcome.result();
    }

    /** Per-call state. */
    private static final class Call {
        final McpAsyncServerExchange exchange;
        final long startNanos;
        /** The HTTP caller's verified token; {@code null} on transports without authentication. */
        final VerifiedToken caller;

        CanonicalJson arguments;

        Call(McpAsyncServerExchange exchange, long startNanos) {
            this.exchange = exchange;
            this.startNanos = startNanos;
            this.caller = VerifiedTokens.of(exchange.transportContext());
        }

        String sessionId() {
            return Objects.requireNonNullElse(exchange.sessionId(), "none");
        }
    }

    /** How a call ended: the result to send and the decision to audit. */
    private record Outcome(CallToolResult result, Decision decision, int redactions, String incidentId) {
        static Outcome denied(Decision decision) {
            return new Outcome(ToolResults.denied(decision, null), decision, 0, null);
        }
    }
}
