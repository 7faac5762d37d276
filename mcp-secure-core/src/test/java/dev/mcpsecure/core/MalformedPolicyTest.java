package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.InvalidPolicyException;
import dev.mcpsecure.api.PolicyProblem;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each malformed policy is refused with exactly one problem that points at the offending value
 * (line:column and key path) and says how to fix it.
 */
class MalformedPolicyTest {

    static Stream<Arguments> malformedPolicies() {
        return Stream.of(
                row(
                        "a misspelt key is unknown, and the nearest known key is suggested",
                        """
                        tools:
                          - name: a
                            timout: 5s
                        """,
                        "3:13",
                        "tools[0].timout",
                        "unknown key 'timout'; did you mean 'timeout'?",
                        "Keys allowed here: name, risks"),
                row(
                        "a tool name outside the protocol's charset (a Cyrillic look-alike 'е') is located",
                        "tools:\n  - name: \u0435cho\n",
                        "2:11",
                        "tools[0].name",
                        "is not valid",
                        "tool names are 1 to 128 letters, digits, '_', '-' or '.'"),
                row(
                        "an unknown top-level section is refused, not ignored",
                        "network:\n  allow: all\n",
                        "2:3",
                        "network",
                        "unknown key 'network'",
                        "Keys allowed here: version, server, tools"),
                row(
                        "a secret location may not climb out of its mount with '..'",
                        "secrets:\n  key:\n    path: ../../sys/raw\n    key: value\n",
                        "3:11",
                        "secrets.key.path",
                        "write segments of letters, digits",
                        "without a leading '.' or '/'"),
                row(
                        "a secret needs the field that holds its value",
                        "secrets:\n  key:\n    path: weather/api\n",
                        "3:5",
                        "secrets.key.key",
                        "is required",
                        "such as api_key"),
                row(
                        "listening beyond this machine needs bearer-token auth",
                        "transport:\n  bind: 0.0.0.0\n  allowPublicBind: true\n",
                        "2:3",
                        "transport.auth",
                        "requires bearer tokens",
                        "add transport.auth with resource, issuer and jwksUrl"),
                row(
                        "the JWKS must not be fetched over plain http from another host",
                        "transport:\n  auth:\n    resource: https://mcp.example/mcp\n    issuer: https://idp\n"
                                + "    jwksUrl: http://idp.example/keys\n",
                        "5:14",
                        "transport.auth.jwksUrl",
                        "plain http to a host that is not loopback",
                        "use https"),
                row(
                        "tools is a list, not a mapping",
                        "tools:\n  name: a\n",
                        "2:3",
                        "tools",
                        "expected a list of mappings",
                        "found a mapping"),
                row(
                        "a duration needs a unit the loader knows; prose is refused",
                        "tools:\n  - name: a\n    timeout: 5 minutes\n",
                        "3:14",
                        "tools[0].timeout",
                        "'5 minutes' is not a duration",
                        "30s, 5m",
                        "PT5M"),
                row(
                        "a bare number is not a duration: seconds or milliseconds would be a guess",
                        "tools:\n  - name: a\n    timeout: 30\n",
                        "3:14",
                        "tools[0].timeout",
                        "'30' is not a duration (it has no unit: 30s? 30ms?)",
                        "PT5M"),
                row(
                        "roots must be absolute: a relative root would depend on the working directory",
                        "filesystem:\n  roots:\n    - path: data\n",
                        "3:13",
                        "filesystem.roots[0].path",
                        "root 'data' is relative",
                        "absolute path such as /srv/data"),
                row(
                        "the same tool listed twice would make its limits ambiguous",
                        "tools:\n  - name: a\n  - name: a\n",
                        "3:11",
                        "tools[1].name",
                        "tool 'a' is listed twice",
                        "merge the two entries"),
                row(
                        "token lifetimes above the hard cap defeat short-lived credentials",
                        "tokens:\n  maxTtl: 2h\n",
                        "2:11",
                        "tokens.maxTtl",
                        "maxTtl 2h is above the cap of 1h",
                        "use 1h or less"),
                row(
                        "listening beyond loopback needs the explicit opt-in",
                        "transport:\n  bind: 0.0.0.0\n",
                        "2:9",
                        "transport.bind",
                        "bind address '0.0.0.0' is not loopback",
                        "allowPublicBind: true"),
                row(
                        "a wildcard deeper than one label matches far more hosts than intended",
                        "egress:\n  rules:\n    - host: \"*.*.example.com\"\n",
                        "3:13",
                        "egress.rules[0].host",
                        "has a wildcard other than one leading '*.' label",
                        "'*.example.com'"),
                row(
                        "a rule for any public host never carries a token",
                        "egress:\n  rules:\n    - host: \"*\"\n      audience: https://api.example\n",
                        "4:17",
                        "egress.rules[0].audience",
                        "a rule for any public host ('*') may not carry a token",
                        "give the API's host a rule of its own"),
                row(
                        "a rule for any public host never reaches special addresses",
                        "egress:\n  rules:\n    - host: \"*\"\n      allowAddresses: [10.0.0.0/8]\n",
                        "4:23",
                        "egress.rules[0].allowAddresses",
                        "never reaches special addresses",
                        "a rule of its own with allowAddresses"),
                row(
                        "a key twice in one mapping would silently drop one of the values",
                        "server:\n  name: a\n  name: b\n",
                        "3:3",
                        "server.name",
                        "key 'name' appears twice in the same mapping (first on line 2)",
                        "keep one"),
                row(
                        "risk classes are a closed set",
                        "tools:\n  - name: a\n    risks: [WRITE]\n",
                        "3:13",
                        "tools[0].risks[0]",
                        "'WRITE' is not one of READ_ONLY, FS_WRITE, EXEC, NETWORK, ADMIN"),
                row(
                        "sizes are 1024-based; decimal units get a hint",
                        "filesystem:\n  maxFileSize: 10MB\n",
                        "2:16",
                        "filesystem.maxFileSize",
                        "'10MB' is not a size (sizes are 1024-based",
                        "write KiB, MiB or GiB"),
                row(
                        "opting in to hard links takes a real boolean, not a YAML 1.1 spelling",
                        "filesystem:\n  allowHardLinks: yes\n",
                        "2:19",
                        "filesystem.allowHardLinks",
                        "expected true or false but found the text 'yes'"),
                row(
                        "an address block with host bits set is probably a typo",
                        "egress:\n  rules:\n    - host: localhost\n      allowAddresses: [10.0.0.1/8]\n",
                        "4:24",
                        "egress.rules[0].allowAddresses[0]",
                        "has bits set after the prefix",
                        "write 10.0.0.0/8"),
                row(
                        "an argument pattern must compile",
                        "commands:\n  programs:\n    git:\n      path: /usr/bin/git\n      args:\n        - regex: \"(unclosed\"\n",
                        "6:18",
                        "commands.programs.git.args[0].regex",
                        "'(unclosed' is not a valid regular expression"),
                row(
                        "a policy written for a later format is refused rather than half-understood",
                        "version: 2\n",
                        "1:10",
                        "version",
                        "unsupported policy version",
                        "write 'version: 1'"),
                row(
                        "YAML aliases are refused: they hide what a value is and enable alias bombs",
                        "server: &s\n  name: a\nlimits: *s\n",
                        "3:9",
                        "limits",
                        "YAML aliases (*name) are not allowed"),
                row(
                        "broken YAML syntax is reported where the parser stopped",
                        "tools: [a\n",
                        "1:10",
                        "",
                        "syntax error",
                        "fix the YAML syntax"),
                row(
                        "a policy is a mapping, not a list",
                        "- name: a\n",
                        "1:1",
                        "",
                        "a policy is a mapping of sections",
                        "this document is a list"),
                row(
                        "every tool entry names its tool",
                        "tools:\n  - risks: [EXEC]\n",
                        "2:5",
                        "tools[0].name",
                        "'name' is required"),
                row(
                        "a token audience used by an egress rule must be configured for minting",
                        "egress:\n  rules:\n    - host: api.example.com\n      audience: https://api.example.com\n",
                        "4:17",
                        "egress.rules[0].audience",
                        "audience 'https://api.example.com' is not in tokens.audiences"),
                row(
                        "only http and https leave the server",
                        "egress:\n  rules:\n    - host: files.example.com\n      scheme: ftp\n",
                        "4:15",
                        "egress.rules[0].scheme",
                        "scheme 'ftp' is not allowed",
                        "use https"),
                row(
                        "a binary pin must be a SHA-256 in hex",
                        "commands:\n  programs:\n    git:\n      path: /usr/bin/git\n      sha256: not-a-hash\n",
                        "5:15",
                        "commands.programs.git.sha256",
                        "64 lower-case hex digits"),
                row(
                        "a policy file is one document",
                        "server:\n  name: a\n---\nserver:\n  name: b\n",
                        "4:1",
                        "",
                        "more than one document"),
                row(
                        "booleans are true or false; YAML 1.1 spellings are text",
                        "tools:\n  - name: a\n    confirm: yes\n",
                        "3:14",
                        "tools[0].confirm",
                        "expected true or false but found the text 'yes'"),
                row(
                        "an audience's TTL cannot exceed the policy's maxTtl",
                        "tokens:\n  maxTtl: 5m\n  audiences:\n    https://api.example.com:\n      role: reader\n      ttl: 10m\n",
                        "6:12",
                        "tokens.audiences[\"https://api.example.com\"].ttl",
                        "ttl 10m is above maxTtl 5m"),
                row(
                        "an argument rule has exactly one kind",
                        "commands:\n  programs:\n    git:\n      path: /usr/bin/git\n      args:\n        - literal: log\n          regex: x\n",
                        "6:11",
                        "commands.programs.git.args[0]",
                        "exactly one of literal, oneOf, regex, path or url",
                        "literal and regex"),
                row(
                        "rates are calls/period",
                        "tools:\n  - name: a\n    rateLimit: 60 per minute\n",
                        "3:16",
                        "tools[0].rateLimit",
                        "'60 per minute' is not a rate",
                        "60/1m"),
                row(
                        "a rate's calls must be at least one",
                        "tools:\n  - name: a\n    rateLimit: 0/1m\n",
                        "3:16",
                        "tools[0].rateLimit",
                        "rate calls must be between 1 and 1000000 but was 0"),
                row(
                        "an explicit empty method list would allow nothing; say what is meant",
                        "egress:\n  rules:\n    - host: api.example.com\n      methods: []\n",
                        "4:16",
                        "egress.rules[0].methods",
                        "must list at least one method"),
                row(
                        "a single value where a list is expected gets the list form as its fix",
                        "tools:\n  - name: a\n    scopes: repo\n",
                        "3:13",
                        "tools[0].scopes",
                        "expected a list",
                        "[repo]"),
                row(
                        "program paths are absolute: a PATH lookup could be hijacked",
                        "commands:\n  programs:\n    git:\n      path: git\n",
                        "4:13",
                        "commands.programs.git.path",
                        "'git' is relative",
                        "/usr/bin/git"),
                row(
                        "NUL in a path is refused before it reaches the filesystem",
                        "filesystem:\n  roots:\n    - path: \"/srv/\\0data\"\n",
                        "3:13",
                        "filesystem.roots[0].path",
                        "is not a valid path"),
                row(
                        "numbers too large for their key are refused, not wrapped",
                        "limits:\n  maxConcurrentCalls: 99999999999999\n",
                        "2:23",
                        "limits.maxConcurrentCalls",
                        "far too large"),
                row(
                        "relative paths resolve against a root, never somewhere else",
                        "filesystem:\n  roots:\n    - path: /srv/a\n  base: /srv/b\n",
                        "4:9",
                        "filesystem.base",
                        "base '/srv/b' is not one of the roots"),
                row(
                        "the whole filesystem is never a root",
                        "filesystem:\n  roots:\n    - path: /\n      access: READ_WRITE\n",
                        "3:13",
                        "filesystem.roots[0].path",
                        "'/' cannot be a root"),
                row(
                        "pinning has two modes; a made-up one is not silently taken as either",
                        "pinning:\n  lockfile: mcp-secure.lock\n  mode: warn\n",
                        "3:9",
                        "pinning.mode",
                        "'warn' is not one of ENFORCE, REPORT"),
                row(
                        "a lockfile signature is verified against exactly one key source",
                        "pinning:\n  lockfile: mcp-secure.lock\n  signature:\n    publicKey: lock.pub.pem\n"
                                + "    jwksUrl: https://keys.example.com/jwks.json\n",
                        "4:16",
                        "pinning.signature.publicKey",
                        "name exactly one of publicKey"),
                row(
                        "signing keys are never fetched in the clear from another host",
                        "pinning:\n  lockfile: mcp-secure.lock\n  signature:\n    jwksUrl: http://keys.example.com/jwks.json\n",
                        "4:14",
                        "pinning.signature.jwksUrl",
                        "must be https"),
                row(
                        "a signature requirement without a lockfile would pin nothing",
                        "pinning:\n  signature:\n    publicKey: lock.pub.pem\n",
                        "3:5",
                        "pinning.signature",
                        "a signature needs a lockfile"),
                // per-subcommand rules
                row(
                        "a subcommand's flags follow the same form as a program's",
                        GIT + "      subcommands:\n        status:\n          flags: [short]\n",
                        "7:19",
                        "commands.programs.git.subcommands.status.flags[0]",
                        "'short' is not valid: a flag starts with '-'"),
                row(
                        "with rules per subcommand, flags for the whole program would be ambiguous",
                        GIT + "      subcommands:\n        status: {}\n      flags: [--short]\n",
                        "7:14",
                        "commands.programs.git.flags",
                        "list the flags under the subcommands that take them"),
                row(
                        "with rules per subcommand, argument rules for the whole program would be ambiguous",
                        GIT + "      subcommands:\n        log: {}\n      args:\n        - regex: x\n",
                        "8:9",
                        "commands.programs.git.args",
                        "list the argument rules under the subcommands"),
                row(
                        "a misspelt key in a subcommand's rules is unknown, not ignored",
                        GIT + "      subcommands:\n        status:\n          flag: [--short]\n",
                        "7:17",
                        "commands.programs.git.subcommands.status.flag",
                        "unknown key 'flag'; did you mean 'flags'?"),
                row(
                        "a subcommand's argument count has the program's range",
                        GIT + "      subcommands:\n        log:\n          maxArgs: 2000\n",
                        "7:20",
                        "commands.programs.git.subcommands.log.maxArgs",
                        "must be between 0 and 1024 but was 2000"),
                row(
                        "a subcommand is a word, never an option",
                        GIT + "      subcommands:\n        --exec: {}\n",
                        "6:17",
                        "commands.programs.git.subcommands[\"--exec\"]",
                        "a subcommand is one word not starting with '-'"),
                row(
                        "a subcommand's rules are a mapping",
                        GIT + "      subcommands:\n        log: [--oneline]\n",
                        "6:14",
                        "commands.programs.git.subcommands.log",
                        "expected a mapping of keys to values"),
                // URL arguments
                row(
                        "a URL rule names an HTTP method its egress rule must allow",
                        CURL + "      args:\n        - url: FETCH\n",
                        "6:16",
                        "commands.programs.curl.args[0].url",
                        "'FETCH' is not an HTTP method"),
                row(
                        "a URL rule is one kind of argument rule",
                        CURL + "      args:\n        - url: GET\n          path: READ_ONLY\n",
                        "6:11",
                        "commands.programs.curl.args[0]",
                        "exactly one of literal, oneOf, regex, path or url",
                        "url and path"),
                // fixed arguments and environment, profiles
                row(
                        "PATH is fixed by mcp-secure, not by a policy",
                        CURL + "      fixedEnv:\n        PATH: /tmp/evil\n",
                        "6:15",
                        "commands.programs.curl.fixedEnv.PATH",
                        "PATH is always the fixed safe PATH"),
                row(
                        "a fixed variable that env also lists could be set by the tool",
                        CURL + "      env: [HOME]\n      fixedEnv:\n        HOME: /srv/home\n",
                        "7:15",
                        "commands.programs.curl.fixedEnv.HOME",
                        "is also in env",
                        "remove it from env"),
                row(
                        "a fixed variable has a value",
                        CURL + "      fixedEnv:\n        HOME:\n",
                        "6:14",
                        "commands.programs.curl.fixedEnv.HOME",
                        "expected text but found"),
                row(
                        "fixed arguments never carry NUL",
                        CURL + "      fixedArgs: [\"--a\\0b\"]\n",
                        "5:19",
                        "commands.programs.curl.fixedArgs[0]",
                        "cannot contain NUL"),
                row(
                        "profiles are a closed set",
                        CURL + "      profile: npm\n",
                        "5:16",
                        "commands.programs.curl.profile",
                        "'npm' is not one of NONE, GIT"),
                row(
                        "the git profile needs the subcommands listed: a first argument could be any git command",
                        GIT,
                        "4:7",
                        "commands.programs.git.subcommands",
                        "the git profile needs the subcommands tools may run listed",
                        "profile: none"),
                row(
                        "the git profile refuses subcommands that run commands by design",
                        GIT + "      subcommands: [status, submodule]\n",
                        "5:29",
                        "commands.programs.git.subcommands[1]",
                        "refuses the subcommand 'submodule'"),
                row(
                        "the git profile refuses options that run commands, for the subcommand they do it in",
                        GIT + "      subcommands:\n        clone:\n          flags: [-u]\n",
                        "7:19",
                        "commands.programs.git.subcommands.clone.flags[0]",
                        "refuses the option '-u' with 'clone'",
                        "--upload-pack"),
                row(
                        "the git profile refuses options that run commands wherever they are listed",
                        GIT + "      subcommands: [log, diff]\n      flags: [--oneline, --ext-diff]\n",
                        "6:26",
                        "commands.programs.git.flags[1]",
                        "refuses the option '--ext-diff'"),
                row(
                        "a refused option with its value attached is no flag at all ('=' is refused in any flag)",
                        GIT + "      subcommands:\n        fetch:\n          flags: [--upload-pack=/x]\n",
                        "7:19",
                        "commands.programs.git.subcommands.fetch.flags[0]",
                        "'--upload-pack=/x' is not valid: a flag starts with '-' and has no spaces or '='"),
                row(
                        "a refused option and its value, wherever the flag is listed, is no flag at all",
                        GIT + "      subcommands: [status, grep]\n      flags: [-n, --open-files-in-pager=cat]\n",
                        "6:19",
                        "commands.programs.git.flags[1]",
                        "'--open-files-in-pager=cat' is not valid: a flag starts with '-' and has no spaces or '='"),
                row(
                        "a refused short option with its value attached",
                        GIT + "      subcommands:\n        grep:\n          flags: [-Ocat]\n",
                        "7:19",
                        "commands.programs.git.subcommands.grep.flags[0]",
                        "refuses the option '-Ocat' (git reads it as '-O') with 'grep'"),
                row(
                        "a refused short option inside a cluster of short options",
                        GIT + "      subcommands:\n        grep:\n          flags: [-n, -nOcat]\n",
                        "7:23",
                        "commands.programs.git.subcommands.grep.flags[1]",
                        "refuses the option '-nOcat' (git reads it as '-O') with 'grep'"),
                row(
                        "a prefix git accepts for a refused option",
                        GIT + "      subcommands:\n        fetch:\n          flags: [--upload-p]\n",
                        "7:19",
                        "commands.programs.git.subcommands.fetch.flags[0]",
                        "refuses the option '--upload-p' (git reads it as '--upload-pack')"),
                row(
                        "a prefix of a refused option, wherever the flag is listed",
                        GIT + "      subcommands: [log, grep]\n      flags: [--ext-d]\n",
                        "6:15",
                        "commands.programs.git.flags[0]",
                        "refuses the option '--ext-d' (git reads it as '--ext-diff')"),
                row(
                        "a prefix of a refused option with its value attached is no flag at all",
                        GIT + "      subcommands:\n        grep:\n          flags: [--open=cat]\n",
                        "7:19",
                        "commands.programs.git.subcommands.grep.flags[0]",
                        "'--open=cat' is not valid: a flag starts with '-' and has no spaces or '='"),
                row(
                        "a prefix of an option refused with one subcommand only",
                        GIT + "      subcommands:\n        rebase:\n          flags: [--inter]\n",
                        "7:19",
                        "commands.programs.git.subcommands.rebase.flags[0]",
                        "refuses the option '--inter' (git reads it as '--interactive') with 'rebase'"),
                row(
                        "--text is an option of its own, but cat-file reads it as --textconv",
                        GIT + "      subcommands:\n        grep:\n          flags: [--text]\n        cat-file:\n"
                                + "          flags: [--text]\n",
                        "9:19",
                        "commands.programs.git.subcommands.cat-file.flags[0]",
                        "refuses the option '--text' (git reads it as '--textconv') with 'cat-file'"),
                row(
                        "format-patch --output-directory is -o spelt long",
                        GIT + "      subcommands:\n        format-patch:\n          flags: [--output-directory]\n",
                        "7:19",
                        "commands.programs.git.subcommands.format-patch.flags[0]",
                        "refuses the option '--output-directory' with 'format-patch'"),
                row(
                        "the git profile passes no GIT_* variable that chooses repositories, configuration or programs",
                        GIT + "      subcommands: [status]\n      env: [GIT_SSH_COMMAND]\n",
                        "6:13",
                        "commands.programs.git.env[0]",
                        "passes no GIT_* variable but GIT_AUTHOR_DATE"),
                row(
                        "the git profile's own variables cannot be set by the policy",
                        GIT
                                + "      subcommands: [status]\n      fixedEnv:\n        GIT_CONFIG_GLOBAL: /home/me/.gitconfig\n",
                        "7:28",
                        "commands.programs.git.fixedEnv.GIT_CONFIG_GLOBAL",
                        "fixes GIT_CONFIG_GLOBAL to '/dev/null'"),
                row(
                        "under the git profile a fixed -c sets only keys that run nothing",
                        GIT + "      subcommands: [status]\n      fixedArgs: [-c, \"core.fsmonitor=touch /tmp/x\"]\n",
                        "6:23",
                        "commands.programs.git.fixedArgs[1]",
                        "'core.fsmonitor' is not one of them"),
                row(
                        "under the git profile fixed arguments cannot relocate git",
                        GIT + "      subcommands: [status]\n      fixedArgs: [--exec-path=/tmp/evil]\n",
                        "6:19",
                        "commands.programs.git.fixedArgs[0]",
                        "fixed arguments are '-c' key=value pairs"));
    }

    private static final String GIT = "commands:\n  programs:\n    git:\n      path: /usr/bin/git\n";
    private static final String CURL = "commands:\n  programs:\n    curl:\n      path: /usr/bin/curl\n";

    private static Arguments row(String why, String yaml, String location, String path, String... fragments) {
        return Arguments.of(why, yaml, location, path, fragments);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedPolicies")
    void isRefusedWithLocationAndFix(String why, String yaml, String location, String path, String[] fragments) {
        InvalidPolicyException e =
                catchThrowableOfType(InvalidPolicyException.class, () -> PolicyLoader.fromYaml(yaml, "bad.yaml"));

        assertThat(e).as(why).isNotNull();
        assertThat(e.problems()).as(why).hasSize(1);
        PolicyProblem problem = e.problems().get(0);
        assertThat(problem.line() + ":" + problem.column())
                .as(why + ": location")
                .isEqualTo(location);
        assertThat(problem.path()).as(why + ": path").isEqualTo(path);
        assertThat(problem.source()).isEqualTo("bad.yaml");
        assertThat(problem.message()).as(why + ": message").contains(fragments);
        assertThat(e.getMessage()).startsWith("invalid policy: bad.yaml:" + location + ": ");
    }
}
