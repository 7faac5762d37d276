package dev.mcpsecure.core.internal.policy;

import dev.mcpsecure.api.ArgRule;
import dev.mcpsecure.api.AuditPolicy;
import dev.mcpsecure.api.BearerAuthPolicy;
import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.CommandPolicy;
import dev.mcpsecure.api.EgressPolicy;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.FileAccess;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.InvalidPolicyException;
import dev.mcpsecure.api.Limits;
import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.PolicyProblem;
import dev.mcpsecure.api.PreflightPolicy;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.ProgramProfile;
import dev.mcpsecure.api.RateLimit;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecretPolicy;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ServerIdentity;
import dev.mcpsecure.api.SubcommandRule;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.TransportPolicy;
import dev.mcpsecure.core.internal.exec.GitProfile;
import dev.mcpsecure.core.internal.policy.Node.Kind;
import dev.mcpsecure.core.internal.policy.Node.ListNode;
import dev.mcpsecure.core.internal.policy.Node.MapNode;
import dev.mcpsecure.core.internal.policy.Node.ScalarNode;
import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Binds a policy document to {@link SecurityPolicy}, collecting every problem with its line,
 * column and key path. Reads values itself and leaves the rules about them to the policy records:
 * a record's {@link InvalidPolicyException} is mapped back to the place in the text.
 *
 * <p>A record is built only when its own values read cleanly, and the policy as a whole only when
 * every section did (tools that failed are left out of that last check), so a problem is reported
 * once, where it is, and not again as a consequence somewhere else.
 */
public final class PolicyBinder {

    /** The policy file format. */
    public enum Format {
        YAML,
        JSON
    }

    private static final YAMLMapper YAML = YAMLMapper.builder().build();
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> SECTIONS = Set.of(
            "version",
            "server",
            "tools",
            "filesystem",
            "commands",
            "egress",
            "tokens",
            "secrets",
            "limits",
            "audit",
            "transport",
            "preflight",
            "pinning");

    private final Problems problems;
    private final Map<String, Node> nodes = new HashMap<>();

    private PolicyBinder(Problems problems) {
        this.problems = problems;
    }

    /**
     * Parses and binds {@code text}.
     *
     * @param source names the text in problems, such as the file's path
     * @return the policy; {@link SecurityPolicy#denyAll()} for an empty document
     * @throws InvalidPolicyException with every problem found
     */
    public static SecurityPolicy bind(String text, Format format, String source) {
        Problems problems = new Problems(source, format.name());
        JsonParser parser = format == Format.YAML ? YAML.createParser(text) : JSON.createParser(text);
        Node root = DocumentReader.read(parser, problems);
        SecurityPolicy policy = problems.count() == 0 ? new PolicyBinder(problems).policy(root) : null;
        if (problems.count() > 0 || policy == null) {
            throw new InvalidPolicyException(problems.sorted());
        }
        return policy;
    }

    /** Reports one problem found outside the text itself (size, encoding) in the loader's format. */
    public static InvalidPolicyException problem(String source, String message) {
        return new InvalidPolicyException(List.of(new PolicyProblem(source, 0, 0, "", message)));
    }

