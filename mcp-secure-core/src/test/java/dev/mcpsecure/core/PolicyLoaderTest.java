package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.ArgRule;
import dev.mcpsecure.api.AuditPolicy;
import dev.mcpsecure.api.BearerAuthPolicy;
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
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.SubcommandRule;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.TransportPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

class PolicyLoaderTest {

    static final Path EXAMPLE = Path.of("..", "docs", "policy-example.yaml");

    /** The example policy, written with the builders: what loading the file must produce. */
    static SecurityPolicy expectedExample() {
        return SecurityPolicy.builder()
                .server("files-and-git", "Reads project files, keeps notes, runs read-only git, calls one API.")
                .tool(ToolPolicy.builder("read_file")
                        .timeout(Duration.ofSeconds(10))
                        .build())
                .tool(ToolPolicy.builder("write_note")
                        .risks(RiskClass.FS_WRITE)
                        .confirm(true)
                        .rateLimit(10, Duration.ofMinutes(1))
                        .build())
                .tool(ToolPolicy.builder("git_log")
                        .risks(RiskClass.EXEC)
                        .maxConcurrency(2)
                        .maxOutputBytes(256 * 1024)
                        .build())
                .tool(ToolPolicy.builder("fetch_issue")
                        .risks(RiskClass.NETWORK)
                        .scopes("issues:read")
                        .build())
                .filesystem(FilesystemPolicy.builder()
                        .root(FilesystemRoot.readOnly(Path.of("/srv/project")))
                        .root(FilesystemRoot.readWrite(Path.of("/srv/notes")))
                        .base(Path.of("/srv/project"))
                        .deny("**/secrets")
                        .maxFileSize(5L << 20)
                        .build())
                .maxConcurrentProcesses(2)
                .program(
                        "git",
                        ProgramPolicy.builder(Path.of("/usr/bin/git"))
                                .subcommands("log", "status")
                                .flags("--oneline", "-n")
                                .arg(new ArgRule.Regex("[0-9a-f]{7,40}"))
                                .arg(new ArgRule.PathArgument(FileAccess.READ_ONLY))
                                .env("HOME")
                                .timeout(Duration.ofSeconds(5))
                                .maxOutputBytes(1L << 20)
                                .build())
                .egressRule(EgressRule.builder("api.github.com")
                        .paths("/repos/")
                        .methods("GET")
                        .audience("https://api.github.com")
                        .build())
                .egressRule(EgressRule.builder("localhost")
                        .scheme("http")
                        .port(8200)
                        .allowAddresses("127.0.0.1/32")
                        .build())
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of("https://api.github.com", new TokenAudience("github-reader", Duration.ofMinutes(2)))))
                .secret("github-webhook-secret", new SecretLocation("secret", "github/webhook", "secret"))
                .limits(new Limits(64 * 1024, 32))
                .audit(new AuditPolicy(false))
                .transport(TransportPolicy.builder()
                        .allowOrigin("http://localhost:6274")
                        .auth(BearerAuthPolicy.of(
                                "https://mcp.example.com/mcp",
                                "https://vault.example.com/v1/identity/oidc",
                                "https://vault.example.com/v1/identity/oidc/.well-known/keys"))
                        .build())
                .preflight(new PreflightPolicy(PreflightPolicy.Mode.REPORT))
                .build();
    }

    @Test
    void theDocumentedExampleLoadsIntoTheExpectedRecords() throws IOException {
        SecurityPolicy loaded = PolicyLoader.load(EXAMPLE);

        assertThat(loaded).isEqualTo(expectedExample());
        assertThat(loaded.tool("write_note").orElseThrow().risks())
                .containsExactlyInAnyOrder(RiskClass.READ_ONLY, RiskClass.FS_WRITE);
        assertThat(loaded.tool("read_file").orElseThrow().rateLimit()).isEqualTo(ToolPolicy.DEFAULT_RATE_LIMIT);
    }

    @Test
    void theSamePolicyAsJsonLoadsIdentically(@TempDir Path dir) throws IOException {
        String json = JsonMapper.builder()
                .build()
                .writeValueAsString(YAMLMapper.builder().build().readTree(Files.readString(EXAMPLE)));
        Path file = dir.resolve("policy.json");
        Files.writeString(file, json);

        assertThat(PolicyLoader.load(file)).isEqualTo(expectedExample());
        assertThat(PolicyLoader.fromJson(json, "inline")).isEqualTo(expectedExample());
    }

    @Test
    void commandRulesAndProfilesLoadIntoTheRecordsTheBuildersMake() {
        String yaml = """
                egress:
                  rules:
                    - host: github.com
                commands:
                  programs:
                    git:
                      path: /usr/bin/git
                      subcommands:
                        status:
                          flags: [--short]
                        log:
                          flags: [--oneline, -n]
                          args:
                            - regex: "[0-9]{1,3}"
                          maxArgs: 3
                        clone:
                          args:
                            - url: get
                            - path: READ_WRITE
                      fixedArgs: [-c, user.name=Bot, -c, safe.directory=/srv/repo]
                      fixedEnv:
                        GIT_AUTHOR_NAME: Bot
                    plain-git:
                      path: /usr/bin/git
                      profile: none
                      subcommands: [status]
                """;

        SecurityPolicy loaded = PolicyLoader.fromYaml(yaml, "commands.yaml");

        assertThat(loaded.commands().programs())
                .containsExactly(
                        Map.entry(
                                "git",
                                ProgramPolicy.builder(Path.of("/usr/bin/git"))
                                        .subcommand(
                                                "status",
                                                SubcommandRule.builder()
                                                        .flags("--short")
                                                        .build())
                                        .subcommand(
                                                "log",
                                                SubcommandRule.builder()
                                                        .flags("--oneline", "-n")
                                                        .arg(new ArgRule.Regex("[0-9]{1,3}"))
                                                        .maxArgs(3)
                                                        .build())
                                        .subcommand(
                                                "clone",
                                                SubcommandRule.builder()
                                                        .arg(new ArgRule.UrlArgument("GET"))
                                                        .arg(new ArgRule.PathArgument(FileAccess.READ_WRITE))
                                                        .build())
                                        .fixedArgs("-c", "user.name=Bot", "-c", "safe.directory=/srv/repo")
                                        .fixedEnv("GIT_AUTHOR_NAME", "Bot")
                                        .build()),
                        Map.entry(
                                "plain-git",
                                ProgramPolicy.builder(Path.of("/usr/bin/git"))
                                        .profile(ProgramProfile.NONE)
                                        .subcommands("status")
                                        .build()));
        assertThat(loaded.commands().programs().get("git").profileFor(Path.of("/usr/bin/git")))
                .isEqualTo(ProgramProfile.GIT);
    }

    @Test
    void anEmojiAcrossTheYamlReadersBufferEdgeLoads() {
        // snakeyaml-engine 3.0.1 threw IndexOutOfBoundsException when a surrogate pair straddled its
        // 1,024-character buffer (found by PolicyLoaderFuzzTest); 3.1.1 reads it
        String yaml = "# " + "x".repeat(1022) + "\uD83D\uDE00 a comment\ntools:\n  - name: a\n";
        assert Character.isHighSurrogate(yaml.charAt(1024));

        assertThat(PolicyLoader.fromYaml(yaml, "emoji.yaml").tool("a")).isPresent();
    }

    @Test
    void pinningPathsResolveAgainstThePolicyFilesFolder(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config/policy.yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, """
                pinning:
                  lockfile: mcp-secure.lock
                  mode: report
                  lint: strict
                  signature:
                    publicKey: keys/lock.pub.pem
                """);

        PinningPolicy pinning = PolicyLoader.load(file).pinning();

        assertThat(pinning)
                .isEqualTo(new PinningPolicy(
                        PinningPolicy.Mode.REPORT,
                        Optional.of(dir.resolve("config/mcp-secure.lock").toAbsolutePath()),
                        PinningPolicy.Lint.STRICT,
                        Optional.of(PinningPolicy.SignatureKey.file(
                                dir.resolve("config/keys/lock.pub.pem").toAbsolutePath()))));
        assertThat(PolicyLoader.fromYaml("{}", "inline").pinning())
                .as("no section: not pinned")
                .isEqualTo(PinningPolicy.none());
        assertThat(PolicyLoader.fromYaml("pinning:\n  lockfile: a.lock\n", "inline")
                        .pinning())
                .as("defaults: enforce, lint report, no signature; relative to the working folder when inline")
                .isEqualTo(PinningPolicy.enforce(Path.of("a.lock")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "# nothing allowed yet\n", "---\n", "{}", "null"})
    void anEmptyPolicyDeniesEverything(String yaml) {
        SecurityPolicy policy = PolicyLoader.fromYaml(yaml, "empty.yaml");

        assertThat(policy).isEqualTo(SecurityPolicy.denyAll());
        assertThat(policy.tools()).isEmpty();
        assertThat(policy.filesystem().roots()).isEmpty();
        assertThat(policy.commands().programs()).isEmpty();
        assertThat(policy.egress().rules()).isEmpty();
        assertThat(policy.tokens().audiences()).isEmpty();
    }

    @Test
    void hardLinksStayRefusedUnlessThePolicyAllowsThem() {
        assertThat(PolicyLoader.fromYaml("filesystem:\n  allowHardLinks: true\n", "p.yaml")
                        .filesystem()
                        .allowHardLinks())
                .isTrue();
        assertThat(PolicyLoader.fromYaml("filesystem:\n  maxFileSize: 1KiB\n", "p.yaml")
                        .filesystem()
                        .allowHardLinks())
                .isFalse();
    }

    @Test
    void anEmptyJsonObjectDeniesEverything() {
        assertThat(PolicyLoader.fromJson("{}", "empty.json")).isEqualTo(SecurityPolicy.denyAll());
    }

    @Test
    void everyProblemIsReportedTogetherInTextOrder() {
        String yaml = """
                tools:
                  - name: slow
                    timeout: 5 minutes
                filesystem:
                  roots:
                    - path: data
                transport:
                  bind: 0.0.0.0
                """;

        InvalidPolicyException e =
                catchThrowableOfType(InvalidPolicyException.class, () -> PolicyLoader.fromYaml(yaml, "three.yaml"));

        assertThat(e.problems())
                .extracting(PolicyProblem::line, PolicyProblem::path)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(3, "tools[0].timeout"),
                        org.assertj.core.groups.Tuple.tuple(6, "filesystem.roots[0].path"),
                        org.assertj.core.groups.Tuple.tuple(8, "transport.bind"));
        assertThat(e.getMessage())
                .startsWith("invalid policy, 3 problems:")
                .contains("three.yaml:3:14: tools[0].timeout: '5 minutes' is not a duration")
                .contains("three.yaml:6:13: filesystem.roots[0].path: root 'data' is relative")
                .contains("three.yaml:8:9: transport.bind: bind address '0.0.0.0' is not loopback");
    }

    @Test
    void problemsInDifferentSectionsAndInsideOneRecordAreAllReported() {
        String yaml = """
                tools:
                  - name: a
                  - name: a
                  - name: b
                    maxConcurrency: 0
                    timeout: 2h
                egress:
                  rules:
                    - host: "*.*.example.com"
                      port: 70000
                """;

        InvalidPolicyException e =
                catchThrowableOfType(InvalidPolicyException.class, () -> PolicyLoader.fromYaml(yaml, "many.yaml"));

        assertThat(e.problems())
                .extracting(PolicyProblem::path)
                .containsExactly(
                        "tools[2].maxConcurrency", "tools[2].timeout", "egress.rules[0].host", "egress.rules[0].port");
    }

    @Test
    void aCrossSectionCheckRunsOnceEverySectionIsClean() {
        String yaml = """
                tools:
                  - name: a
                  - name: a
                """;
        InvalidPolicyException e =
                catchThrowableOfType(InvalidPolicyException.class, () -> PolicyLoader.fromYaml(yaml, "dup.yaml"));
        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("tools[1].name");
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).contains("tool 'a' is listed twice (first as tools[0])", "merge");
        });
    }

    @Test
    void filesAreLoadedByTheirExtensionWithinASizeCapAndAsUtf8(@TempDir Path dir) throws IOException {
        Path yml = dir.resolve("policy.yml");
        Files.writeString(yml, "server:\n  name: from-file\n");
        assertThat(PolicyLoader.load(yml).server().name()).isEqualTo("from-file");

        Path txt = dir.resolve("policy.txt");
        Files.writeString(txt, "server:\n  name: x\n");
        assertThatThrownBy(() -> PolicyLoader.load(txt))
                .isInstanceOf(InvalidPolicyException.class)
                .hasMessageContaining("name the file *.yaml, *.yml or *.json");

        Path huge = dir.resolve("huge.yaml");
        Files.write(huge, new byte[(int) PolicyLoader.MAX_POLICY_BYTES + 1]);
        assertThatThrownBy(() -> PolicyLoader.load(huge))
                .isInstanceOf(InvalidPolicyException.class)
                .hasMessageContaining("a policy file is at most 1048576 bytes");

        Path latin1 = dir.resolve("latin1.yaml");
        Files.write(latin1, new byte[] {'s', 'e', 'r', 'v', 'e', 'r', ':', ' ', (byte) 0xe9});
        assertThatThrownBy(() -> PolicyLoader.load(latin1))
                .isInstanceOf(InvalidPolicyException.class)
                .hasMessageContaining("not valid UTF-8");

        assertThatThrownBy(() -> PolicyLoader.load(dir.resolve("missing.yaml")))
                .isInstanceOf(NoSuchFileException.class);
    }
}
