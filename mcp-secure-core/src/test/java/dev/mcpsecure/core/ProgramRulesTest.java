package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.mcpsecure.api.ArgRule;
import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.CommandPolicy;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.ProgramProfile;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.SubcommandRule;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.internal.exec.GitProfile;
import dev.mcpsecure.core.internal.exec.PolicyCommandGuard;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard;
import dev.mcpsecure.testkit.InMemoryTransport;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The program rules added with the command profiles, one table each, run through {@link
 * SecureExec} against a script that prints what it was given: rules per subcommand, URL
 * arguments decided by the egress rules, and fixed arguments and environment. Every row says
 * why; a denial starts no process and leaves no marker.
 */
class ProgramRulesTest {

    @TempDir
    Path tmp;

    Path root;
    Path marker;
    Path script;

    @BeforeEach
    void fixture() throws IOException {
        root = Files.createDirectories(tmp.resolve("root"));
        marker = tmp.resolve("marker");
        script = tmp.resolve("bin/echo-args.sh");
        Files.createDirectories(script.getParent());
        Files.writeString(
                script,
                String.join(
                        "\n",
                        "#!/bin/sh",
                        "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done",
                        "printf 'FIXED=%s\\n' \"${FIXED:-}\"",
                        "printf 'LANG=%s\\n' \"${LANG:-}\"",
                        ""));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** One read-write root, the base. */
    private FilesystemPolicy files() {
        return FilesystemPolicy.builder()
                .root(FilesystemRoot.readWrite(root))
                .base(root)
                .build();
    }

    private SecurityPolicy policy() {
        ArgRule anything = new ArgRule.Regex("(?s).*");
        return SecurityPolicy.builder()
                .filesystem(files())
                .program(
                        "tool",
                        ProgramPolicy.builder(script)
                                .subcommand(
                                        "list",
                                        SubcommandRule.builder()
                                                .flags("-l", "--long")
                                                .arg(new ArgRule.Regex("[a-z]+"))
                                                .maxArgs(3)
                                                .build())
                                .subcommand(
                                        "show",
                                        SubcommandRule.builder()
                                                .flags("--all")
                                                .arg(new ArgRule.OneOf(List.of("x", "y")))
                                                .build())
                                .subcommand("none", SubcommandRule.builder().build())
                                .build())
                .program(
                        "fetch",
                        ProgramPolicy.builder(script)
                                .arg(new ArgRule.UrlArgument("GET"))
                                .build())
                .program(
                        "post",
                        ProgramPolicy.builder(script)
                                .arg(new ArgRule.UrlArgument("post"))
                                .build())
                .program(
                        "fixed",
                        ProgramPolicy.builder(script)
                                .fixedArgs("--safe", "$(touch {M})".replace("{M}", marker.toString()))
                                .fixedEnv("FIXED", "yes; touch " + marker)
                                .env("LANG")
                                .arg(anything)
                                .build())
                .egressRule(EgressRule.builder("example.com").paths("/repo/").build())
                .egressRule(EgressRule.builder("*.example.org")
                        .methods("GET", "POST")
                        .build())
                .egressRule(EgressRule.builder("127.0.0.1").build())
                // for EgressHttpClient only: it never admits a program's URL argument
                .egressRule(EgressRule.builder(EgressRule.ANY_PUBLIC_HOST).build())
                .build();
    }

    /** One run and what must come of it: {@code ok:<text the output contains>} or a reason code. */
    record Case(String why, String program, List<String> args, Map<String, String> env, String expected) {
        @Override
        public String toString() {
            return why;
        }
    }

    static Case ok(String why, String program, List<String> args, String output) {
        return new Case(why, program, args, Map.of(), "ok:" + output);
    }

    static Case denied(String why, String program, List<String> args, ReasonCode reason) {
        return new Case(why, program, args, Map.of(), reason.name());
    }

    static Stream<Case> subcommandRules() {
        ReasonCode no = ReasonCode.ARGUMENT_NOT_ALLOWED;
        return Stream.of(
                ok(
                        "a subcommand's own flag and argument",
                        "tool",
                        List.of("list", "-l", "abc"),
                        "[list]\n[-l]\n[abc]\n"),
                ok("the other subcommand's own rules", "tool", List.of("show", "--all", "x"), "[show]\n[--all]\n[x]\n"),
                ok("a subcommand whose rule allows nothing more", "tool", List.of("none"), "[none]\n"),
                denied("a flag of another subcommand", "tool", List.of("list", "--all"), no),
                denied("a flag listed for one subcommand only", "tool", List.of("show", "-l"), no),
                denied("a positional the subcommand's rule does not match", "tool", List.of("show", "abc"), no),
                denied(
                        "more arguments after the subcommand than its maxArgs",
                        "tool",
                        List.of("list", "-l", "-l", "--long", "abc"),
                        no),
                denied("an argument where the subcommand's rule allows none", "tool", List.of("none", "x"), no),
                denied("a subcommand with no rule", "tool", List.of("delete"), no),
                denied("no subcommand at all", "tool", List.of(), no),
                denied("an option before the subcommand", "tool", List.of("-l", "list"), no),
                denied(
                        "after --, an option-looking word must match the rule",
                        "tool",
                        List.of("list", "--", "-l"),
                        no));
    }

    static Stream<Case> urlArguments() {
        return Stream.of(
                ok(
                        "an https URL a rule allows",
                        "fetch",
                        List.of("https://example.com/repo/x.git"),
                        "[https://example.com/repo/x.git]\n"),
                ok(
                        "the program gets the URL as the egress guard read it: default port dropped, host lower case",
                        "fetch",
                        List.of("https://EXAMPLE.com:443/repo/x"),
                        "[https://example.com/repo/x]\n"),
                ok(
                        "a fragment is not passed on",
                        "fetch",
                        List.of("https://example.com/repo/x#top"),
                        "[https://example.com/repo/x]\n"),
                ok(
                        "a query is",
                        "fetch",
                        List.of("https://example.com/repo/x?a=1"),
                        "[https://example.com/repo/x?a=1]\n"),
                ok(
                        "one label under a wildcard rule",
                        "fetch",
                        List.of("https://a.example.org/any"),
                        "[https://a.example.org/any]\n"),
                ok(
                        "a method its rule allows",
                        "post",
                        List.of("https://a.example.org/any"),
                        "[https://a.example.org/any]\n"),
                denied(
                        "a path outside the rule's prefixes",
                        "fetch",
                        List.of("https://example.com/other"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "a host no rule names",
                        "fetch",
                        List.of("https://evil.example.net/repo/"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "localhost, which only the any-public-host rule covers: the program would resolve it",
                        "fetch",
                        List.of("https://localhost/repo/"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "a metadata name, which only the any-public-host rule covers",
                        "fetch",
                        List.of("https://metadata.google.internal/computeMetadata/v1/"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "two labels under a wildcard",
                        "fetch",
                        List.of("https://a.b.example.org/"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "a method its rule does not allow",
                        "post",
                        List.of("https://example.com/repo/x"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "plain http where the rule says https",
                        "fetch",
                        List.of("http://example.com/repo/x"),
                        ReasonCode.EGRESS_SCHEME_NOT_ALLOWED),
                denied(
                        "git's ext:: transport runs a command",
                        "fetch",
                        List.of("ext::sh"),
                        ReasonCode.EGRESS_SCHEME_NOT_ALLOWED),
                denied(
                        "an ext:: command with spaces is not even a URL",
                        "fetch",
                        List.of("ext::sh -c touch% {M}"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "file:// reaches the disk",
                        "fetch",
                        List.of("file:///etc/passwd"),
                        ReasonCode.EGRESS_SCHEME_NOT_ALLOWED),
                denied(
                        "an scp-like ssh address is not a URL",
                        "fetch",
                        List.of("git@example.com:repo/x.git"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "user info in the URL",
                        "fetch",
                        List.of("https://user@example.com/repo/x"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "a backslash other parsers read as '/'",
                        "fetch",
                        List.of("https://evil.example.net\\@example.com/repo/"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "dot segments out of the prefix",
                        "fetch",
                        List.of("https://example.com/repo/../secret"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "an IPv4 address in decimal",
                        "fetch",
                        List.of("https://2130706433/repo/"),
                        ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                denied(
                        "a loopback literal its rule does not list in allowAddresses",
                        "fetch",
                        List.of("https://127.0.0.1/x"),
                        ReasonCode.EGRESS_ADDRESS_BLOCKED),
                denied(
                        "an option is never a URL",
                        "fetch",
                        List.of("--upload-pack=touch {M}"),
                        ReasonCode.ARGUMENT_NOT_ALLOWED));
    }

    static Stream<Case> fixedArgumentsAndEnvironment() {
        return Stream.of(
                ok(
                        "fixed arguments come first, literally, then the tool's",
                        "fixed",
                        List.of("mine"),
                        "[--safe]\n[$(touch {M})]\n[mine]\n"),
                ok("the fixed variable reaches the program, literally", "fixed", List.of(), "FIXED=yes; touch {M}\n"),
                new Case(
                        "the tool cannot set a fixed variable",
                        "fixed",
                        List.of(),
                        Map.of("FIXED", "no"),
                        ReasonCode.ENV_NOT_ALLOWED.name()),
                new Case(
                        "a listed variable still passes",
                        "fixed",
                        List.of(),
                        Map.of("LANG", "C.UTF-8"),
                        "ok:LANG=C.UTF-8\n"),
                denied(
                        "a fixed argument does not make room for another option",
                        "fixed",
                        List.of("--safe"),
                        ReasonCode.ARGUMENT_NOT_ALLOWED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"subcommandRules", "urlArguments", "fixedArgumentsAndEnvironment"})
    void runsOnlyWhatTheRulesAllow(Case row) throws Exception {
        SecureExec exec = SecureExec.of(policy());
        List<String> args = row.args().stream().map(this::fill).toList();

        String expected =
                row.expected().startsWith("ok:") ? "ok:" + fill(row.expected().substring(3)) : row.expected();
        SecureExecTest.assertRun(exec, row.why(), row.program(), args, row.env(), null, expected, marker);
    }

    private String fill(String text) {
        return text.replace("{M}", marker.toString());
    }

    @Test
    void aRefusedUrlIsTheCallsAnswerAndItsAuditedProcessEffectWithTheEgressReason() {
        RecordingAuditSink audit = new RecordingAuditSink();
        SecurityPolicy policy = SecurityPolicy.builder()
                .tool(ToolPolicy.builder("clone").risks(RiskClass.EXEC).build())
                .filesystem(files())
                .program(
                        "fetch",
                        ProgramPolicy.builder(script)
                                .arg(new ArgRule.UrlArgument("GET"))
                                .build())
                .egressRule(EgressRule.builder("example.com").build())
                .build();
        SecureExec exec = SecureExec.of(policy);
        SyncToolSpecification clone = SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder("clone", Map.of("type", "object")).build())
                .callHandler((exchange, request) -> {
                    try {
                        String url = String.valueOf(request.arguments().get("url"));
                        return CallToolResult.builder()
                                .addTextContent(exec.run("fetch", List.of(url)).stdout())
                                .build();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                })
                .build();
        InMemoryTransport transport = InMemoryTransport.create();
        McpSyncServer server = SecureMcpServer.builder(policy)
                .auditSink(audit)
                .tool(clone, RiskClass.EXEC)
                .build(transport.serverProvider())
                .sync();
        try (McpSyncClient client = McpClient.sync(transport.clientTransport())
                .requestTimeout(Duration.ofSeconds(20))
                .build()) {
            client.initialize();
            CallToolResult allowed = client.callTool(CallToolRequest.builder("clone")
                    .arguments(Map.of("url", "https://example.com/x.git"))
                    .build());
            CallToolResult refused = client.callTool(CallToolRequest.builder("clone")
                    .arguments(Map.of("url", "https://169.254.169.254/latest/meta-data/"))
                    .build());

            assertThat(((TextContent) allowed.content().get(0)).text()).startsWith("[https://example.com/x.git]");
            assertThat(refused.isError()).isTrue();
            assertThat(((TextContent) refused.content().get(0)).text())
                    .startsWith(
                            "EGRESS_HOST_NOT_ALLOWED: program 'fetch' has a URL argument that is not allowed: no egress"
                                    + " rule names host 169.254.169.254");
        } finally {
            server.close();
        }
        assertThat(audit.events())
                .extracting(AuditEvent::kind, AuditEvent::action, AuditEvent::reason)
                .containsExactly(
                        tuple(AuditEvent.Kind.EFFECT, "process", ReasonCode.ALLOWED),
                        tuple(AuditEvent.Kind.CALL, null, ReasonCode.ALLOWED),
                        tuple(AuditEvent.Kind.EFFECT, "process", ReasonCode.EGRESS_HOST_NOT_ALLOWED),
                        tuple(AuditEvent.Kind.CALL, null, ReasonCode.EGRESS_HOST_NOT_ALLOWED));
        assertThat(audit.events().get(2).callId())
                .isEqualTo(audit.events().get(3).callId());
        assertThat(exec.startedCount()).isEqualTo(1);
    }

    // profiles: what runs, as the guard composes it

    private PolicyCommandGuard guard(ProgramPolicy program) {
        return new PolicyCommandGuard(
                new CommandPolicy(Map.of("git", program), 4),
                new PolicyFilesystemGuard(files()),
                Optional.of(root),
                Map.of());
    }

    @Test
    void aProgramNamedGitGetsTheGitProfileAfterThePolicysFixedArguments() throws IOException {
        ProgramPolicy git = ProgramPolicy.builder(Path.of("/usr/bin/git"))
                .subcommands("status")
                .flags("--short")
                .fixedArgs("-c", "user.name=Bot")
                .fixedEnv("GIT_AUTHOR_NAME", "Bot")
                .build();

        PolicyCommandGuard.Authorized run = guard(git).authorize("git", List.of("status", "--short"), Map.of(), null);

        List<String> expected =
                new ArrayList<>(List.of(Path.of("/usr/bin/git").toRealPath().toString(), "-c", "user.name=Bot"));
        expected.addAll(GitProfile.LEADING_ARGS);
        expected.addAll(List.of("status", "--ignore-submodules=all", "--short"));
        assertThat(run.command()).isEqualTo(expected);
        Map<String, String> environment = new HashMap<>(GitProfile.ENV);
        environment.put("PATH", PolicyCommandGuard.SAFE_PATH);
        environment.put("GIT_AUTHOR_NAME", "Bot");
        assertThat(run.environment()).isEqualTo(environment);
        assertThat(run.profile()).isEqualTo(ProgramProfile.GIT);
        assertThat(run.subcommand()).contains("status");
    }

    @Test
    void profileNoneRunsGitWithThePolicysOwnArgumentsOnly() throws IOException {
        ProgramPolicy git = ProgramPolicy.builder(Path.of("/usr/bin/git"))
                .profile(ProgramProfile.NONE)
                .subcommands("status")
                .build();

        PolicyCommandGuard.Authorized run = guard(git).authorize("git", List.of("status"), Map.of(), null);

        assertThat(run.command())
                .containsExactly(Path.of("/usr/bin/git").toRealPath().toString(), "status");
        assertThat(run.environment()).containsOnlyKeys("PATH");
    }

    @Test
    void gitUnderAnotherNameIsKnownByItsRealFile() throws IOException {
        Path renamed = Files.createSymbolicLink(tmp.resolve("vcs"), Path.of("/usr/bin/git"));
        ProgramPolicy git = ProgramPolicy.builder(renamed).subcommands("status").build();

        assertThat(guard(git)
                        .authorize("git", List.of("status"), Map.of(), null)
                        .command())
                .containsSubsequence("--no-pager", "status", "--ignore-submodules=all");
    }

    @Test
    void aPolicyTheGitProfileRefusesCannotBeUsedAndSaysWhy() {
        ProgramPolicy git = ProgramPolicy.builder(Path.of("/usr/bin/git"))
                .subcommands("status", "submodule")
                .flags("--upload-pack")
                .build();

        assertThatThrownBy(() -> guard(git))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not suit the git profile")
                .hasMessageContaining("commands.programs.git.subcommands[1]: the git profile refuses the subcommand"
                        + " 'submodule': it runs git inside submodules")
                .hasMessageContaining(
                        "commands.programs.git.flags[0]: the git profile refuses the option" + " '--upload-pack'");
    }

    @Test
    void aRefusedOptionIsRefusedHoweverGitWouldReadIt() {
        ProgramPolicy git = ProgramPolicy.builder(Path.of("/usr/bin/git"))
                .subcommands("fetch", "grep", "log")
                .flags("--upload-pac", "--open-files", "-Ocat", "--upload-p", "--ext-d", "-nOcat", "--text", "-n")
                .build();

        assertThatThrownBy(() -> guard(git))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("commands.programs.git.flags[0]: the git profile refuses the option"
                        + " '--upload-pac' (git reads it as '--upload-pack')")
                .hasMessageContaining("commands.programs.git.flags[1]: the git profile refuses the option"
                        + " '--open-files' (git reads it as '--open-files-in-pager')")
                .hasMessageContaining("commands.programs.git.flags[2]: the git profile refuses the option"
                        + " '-Ocat' (git reads it as '-O') with 'grep'")
                .hasMessageContaining("commands.programs.git.flags[3]: the git profile refuses the option"
                        + " '--upload-p' (git reads it as '--upload-pack')")
                .hasMessageContaining("commands.programs.git.flags[4]: the git profile refuses the option"
                        + " '--ext-d' (git reads it as '--ext-diff')")
                .hasMessageContaining("commands.programs.git.flags[5]: the git profile refuses the option"
                        + " '-nOcat' (git reads it as '-O') with 'grep'")
                .message()
                .doesNotContain("flags[6]", "flags[7]");
    }

    @Test
    void optionsOfTheirOwnThatBeginARefusedOneAreKeptWhereGitHasThem() throws IOException {
        ProgramPolicy git = ProgramPolicy.builder(Path.of("/usr/bin/git"))
                .subcommand(
                        "grep", SubcommandRule.builder().flags("--text", "-n").build())
                .subcommand("clone", SubcommandRule.builder().flags("--filter").build())
                .subcommand(
                        "log",
                        SubcommandRule.builder()
                                .flags("--text", "--no-ext-diff")
                                .build())
                .build();

        assertThat(guard(git)
                        .authorize("git", List.of("grep", "--text", "-n"), Map.of(), null)
                        .command())
                .containsSubsequence("grep", "--no-textconv", "--text", "-n");
    }
}