    private SecurityPolicy policy(Node root) {
        if (root == null || (root instanceof ScalarNode scalar && scalar.kind() == Kind.NULL)) {
            return SecurityPolicy.denyAll();
        }
        if (!(root instanceof MapNode map)) {
            problems.add(
                    root,
                    "",
                    "a policy is a mapping of sections (" + String.join(", ", sortedSections())
                            + ") but this document is " + root.describe());
            return null;
        }
        Section top = new Section(map, map, "");
        version(top);
        ServerIdentity server = server(section(top, "server"));
        List<ToolPolicy> tools = new ArrayList<>();
        for (Section tool : sections(top, "tools")) {
            ToolPolicy built = tool(tool);
            if (built != null) {
                tools.add(built);
            }
        }
        FilesystemPolicy filesystem = filesystem(section(top, "filesystem"));
        CommandPolicy commands = commands(section(top, "commands"));
        EgressPolicy egress = egress(section(top, "egress"));
        TokenPolicy tokens = tokens(section(top, "tokens"));
        SecretPolicy secrets = secrets(top);
        Limits limits = limits(section(top, "limits"));
        AuditPolicy audit = audit(section(top, "audit"));
        TransportPolicy transport = transport(section(top, "transport"));
        PreflightPolicy preflight = preflight(section(top, "preflight"));
        PinningPolicy pinning = pinning(section(top, "pinning"));
        top.finish(problems);
        if (Arrays.asList(
                        server,
                        filesystem,
                        commands,
                        egress,
                        tokens,
                        secrets,
                        limits,
                        audit,
                        transport,
                        preflight,
                        pinning)
                .contains(null)) {
            return null;
        }
        return build(
                top,
                () -> new SecurityPolicy(
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
                        pinning));
    }

    private static List<String> sortedSections() {
        return SECTIONS.stream().filter(s -> !s.equals("version")).sorted().collect(Collectors.toList());
    }

    // sections

    private void version(Section top) {
        Node node = value(top, "version");
        if (node != null
                && !(node instanceof ScalarNode scalar
                        && scalar.kind() == Kind.INTEGER
                        && scalar.text().equals("1"))) {
            problems.add(
                    node,
                    "version",
                    "unsupported policy version: found " + node.describe()
                            + "; this mcp-secure reads version 1 (write 'version: 1' or leave it out)");
        }
    }

    private ServerIdentity server(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        String name = text(s, "name", ServerIdentity.DEFAULT_NAME);
        String description = text(s, "description", "");
        return finish(s, before, () -> new ServerIdentity(name, description));
    }

    private ToolPolicy tool(Section s) {
        int before = problems.count();
        String name = requiredText(s, "name", "every tool entry names its tool, as registered with the MCP SDK");
        List<RiskClass> risks = enums(s, "risks", RiskClass.class);
        List<String> scopes = texts(s, "scopes");
        boolean confirm = bool(s, "confirm", false);
        RateLimit rateLimit = rateLimit(s, "rateLimit", ToolPolicy.DEFAULT_RATE_LIMIT);
        int maxConcurrency = integer(s, "maxConcurrency", ToolPolicy.DEFAULT_MAX_CONCURRENCY);
        Duration timeout = duration(s, "timeout", ToolPolicy.DEFAULT_TIMEOUT);
        long maxOutputBytes = size(s, "maxOutputBytes", ToolPolicy.DEFAULT_MAX_OUTPUT_BYTES);
        return finish(
                s,
                before,
                () -> new ToolPolicy(
                        name,
                        Set.copyOf(risks),
                        new LinkedHashSet<>(scopes),
                        confirm,
                        rateLimit,
                        maxConcurrency,
                        timeout,
                        maxOutputBytes));
    }

    private FilesystemPolicy filesystem(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        List<FilesystemRoot> roots = new ArrayList<>();
        for (Section root : sections(s, "roots")) {
            int rootBefore = problems.count();
            Path path = path(root, "path", "every root names an absolute directory, such as /srv/data");
            FileAccess access = enumValue(root, "access", FileAccess.class, FileAccess.READ_ONLY);
            FilesystemRoot built = finish(root, rootBefore, () -> new FilesystemRoot(path, access));
            if (built != null) {
                roots.add(built);
            }
        }
        Path base = s.take("base") == null ? null : path(s, "base", "");
        List<String> deny = texts(s, "deny");
        long maxFileSize = size(s, "maxFileSize", FilesystemPolicy.DEFAULT_MAX_FILE_SIZE);
        boolean allowHardLinks = bool(s, "allowHardLinks", false);
        return finish(
                s,
                before,
                () -> new FilesystemPolicy(roots, Optional.ofNullable(base), deny, maxFileSize, allowHardLinks));
    }

