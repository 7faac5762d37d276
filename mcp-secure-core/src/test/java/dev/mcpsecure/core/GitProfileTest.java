package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.ArgRule;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.ProgramProfile;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.testkit.LoopbackHttpServer;
import dev.mcpsecure.testkit.TestGit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The git profile against the real git: for each place git takes a command from (a configuration
 * key of the repository, the user or an included file, a hook, a driver chosen by an attribute, a
 * transport), the same policy with {@code profile: none} runs the command, which touches a marker
 * file; under the profile the marker never appears. And git still works under the profile.
 */
class GitProfileTest {

    private static final Path GIT = Path.of("/usr/bin/git");
    private static final List<String> SUBCOMMANDS = List.of(
            "status",
            "diff",
            "log",
            "show",
            "commit",
            "checkout",
            "merge",
            "fetch",
            "push",
            "ls-remote",
            "branch",
            "clone",
            "st");
    private static final String[] FLAGS = {"-m", "-n", "-p", "-q", "-D", "--allow-empty", "--no-edit", "--short"};

    @TempDir
    Path tmp;

    Path root;
    Path repo;
    Path marker;
    LoopbackHttpServer http;

    @BeforeEach
    void repository() throws Exception {
        root = Files.createDirectories(tmp.resolve("root"));
        repo = Files.createDirectories(root.resolve("repo"));
        marker = tmp.resolve("marker");
        git(repo, "init", "-q", "-b", "main");
        Files.writeString(repo.resolve("a.txt"), "one\n");
        git(repo, "add", "a.txt");
        git(repo, "commit", "-q", "-m", "first");
    }

    @AfterEach
    void stop() {
        if (http != null) {
            http.close();
        }
    }

    private SecureExec exec() {
        return exec(repo);
    }

    /** Runs "git" (the profile) and "plain" (profile: none, otherwise the same) in the one root {@code dir}. */
    private SecureExec exec(Path dir) {
        return SecureExec.of(SecurityPolicy.builder()
                .filesystem(FilesystemPolicy.builder()
                        .root(FilesystemRoot.readWrite(dir))
                        .base(dir)
                        .build())
                .program("git", git(ProgramProfile.GIT))
                .program("plain", git(ProgramProfile.NONE))
                .build());
    }

    private static ProgramPolicy git(ProgramProfile profile) {
        ProgramPolicy.Builder git = ProgramPolicy.builder(GIT)
                .profile(profile)
                .subcommands(SUBCOMMANDS.toArray(String[]::new))
                .flags(FLAGS)
                .fixedArgs("-c", "user.name=Tester", "-c", "user.email=tester@example.com")
                .env("HOME", "XDG_CONFIG_HOME")
                .maxArgs(16)
                .timeout(Duration.ofSeconds(20));
        for (int i = 0; i < 4; i++) {
            git.arg(new ArgRule.Regex("(?s).*"));
        }
        return git.build();
    }

    /** A place git takes a command from, how a repository (or its user) sets it, and a run that uses it. */
    record Attack(String key, Step setup, Step before, List<String> trigger, Map<String, String> env, String cwd) {
        /** This attack run with {@code name=value} ({T} for the test's directory) in the tool's environment. */
        Attack withEnv(String name, String value) {
            return new Attack(key, setup, before, trigger, Map.of(name, value), cwd);
        }

        @Override
        public String toString() {
            return key + " (git " + String.join(" ", trigger) + ")";
        }
    }

    @FunctionalInterface
    interface Step {
        void run(GitProfileTest t) throws Exception;
    }

    private static Attack attack(String key, Step setup, String... trigger) {
        return new Attack(key, setup, t -> {}, List.of(trigger), Map.of(), null);
    }

    private static Attack attack(String key, Step setup, Step before, String... trigger) {
        return new Attack(key, setup, before, List.of(trigger), Map.of(), null);
    }

