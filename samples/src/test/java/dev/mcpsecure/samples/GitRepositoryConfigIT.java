package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.testkit.TestGit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filesystem and git samples on one repository, as real processes from the packaged jar,
 * driven by the official Python MCP client: every configuration key and attribute through which a
 * repository can make git run a command is planted, each with a command that touches a marker of
 * its own, first through the filesystem sample's {@code write_file} (where its deny list lets it
 * write) and then on disk, as a repository handed over whole would carry it; then every tool of
 * the git sample is called. Under its policy (the git profile, the real lockfile) no marker ever
 * appears; the same sample with {@code profile: none} shows the plants do run commands.
 */
class GitRepositoryConfigIT {

    @TempDir
    Path tmp;

    Path repo;
    Path markers;

    /**
     * What the repository plants, by marker name: configuration for {@code .git/config}. Keys that
     * the git sample's four tools cannot reach (transports, editors, pagers, merge) are planted all
     * the same: nothing may come of them either.
     */
    private Map<String, String> plantedConfig() throws IOException {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("core.fsmonitor", "[core]\n\tfsmonitor = \"" + touch("core.fsmonitor") + "; true\"\n");
        keys.put("core.hooksPath", "[core]\n\thooksPath = " + tmp.resolve("hooks") + "\n");
        keys.put("filter.clean", driver("filter \"evil\"", "clean", "filter.clean", "cat"));
        keys.put("filter.smudge", driver("filter \"evil\"", "smudge", "filter.smudge", "cat"));
        keys.put("filter.process", driver("filter \"proc\"", "process", "filter.process", "false"));
        keys.put("diff.external", driver("diff", "external", "diff.external", "true"));
        keys.put("diff.command", driver("diff \"evil\"", "command", "diff.command", "true"));
        keys.put("diff.textconv", driver("diff \"evil\"", "textconv", "diff.textconv", "cat"));
        keys.put("merge.driver", driver("merge \"evil\"", "driver", "merge.driver", "false"));
        keys.put("core.pager", driver("core", "pager", "core.pager", "cat"));
        keys.put("pager.status", driver("pager", "status", "pager.status", "cat"));
        keys.put("pager.log", driver("pager", "log", "pager.log", "cat"));
        keys.put("core.editor", driver("core", "editor", "core.editor", "true"));
        keys.put("sequence.editor", driver("sequence", "editor", "sequence.editor", "true"));
        keys.put("core.askPass", driver("core", "askPass", "core.askPass", "true"));
        keys.put("credential.helper", "[credential]\n\thelper = \"!" + touch("credential.helper") + "\"\n");
        keys.put("core.sshCommand", driver("core", "sshCommand", "core.sshCommand", "false"));
        keys.put("core.gitProxy", driver("core", "gitProxy", "core.gitProxy", "false"));
        keys.put(
                "remote.uploadpack",
                "[remote \"o\"]\n\turl = " + tmp + "\n\tuploadpack = \"" + touch("remote.uploadpack")
                        + "; git-upload-pack\"\n\treceivepack = \"" + touch("remote.receivepack") + "\"\n");
        keys.put(
                "url.insteadOf",
                "[protocol \"ext\"]\n\tallow = always\n[url \"ext::sh -c touch% " + markers.resolve("url.insteadOf")
                        + "\"]\n\tinsteadOf = https://example.invalid/x\n");
        keys.put(
                "remote.vcs",
                "[remote \"v\"]\n\tvcs = ext\n\turl = \"sh -c touch% " + markers.resolve("remote.vcs") + "\"\n");
        keys.put(
                "core.alternateRefsCommand",
                driver("core", "alternateRefsCommand", "core.alternateRefsCommand", "true"));
        keys.put("alias", "[alias]\n\tst = \"!" + touch("alias") + "\"\n");
        keys.put(
                "gpg.program",
                "[log]\n\tshowSignature = true\n[gpg]\n\tprogram = " + script("gpg.program") + "\n[gpg \"ssh\"]\n"
                        + "\tprogram = " + script("gpg.ssh.program") + "\n");
        keys.put("include.path", "[include]\n\tpath = " + repo.resolve(".git/include.conf") + "\n");
        keys.put(
                "includeIf",
                "[includeIf \"gitdir:" + repo + "/\"]\n\tpath = " + repo.resolve(".git/includeif.conf") + "\n");
        keys.put(
                "core.attributesFile",
                "[core]\n\tattributesFile = " + repo.resolve(".git/attributes-file") + "\n"
                        + driver("filter \"attrs\"", "clean", "core.attributesFile", "cat"));
        keys.put("info.attributes", driver("filter \"info\"", "clean", "info.attributes", "cat"));
        keys.put("config.worktree", "[core]\n\trepositoryformatversion = 1\n[extensions]\n\tworktreeConfig = true\n");
        keys.put("status.submoduleSummary", "[status]\n\tsubmoduleSummary = true\n[diff]\n\tsubmodule = diff\n");
        keys.put("interactive.diffFilter", driver("interactive", "diffFilter", "interactive.diffFilter", "cat"));
        keys.put("difftool", driver("difftool \"evil\"", "cmd", "difftool", "true") + "[diff]\n\ttool = evil\n");
        keys.put("mergetool", driver("mergetool \"evil\"", "cmd", "mergetool", "true") + "[merge]\n\ttool = evil\n");
        keys.put("man.viewer", driver("man \"evil\"", "cmd", "man.viewer", "true") + "[man]\n\tviewer = evil\n");
        keys.put("web.browser", driver("browser \"evil\"", "cmd", "web.browser", "true") + "[web]\n\tbrowser = evil\n");
        keys.put("sendemail.smtpServer", "[sendemail]\n\tsmtpServer = " + script("sendemail.smtpServer") + "\n");
        keys.put("imap.tunnel", driver("imap", "tunnel", "imap.tunnel", "true"));
        keys.put(
                "uploadpack.packObjectsHook",
                driver("uploadpack", "packObjectsHook", "uploadpack.packObjectsHook", "true"));
        keys.put("trace2.eventTarget", "[trace2]\n\teventTarget = " + markers.resolve("trace2.eventTarget") + "\n");
        keys.put("init.templateDir", "[init]\n\ttemplateDir = " + tmp.resolve("template") + "\n");
        return keys;
    }