    private CommandPolicy commands(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        int maxProcesses = integer(s, "maxConcurrentProcesses", CommandPolicy.DEFAULT_MAX_CONCURRENT_PROCESSES);
        Map<String, ProgramPolicy> programs = new LinkedHashMap<>();
        sectionMap(s, "programs").forEach((name, program) -> {
            ProgramPolicy built = program(program);
            if (built != null) {
                programs.put(name, built);
            }
        });
        return finish(s, before, () -> new CommandPolicy(programs, maxProcesses));
    }

    private ProgramPolicy program(Section s) {
        int before = problems.count();
        Path path = path(s, "path", "every program names its absolute path, such as /usr/bin/git");
        String sha256 = text(s, "sha256", null);
        List<String> subcommands = new ArrayList<>();
        Map<String, SubcommandRule> subcommandRules = new LinkedHashMap<>();
        if (value(s, "subcommands") instanceof MapNode) {
            sectionMap(s, "subcommands").forEach((name, rule) -> {
                SubcommandRule built = subcommandRule(rule);
                if (built != null) {
                    subcommandRules.put(name, built);
                }
            });
        } else {
            subcommands.addAll(texts(s, "subcommands"));
        }
        List<String> flags = texts(s, "flags");
        List<ArgRule> args = argRules(s);
        int maxArgs = integer(s, "maxArgs", ProgramPolicy.DEFAULT_MAX_ARGS);
        int maxArgLength = integer(s, "maxArgLength", ProgramPolicy.DEFAULT_MAX_ARG_LENGTH);
        List<String> env = texts(s, "env");
        Duration timeout = duration(s, "timeout", ProgramPolicy.DEFAULT_TIMEOUT);
        long maxOutputBytes = size(s, "maxOutputBytes", ProgramPolicy.DEFAULT_MAX_OUTPUT_BYTES);
        List<String> fixedArgs = texts(s, "fixedArgs");
        Map<String, String> fixedEnv = textMap(s, "fixedEnv");
        ProgramProfile profile = enumValue(s, "profile", ProgramProfile.class, null);
        ProgramPolicy program = finish(
                s,
                before,
                () -> new ProgramPolicy(
                        path,
                        Optional.ofNullable(sha256),
                        subcommands,
                        flags,
                        args,
                        maxArgs,
                        maxArgLength,
                        env,
                        timeout,
                        maxOutputBytes,
                        subcommandRules,
                        fixedArgs,
                        fixedEnv,
                        Optional.ofNullable(profile)));
        if (program == null || program.profileFor(program.path()) != ProgramProfile.GIT) {
            return program;
        }
        List<PolicyProblem> profileProblems = GitProfile.problems(program);
        for (PolicyProblem problem : profileProblems) {
            String at = problem.under(s.path()).path();
            problems.add(locate(at, s.at()), at, problem.message());
        }
        return profileProblems.isEmpty() ? program : null;
    }

    private SubcommandRule subcommandRule(Section s) {
        int before = problems.count();
        List<String> flags = texts(s, "flags");
        List<ArgRule> args = argRules(s);
        int maxArgs = integer(s, "maxArgs", ProgramPolicy.DEFAULT_MAX_ARGS);
        return finish(s, before, () -> new SubcommandRule(flags, args, maxArgs));
    }

    private List<ArgRule> argRules(Section s) {
        List<ArgRule> args = new ArrayList<>();
        for (Section arg : sections(s, "args")) {
            ArgRule rule = argRule(arg);
            if (rule != null) {
                args.add(rule);
            }
        }
        return args;
    }

