package dev.mcpsecure.benchmarks;

import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.PolicyLoader;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * B6: loading a policy with many tools, strict checks included, against parsing the same YAML
 * into a plain Jackson tree (the unguarded twin: no validation at all). Target: a 200-tool policy
 * loads in 50 ms or less.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PolicyLoadBenchmark {

    @Param({"200"})
    public int tools;

    private String yaml;
    private final YAMLMapper plainYaml = YAMLMapper.builder().build();

    @Setup
    public void writePolicy() {
        StringBuilder out = new StringBuilder("version: 1\nserver:\n  name: bench\ntools:\n");
        for (int i = 0; i < tools; i++) {
            out.append("  - name: tool_")
                    .append(i)
                    .append('\n')
                    .append("    risks: [")
                    .append(i % 3 == 0 ? "EXEC" : "READ_ONLY")
                    .append("]\n")
                    .append("    scopes: [scope:")
                    .append(i)
                    .append("]\n")
                    .append("    rateLimit: 60/1m\n")
                    .append("    timeout: 10s\n")
                    .append("    maxOutputBytes: 256KiB\n");
        }
        out.append("filesystem:\n  roots:\n    - path: /srv/data\n      access: READ_ONLY\n")
                .append("egress:\n  rules:\n    - host: api.example.com\n      audience: https://api.example.com\n")
                .append("tokens:\n  audiences:\n    https://api.example.com:\n      role: api\n");
        yaml = out.toString();
        if (PolicyLoader.fromYaml(yaml, "bench.yaml").tools().size() != tools) {
            throw new IllegalStateException("the generated policy did not load all " + tools + " tools");
        }
    }

    @Benchmark
    public SecurityPolicy loadPolicy() {
        return PolicyLoader.fromYaml(yaml, "bench.yaml");
    }

    @Benchmark
    public JsonNode baselineParseOnly() {
        return plainYaml.readTree(yaml);
    }
}
