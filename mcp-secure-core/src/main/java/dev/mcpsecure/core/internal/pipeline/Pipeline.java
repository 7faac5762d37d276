package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.AuditCounters;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every secured tool of one server shares: the policy's tool guard, the server-wide
 * concurrency permits, the redactor, the audit sink, the thread pool sync tools run on.
 * Thread-safe.
 */
public final class Pipeline {

    private final String serverName;
    private final PolicyToolGuard guard;
    private final Semaphore serverPermits;
    private final Redactor redactor;
    private final AuditGate auditGate;
    private final boolean includeArguments;
    private final Duration confirmationTimeout;
    private final Incidents incidents = new Incidents();
    private final ExecutorService toolThreads;

    /**
     * @param confirmationTimeout how long a confirmation question waits for the user
     */
    public Pipeline(SecurityPolicy policy, Redactor redactor, AuditSink auditSink, Duration confirmationTimeout) {
        this.serverName = policy.server().name();
        this.guard = new PolicyToolGuard(policy, System::nanoTime);
        this.serverPermits = new Semaphore(policy.limits().maxConcurrentCalls());
        this.redactor = redactor;
        this.auditGate = new AuditGate(auditSink, policy.audit(), System::nanoTime);
        this.includeArguments = policy.audit().includeArguments();
        this.confirmationTimeout = confirmationTimeout;
        this.toolThreads = Executors.newCachedThreadPool(daemonThreads("mcp-secure-tool-"));
    }

    /** The secured form of a sync tool. */
    public SecuredTool secure(SyncToolSpecification spec, Set<RiskClass> declaredRisks) {
        return new SecuredTool(spec.tool().name(), declaredRisks, ToolInvoker.of(spec, toolThreads), this, null);
    }

    /** The secured form of an async tool. */
    public SecuredTool secure(AsyncToolSpecification spec, Set<RiskClass> declaredRisks) {
        return new SecuredTool(spec.tool().name(), declaredRisks, ToolInvoker.of(spec), this, null);
    }

    /**
     * The stand-in for a tool the policy does not expose: it never calls the tool's code and
     * answers every call with the exposure denial, audited.
     */
    public SecuredTool refused(String name, Set<RiskClass> declaredRisks) {
        return new SecuredTool(name, declaredRisks, null, this, null);
    }

    /**
     * The stand-in answering a call the SDK must not see (a name no one registered, a withheld or
     * replaced tool) with {@code refusal}, audited. Names are cut to 128 characters in the audit.
     */
    public SecuredTool refusing(String name, Decision refusal) {
        return new SecuredTool(shownName(name), Set.of(), null, this, refusal);
    }

    /** A tool name as refusals and the audit show it: cut to 128 characters. */
    static String shownName(String name) {
        return name == null || name.length() <= 128 ? name : name.substring(0, 128) + "...";
    }

    /**
     * Audits a decision about the tool surface rather than a call: a tool not exposed, withheld
     * for drift, flagged by the lint, or added behind mcp-secure's back.
     *
     * @return false if the sink failed
     */
    public boolean auditSurface(String tool, Decision decision) {
        return audit(AuditEvent.outsideCall(Instant.now(), serverName, shownName(tool), decision));
    }

    /** The guard deciding exposure and calls. */
    public PolicyToolGuard guard() {
        return guard;
    }

    /**
     * Records a call's {@code event} through the audit gate.
     *
     * @return false if the call must not be reported as allowed (the event was not written in
     *     time and the audit policy fails closed)
     */
    public boolean audit(AuditEvent event) {
        return auditGate.record(event);
    }

    /** How many audit events were recorded, failed and dropped. */
    public AuditCounters auditCounters() {
        return auditGate.counters();
    }

    /** Stops the threads sync tools run on; running tools are interrupted. */
    public void shutdown() {
        toolThreads.shutdownNow();
    }

    String serverName() {
        return serverName;
    }

    Semaphore serverPermits() {
        return serverPermits;
    }

    Redactor redactor() {
        return redactor;
    }

    boolean includeArguments() {
        return includeArguments;
    }

    Duration confirmationTimeout() {
        return confirmationTimeout;
    }

    Incidents incidents() {
        return incidents;
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