    private ArgRule argRule(Section s) {
        int before = problems.count();
        List<String> kinds = List.of("literal", "oneOf", "regex", "path", "url");
        List<String> present =
                s.entries().keySet().stream().filter(kinds::contains).collect(Collectors.toList());
        String literal = text(s, "literal", null);
        List<String> oneOf = texts(s, "oneOf");
        String regex = text(s, "regex", null);
        FileAccess access = enumValue(s, "path", FileAccess.class, null);
        String method = text(s, "url", null);
        if (present.size() != 1) {
            problems.add(
                    s.at(),
                    s.path(),
                    "an argument rule has exactly one of literal, oneOf, regex, path or url, but this one has "
                            + (present.isEmpty() ? "none" : String.join(" and ", present)));
        }
        return finish(s, before, () -> switch (present.get(0)) {
            case "literal" -> new ArgRule.Literal(literal);
            case "oneOf" -> new ArgRule.OneOf(oneOf);
            case "regex" -> new ArgRule.Regex(regex);
            case "url" -> new ArgRule.UrlArgument(method);
            default -> new ArgRule.PathArgument(access);
        });
    }

    private EgressPolicy egress(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        List<EgressRule> rules = new ArrayList<>();
        for (Section rule : sections(s, "rules")) {
            EgressRule built = egressRule(rule);
            if (built != null) {
                rules.add(built);
            }
        }
        return finish(s, before, () -> new EgressPolicy(rules));
    }

    private EgressRule egressRule(Section s) {
        int before = problems.count();
        String scheme = text(s, "scheme", "https");
        String host = requiredText(s, "host", "every egress rule names a host, such as api.example.com");
        int port = integer(s, "port", EgressRule.defaultPort(scheme));
        List<String> paths = texts(s, "paths");
        Node methodsNode = value(s, "methods");
        Set<String> methods = methodsNode == null
                ? EgressRule.DEFAULT_METHODS
                : new LinkedHashSet<>(texts(methodsNode, s.path("methods")));
        String audience = text(s, "audience", null);
        List<Cidr> allowAddresses = new ArrayList<>();
        Node addressesNode = value(s, "allowAddresses");
        List<String> blocks = addressesNode == null ? List.of() : texts(addressesNode, s.path("allowAddresses"));
        for (int i = 0; i < blocks.size(); i++) {
            String itemPath = PolicyProblem.indexPath(s.path("allowAddresses"), i);
            try {
                allowAddresses.add(Cidr.parse(blocks.get(i)));
            } catch (InvalidPolicyException e) {
                e.problems().forEach(p -> problems.add(locate(itemPath, s.at()), itemPath, p.message()));
            }
        }
        return finish(
                s,
                before,
                () -> new EgressRule(
                        scheme, host, port, paths, methods, Optional.ofNullable(audience), allowAddresses));
    }

    private TokenPolicy tokens(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        Duration maxTtl = duration(s, "maxTtl", TokenPolicy.DEFAULT_MAX_TTL);
        Map<String, TokenAudience> audiences = new LinkedHashMap<>();
        sectionMap(s, "audiences").forEach((audience, minting) -> {
            int audienceBefore = problems.count();
            String role = requiredText(minting, "role", "name the vault identity-token role that mints this audience");
            Duration ttl = duration(minting, "ttl", maxTtl);
            TokenAudience built = finish(minting, audienceBefore, () -> new TokenAudience(role, ttl));
            if (built != null) {
                audiences.put(audience, built);
            }
        });
        return finish(s, before, () -> new TokenPolicy(maxTtl, audiences));
    }

    private SecretPolicy secrets(Section top) {
        int before = problems.count();
        Map<String, SecretLocation> secrets = new LinkedHashMap<>();
        sectionMap(top, "secrets").forEach((name, where) -> {
            int secretBefore = problems.count();
            String mount = text(where, "mount", "secret");
            String path =
                    requiredText(where, "path", "name the secret's path under its KV v2 mount, such as weather/api");
            String key =
                    requiredText(where, "key", "name the field of the secret that holds the value, such as api_key");
            SecretLocation built = finish(where, secretBefore, () -> new SecretLocation(mount, path, key));
            if (built != null) {
                secrets.put(name, built);
            }
        });
        return problems.count() > before ? null : build(top, () -> new SecretPolicy(secrets));
    }

