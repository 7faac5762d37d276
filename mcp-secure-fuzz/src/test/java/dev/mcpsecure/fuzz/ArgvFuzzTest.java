package dev.mcpsecure.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mcpsecure.api.ArgRule;
import dev.mcpsecure.api.CommandPolicy;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.ProgramProfile;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.core.internal.exec.PolicyCommandGuard;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Argument-vector rules on hostile argv: {@code git} with two subcommands, two flags, a numeric and
 * a one-of positional, at most 6 arguments of at most 64 characters.
 *
 * <p>Property: whatever the guard allows is exactly the program followed by the arguments given,
 * and those arguments match the rules as written out here: a listed subcommand first, options
 * (before {@code --}) only from the list, each positional matching its rule in full, no NUL, within
 * the count and length caps. Denials are {@code ARGUMENT_NOT_ALLOWED}; any other exception is a
 * finding.
 */
class ArgvFuzzTest {

    private static final Path GIT = Path.of("/usr/bin/git");
    private static final List<String> SUBCOMMANDS = List.of("log", "status");
    private static final List<String> FLAGS = List.of("--oneline", "-n");
    private static final Pattern COUNT = Pattern.compile("[0-9]{1,3}");
    private static final List<String> REFS = List.of("HEAD", "main");
    private static final PolicyCommandGuard GUARD = guard();

    private static PolicyCommandGuard guard() {
        try {
            Path work = Files.createTempDirectory("mcp-secure-fuzz-argv").toRealPath();
            // argv rules alone: the git profile's own arguments are GitProfileTest's
            ProgramPolicy git = ProgramPolicy.builder(GIT)
                    .profile(ProgramProfile.NONE)
                    .subcommands(SUBCOMMANDS.toArray(String[]::new))
                    .flags(FLAGS.toArray(String[]::new))
                    .arg(new ArgRule.Regex(COUNT.pattern()))
                    .arg(new ArgRule.OneOf(REFS))
                    .maxArgs(6)
                    .maxArgLength(64)
                    .build();
            PolicyFilesystemGuard files = new PolicyFilesystemGuard(FilesystemPolicy.builder()
                    .root(FilesystemRoot.readOnly(work))
                    .base(work)
                    .build());
            return new PolicyCommandGuard(new CommandPolicy(Map.of("git", git), 4), files, Optional.of(work), Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void allowsOnlyArgvMatchingItsRules(FuzzedDataProvider data) {
        int count = data.consumeInt(0, 8);
        List<String> args = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            args.add(data.consumeBoolean() ? data.pickValue(vocabulary()) : data.consumeString(80));
        }
        PolicyCommandGuard.Authorized run;
        try {
            run = GUARD.authorize("git", args, Map.of(), null);
        } catch (PolicyViolationException e) {
            assertThat(e.decision().reason()).isEqualTo(ReasonCode.ARGUMENT_NOT_ALLOWED);
            return;
        }
        List<String> expected = new ArrayList<>();
        expected.add(run.command().get(0));
        expected.addAll(args);
        assertThat(run.command()).as("runs exactly what was asked").isEqualTo(expected);
        assertThat(Path.of(run.command().get(0))).isEqualTo(realGit());
        assertThat(args).hasSizeLessThanOrEqualTo(6);
        assertThat(args).isNotEmpty();
        assertThat(SUBCOMMANDS).contains(args.get(0));
        boolean positionalOnly = false;
        int position = 0;
        for (String arg : args.subList(1, args.size())) {
            assertThat(arg).doesNotContain("\0").hasSizeLessThanOrEqualTo(64);
            if (!positionalOnly && arg.equals("--")) {
                positionalOnly = true;
            } else if (!positionalOnly && arg.startsWith("-")) {
                assertThat(FLAGS).contains(arg);
            } else {
                assertThat(position).as("at most two positionals").isLessThan(2);
                if (position == 0) {
                    assertThat(COUNT.matcher(arg).matches())
                            .as("'%s' is a count", arg)
                            .isTrue();
                } else {
                    assertThat(REFS).contains(arg);
                }
                position++;
            }
        }
    }

    private static String[] vocabulary() {
        return new String[] {"log", "status", "--oneline", "-n", "--", "HEAD", "main", "12", "--upload-pack=x", "-c"};
    }

    private static Path realGit() {
        try {
            return GIT.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
