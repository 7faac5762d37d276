package dev.mcpsecure.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyRecordsTest {

    @Test
    void toolPolicyReportsEveryBadComponentAtOnce() {
        InvalidPolicyException e = catchThrowableOfType(
                InvalidPolicyException.class,
                () -> new ToolPolicy(
                        "bad name!",
                        Set.of(),
                        Set.of("has space"),
                        false,
                        ToolPolicy.DEFAULT_RATE_LIMIT,
                        0,
                        Duration.ofHours(2),
                        1));

        assertThat(e.problems())
                .extracting(PolicyProblem::path)
                .containsExactly("name", "scopes", "maxConcurrency", "timeout");
        assertThat(e.problems().get(0).message()).contains("'bad name!'", "1 to 128 letters");
        assertThat(e.problems().get(3).message()).isEqualTo("must be between 1ms and 1h but was 2h");
    }

    @Test
    void toolPolicyAlwaysEnablesReadOnlyAndCopiesItsSets() {
        Set<RiskClass> risks = new HashSet<>(Set.of(RiskClass.EXEC));
        Set<String> scopes = new HashSet<>(Set.of("repo:read"));
        ToolPolicy tool = new ToolPolicy(
                "git_log", risks, scopes, false, ToolPolicy.DEFAULT_RATE_LIMIT, 1, Duration.ofSeconds(1), 10);

        risks.add(RiskClass.ADMIN);
        scopes.add("admin");

        assertThat(tool.risks()).containsExactlyInAnyOrder(RiskClass.READ_ONLY, RiskClass.EXEC);
        assertThat(tool.scopes()).containsExactly("repo:read");
        assertThatThrownBy(() -> tool.risks().add(RiskClass.ADMIN)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> tool.scopes().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThat(tool.enables(Set.of(RiskClass.EXEC))).isTrue();
        assertThat(tool.enables(Set.of(RiskClass.EXEC, RiskClass.NETWORK))).isFalse();
    }

    @Test
    void listsAndMapsAreCopiedDefensively() {
        List<FilesystemRoot> roots = new ArrayList<>(List.of(FilesystemRoot.readOnly(Path.of("/srv/a"))));
        List<String> deny = new ArrayList<>(List.of("**/*.bak"));
        FilesystemPolicy filesystem = new FilesystemPolicy(roots, Optional.empty(), deny, 1024, false);
        roots.add(FilesystemRoot.readWrite(Path.of("/srv/b")));
        deny.clear();

        Map<String, TokenAudience> audiences = new LinkedHashMap<>();
        audiences.put("https://api.example.com", new TokenAudience("reader", Duration.ofMinutes(1)));
        TokenPolicy tokens = new TokenPolicy(Duration.ofMinutes(5), audiences);
        audiences.put("https://evil.example", new TokenAudience("reader", Duration.ofMinutes(1)));

        List<ToolPolicy> tools = new ArrayList<>(List.of(ToolPolicy.readOnly("a")));
        SecurityPolicy policy = SecurityPolicy.builder().tool(tools.get(0)).build();
        tools.add(ToolPolicy.readOnly("b"));

        assertThat(filesystem.roots()).hasSize(1);
        assertThat(filesystem.deny()).containsExactly("**/*.bak");
        assertThat(tokens.audiences()).containsOnlyKeys("https://api.example.com");
        assertThat(policy.tools()).extracting(ToolPolicy::name).containsExactly("a");
        assertThatThrownBy(() -> filesystem.roots().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> tokens.audiences().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> policy.tools().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void nullElementsAreReportedNotThrownAsNullPointerExceptions() {
        List<String> deny = new ArrayList<>();
        deny.add(null);
        InvalidPolicyException e = catchThrowableOfType(
                InvalidPolicyException.class,
                () -> new FilesystemPolicy(List.of(), Optional.empty(), deny, 1024, false));
        assertThat(e.problems()).singleElement().hasToString("deny: must not contain null elements");
    }

    @Test
    void filesystemRootsMustBeAbsoluteNormalizedAndNotTheWholeMachine() {
        assertThatThrownBy(() -> FilesystemRoot.readOnly(Path.of("data")))
                .isInstanceOf(InvalidPolicyException.class)
                .hasMessageContaining("'data' is relative; write an absolute path");
        assertThatThrownBy(() -> FilesystemRoot.readOnly(Path.of("/srv/../etc")))
                .hasMessageContaining("write it as '/etc'");
        assertThatThrownBy(() -> FilesystemRoot.readOnly(Path.of("/")))
                .hasMessageContaining("would expose the whole machine");
        assertThatThrownBy(() -> new FilesystemPolicy(
                        List.of(FilesystemRoot.readOnly(Path.of("/srv")), FilesystemRoot.readWrite(Path.of("/srv"))),
                        Optional.empty(),
                        List.of(),
                        1,
                        false))
                .hasMessageContaining("roots[1].path: root '/srv' is listed twice (first as roots[0])");
        assertThatThrownBy(() -> FilesystemPolicy.builder().deny("[unclosed"))
                .hasMessageContaining("'[unclosed' is not a valid glob");
    }

    @Test
    void aBadComponentDoesNotHideProblemsInTheOthers() {
        InvalidPolicyException e = catchThrowableOfType(
                InvalidPolicyException.class,
                () -> new FilesystemPolicy(
                        List.of(FilesystemRoot.readOnly(Path.of("/srv")), FilesystemRoot.readOnly(Path.of("/srv"))),
                        Optional.of(Path.of("/elsewhere")),
                        List.of("[bad"),
                        0,
                        false));
        assertThat(e.problems())
                .extracting(PolicyProblem::path)
                .containsExactly("maxFileSize", "roots[1].path", "base", "deny[0]");
    }

    @Test
    void problemMessagesEscapeControlCharacters() {
        PolicyProblem problem = PolicyProblem.at("server.name", "'\u001b[31mred' is not valid");
        assertThat(problem.message()).isEqualTo("'\\u001b[31mred' is not valid").doesNotContain("\u001b");
    }

    @Test
    void effectiveDenyAlwaysStartsWithTheBuiltInSensitiveFiles() {
        FilesystemPolicy policy =
                FilesystemPolicy.builder().deny("**/secrets/**").build();
        assertThat(policy.effectiveDeny())
                .startsWith(FilesystemPolicy.DEFAULT_DENY.toArray(String[]::new))
                .endsWith("**/secrets/**");
    }

    @Test
    void tokenTtlsAreCappedAndAudienceTtlsStayUnderMaxTtl() {
        assertThatThrownBy(() -> new TokenPolicy(Duration.ofHours(2), Map.of()))
                .hasMessageContaining("maxTtl: maxTtl 2h is above the cap of 1h")
                .hasMessageContaining("use 1h or less");
        assertThatThrownBy(() -> new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of("https://api.example.com", new TokenAudience("r", Duration.ofMinutes(10)))))
                .hasMessageContaining("audiences[\"https://api.example.com\"].ttl: ttl 10m is above maxTtl 5m");
        assertThat(TokenPolicy.none().maxTtl()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void egressHostsAreNormalizedAndWildcardsMatchOneLabelOnly() {
        assertThat(EgressRule.builder("API.Example.COM.").build().host()).isEqualTo("api.example.com");
        assertThat(EgressRule.builder("bücher.example").build().host()).isEqualTo("xn--bcher-kva.example");
        assertThat(EgressRule.builder("*.example.com").build().wildcard()).isTrue();
        assertThat(EgressRule.builder("[::1]").scheme("http").build().host()).isEqualTo("[0:0:0:0:0:0:0:1]");

        assertThat(EgressRule.builder("*").build().anyPublicHost())
                .as("'*' alone: any public host")
                .isTrue();
        for (String bad : List.of("*.*.example.com", "api.*.com", "**.example.com", "**", "*.com", "ex ample.com")) {
            assertThatThrownBy(() -> EgressRule.builder(bad))
                    .as(bad)
                    .isInstanceOf(InvalidPolicyException.class)
                    .hasMessageContaining("host");
        }
        assertThatThrownBy(() -> EgressRule.builder("0x7f.1")).hasMessageContaining("non-canonical form");
        assertThatThrownBy(() -> EgressRule.builder("2130706433")).hasMessageContaining("non-canonical form");
    }

    @Test
    void egressRuleDefaultsAreHttpsGetHeadAndTheSchemePort() {
        EgressRule https = EgressRule.builder("api.example.com").build();
        EgressRule http = EgressRule.builder("localhost").scheme("HTTP").build();
        assertThat(https.scheme()).isEqualTo("https");
        assertThat(https.port()).isEqualTo(443);
        assertThat(https.methods()).containsExactlyInAnyOrder("GET", "HEAD");
        assertThat(http.scheme()).isEqualTo("http");
        assertThat(http.port()).isEqualTo(80);
        assertThatThrownBy(() -> EgressRule.builder("a.example").scheme("ftp"))
                .hasMessageContaining("scheme 'ftp' is not allowed");
        assertThatThrownBy(() -> EgressRule.builder("a.example").paths("v1/"))
                .hasMessageContaining("must start with '/'");
        assertThatThrownBy(() -> EgressRule.builder("a.example").paths("/v1/../admin"))
                .hasMessageContaining("'..'");
        assertThatThrownBy(() -> EgressRule.builder("a.example").methods("FETCH"))
                .hasMessageContaining("'FETCH' is not an HTTP method");
    }

    @Test
    void cidrsParseWithoutLookupsAndRefuseHostBits() {
        Cidr loopback = Cidr.parse("127.0.0.0/8");
        assertThat(loopback.contains(IpLiteralsTest.address("127.1.2.3"))).isTrue();
        assertThat(loopback.contains(IpLiteralsTest.address("128.0.0.1"))).isFalse();
        assertThat(loopback.contains(IpLiteralsTest.address("::1"))).isFalse();
        assertThat(Cidr.parse("::1")).hasToString("0:0:0:0:0:0:0:1/128");
        assertThat(Cidr.parse("fc00::/7").contains(IpLiteralsTest.address("fd12::1")))
                .isTrue();
        Cidr mapped = Cidr.parse("::ffff:0:0/96");
        assertThat(mapped.contains(IpLiteralsTest.address("::ffff:7f00:1"))).isTrue();
        assertThat(mapped.contains(IpLiteralsTest.address("::1"))).isFalse();
        assertThat(mapped.contains(IpLiteralsTest.address("127.0.0.1")))
                .as("an IPv4 address is not in an IPv6 block")
                .isFalse();

        assertThatThrownBy(() -> Cidr.parse("10.0.0.1/8")).hasMessageContaining("write 10.0.0.0/8");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("between 0 and 32");
        assertThatThrownBy(() -> Cidr.parse("localhost")).hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> Cidr.parse("010.0.0.0/8")).hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessageContaining("invalid prefix length");
    }

    @Test
    void transportBindsLoopbackUnlessPublicBindIsExplicit() {
        assertThat(TransportPolicy.defaults().bind()).isEqualTo("127.0.0.1");
        assertThat(TransportPolicy.builder().bind("::1").build().bind()).isEqualTo("::1");
        assertThatThrownBy(() -> TransportPolicy.builder().bind("0.0.0.0").build())
                .hasMessageContaining("bind address '0.0.0.0' is not loopback")
                .hasMessageContaining("allowPublicBind: true");
        assertThatThrownBy(() -> TransportPolicy.builder()
                        .bind("0.0.0.0")
                        .allowPublicBind()
                        .build())
                .hasMessageContaining("requires bearer tokens");
        BearerAuthPolicy auth =
                BearerAuthPolicy.of("https://mcp.example/mcp", "https://idp.example", "https://idp.example/jwks");
        assertThat(TransportPolicy.builder()
                        .bind("0.0.0.0")
                        .allowPublicBind()
                        .auth(auth)
                        .build()
                        .auth())
                .contains(auth);
        assertThat(auth.authorizationServers()).containsExactly("https://idp.example");
        assertThatThrownBy(() -> BearerAuthPolicy.of("mcp.example/mcp", "https://idp", "http://127.0.0.1:8200/keys"))
                .hasMessageContaining("resource")
                .hasMessageContaining("not an absolute http(s) URL");
        assertThatThrownBy(() -> TransportPolicy.builder().bind("example.com").build())
                .hasMessageContaining("is not an IP address");
        assertThatThrownBy(() -> TransportPolicy.builder().allowOrigin("*")).hasMessageContaining("wildcard origin");
    }

    @Test
    void programsNeedAbsolutePathsAndWellFormedPinsFlagsAndNames() {
        assertThatThrownBy(() -> ProgramPolicy.builder(Path.of("git"))).hasMessageContaining("absolute path");
        assertThatThrownBy(() -> ProgramPolicy.builder(Path.of("/usr/bin/git")).sha256("ABC"))
                .hasMessageContaining("64 lower-case hex digits");
        InvalidPolicyException e =
                catchThrowableOfType(InvalidPolicyException.class, () -> ProgramPolicy.builder(Path.of("/usr/bin/git"))
                        .flags("--oneline", "oneline")
                        .env("HOME", "BAD-NAME")
                        .build());
        assertThat(e.problems()).extracting(PolicyProblem::path).containsExactly("flags[1]", "env[1]");
        assertThatThrownBy(() -> new ArgRule.Regex("(unclosed")).hasMessageContaining("not a valid regular expression");
        assertThatThrownBy(() -> new ArgRule.OneOf(List.of())).hasMessageContaining("at least one value");
        assertThatThrownBy(() -> new CommandPolicy(
                        Map.of(
                                "bad name",
                                ProgramPolicy.builder(Path.of("/bin/true")).build()),
                        1))
                .hasMessageContaining("programs[\"bad name\"]");
    }

    @Test
    void programRulesProfilesAndFixedValuesAreValidatedWhereTheyAre() {
        InvalidPolicyException e = catchThrowableOfType(
                InvalidPolicyException.class,
                () -> new ProgramPolicy(
                        Path.of("/usr/bin/git"),
                        Optional.empty(),
                        List.of("status"),
                        List.of("--short"),
                        List.of(new ArgRule.Literal("x")),
                        8,
                        100,
                        List.of("HOME"),
                        Duration.ofSeconds(1),
                        1024,
                        Map.of("log", SubcommandRule.builder().build()),
                        List.of("ok", "bad\0"),
                        new LinkedHashMap<>(Map.of("HOME", "/x")),
                        Optional.of(ProgramProfile.NONE)));
        assertThat(e.problems())
                .extracting(PolicyProblem::path)
                .containsExactly("subcommands", "flags", "args", "fixedArgs[1]", "fixedEnv.HOME");
        assertThatThrownBy(() -> ProgramPolicy.builder(Path.of("/usr/bin/git"))
                        .fixedEnv("PATH", "/tmp")
                        .build())
                .hasMessageContaining("fixedEnv.PATH: PATH is always the fixed safe PATH");
        assertThatThrownBy(() -> SubcommandRule.builder().flags("short").build())
                .hasMessageContaining("flags[0]: 'short' is not valid");
        assertThatThrownBy(() -> new ArgRule.UrlArgument("FETCH")).hasMessageContaining("is not an HTTP method");
        assertThat(new ArgRule.UrlArgument("post").method()).isEqualTo("POST");
        ProgramPolicy.Builder builder = ProgramPolicy.builder(Path.of("/usr/bin/git"))
                .profile(ProgramProfile.NONE)
                .subcommand("log", SubcommandRule.builder().build());
        assertThatThrownBy(() -> builder.profile(ProgramProfile.GIT)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(
                        () -> builder.subcommand("log", SubcommandRule.builder().build()))
                .isInstanceOf(IllegalStateException.class);
        assertThat(builder.build().allowedSubcommands()).containsExactly("log");
        assertThat(ProgramProfile.defaultFor(Path.of("/usr/bin/git"))).isEqualTo(ProgramProfile.GIT);
        assertThat(ProgramProfile.defaultFor(Path.of("/usr/bin/git-shell"))).isEqualTo(ProgramProfile.NONE);
        assertThat(ProgramPolicy.builder(Path.of("/opt/vcs")).build().profileFor(Path.of("/usr/bin/git")))
                .as("a link to git is git")
                .isEqualTo(ProgramProfile.GIT);
    }

    @Test
    void securityPolicyRefusesDuplicateToolsAndUndeclaredAudiences() {
        InvalidPolicyException e = catchThrowableOfType(InvalidPolicyException.class, () -> SecurityPolicy.builder()
                .tool(ToolPolicy.readOnly("a"))
                .tool(ToolPolicy.readOnly("a"))
                .egressRule(EgressRule.builder("api.example.com")
                        .audience("https://api.example.com")
                        .build())
                .build());
        assertThat(e.problems())
                .extracting(PolicyProblem::toString)
                .containsExactly(
                        "tools[1].name: tool 'a' is listed twice (first as tools[0]); merge the two entries into one",
                        "egress.rules[0].audience: audience 'https://api.example.com' is not in tokens.audiences;"
                                + " add it there with the role that mints its tokens");
    }

    @Test
    void denyAllAllowsNothing() {
        SecurityPolicy policy = SecurityPolicy.denyAll();
        assertThat(policy.tools()).isEmpty();
        assertThat(policy.filesystem().roots()).isEmpty();
        assertThat(policy.commands().programs()).isEmpty();
        assertThat(policy.egress().rules()).isEmpty();
        assertThat(policy.tokens().audiences()).isEmpty();
        assertThat(policy.tool("anything")).isEmpty();
        assertThat(policy.transport().bind()).isEqualTo("127.0.0.1");
    }

    @Test
    void buildersRefuseSettingAnOptionTwiceAndNameBadValues() {
        ToolPolicy.Builder tool = ToolPolicy.builder("t").timeout(Duration.ofSeconds(1));
        assertThatThrownBy(() -> tool.timeout(Duration.ofSeconds(2)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("timeout was already set to PT1S");
        assertThatThrownBy(() -> ToolPolicy.builder("t").maxOutputBytes(1L << 40))
                .isInstanceOf(InvalidPolicyException.class)
                .hasMessage("invalid policy: maxOutputBytes: must be between 1 bytes and 256MiB but was 1024GiB");
        assertThatThrownBy(() -> SecurityPolicy.builder().server("a", "").server("b", ""))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ToolPolicy.builder("t").rateLimit(0, Duration.ofSeconds(1)))
                .hasMessageContaining("calls: must be between 1 and 1000000 but was 0");
    }

    @Test
    void secretsAndTokensNeverPrintTheirValues() {
        AccessToken token = new AccessToken("eyJ.secret-token", "https://api.example.com", Instant.EPOCH);
        Secret secret = new Secret("db-password", "hunter2");
        assertThat(token.toString()).doesNotContain("secret-token").contains("██", "https://api.example.com");
        assertThat(secret.toString()).doesNotContain("hunter2").contains("db-password", "██");
        assertThat(token.expiredAt(Instant.EPOCH)).isTrue();
    }

    @Test
    void decisionsAgreeWithTheirReasonAndDenialsCarryNoStackTrace() {
        assertThat(Decision.allow().allowed()).isTrue();
        assertThatThrownBy(() -> new Decision(true, ReasonCode.TIMEOUT, "x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Decision(false, ReasonCode.ALLOWED, "x"))
                .isInstanceOf(IllegalArgumentException.class);

        Decision denial = Decision.deny(ReasonCode.PATH_OUTSIDE_ROOTS, "'../etc/passwd' is outside the roots");
        PolicyViolationException e = catchThrowableOfType(PolicyViolationException.class, denial::orThrow);
        assertThat(e.reason()).isEqualTo(ReasonCode.PATH_OUTSIDE_ROOTS);
        assertThat(e.decision()).isSameAs(denial);
        assertThat(e.getStackTrace()).isEmpty();
        assertThat(e).hasMessage("PATH_OUTSIDE_ROOTS: '../etc/passwd' is outside the roots");
        Decision.allow().orThrow();
        assertThatThrownBy(() -> new PolicyViolationException(Decision.allow()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void problemPathsQuoteKeysThatAreNotIdentifiers() {
        assertThat(PolicyProblem.keyPath("", "tools")).isEqualTo("tools");
        assertThat(PolicyProblem.keyPath("tokens.audiences", "https://a.example"))
                .isEqualTo("tokens.audiences[\"https://a.example\"]");
        assertThat(PolicyProblem.indexPath("tools", 2)).isEqualTo("tools[2]");
        assertThat(PolicyProblem.at("timeout", "bad").under("tools[2]").path()).isEqualTo("tools[2].timeout");
        assertThat(PolicyProblem.at("[1]", "bad").under("deny").path()).isEqualTo("deny[1]");
        assertThat(new PolicyProblem("p.yaml", 3, 7, "tools[0].timeout", "bad"))
                .hasToString("p.yaml:3:7: tools[0].timeout: bad");
    }

    @Test
    void optionalComponentsMustNotBeNull() {
        assertThatThrownBy(() -> new EgressRule("https", "a.example", 443, List.of(), Set.of("GET"), null, List.of()))
                .hasMessageContaining("audience: is required (use Optional.empty() for none)");
        assertThat(new EgressRule("https", "a.example", 443, List.of(), Set.of("get"), Optional.empty(), List.of())
                        .methods())
                .containsExactly("GET");
    }
}
