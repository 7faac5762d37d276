package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyCheckTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return PolicyCheck.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void describesTheExamplePolicy() {
        assertThat(run("../docs/policy-example.yaml")).isEqualTo(PolicyCheck.OK);
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("OK. Whatever is not listed below is denied.")
                .contains("tool       write_note risks=[READ_ONLY, FS_WRITE] rate=10/1m timeout=30000ms confirm")
                .contains("  root     /srv/notes READ_WRITE")
                .contains("egress     [GET] https://api.github.com:443 [/repos/] token=https://api.github.com");
        assertThat(err.size()).isZero();
    }

    @Test
    void listsEveryProblemOnStderrAndExitsTwo(@TempDir Path dir) throws IOException {
        Path policy = dir.resolve("bad.yaml");
        Files.writeString(policy, "tools:\n  - name: a\n    timeout: soon\ntransport:\n  bind: 0.0.0.0\n");

        assertThat(run(policy.toString())).isEqualTo(PolicyCheck.INVALID);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("invalid policy, 2 problems:")
                .contains("bad.yaml:3:14: tools[0].timeout: 'soon' is not a duration")
                .contains("bad.yaml:5:9: transport.bind");
        assertThat(out.size()).isZero();
    }

    @Test
    void reportsUsageAndMissingFilesWithDistinctExitCodes(@TempDir Path dir) {
        assertThat(run()).isEqualTo(PolicyCheck.USAGE);
        assertThat(run(dir.resolve("missing.yaml").toString())).isEqualTo(PolicyCheck.NO_INPUT);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("usage: policy-check")
                .contains("no such policy file");
    }
}
