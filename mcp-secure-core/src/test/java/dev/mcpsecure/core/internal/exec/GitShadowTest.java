package dev.mcpsecure.core.internal.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.testkit.TestGit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-run stand-in for a repository's common directory: what it keeps, where it finds the repository, and that it leaves nothing behind. */
class GitShadowTest {

    @TempDir
    Path tmp;

    @Test
    void onlyKeysThatRunNothingAreCopiedWhateverTheirSpelling() {
        // a branch's remote is kept only as a plain name: git takes a remote without a url (every
        // remote in the shadow) for a URL, so "https://...", "host:x", a path, '.', an option are dropped
        String listing = String.join(
                "\0",
                "core.repositoryformatversion\n1",
                "extensions.objectformat\nsha256",
                "core.fsmonitor\ntouch /tmp/x",
                "core.hookspath\n/tmp/hooks",
                "filter.evil.clean\ntouch /tmp/x",
                "diff.evil.textconv\ntouch /tmp/x",
                "merge.evil.driver\ntouch /tmp/x",
                "remote.origin.url\next::sh -c touch% /tmp/x",
                "remote.origin.uploadpack\ntouch /tmp/x",
                "remote.origin.fetch\n+refs/heads/*:refs/remotes/origin/*",
                "url.ext::sh.insteadof\nhttps://example.com/",
                "include.path\n/tmp/evil.conf",
                "includeif.gitdir:/.path\n/tmp/evil.conf",
                "alias.st\n!touch /tmp/x",
                "credential.helper\n!touch /tmp/x",
                "branch.we\"ird\\name.merge\nrefs/heads/we\"ird\\name",
                "branch.main.remote\norigin",
                "branch.url.remote\nhttps://127.0.0.1:9/evil.git",
                "branch.scp.remote\nhost:evil.git",
                "branch.path.remote\n/tmp/evil.git",
                "branch.relative.remote\nsub/evil.git",
                "branch.self.remote\n.",
                "branch.option.remote\n--upload-pack=touch /tmp/x",
                "branch.empty.remote\n",
                "branch.novalue.remote",
                "branch.main.pushremote\norigin",
                "remote.pushdefault\norigin",
                "core.bare",
                "user.name\nA \"quoted\"\tname\nwith a newline",
                "");

        assertThat(GitShadow.copiedConfig(listing)).isEqualTo("""
                        [core]
                        \trepositoryformatversion = "1"
                        \tbare
                        [extensions]
                        \tobjectformat = "sha256"
                        [remote "origin"]
                        \tfetch = "+refs/heads/*:refs/remotes/origin/*"
                        [branch "we\\"ird\\\\name"]
                        \tmerge = "refs/heads/we\\"ird\\\\name"
                        [branch "main"]
                        \tremote = "origin"
                        [user]
                        \tname = "A \\"quoted\\"\\tname?with a newline"
                        """);
        assertThat(GitShadow.copiedConfig("core.fsmonitor\nx\0")).isEqualTo("[core]\n\trepositoryformatversion = 0\n");
    }

    @Test
    void theRepositoryIsTheNearestDotGitAboveTheWorkingDirectory() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo/sub/dir"));
        git(tmp, "init", "-q", tmp.resolve("repo").toString());
        Path common = tmp.resolve("repo/.git").toRealPath();
        assertThat(GitShadow.commonDir(repo.toRealPath())).contains(common);
        assertThat(GitShadow.commonDir(tmp.resolve("repo").toRealPath())).contains(common);

        git(tmp.resolve("repo"), "commit", "-q", "--allow-empty", "-m", "x");
        git(tmp.resolve("repo"), "worktree", "add", "-q", tmp.resolve("linked").toString());
        assertThat(GitShadow.commonDir(tmp.resolve("linked").toRealPath()))
                .as("a linked working tree's gitfile, then its commondir")
                .contains(common);

        Path notRepo = Files.createDirectories(tmp.resolve("plain/.git-not"));
        assertThat(GitShadow.commonDir(notRepo.toRealPath())).isEmpty();
        Files.writeString(Files.createDirectories(tmp.resolve("bad")).resolve(".git"), "not a gitfile\n");
        assertThat(GitShadow.commonDir(tmp.resolve("bad").toRealPath()))
                .as("an unreadable .git stops the search: git would not look further either")
                .isEmpty();
    }

    @Test
    void aRepositoryMadeAfterTheShadowFoundNoneIsNotUsed() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("empty")).toRealPath();
        Path scratch = Files.createDirectories(tmp.resolve("scratch"));
        try (GitShadow shadow = GitShadow.open(dir, scratch, (file, workDir) -> Optional.empty())) {
            assertThat(shadow.repository()).isEmpty();
            git(tmp, "init", "-q", dir.toString());
            Files.writeString(
                    dir.resolve(".git/config"),
                    "[alias]\n\tst = \"!touch " + tmp.resolve("marker") + "\"\n",
                    java.nio.file.StandardOpenOption.APPEND);

            assertThat(run(dir, shadow.environment(), "status").output()).contains("not a git repository");
            assertThat(run(dir, shadow.environment(), "st").output()).contains("'st' is not a git command");
            assertThat(tmp.resolve("marker"))
                    .as("the new repository's alias was never read")
                    .doesNotExist();
            assertThat(run(dir, Map.of(), "st").exitCode())
                    .as("without the shadow it would have run")
                    .isZero();
            assertThat(tmp.resolve("marker")).exists();
        }
        try (var left = Files.list(scratch)) {
            assertThat(left).as("closing deletes the shadow").isEmpty();
        }
    }

    @Test
    void closingDeletesTheLinksNotWhatTheyPointTo() throws Exception {
        Path repo = tmp.resolve("repo");
        git(tmp, "init", "-q", repo.toString());
        git(repo, "commit", "-q", "--allow-empty", "-m", "x");
        Path scratch = Files.createDirectories(tmp.resolve("scratch"));
        GitShadow shadow =
                GitShadow.open(repo.toRealPath(), scratch, (file, workDir) -> Optional.of("core.bare\nfalse\0"));
        assertThat(run(repo, shadow.environment(), "log", "--oneline").output()).contains(" x");
        shadow.close();

        try (var left = Files.list(scratch)) {
            assertThat(left).isEmpty();
        }
        assertThat(repo.resolve(".git/objects")).isDirectory();
        assertThat(run(repo, Map.of(), "log", "--oneline").output()).contains(" x");
    }

    private static TestGit.Run run(Path dir, Map<String, String> env, String... args) {
        return TestGit.attempt(dir, env, args);
    }

    private static void git(Path dir, String... args) {
        TestGit.run(dir, args);
    }
}
