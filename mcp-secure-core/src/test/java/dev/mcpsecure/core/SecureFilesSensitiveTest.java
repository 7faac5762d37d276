package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.CallContext;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.internal.CurrentCall;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The deny list on real files in a read-write root: each sensitive file is refused on read and on
 * write with {@code PATH_SENSITIVE}, whatever the case of its name, the file is left as it was, and
 * each refusal is an effect record of the call. Case is ignored everywhere, git's paths included:
 * on a case-insensitive filesystem (ext4 casefold, vfat, NTFS, macOS) {@code .Git/Config} is git's
 * config, and on a case-sensitive one refusing it costs nothing.
 */
class SecureFilesSensitiveTest {

    @TempDir
    Path tmp;

    Path root;
    SecureFiles files;
    final List<AuditEvent> effects = new ArrayList<>();

    @BeforeEach
    void open() throws IOException {
        root = Files.createDirectories(tmp.resolve("rw"));
        files = SecureFiles.of(FilesystemPolicy.builder()
                .root(FilesystemRoot.readWrite(root))
                .deny("**/secrets")
                .build());
    }

    static Stream<Arguments> sensitive() {
        return Stream.of(
                row(".git/config", "git config runs programs (core.fsmonitor, core.sshCommand) and holds remote URLs"),
                row(".git/hooks/pre-commit", "a hook is a program git runs"),
                row(".git/hooks", "the hooks directory itself (a new hook is a write below it)"),
                row(".git/config.worktree", "per-worktree config is config"),
                row(".git/modules/lib/config", "a submodule's config"),
                row(".git/modules/lib/hooks/post-checkout", "a submodule's hooks"),
                row(".git/worktrees/wt/config.worktree", "a linked worktree's config"),
                row(".netrc", "logins and passwords for hosts"),
                row(".git-credentials", "git's stored credentials"),
                row(".env", "the classic"),
                row(".env.local", "every .env* file, not only .env"),
                row(".envrc", "direnv's file exports secrets too"),
                row(".ENV", "a case variant: the same file on a case-insensitive filesystem"),
                row("conf/Server.PEM", "key and certificate files, any case"),
                row("tls/server.key", "a private key"),
                row("keys/client.p12", "a PKCS#12 bundle holds a private key"),
                row("keys/client.PFX", "the Windows name of PKCS#12, upper case"),
                row("keys/app.jks", "a Java keystore"),
                row("android/release.keystore", "an Android signing keystore"),
                row("ID_RSA", "an SSH private key, upper case"),
                row(".SSH/authorized_keys", "anything under .ssh, any case"),
                row(".Aws/credentials", "cloud credentials, any case"),
                row(".docker/Config.JSON", "the Docker login, any case"),
                row(".Git/Config", "git paths ignore case like every other pattern"),
                row(".GIT/HOOKS/pre-push", "hooks in upper case"),
                row(".git/con\uFB01g", "a ligature: case-folding filesystems take 'ﬁ' for 'fi'"),
                row("release.key\uFB06ore", "a ligature: 'ﬆ' folds to 'st'"),
                row(".\u017Fsh/id_rsa", "a long s: 'ſ' folds to 's'"),
                row("data/Secrets/token.txt", "a pattern the policy adds ignores case too"));
    }

    static Stream<Arguments> ordinary() {
        return Stream.of(
                row(".git/info/attributes", "attributes only pick drivers the (denied) config defines"),
                row(".git/HEAD", "the rest of .git is not a credential or a program"),
                row(".gitattributes", "tracked attributes are ordinary project files"),
                row("environment.md", "not a .env* name"),
                row("docs/keys.md", "mentions keys, is not one"),
                row("src/config", "a file named config outside .git"));
    }

    private static Arguments row(String relative, String why) {
        return Arguments.of(relative, why);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("sensitive")
    void isRefusedOnReadAndWriteAndRecorded(String relative, String why) throws IOException {
        Path file = root.resolve(relative);
        boolean directory = relative.endsWith("hooks");
        Files.createDirectories(directory ? file : file.getParent());
        if (!directory) {
            Files.writeString(file, "SECRET");
        }

        List<Throwable> refusals = new ArrayList<>();
        inCall(() -> {
            refusals.add(catchThrowable(() -> files.readBytes(file.toString())));
            refusals.add(
                    catchThrowable(() -> files.write(file.toString(), "CHANGED".getBytes(StandardCharsets.UTF_8))));
        });

        assertThat(refusals).as(why).allSatisfy(thrown -> assertThat(thrown)
                .isInstanceOf(PolicyViolationException.class)
                .extracting(e -> ((PolicyViolationException) e).reason())
                .isEqualTo(ReasonCode.PATH_SENSITIVE));
        if (!directory) {
            assertThat(Files.readString(file)).as("%s: left as it was", why).isEqualTo("SECRET");
        }
        assertThat(effects)
                .as(why)
                .extracting(AuditEvent::kind, AuditEvent::action, AuditEvent::reason)
                .containsExactly(
                        tuple(AuditEvent.Kind.EFFECT, "file.read", ReasonCode.PATH_SENSITIVE),
                        tuple(AuditEvent.Kind.EFFECT, "file.write", ReasonCode.PATH_SENSITIVE));
        assertThat(effects).allSatisfy(effect -> assertThat(effect.callId()).isEqualTo("call-1"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("ordinary")
    void isReadAndWritten(String relative, String why) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, "PLAIN");

        inCall(() -> {
            assertThat(files.readText(file.toString())).as(why).isEqualTo("PLAIN");
            files.writeText(file.toString(), "CHANGED");
        });

        assertThat(Files.readString(file)).isEqualTo("CHANGED");
        assertThat(effects)
                .extracting(AuditEvent::action, AuditEvent::reason)
                .containsExactly(tuple("file.read", ReasonCode.ALLOWED), tuple("file.write", ReasonCode.ALLOWED));
    }

    @Test
    void listingLeavesSensitiveEntriesOutWhateverTheirCase() throws IOException {
        for (String name : List.of(".ENV.production", "Server.Pem", ".git-credentials", "notes.txt")) {
            Files.writeString(root.resolve(name), "x");
        }
        assertThat(files.list(root.toString()))
                .extracting(SecureFiles.Entry::name)
                .containsExactly("notes.txt");
    }

    @Test
    void theBuiltInListNamesEverySensitiveKind() {
        assertThat(FilesystemPolicy.DEFAULT_DENY)
                .contains(
                        "**/.env*",
                        "**/.netrc",
                        "**/.git-credentials",
                        "**/.git/{config,config.worktree,hooks}",
                        "**/*.p12",
                        "**/*.pfx",
                        "**/*.jks",
                        "**/*.keystore")
                .doesNotContain("**/.env");
    }

    /** Runs {@code work} in a call bound to this thread, its effect records going to {@link #effects}. */
    private void inCall(FileWork work) throws IOException {
        CallContext context =
                new CallContext("call-1", "test", "session-1", null, null, null, null, "files", "0", null);
        CurrentCall.Scope call = CurrentCall.bind(new CurrentCall.Binding(context, effects::add));
        try {
            work.run();
        } finally {
            call.close();
        }
    }

    /** A piece of a test that uses files. */
    private interface FileWork {
        void run() throws IOException;
    }
}