    private static final String TOUCH = "touch {M}";
    private static final String FSMONITOR = "[core]\n\tfsmonitor = \"" + TOUCH + "; true\"\n";
    private static final Step DIRTY_STAT = t -> t.newMtime(t.repo.resolve("a.txt"));

    static Stream<Attack> attacks() {
        return Stream.of(
                // configuration keys that name a program
                attack("core.fsmonitor", t -> t.config(FSMONITOR), "status"),
                attack(
                        "core.hooksPath (post-index-change)",
                        t -> {
                            t.hook(t.tmp.resolve("hooks"), "post-index-change");
                            t.config("[core]\n\thooksPath = " + t.tmp.resolve("hooks") + "\n");
                        },
                        DIRTY_STAT,
                        "status"),
                attack(
                        ".git/hooks/post-index-change",
                        t -> t.hook(t.repo.resolve(".git/hooks"), "post-index-change"),
                        DIRTY_STAT,
                        "status"),
                attack(
                        ".git/hooks/pre-commit",
                        t -> t.hook(t.repo.resolve(".git/hooks"), "pre-commit"),
                        "commit",
                        "--allow-empty",
                        "-m",
                        "x"),
                attack(
                        ".git/hooks/reference-transaction",
                        t -> t.hook(t.repo.resolve(".git/hooks"), "reference-transaction"),
                        t -> t.gitMayFail(t.repo, "branch", "-D", "b1"),
                        "branch",
                        "b1"),
                attack(
                        "core.editor",
                        t -> t.config("[core]\n\teditor = \"" + TOUCH + "; true\"\n"),
                        "commit",
                        "--allow-empty"),
                attack("alias.<name> = !command", t -> t.config("[alias]\n\tst = \"!" + TOUCH + "\"\n"), "st"),
                attack(
                        "diff.external",
                        t -> t.config("[diff]\n\texternal = \"" + TOUCH + "; true\"\n"),
                        t -> t.append("a.txt", "more\n"),
                        "diff"),
                attack(
                        "include.path",
                        t -> {
                            Files.writeString(t.tmp.resolve("evil.conf"), t.fill(FSMONITOR));
                            t.config("[include]\n\tpath = " + t.tmp.resolve("evil.conf") + "\n");
                        },
                        "status"),
                attack(
                        "includeIf.gitdir:<dir>.path",
                        t -> {
                            Files.writeString(t.tmp.resolve("evil.conf"), t.fill(FSMONITOR));
                            t.config("[includeIf \"gitdir:" + t.repo + "/\"]\n\tpath = " + t.tmp.resolve("evil.conf")
                                    + "\n");
                        },
                        "status"),
                attack(
                        "log.showSignature + gpg.program",
                        t -> {
                            t.signedCommit();
                            t.config("[log]\n\tshowSignature = true\n[gpg]\n\tprogram = " + t.script("gpg") + "\n");
                        },
                        "log",
                        "-n",
                        "1",
                        "signed"),
                attack(
                        "extensions.worktreeConfig + .git/config.worktree",
                        t -> {
                            t.config("[core]\n\trepositoryformatversion = 1\n[extensions]\n\tworktreeConfig = true\n");
                            Files.writeString(t.repo.resolve(".git/config.worktree"), t.fill(FSMONITOR));
                        },
                        "status"),
                attack(
                        ".git/commondir pointing at another configuration",
                        t -> {
                            Path other = Files.createDirectories(t.root.resolve("other"));
                            t.git(t.root, "init", "-q", "--bare", other.toString());
                            Files.writeString(
                                    other.resolve("config"),
                                    t.fill("[core]\n\trepositoryformatversion = 0\n\tfsmonitor = \"" + TOUCH
                                            + "; true\"\n"));
                            t.copyTree(t.repo.resolve(".git/objects"), other.resolve("objects"));
                            t.copyTree(t.repo.resolve(".git/refs"), other.resolve("refs"));
                            Files.writeString(t.repo.resolve(".git/commondir"), "../../other\n");
                        },
                        "status"),
                attack(
                                "user configuration ($HOME/.gitconfig)",
                                t -> {
                                    Path home = Files.createDirectories(t.tmp.resolve("home"));
                                    Files.writeString(home.resolve(".gitconfig"), t.fill(FSMONITOR));
                                },
                                "status")
                        .withEnv("HOME", "{T}/home"),
                attack(
                                "user configuration ($XDG_CONFIG_HOME/git/config)",
                                t -> {
                                    Path xdg = Files.createDirectories(t.tmp.resolve("xdg/git"));
                                    Files.writeString(xdg.resolve("config"), t.fill(FSMONITOR));
                                },
                                "status")
                        .withEnv("XDG_CONFIG_HOME", "{T}/xdg"),
                attack(
                                "init.templateDir (hooks copied into a clone)",
                                t -> {
                                    Path template = Files.createDirectories(t.tmp.resolve("home/template"));
                                    t.hook(template.resolve("hooks"), "post-checkout");
                                    Files.writeString(
                                            t.tmp.resolve("home/.gitconfig"),
                                            "[init]\n\ttemplateDir = " + template + "\n");
                                    t.source();
                                },
                                t -> t.delete(t.repo.resolve("copy")),
                                "clone",
                                "{T}/source",
                                "copy")
                        .withEnv("HOME", "{T}/home"),

                // drivers that attributes choose by name
                attack(
                        "filter.<driver>.clean",
                        t -> {
                            t.attributes("*.txt filter=evil\n");
                            t.config("[filter \"evil\"]\n\tclean = \"" + TOUCH + "; cat\"\n");
                        },
                        DIRTY_STAT,
                        "status"),
                attack(
                        "filter.<driver>.process",
                        t -> {
                            t.attributes("*.txt filter=evil\n");
                            t.config("[filter \"evil\"]\n\tprocess = \"" + TOUCH + "; false\"\n");
                        },
                        DIRTY_STAT,
                        "status"),
                attack(
                        "filter.<driver>.smudge",
                        t -> {
                            t.attributes("*.txt filter=evil\n");
                            t.config("[filter \"evil\"]\n\tsmudge = \"" + TOUCH + "; cat\"\n");
                        },
                        t -> Files.delete(t.repo.resolve("a.txt")),
                        "checkout",
                        "--",
                        "a.txt"),
                attack(
                        "filter selected in .git/info/attributes",
                        t -> {
                            Files.writeString(t.repo.resolve(".git/info/attributes"), "*.txt filter=evil\n");
                            t.config("[filter \"evil\"]\n\tclean = \"" + TOUCH + "; cat\"\n");
                        },
                        DIRTY_STAT,
                        "status"),
                attack(
                        "filter selected by core.attributesFile",
                        t -> {
                            Files.writeString(t.tmp.resolve("attributes"), "*.txt filter=evil\n");
                            t.config("[core]\n\tattributesFile = " + t.tmp.resolve("attributes")
                                    + "\n[filter \"evil\"]\n\tclean = \"" + TOUCH + "; cat\"\n");
                        },
                        DIRTY_STAT,
                        "status"),
                attack(
                        "diff.<driver>.command",
                        t -> {
                            t.attributes("*.txt diff=evil\n");
                            t.config("[diff \"evil\"]\n\tcommand = \"" + TOUCH + "; true\"\n");
                        },
                        t -> t.append("a.txt", "more\n"),
                        "diff"),
                attack(
                        "diff.<driver>.textconv",
                        t -> {
                            t.attributes("*.txt diff=evil\n");
                            t.append("a.txt", "two\n");
                            t.git(t.repo, "commit", "-q", "-am", "second");
                            t.config("[diff \"evil\"]\n\ttextconv = \"" + TOUCH + "; cat\"\n");
                        },
                        "show",
                        "HEAD"),
                attack(
                        "merge.<driver>.driver",
                        t -> {
                            t.attributes("*.txt merge=evil\n");
                            t.git(t.repo, "checkout", "-q", "-b", "other");
                            t.append("a.txt", "other\n");
                            t.git(t.repo, "commit", "-q", "-am", "other");
                            t.git(t.repo, "checkout", "-q", "main");
                            t.append("a.txt", "main\n");
                            t.git(t.repo, "commit", "-q", "-am", "main");
                            t.git(t.repo, "tag", "start");
                            t.config("[merge \"evil\"]\n\tdriver = \"" + TOUCH + "; false\"\n");
                        },
                        t -> {
                            t.gitMayFail(t.repo, "merge", "--abort");
                            t.git(t.repo, "reset", "-q", "--hard", "start");
                        },
                        "merge",
                        "--no-edit",
                        "other"),
                attack(
                        "a submodule's own configuration (.gitmodules ignore = none)",
                        GitProfileTest::evilSubmodule,
                        t -> t.newMtime(t.repo.resolve("sub/f.txt")),
                        "status"),

                // transports, credentials and prompts
                attack(
                        "credential.helper and credential.<url>.helper",
                        t -> {
                            t.unauthorized();
                            t.config("[credential]\n\thelper = \"!" + TOUCH
                                    + "; true\"\n[credential \"{URL}\"]\n\thelper = \"!" + TOUCH + "; true\"\n");
                        },
                        "ls-remote",
                        "{URL}/repo.git"),
                attack(
                        "core.askPass",
                        t -> {
                            t.unauthorized();
                            t.config("[core]\n\taskPass = " + t.script("askpass") + "\n");
                        },
                        "ls-remote",
                        "{URL}/repo.git"),
                attack(
                        "core.sshCommand",
                        t -> t.config("[core]\n\tsshCommand = \"" + TOUCH + "; false\"\n"),
                        "fetch",
                        "ssh://example.invalid/x.git"),
                attack(
                        "core.gitProxy",
                        t -> t.config("[core]\n\tgitProxy = " + t.script("proxy") + "\n"),
                        "fetch",
                        "git://example.invalid/x.git"),
                attack(
                        "remote.<name>.uploadpack",
                        t -> {
                            t.source();
                            t.config("[remote \"o\"]\n\turl = {T}/source\n\tuploadpack = \"" + TOUCH
                                    + "; git-upload-pack\"\n");
                        },
                        "fetch",
                        "o"),
                attack(
                        "protocol.ext.allow + an ext:: URL",
                        t -> t.config("[protocol \"ext\"]\n\tallow = always\n"),
                        "fetch",
                        "ext::sh -c touch% {M}"),
                attack(
                        "url.<base>.insteadOf rewriting to ext::",
                        t -> t.config("[protocol \"ext\"]\n\tallow = always\n"
                                + "[url \"ext::sh -c touch% {M}\"]\n\tinsteadOf = https://example.invalid/x\n"),
                        "fetch",
                        "https://example.invalid/x"),
                attack(
                        "remote.<name>.vcs",
                        t -> t.config("[protocol \"ext\"]\n\tallow = always\n[remote \"v\"]\n"
                                + "\tvcs = ext\n\turl = \"sh -c touch% {M}\"\n"),
                        "fetch",
                        "v"),
                attack(
                        "branch.<name>.remote naming a URL (fetch)",
                        t -> {
                            t.listener();
                            t.config("[branch \"main\"]\n\tremote = \"{URL}/evil.git\"\n\tmerge = refs/heads/main\n");
                        },
                        "fetch"),
                attack(
                        "branch.<name>.remote naming a URL (push)",
                        t -> {
                            t.listener();
                            t.config("[branch \"main\"]\n\tremote = \"{URL}/evil.git\"\n\tmerge = refs/heads/main\n");
                        },
                        "push"),
                attack(
                        "core.alternateRefsCommand",
                        t -> {
                            t.source();
                            Files.writeString(
                                    t.repo.resolve(".git/objects/info/alternates"),
                                    t.tmp.resolve("source/.git/objects") + "\n");
                            t.config("[core]\n\talternateRefsCommand = \"" + TOUCH + "; true\"\n");
                        },
                        "fetch",
                        "{T}/source"),
                new Attack(
                        "safe.bareRepository (a bare repository inside the working tree)",
                        t -> {
                            t.git(t.repo, "init", "-q", "--bare", "embedded");
                            Files.writeString(
                                    t.repo.resolve("embedded/config"),
                                    t.fill("[alias]\n\tst = \"!" + TOUCH + "\"\n"),
                                    java.nio.file.StandardOpenOption.APPEND);
                        },
                        t -> {},
                        List.of("st"),
                        Map.of(),
                        "embedded"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void noCommandFromTheRepositoryRuns(Attack attack) throws Exception {
        attack.setup().run(this);
        SecureExec exec = exec();
        List<String> trigger = attack.trigger().stream().map(this::fill).toList();
        Map<String, String> env = new java.util.HashMap<>();
        attack.env().forEach((name, value) -> env.put(name, fill(value)));
        String cwd = attack.cwd() == null ? null : repo.resolve(attack.cwd()).toString();
        List<Path> shadowsBefore = shadows();

        attack.before().run(this);
        Files.deleteIfExists(marker);
        SecureExec.Result guarded = exec.run("git", trigger, env, cwd);
        assertThat(marker)
                .as("%s: nothing ran under the profile (git said: %s)", attack.key(), guarded.stderr())
                .doesNotExist();
        assertThat(shadows()).as("the run's shadow directory is gone").isEqualTo(shadowsBefore);

        attack.before().run(this);
        Files.deleteIfExists(marker);
        try {
            exec.run("plain", trigger, env, cwd);
        } catch (PolicyViolationException e) {
            // a timeout of the unprotected run still shows whether the command ran
        }
        assertThat(marker)
                .as("%s: the same run with profile: none does run the command", attack.key())
                .exists();
    }

    // what still works under the profile

    @Test
    void gitStillWorksUnderTheProfile() throws Exception {
        SecureExec exec = exec();
        append("a.txt", "two\n");
        assertThat(exec.run("git", List.of("status", "--short")).stdout()).isEqualTo(" M a.txt\n");
        assertThat(exec.run("git", List.of("diff")).stdout()).contains("+two");
        SecureExec.Result commit = exec.run("git", List.of("commit", "-q", "-m", "second", "a.txt"));
        assertThat(commit.exitCode()).as(commit.stderr()).isZero();
        assertThat(exec.run("git", List.of("log", "-n", "5")).stdout())
                .contains("second", "first", "Author: Tester <tester@example.com>");
        assertThat(gitOutput(repo, "log", "--format=%s", "main"))
                .as("the commit is in the repository")
                .isEqualTo("second\nfirst\n");
        assertThat(gitOutput(repo, "reflog", "main")).as("with its reflog").contains("commit: second");
        assertThat(exec.run("git", List.of("status", "--short")).stdout()).isEmpty();
        assertThat(exec.startedCount())
                .as("the profile's configuration reads are not counted")
                .isEqualTo(5);
        assertThat(shadows()).isEmpty();
    }

    @Test
    void theRepositorysBranchTrackingIsKeptAndNothingElse() throws Exception {
        git(repo, "update-ref", "refs/remotes/origin/main", "HEAD");
        config("[remote \"origin\"]\n\turl = https://example.com/x.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
                + "[branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n[user]\n\tname = Repo User\n");
        SecureExec exec = SecureExec.of(SecurityPolicy.builder()
                .filesystem(FilesystemPolicy.builder()
                        .root(FilesystemRoot.readWrite(repo))
                        .base(repo)
                        .build())
                .program(
                        "git",
                        ProgramPolicy.builder(GIT)
                                .subcommands("status", "config")
                                .flags("-s", "-b", "--list", "--show-scope")
                                .build())
                .build());

        assertThat(exec.run("git", List.of("status", "-s", "-b")).stdout()).isEqualTo("## main...origin/main\n");
        assertThat(exec.run("git", List.of("config", "--list", "--show-scope"))
                        .stdout()
                        .lines()
                        .filter(l -> l.startsWith("local")))
                .as("what git sees of the repository's configuration")
                .containsExactly(
                        "local\tcore.repositoryformatversion=0",
                        "local\tcore.filemode=true",
                        "local\tcore.bare=false",
                        "local\tcore.logallrefupdates=true",
                        "local\tremote.origin.fetch=+refs/heads/*:refs/remotes/origin/*",
                        "local\tbranch.main.remote=origin",
                        "local\tbranch.main.merge=refs/heads/main",
                        "local\tuser.name=Repo User");
    }

    @Test
    void aSha256RepositoryAndALinkedWorkingTreeWork() throws Exception {
        Path sha = root.resolve("sha");
        git(root, "init", "-q", "--object-format=sha256", "-b", "main", sha.toString());
        Files.writeString(sha.resolve("f"), "x");
        git(sha, "add", "f");
        git(sha, "commit", "-q", "-m", "sha256 commit");
        git(repo, "worktree", "add", "-q", "-b", "side", root.resolve("side").toString());
        SecureExec exec = exec(root);

        assertThat(exec.run("git", List.of("log", "-n", "1"), Map.of(), sha.toString())
                        .stdout())
                .contains("sha256 commit");
        Files.writeString(root.resolve("side/new.txt"), "new");
        assertThat(exec.run(
                                "git",
                                List.of("status", "--short"),
                                Map.of(),
                                root.resolve("side").toString())
                        .stdout())
                .isEqualTo("?? new.txt\n");
    }

    @Test
    void outsideAnyRepositoryGitRunsAsOutsideOne() throws Exception {
        Path plainDir = Files.createDirectories(root.resolve("plain"));
        SecureExec exec = SecureExec.of(SecurityPolicy.builder()
                .filesystem(FilesystemPolicy.builder()
                        .root(FilesystemRoot.readWrite(plainDir))
                        .base(plainDir)
                        .build())
                .program("git", ProgramPolicy.builder(GIT).subcommands("status").build())
                .build());
        SecureExec.Result outside = exec.run("git", List.of("status"));
        assertThat(outside.exitCode()).isNotZero();
        assertThat(outside.stderr()).contains("not a git repository");
    }

    // fixture

    String fill(String text) {
        String filled = text.replace("{M}", marker.toString()).replace("{T}", tmp.toString());
        return http == null ? filled : filled.replace("{URL}", "http://127.0.0.1:" + http.port());
    }

    void config(String text) throws IOException {
        Files.writeString(repo.resolve(".git/config"), fill(text), java.nio.file.StandardOpenOption.APPEND);
    }

    void attributes(String text) throws Exception {
        Files.writeString(repo.resolve(".gitattributes"), text);
        git(repo, "add", ".gitattributes");
        git(repo, "commit", "-q", "-m", "attributes");
    }

    void append(String file, String text) throws IOException {
        Files.writeString(repo.resolve(file), text, java.nio.file.StandardOpenOption.APPEND);
    }

    void newMtime(Path file) throws IOException {
        Files.setLastModifiedTime(
                file,
                FileTime.fromMillis(
                        1_000_000_000_000L + ThreadLocalRandom.current().nextLong(1_000_000_000L)));
    }

    /** An executable hook named {@code name} in {@code dir} that touches the marker. */
    void hook(Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        Path hook = dir.resolve(name);
        Files.writeString(hook, "#!/bin/sh\ntouch '" + marker + "'\n");
        Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** An executable script outside the roots that touches the marker and prints a line. */
    Path script(String name) throws IOException {
        Path script = tmp.resolve(name + ".sh");
        Files.writeString(script, "#!/bin/sh\ntouch '" + marker + "'\necho x\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** A repository at {T}/source with one commit. */
    void source() throws Exception {
        Path source = tmp.resolve("source");
        git(tmp, "init", "-q", "-b", "main", source.toString());
        git(source, "commit", "-q", "--allow-empty", "-m", "source");
    }

    /** An HTTP server that answers every request for /repo.git with 401 and a Basic challenge. */
    void unauthorized() {
        http = LoopbackHttpServer.start();
        http.route(
                "/repo.git/info/refs",
                request -> new LoopbackHttpServer.Reply(
                        401, Map.of("WWW-Authenticate", "Basic realm=\"x\""), new byte[0], false));
    }

    /**
     * An HTTP server standing for any host a repository could name: a request for /evil.git (git's
     * ref discovery, for fetch and push alike) writes the marker, and is answered 404.
     */
    void listener() {
        http = LoopbackHttpServer.start();
        http.route("/evil.git/info/refs", request -> {
            Files.writeString(marker, request.method() + " " + request.target() + "\n");
            return new LoopbackHttpServer.Reply(404, Map.of(), new byte[0], false);
        });
    }

    /** A commit whose object carries a (bogus) signature, on branch 'signed'. */
    void signedCommit() throws Exception {
        String tree = gitOutput(repo, "write-tree").strip();
        Path object = tmp.resolve("commit.txt");
        Files.writeString(
                object,
                "tree " + tree + "\nauthor t <t@e> 1 +0000\ncommitter t <t@e> 1 +0000\n"
                        + "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQ==\n -----END PGP SIGNATURE-----\n\nsigned\n");
        String commit = gitOutput(repo, "hash-object", "-t", "commit", "-w", object.toString())
                .strip();
        git(repo, "update-ref", "refs/heads/signed", commit);
    }

    /** A populated submodule whose own configuration has a filter and an fsmonitor, marked 'ignore = none'. */
    static void evilSubmodule(GitProfileTest t) throws Exception {
        Path source = t.tmp.resolve("subsource");
        t.git(t.tmp, "init", "-q", "-b", "main", source.toString());
        Files.writeString(source.resolve(".gitattributes"), "* filter=evil\n");
        Files.writeString(source.resolve("f.txt"), "f\n");
        t.git(source, "add", "-A");
        t.git(source, "commit", "-q", "-m", "sub");
        t.git(t.repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", source.toString(), "sub");
        Files.writeString(
                t.repo.resolve(".gitmodules"),
                "[submodule \"sub\"]\n\tpath = sub\n\turl = " + source + "\n\tignore = none\n");
        t.git(t.repo, "add", ".gitmodules");
        t.git(t.repo, "commit", "-q", "-m", "submodule");
        Files.writeString(
                t.repo.resolve(".git/modules/sub/config"),
                t.fill("[core]\n\tfsmonitor = \"" + TOUCH + "; true\"\n[filter \"evil\"]\n\tclean = \"" + TOUCH
                        + "; cat\"\n"),
                java.nio.file.StandardOpenOption.APPEND);
    }

    void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : paths.toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static List<Path> shadows() throws IOException {
        try (Stream<Path> entries = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return entries.filter(p -> p.getFileName().toString().startsWith("mcp-secure-git-"))
                    .sorted()
                    .toList();
        }
    }

    void git(Path dir, String... args) {
        TestGit.run(dir, args);
    }

    void gitMayFail(Path dir, String... args) {
        TestGit.attempt(dir, Map.of(), args);
    }

    String gitOutput(Path dir, String... args) {
        return TestGit.run(dir, args);
    }
}