    private Limits limits(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        long maxArgumentBytes = size(s, "maxArgumentBytes", Limits.DEFAULT_MAX_ARGUMENT_BYTES);
        int maxConcurrentCalls = integer(s, "maxConcurrentCalls", Limits.DEFAULT_MAX_CONCURRENT_CALLS);
        long maxMessageBytes = size(s, "maxMessageBytes", Limits.DEFAULT_MAX_MESSAGE_BYTES);
        return finish(s, before, () -> new Limits(maxArgumentBytes, maxConcurrentCalls, maxMessageBytes));
    }

    private AuditPolicy audit(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        boolean includeArguments = bool(s, "includeArguments", false);
        AuditPolicy.FailMode failMode =
                enumValue(s, "failMode", AuditPolicy.FailMode.class, AuditPolicy.FailMode.CLOSED);
        Duration timeout = duration(s, "timeout", AuditPolicy.DEFAULT_TIMEOUT);
        Path file = value(s, "file") == null
                ? null
                : path(s, "file", "name the file audit records go to, such as /var/log/mcp-secure/audit.jsonl");
        return finish(s, before, () -> new AuditPolicy(includeArguments, failMode, timeout, Optional.ofNullable(file)));
    }

    private TransportPolicy transport(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        String bind = text(s, "bind", TransportPolicy.DEFAULT_BIND);
        boolean allowPublicBind = bool(s, "allowPublicBind", false);
        List<String> origins = texts(s, "allowedOrigins");
        Section authSection = value(s, "auth") == null ? null : section(s, "auth");
        BearerAuthPolicy auth = authSection == null ? null : auth(authSection);
        if (authSection != null && auth == null) {
            s.finish(problems);
            return null;
        }
        int maxSessions = integer(s, "maxSessions", TransportPolicy.DEFAULT_MAX_SESSIONS);
        Duration idle = duration(s, "sessionIdleTimeout", TransportPolicy.DEFAULT_SESSION_IDLE_TIMEOUT);
        Duration readTimeout = duration(s, "readTimeout", TransportPolicy.DEFAULT_READ_TIMEOUT);
        int perPrincipal = integer(s, "maxSessionsPerPrincipal", TransportPolicy.DEFAULT_MAX_SESSIONS_PER_PRINCIPAL);
        long stateBytes = size(s, "maxSessionStateBytes", TransportPolicy.DEFAULT_MAX_SESSION_STATE_BYTES);
        return finish(
                s,
                before,
                () -> new TransportPolicy(
                        bind,
                        allowPublicBind,
                        origins,
                        Optional.ofNullable(auth),
                        maxSessions,
                        idle,
                        readTimeout,
                        perPrincipal,
                        stateBytes));
    }

    private BearerAuthPolicy auth(Section s) {
        int before = problems.count();
        String resource =
                requiredText(s, "resource", "name this server's canonical URI, such as https://mcp.example.com/mcp");
        String issuer = requiredText(s, "issuer", "name the exact iss of accepted tokens");
        String jwksUrl = requiredText(s, "jwksUrl", "name where the issuer publishes its keys (JWKS)");
        List<String> servers = value(s, "authorizationServers") == null
                ? (issuer == null ? List.of() : List.of(issuer))
                : texts(s, "authorizationServers");
        Duration maxLifetime = duration(s, "maxTokenLifetime", BearerAuthPolicy.DEFAULT_MAX_TOKEN_LIFETIME);
        Duration skew = duration(s, "clockSkew", BearerAuthPolicy.DEFAULT_CLOCK_SKEW);
        return finish(s, before, () -> new BearerAuthPolicy(resource, issuer, jwksUrl, servers, maxLifetime, skew));
    }

    private PreflightPolicy preflight(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        PreflightPolicy.Mode mode = enumValue(s, "mode", PreflightPolicy.Mode.class, PreflightPolicy.Mode.REPORT);
        return finish(s, before, () -> new PreflightPolicy(mode));
    }