    /** Files beside the configuration that it names or that select its drivers, by path in the repository. */
    private Map<String, String> plantedFiles() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put(
                ".gitattributes",
                "a.txt filter=evil diff=evil merge=evil\nzz.txt filter=proc\ni.txt filter=inc\n"
                        + "j.txt filter=incif\nw.txt filter=wt\n");
        files.put(".git/info/attributes", "l.txt filter=info\n");
        files.put(".git/attributes-file", "k.txt filter=attrs\n");
        files.put(".git/include.conf", driver("filter \"inc\"", "clean", "include.path", "cat"));
        files.put(".git/includeif.conf", driver("filter \"incif\"", "clean", "includeIf", "cat"));
        files.put(".git/config.worktree", driver("filter \"wt\"", "clean", "config.worktree", "cat"));
        files.put(
                ".gitmodules",
                "[submodule \"sub\"]\n\tpath = sub\n\turl = " + tmp.resolve("subsource") + "\n\tignore = none\n");
        files.put(".git/modules/sub/config", subConfig());
        files.put(".git/hooks/post-index-change", hookScript(".git/hooks"));
        return files;
    }

    /**
     * Every marker that a tool of the git sample (status, log, diff, show) triggers when nothing
     * stops it. Not the process filter: its file is left clean, because plain git dies when that
     * filter fails and would reach nothing after it (GitProfileTest triggers it on its own).
     */
    private static final Set<String> REACHABLE = Set.of(
            "core.fsmonitor",
            "core.hooksPath",
            "filter.clean",
            "include.path",
            "includeIf",
            "core.attributesFile",
            "info.attributes",
            "config.worktree",
            "gpg.program",
            "submodule");

    @Test
    void noCommandARepositoryPlantsRunsThroughTheGitSample() throws Exception {
        String signed = repository();
        Path project = Files.createDirectories(tmp.resolve("project"));
        String original = Files.readString(repo.resolve(".git/config"));
        String planted = original + String.join("", plantedConfig().values());

        // 1. plant through the filesystem sample's write_file
        Path filesPolicy = SamplePolicy.copy(
                tmp, "filesystem.yaml", text -> text.replace("/tmp/mcp-secure-samples/project", project.toString())
                        .replace("/tmp/mcp-secure-samples/scratch", repo.toString()));
        List<PythonDriver.Call> writes = new ArrayList<>();
        writes.add(new PythonDriver.Call("write_file", Map.of("path", repo + "/.git/config", "content", planted)));
        plantedFiles()
                .forEach((path, content) -> writes.add(
                        new PythonDriver.Call("write_file", Map.of("path", repo + "/" + path, "content", content))));
        PythonDriver.Run written = PythonDriver.drive(
                PythonDriver.command("dev.mcpsecure.samples.FilesystemServer", "--policy", filesPolicy.toString()),
                "none",
                writes);
        for (Map<String, Object> call : written.calls()) {
            assertThat(call.get("isError").equals(false) || deniedAsSensitive(call))
                    .as("each write is either done or refused as sensitive: %s", call)
                    .isTrue();
        }
        if (written.calls().get(0).get("isError").equals(false)) {
            assertThat(Files.readString(repo.resolve(".git/config"))).isEqualTo(planted);
        }

        Path gitPolicy = SamplePolicy.copy(
                tmp, "git.yaml", text -> text.replace("/tmp/mcp-secure-samples/repo", repo.toString()));
        assertNothingRuns(gitPolicy, signed, "planted through write_file");

        // 2. the same on disk, as a repository handed over whole carries it, with executable hooks
        Files.writeString(repo.resolve(".git/config"), planted);
        for (Map.Entry<String, String> file : plantedFiles().entrySet()) {
            Files.createDirectories(repo.resolve(file.getKey()).getParent());
            Files.writeString(repo.resolve(file.getKey()), file.getValue());
        }
        executable(repo.resolve(".git/hooks/post-index-change"));
        assertNothingRuns(gitPolicy, signed, "planted on disk");

        // 3. the plants are real: the same sample with profile: none runs them
        Path unprotected = Files.createDirectories(tmp.resolve("unprotected"));
        Path nonePolicy = SamplePolicy.copy(
                unprotected, "git.yaml", text -> text.replace("/tmp/mcp-secure-samples/repo", repo.toString())
                        .replace("      path: /usr/bin/git\n", "      path: /usr/bin/git\n      profile: none\n"));
        dirty();
        driveGit(nonePolicy, signed);
        assertThat(markers()).as("what runs without the profile").containsAll(REACHABLE);
    }

    private void assertNothingRuns(Path policy, String signed, String how) throws IOException {
        dirty();
        PythonDriver.Run run = driveGit(policy, signed);
        assertThat(markers())
                .as("markers after the git sample ran on a repository %s", how)
                .isEmpty();
        assertThat(PythonDriver.text(run.calls().get(0)))
                .as("git_status still answers")
                .startsWith("## main");
        for (Map<String, Object> call : run.calls()) {
            assertThat(call.get("isError")).as("%s: %s", how, call).isEqualTo(false);
        }
        assertThat(run.callRecords())
                .as("every call is recorded as allowed")
                .extracting(record -> record.get("reason"))
                .containsOnly("ALLOWED")
                .hasSize(run.calls().size());
        AuditRecords.assertEffectsCarryTheirCall(run.audit(), "process");
    }

    private PythonDriver.Run driveGit(Path policy, String signed) throws IOException {
        return PythonDriver.drive(
                PythonDriver.command("dev.mcpsecure.samples.GitServer", "--policy", policy.toString()),
                "none",
                List.of(
                        new PythonDriver.Call("git_status", Map.of()),
                        new PythonDriver.Call("git_diff", Map.of()),
                        new PythonDriver.Call("git_diff", Map.of("rev", "HEAD~1")),
                        new PythonDriver.Call("git_log", Map.of()),
                        new PythonDriver.Call("git_log", Map.of("count", "1", "rev", signed)),
                        new PythonDriver.Call("git_show", Map.of("rev", "HEAD")),
                        new PythonDriver.Call("git_show", Map.of("rev", signed))));
    }

    // the repository

    /** A repository with the files the attributes name, a submodule and a signed commit; returns that commit. */
    private String repository() throws IOException {
        repo = Files.createDirectories(tmp.resolve("repo"));
        markers = Files.createDirectories(tmp.resolve("markers"));
        TestGit.run(tmp, "init", "-q", "-b", "main", repo.toString());
        for (String name : List.of("a.txt", "i.txt", "j.txt", "k.txt", "l.txt", "w.txt", "zz.txt")) {
            Files.writeString(repo.resolve(name), name + "\n");
        }
        TestGit.run(repo, "add", "-A");
        TestGit.run(repo, "commit", "-q", "-m", "first");
        Files.writeString(repo.resolve("a.txt"), "a.txt\nsecond\n");
        TestGit.run(repo, "commit", "-q", "-am", "second");

        Path source = tmp.resolve("subsource");
        TestGit.run(tmp, "init", "-q", "-b", "main", source.toString());
        Files.writeString(source.resolve(".gitattributes"), "* filter=evil\n");
        Files.writeString(source.resolve("f.txt"), "f\n");
        TestGit.run(source, "add", "-A");
        TestGit.run(source, "commit", "-q", "-m", "sub");
        TestGit.run(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", source.toString(), "sub");
        TestGit.run(repo, "commit", "-q", "-m", "submodule");

        Files.createDirectories(tmp.resolve("hooks"));
        Files.writeString(tmp.resolve("hooks/post-index-change"), hookScript("core.hooksPath"));
        executable(tmp.resolve("hooks/post-index-change"));

        String tree = TestGit.run(repo, "write-tree").strip();
        String head = TestGit.run(repo, "rev-parse", "HEAD").strip();
        Path object = tmp.resolve("signed-commit");
        Files.writeString(
                object,
                "tree " + tree + "\nparent " + head + "\nauthor t <t@e> 1 +0000\ncommitter t <t@e> 1"
                        + " +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQ==\n -----END PGP SIGNATURE-----\n\nsigned\n");
        return TestGit.run(repo, "hash-object", "-t", "commit", "-w", object.toString())
                .strip();
    }

    /** New modification times, same contents: git must run the clean filters to see nothing changed. */
    private void dirty() throws IOException {
        clearMarkers();
        try (Stream<Path> files = Stream.of("a.txt", "i.txt", "j.txt", "k.txt", "l.txt", "w.txt", "sub/f.txt")
                .map(repo::resolve)) {
            for (Path file : files.toList()) {
                Files.setLastModifiedTime(
                        file,
                        FileTime.fromMillis(
                                1_000_000_000_000L + ThreadLocalRandom.current().nextLong(1_000_000_000L)));
            }
        }
    }

    private String subConfig() {
        return "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = ../../../sub\n\tfsmonitor = \""
                + touch("submodule") + "; true\"\n" + driver("filter \"evil\"", "clean", "submodule", "cat");
    }

    private String touch(String marker) {
        return "touch " + markers.resolve(marker);
    }

    /** {@code [section]\n\tkey = "touch <marker>; then"}. */
    private String driver(String section, String key, String marker, String then) {
        return "[" + section + "]\n\t" + key + " = \"" + touch(marker) + "; " + then + "\"\n";
    }

    private String hookScript(String marker) {
        return "#!/bin/sh\n" + touch(marker) + "\n";
    }

    private String script(String marker) throws IOException {
        Path script = tmp.resolve("bin/" + marker);
        Files.createDirectories(script.getParent());
        Files.writeString(script, hookScript(marker));
        executable(script);
        return script.toString();
    }

    private static void executable(Path file) throws IOException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private Set<String> markers() throws IOException {
        try (Stream<Path> files = Files.list(markers)) {
            return files.map(file -> file.getFileName().toString())
                    .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }

    private void clearMarkers() throws IOException {
        try (Stream<Path> files = Files.list(markers)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static boolean deniedAsSensitive(Map<String, Object> call) {
        return call.get("isError").equals(true)
                && String.join("\n", (List<String>) call.get("text")).startsWith("PATH_SENSITIVE: ");
    }
}
