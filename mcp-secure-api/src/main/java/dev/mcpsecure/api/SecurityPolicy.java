package dev.mcpsecure.api;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one MCP server may do. Immutable; load it from a file with {@code PolicyLoader} or
 * build it with {@link #builder()}. Deny by default: whatever the policy does not list is refused,
 * so {@link #denyAll()} (what an empty policy file gives) allows nothing.
 *
 * @param server who this server is
 * @param tools the tools that may be exposed and called; names are unique
 * @param filesystem the files tools may reach
 * @param commands the programs tools may run
 * @param egress the outbound requests tools may make
 * @param tokens the token audiences this server may fetch tokens for
 * @param secrets the secrets tools may ask for by name, and where each lives
 * @param limits server-wide limits
 * @param audit what audit events record
 * @param transport how HTTP transports listen
 * @param preflight what the start-up check of the server's own runtime does
 * @param pinning how the tool definitions are pinned to a lockfile
 */
public record SecurityPolicy(
        ServerIdentity server,
        List<ToolPolicy> tools,
        FilesystemPolicy filesystem,
        CommandPolicy commands,
        EgressPolicy egress,
        TokenPolicy tokens,
        SecretPolicy secrets,
        Limits limits,
        AuditPolicy audit,
        TransportPolicy transport,
        PreflightPolicy preflight,
        PinningPolicy pinning) {

    /**
     * Validates that every part is present, that tool names are unique, and that every egress
     * rule's audience is one the token policy lists; copies the tool list.
     */
    public SecurityPolicy {
        Checks checks = new Checks()
                .check("server", Checks.notNull(server))
                .check("tools", Checks.noNullElements(tools))
                .check("filesystem", Checks.notNull(filesystem))
                .check("commands", Checks.notNull(commands))
                .check("egress", Checks.notNull(egress))
                .check("tokens", Checks.notNull(tokens))
                .check("secrets", Checks.notNull(secrets))
                .check("limits", Checks.notNull(limits))
                .check("audit", Checks.notNull(audit))
                .check("transport", Checks.notNull(transport))
                .check("preflight", Checks.notNull(preflight))
                .check("pinning", Checks.notNull(pinning));
        if (checks.ok()) {
            Map<String, Integer> seen = new HashMap<>();
            for (int i = 0; i < tools.size(); i++) {
                Integer first = seen.putIfAbsent(tools.get(i).name(), i);
                if (first != null) {
                    checks.check(
                            PolicyProblem.indexPath("tools", i) + ".name",
                            "tool " + Checks.quote(tools.get(i).name()) + " is listed twice (first as tools[" + first
                                    + "]); merge the two entries into one");
                }
            }
            List<EgressRule> rules = egress.rules();
            for (int i = 0; i < rules.size(); i++) {
                Optional<String> audience = rules.get(i).audience();
                if (audience.isPresent() && !tokens.audiences().containsKey(audience.get())) {
                    checks.check(
                            "egress.rules[" + i + "].audience",
                            "audience " + Checks.quote(audience.get())
                                    + " is not in tokens.audiences; add it there with the role that mints its tokens");
                }
            }
        }
        checks.throwIfAny();
        tools = List.copyOf(tools);
    }

    /** The policy that allows nothing: no tools, files, programs, egress, tokens or secrets. */
    public static SecurityPolicy denyAll() {
        return builder().build();
    }

    /** A builder; every part not set takes its deny-by-default value. */
    public static Builder builder() {
        return new Builder();
    }

    /** The policy for the tool {@code name}, if the policy lists it. */
    public Optional<ToolPolicy> tool(String name) {
        for (ToolPolicy tool : tools) {
            if (tool.name().equals(name)) {
                return Optional.of(tool);
            }
        }
        return Optional.empty();
    }

    /** This policy with {@code pinning} instead of its own. */
    public SecurityPolicy withPinning(PinningPolicy pinning) {
        return new SecurityPolicy(
                server,
                tools,
                filesystem,
                commands,
                egress,
                tokens,
                secrets,
                limits,
                audit,
                transport,
                preflight,
                pinning);
    }

    /** Builds a {@link SecurityPolicy}. Each part may be set once. Not thread-safe. */
    public static final class Builder {
        private ServerIdentity server;
        private final List<ToolPolicy> tools = new ArrayList<>();
        private FilesystemPolicy filesystem;
        private final Map<String, ProgramPolicy> programs = new LinkedHashMap<>();
        private Integer maxConcurrentProcesses;
        private final List<EgressRule> egressRules = new ArrayList<>();
        private TokenPolicy tokens;
        private final Map<String, SecretLocation> secrets = new LinkedHashMap<>();
        private Limits limits;
        private AuditPolicy audit;
        private TransportPolicy transport;
        private PreflightPolicy preflight;
        private PinningPolicy pinning;

        private Builder() {}

        /** Names this server; default {@link ServerIdentity#DEFAULT_NAME}. */
        public Builder server(String name, String description) {
            Checks.requireUnset(server, "server");
            server = new ServerIdentity(name, description);
            return this;
        }

        /** Lists a tool. */
        public Builder tool(ToolPolicy tool) {
            Checks.require("tools", Checks.notNull(tool));
            tools.add(tool);
            return this;
        }

        /** Sets the file access; default {@link FilesystemPolicy#none()}. */
        public Builder filesystem(FilesystemPolicy filesystem) {
            Checks.requireUnset(this.filesystem, "filesystem");
            Checks.require("filesystem", Checks.notNull(filesystem));
            this.filesystem = filesystem;
            return this;
        }

        /** Lists a program under a logical name. */
        public Builder program(String name, ProgramPolicy program) {
            Checks.require("commands.programs", Checks.notNull(program));
            if (programs.putIfAbsent(name, program) != null) {
                throw new IllegalStateException("program " + name + " was already set");
            }
            return this;
        }

        /** Processes running at once, 1 to 256; default {@link CommandPolicy#DEFAULT_MAX_CONCURRENT_PROCESSES}. */
        public Builder maxConcurrentProcesses(int max) {
            Checks.requireUnset(maxConcurrentProcesses, "maxConcurrentProcesses");
            Checks.require("maxConcurrentProcesses", Checks.between(max, 1, 256));
            maxConcurrentProcesses = max;
            return this;
        }

        /** Adds an egress rule. */
        public Builder egressRule(EgressRule rule) {
            Checks.require("egress.rules", Checks.notNull(rule));
            egressRules.add(rule);
            return this;
        }

        /** Sets the token policy; default {@link TokenPolicy#none()}. */
        public Builder tokens(TokenPolicy tokens) {
            Checks.requireUnset(this.tokens, "tokens");
            Checks.require("tokens", Checks.notNull(tokens));
            this.tokens = tokens;
            return this;
        }

        /** Maps a secret name to where it lives in the vault; default none. */
        public Builder secret(String name, SecretLocation location) {
            Checks.require("secrets", Checks.notNull(location));
            if (secrets.putIfAbsent(name, location) != null) {
                throw new IllegalStateException("secret " + name + " was already set");
            }
            return this;
        }

        /** Sets the limits; default {@link Limits#defaults()}. */
        public Builder limits(Limits limits) {
            Checks.requireUnset(this.limits, "limits");
            Checks.require("limits", Checks.notNull(limits));
            this.limits = limits;
            return this;
        }

        /** Sets the audit policy; default {@link AuditPolicy#defaults()}. */
        public Builder audit(AuditPolicy audit) {
            Checks.requireUnset(this.audit, "audit");
            Checks.require("audit", Checks.notNull(audit));
            this.audit = audit;
            return this;
        }

        /** Sets the transport policy; default {@link TransportPolicy#defaults()}. */
        public Builder transport(TransportPolicy transport) {
            Checks.requireUnset(this.transport, "transport");
            Checks.require("transport", Checks.notNull(transport));
            this.transport = transport;
            return this;
        }

        /** Sets the preflight policy; default {@link PreflightPolicy#defaults()} (report). */
        public Builder preflight(PreflightPolicy preflight) {
            Checks.requireUnset(this.preflight, "preflight");
            Checks.require("preflight", Checks.notNull(preflight));
            this.preflight = preflight;
            return this;
        }

        /** Sets the tool pinning; default {@link PinningPolicy#none()} (not pinned). */
        public Builder pinning(PinningPolicy pinning) {
            Checks.requireUnset(this.pinning, "pinning");
            Checks.require("pinning", Checks.notNull(pinning));
            this.pinning = pinning;
            return this;
        }

        /** @throws InvalidPolicyException listing duplicate tools and unknown egress audiences */
        public SecurityPolicy build() {
            return new SecurityPolicy(
                    server == null ? ServerIdentity.unnamed() : server,
                    tools,
                    filesystem == null ? FilesystemPolicy.none() : filesystem,
                    new CommandPolicy(
                            programs,
                            maxConcurrentProcesses == null
                                    ? CommandPolicy.DEFAULT_MAX_CONCURRENT_PROCESSES
                                    : maxConcurrentProcesses),
                    new EgressPolicy(egressRules),
                    tokens == null ? TokenPolicy.none() : tokens,
                    new SecretPolicy(secrets),
                    limits == null ? Limits.defaults() : limits,
                    audit == null ? AuditPolicy.defaults() : audit,
                    transport == null ? TransportPolicy.defaults() : transport,
                    preflight == null ? PreflightPolicy.defaults() : preflight,
                    pinning == null ? PinningPolicy.none() : pinning);
        }
    }
}