    private PinningPolicy pinning(Section s) {
        if (s == null) {
            return null;
        }
        int before = problems.count();
        PinningPolicy.Mode mode = enumValue(s, "mode", PinningPolicy.Mode.class, PinningPolicy.Mode.ENFORCE);
        Path lockfile = value(s, "lockfile") == null
                ? null
                : path(s, "lockfile", "name the lockfile the lock command writes, such as mcp-secure.lock");
        PinningPolicy.Lint lint = enumValue(s, "lint", PinningPolicy.Lint.class, PinningPolicy.Lint.REPORT);
        Section signatureSection = value(s, "signature") == null ? null : section(s, "signature");
        PinningPolicy.SignatureKey signature = null;
        if (signatureSection != null) {
            int signatureBefore = problems.count();
            Path publicKey = value(signatureSection, "publicKey") == null
                    ? null
                    : path(
                            signatureSection,
                            "publicKey",
                            "name the file holding the lockfile's public key (JWK or PEM)");
            URI jwksUrl = null;
            if (value(signatureSection, "jwksUrl") != null) {
                String url = requiredText(signatureSection, "jwksUrl", "name where the signing keys are published");
                jwksUrl = url == null ? null : uri(signatureSection, "jwksUrl", url);
            }
            Path key = publicKey;
            URI jwks = jwksUrl;
            signature = finish(
                    signatureSection,
                    signatureBefore,
                    () -> new PinningPolicy.SignatureKey(Optional.ofNullable(key), Optional.ofNullable(jwks)));
        }
        if (signatureSection != null && signature == null) {
            s.finish(problems);
            return null;
        }
        Optional<PinningPolicy.SignatureKey> signed = Optional.ofNullable(signature);
        return finish(s, before, () -> new PinningPolicy(mode, Optional.ofNullable(lockfile), lint, signed));
    }

    private URI uri(Section s, String key, String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            problems.add(
                    s.take(key),
                    s.path(key),
                    Node.quote(text) + " is not a valid URL (" + e.getReason() + "); write one such as"
                            + " https://keys.example.com/.well-known/jwks.json");
            return null;
        }
    }

    // structure

    private Node value(Section s, String key) {
        Node node = s.take(key);
        if (node != null) {
            nodes.put(s.path(key), node);
        }
        return node;
    }

    /** The mapping at {@code key}: all defaults when absent or empty, {@code null} when of the wrong type. */
    private Section section(Section parent, String key) {
        Node node = value(parent, key);
        String path = parent.path(key);
        if (node == null || isNull(node)) {
            return new Section(null, parent.at(), path);
        }
        if (node instanceof MapNode map) {
            return new Section(map, map, path);
        }
        expected(node, path, "a mapping of keys to values");
        return null;
    }

    /** The list of mappings at {@code key}; items of the wrong type are reported and left out. */
    private List<Section> sections(Section parent, String key) {
        Node node = value(parent, key);
        String path = parent.path(key);
        List<Section> result = new ArrayList<>();
        if (node == null || isNull(node)) {
            return result;
        }
        if (!(node instanceof ListNode list)) {
            expected(node, path, "a list of mappings (each item starting with '- ')");
            return result;
        }
        for (int i = 0; i < list.items().size(); i++) {
            Node item = list.items().get(i);
            String itemPath = PolicyProblem.indexPath(path, i);
            nodes.put(itemPath, item);
            if (item instanceof MapNode map) {
                result.add(new Section(map, map, itemPath));
            } else {
                expected(item, itemPath, "a mapping of keys to values");
            }
        }
        return result;
    }

    /** The mapping at {@code key} whose keys are names the user chose, each to a mapping. */
    private Map<String, Section> sectionMap(Section parent, String key) {
        Section section = section(parent, key);
        Map<String, Section> result = new LinkedHashMap<>();
        if (section == null) {
            return result;
        }
        section.entries().forEach((name, node) -> {
            String path = section.path(name);
            nodes.put(path, node);
            if (node instanceof MapNode map) {
                result.put(name, new Section(map, map, path));
            } else {
                expected(node, path, "a mapping of keys to values");
            }
        });
        return result;
    }

    /** Reports the section's unknown keys; builds it unless a problem was found since {@code before}. */
    private <T> T finish(Section s, int before, Supplier<T> make) {
        s.finish(problems);
        return problems.count() > before ? null : build(s, make);
    }

    private <T> T build(Section s, Supplier<T> make) {
        try {
            return make.get();
        } catch (InvalidPolicyException e) {
            for (PolicyProblem problem : e.problems()) {
                String path = problem.under(s.path()).path();
                problems.add(locate(path, s.at()), path, problem.message());
            }
            return null;
        }
    }

    /** The node at {@code path}, or at its closest ancestor that was read. */
    private Node locate(String path, Node fallback) {
        for (String p = path; !p.isEmpty(); p = parentPath(p)) {
            Node node = nodes.get(p);
            if (node != null) {
                return node;
            }
        }
        return fallback;
    }

    private static String parentPath(String path) {
        int cut = path.endsWith("]") ? path.lastIndexOf('[') : path.lastIndexOf('.');
        return cut <= 0 ? "" : path.substring(0, cut);
    }

    // scalars

    private String text(Section s, String key, String defaultValue) {
        Node node = value(s, key);
        if (node == null) {
            return defaultValue;
        }
        String text = scalarText(node, s.path(key), "text");
        return text == null ? defaultValue : text;
    }

    private String requiredText(Section s, String key, String why) {
        String text = text(s, key, null);
        if (text == null && s.take(key) == null) {
            problems.add(s.at(), s.path(key), "'" + key + "' is required: " + why);
        }
        return text;
    }

    private Path path(Section s, String key, String why) {
        String text = requiredText(s, key, why);
        if (text == null) {
            return null;
        }
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            problems.add(
                    s.take(key),
                    s.path(key),
                    Node.quote(text) + " is not a valid path (" + e.getReason()
                            + "); write an absolute path such as /srv/data");
            return null;
        }
    }

    private String scalarText(Node node, String path, String what) {
        if (node instanceof ScalarNode scalar && scalar.kind() != Kind.NULL && scalar.kind() != Kind.BOOLEAN) {
            return scalar.text();
        }
        expected(node, path, what);
        return null;
    }

    private boolean bool(Section s, String key, boolean defaultValue) {
        Node node = value(s, key);
        if (node == null) {
            return defaultValue;
        }
        if (node instanceof ScalarNode scalar && scalar.kind() == Kind.BOOLEAN) {
            return Boolean.parseBoolean(scalar.text());
        }
        expected(node, s.path(key), "true or false");
        return defaultValue;
    }

    private int integer(Section s, String key, int defaultValue) {
        Node node = value(s, key);
        if (node == null) {
            return defaultValue;
        }
        if (node instanceof ScalarNode scalar && scalar.kind() == Kind.INTEGER) {
            BigInteger value = new BigInteger(scalar.text());
            if (value.bitLength() < 32) {
                return value.intValue();
            }
            problems.add(
                    node, s.path(key), scalar.text() + " is far too large; see the reference for this key's range");
            return defaultValue;
        }
        expected(node, s.path(key), "a whole number");
        return defaultValue;
    }

    private Duration duration(Section s, String key, Duration defaultValue) {
        return parsed(s, key, defaultValue, "duration", TextValues.DURATION_FORMS, TextValues::duration);
    }

    private long size(Section s, String key, long defaultValue) {
        return parsed(s, key, defaultValue, "size", TextValues.SIZE_FORMS, TextValues::size);
    }

    private RateLimit rateLimit(Section s, String key, RateLimit defaultValue) {
        TextValues.Rate rate = parsed(s, key, null, "rate", TextValues.RATE_FORMS, TextValues::rate);
        if (rate == null) {
            return defaultValue;
        }
        try {
            return new RateLimit(rate.calls(), rate.per());
        } catch (InvalidPolicyException e) {
            e.problems()
                    .forEach(p -> problems.add(
                            locate(s.path(key), s.at()), s.path(key), "rate " + p.path() + " " + p.message()));
            return defaultValue;
        }
    }

    /**
     * The value at {@code key} in one of the text forms {@code parse} reads; reports text it
     * returns {@code null} for, with the forms it takes and a hint from {@link TextValues#hint}.
     */
    private <T> T parsed(Section s, String key, T defaultValue, String what, String forms, Function<String, T> parse) {
        Node node = value(s, key);
        if (node == null) {
            return defaultValue;
        }
        String text = scalarText(node, s.path(key), "a " + what + " (" + forms + ")");
        if (text == null) {
            return defaultValue;
        }
        T value = parse.apply(text);
        if (value == null) {
            problems.add(
                    node,
                    s.path(key),
                    Node.quote(text) + " is not a " + what + TextValues.hint(what, text) + "; " + forms);
            return defaultValue;
        }
        return value;
    }

    private <E extends Enum<E>> E enumValue(Section s, String key, Class<E> type, E defaultValue) {
        Node node = value(s, key);
        if (node == null) {
            return defaultValue;
        }
        E value = enumOf(node, s.path(key), type);
        return value == null ? defaultValue : value;
    }

    private <E extends Enum<E>> E enumOf(Node node, String path, Class<E> type) {
        String allowed = Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", "));
        String text = scalarText(node, path, "one of " + allowed);
        if (text == null) {
            return null;
        }
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(text.replace('-', '_'))) {
                return constant;
            }
        }
        problems.add(node, path, Node.quote(text) + " is not one of " + allowed);
        return null;
    }

    private <E extends Enum<E>> List<E> enums(Section s, String key, Class<E> type) {
        Node node = value(s, key);
        List<E> result = new ArrayList<>();
        if (node == null) {
            return result;
        }
        for (Map.Entry<String, Node> item : items(node, s.path(key)).entrySet()) {
            E value = enumOf(item.getValue(), item.getKey(), type);
            if (value != null) {
                result.add(value);
            }
        }
        return result;
    }

    /** The mapping at {@code key} of names the user chose to text values; absent or empty for none. */
    private Map<String, String> textMap(Section s, String key) {
        Section section = section(s, key);
        Map<String, String> result = new LinkedHashMap<>();
        if (section == null) {
            return result;
        }
        section.entries().forEach((name, node) -> {
            String path = section.path(name);
            nodes.put(path, node);
            String text = scalarText(node, path, "text");
            if (text != null) {
                result.put(name, text);
            }
        });
        return result;
    }

    private List<String> texts(Section s, String key) {
        Node node = value(s, key);
        return node == null ? new ArrayList<>() : texts(node, s.path(key));
    }

    private List<String> texts(Node node, String path) {
        List<String> result = new ArrayList<>();
        for (Map.Entry<String, Node> item : items(node, path).entrySet()) {
            String text = scalarText(item.getValue(), item.getKey(), "text");
            if (text != null) {
                result.add(text);
            }
        }
        return result;
    }

    /** The items of the list at {@code path} by their paths; a non-list is reported. */
    private Map<String, Node> items(Node node, String path) {
        Map<String, Node> result = new LinkedHashMap<>();
        if (isNull(node)) {
            return result;
        }
        if (!(node instanceof ListNode list)) {
            expected(
                    node,
                    path,
                    "a list, such as [a, b]"
                            + (node instanceof ScalarNode scalar ? " (for one value: [" + scalar.text() + "])" : ""));
            return result;
        }
        for (int i = 0; i < list.items().size(); i++) {
            String itemPath = PolicyProblem.indexPath(path, i);
            nodes.put(itemPath, list.items().get(i));
            result.put(itemPath, list.items().get(i));
        }
        return result;
    }

    private void expected(Node node, String path, String what) {
        problems.add(node, path, "expected " + what + " but found " + node.describe());
    }

    private static boolean isNull(Node node) {
        return node instanceof ScalarNode scalar && scalar.kind() == Kind.NULL;
    }
}
