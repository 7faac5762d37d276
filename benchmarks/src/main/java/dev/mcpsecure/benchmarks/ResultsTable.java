package dev.mcpsecure.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Rewrites the results table of {@code benchmarks/README.md} (between {@code <!-- results:start -->}
 * and {@code <!-- results:end -->}) from a JMH JSON result file: every figure with its unguarded
 * twin, the ratio, the target and whether it was met. {@code run-all.sh} calls it.
 *
 * <p>Usage: {@code ResultsTable <README.md> <commands that produced the results> <results.json>...};
 * a later file's figure replaces an earlier one's for the same benchmark and mode.
 */
public final class ResultsTable {

    private static final String START = "<!-- results:start -->";
    private static final String END = "<!-- results:end -->";

    /** A measured figure: mean (average mode) in ns, p50/p99 (sample mode) in ns, bytes allocated per op. */
    record Figure(double meanNs, double errorNs, Double p50Ns, Double p99Ns, Double allocBytes) {}

    private ResultsTable() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: ResultsTable <README.md> <commands> <results.json>...");
            System.exit(64);
        }
        List<Path> files = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            files.add(Path.of(args[i]));
        }
        Map<String, Figure> figures = read(files);
        Path readme = Path.of(args[0]);
        String text = Files.readString(readme);
        int start = text.indexOf(START);
        int end = text.indexOf(END);
        if (start < 0 || end < start) {
            throw new IllegalStateException(readme + " has no " + START + " … " + END + " section to rewrite");
        }
        String table = table(figures, args[1]);
        Files.writeString(readme, text.substring(0, start + START.length()) + "\n" + table + text.substring(end));
        System.err.println("rewrote the results table in " + readme);
    }

    static Map<String, Figure> read(List<Path> files) throws IOException {
        Map<String, Double> mean = new LinkedHashMap<>();
        Map<String, Double> error = new LinkedHashMap<>();
        Map<String, Double> p50 = new LinkedHashMap<>();
        Map<String, Double> p99 = new LinkedHashMap<>();
        Map<String, Double> alloc = new LinkedHashMap<>();
        List<JsonNode> runs = new ArrayList<>();
        for (Path file : files) {
            JsonMapper.builder().build().readTree(Files.readString(file)).forEach(runs::add);
        }
        for (JsonNode run : runs) {
            String name = run.path("benchmark").asString();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            JsonNode metric = run.path("primaryMetric");
            double toNs = nanos(metric.path("scoreUnit").asString());
            JsonNode gc = run.path("secondaryMetrics").path("gc.alloc.rate.norm");
            if (!gc.isMissingNode()) {
                alloc.put(name, gc.path("score").asDouble());
            } else {
                alloc.remove(name); // a later run without -prof gc: no figure from an earlier, different run
            }
            if (run.path("mode").asString().equals("sample")) {
                p50.put(name, metric.path("scorePercentiles").path("50.0").asDouble() * toNs);
                p99.put(name, metric.path("scorePercentiles").path("99.0").asDouble() * toNs);
            } else {
                mean.put(name, metric.path("score").asDouble() * toNs);
                error.put(name, metric.path("scoreError").asDouble() * toNs);
            }
        }
        Map<String, Figure> figures = new LinkedHashMap<>();
        mean.forEach((name, value) ->
                figures.put(name, new Figure(value, error.get(name), p50.get(name), p99.get(name), alloc.get(name))));
        return figures;
    }

    private static double nanos(String unit) {
        return switch (unit) {
            case "ns/op" -> 1;
            case "us/op" -> 1e3;
            case "ms/op" -> 1e6;
            case "s/op" -> 1e9;
            default -> throw new IllegalStateException("unexpected unit " + unit);
        };
    }

    static String table(Map<String, Figure> f, String command) {
        List<String> rows = new ArrayList<>();
        rows.add("Machine: " + Runtime.getRuntime().availableProcessors() + " cores; "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                + "; JMH 1.37; recorded " + LocalDate.now() + " with:");
        rows.add("");
        rows.add("```sh");
        rows.add(command);
        rows.add("```");
        rows.add("");
        rows.add("| benchmark | guarded | unguarded twin | ratio | p50 / p99 | alloc/op | target | met |");
        rows.add("|---|---|---|---|---|---|---|---|");
        ratio(
                rows,
                f,
                "B1 tool call, audit dropped",
                "ToolCallBenchmark.securedCall",
                "ToolCallBenchmark.bareSdkCall",
                1.03);
        ratio(
                rows,
                f,
                "B1 tool call, audit to SLF4J (Logback async appender, file)",
                "ToolCallBenchmark.securedCallAuditSlf4jAsync",
                "ToolCallBenchmark.bareSdkCall",
                1.03);
        absolute(rows, f, "B1 decision path alone (p50)", "ToolCallBenchmark.decisionPathOnly", 2_000, true);
        ratio(
                rows,
                f,
                "B2 files: SecureFiles read vs Files.readAllBytes, 4 KiB, 5 dirs deep",
                "FilesAndCommandsBenchmark.secureFilesRead",
                "FilesAndCommandsBenchmark.plainRead",
                1.3);
        info(rows, f, "B2 path check alone", "FilesAndCommandsBenchmark.secureFilesCheckOnly");
        absolute(
                rows,
                f,
                "B3 command decision alone (p50)",
                "FilesAndCommandsBenchmark.commandDecisionOnly",
                2_000,
                true);
        ratio(
                rows,
                f,
                "B3 SecureExec vs ProcessBuilder running true",
                "FilesAndCommandsBenchmark.secureExec",
                "FilesAndCommandsBenchmark.plainProcessBuilder",
                1.05);
        ratio(
                rows,
                f,
                "B4 egress: EgressHttpClient vs bare OkHttp, 1 KiB GET, keep-alive",
                "EgressBenchmark.egressClientGet",
                "EgressBenchmark.bareEngineGet",
                1.05);
        absolute(rows, f, "B5 cached VaultTokenSource.token (p50)", "TokenBenchmark.vaultTokenCached", 100, true);
        info(rows, f, "B5 JWT verify cold, RS256", "TokenBenchmark.verifyRs256Cold");
        info(rows, f, "B5 JWT verify cold, ES256", "TokenBenchmark.verifyEs256Cold");
        absolute(
                rows,
                f,
                "B5 JWT verify through the verified-token cache (p50)",
                "TokenBenchmark.verifyThroughCache",
                1_000,
                true);
        ratio(
                rows,
                f,
                "B6 200-tool policy load vs YAML parse only",
                "PolicyLoadBenchmark.loadPolicy",
                "PolicyLoadBenchmark.baselineParseOnly",
                Double.NaN);
        absolute(rows, f, "B6 200-tool policy load (mean)", "PolicyLoadBenchmark.loadPolicy", 50_000_000, false);
        rows.add("");
        rows.add("Means with JMH's 99.9% error; p50/p99 from sample mode; alloc/op from `-prof gc` (bytes).");
        return String.join("\n", rows) + "\n";
    }

    private static void ratio(
            List<String> rows, Map<String, Figure> f, String label, String guarded, String twin, double target) {
        Figure g = f.get(guarded);
        Figure t = f.get(twin);
        if (g == null || t == null) {
            rows.add("| " + label + " | not run | | | | | | |");
            return;
        }
        double ratio = g.meanNs() / t.meanNs();
        boolean hasTarget = !Double.isNaN(target);
        String p50Ratio = g.p50Ns() != null && t.p50Ns() != null
                ? String.format(Locale.ROOT, " (p50: %.2f)", g.p50Ns() / t.p50Ns())
                : "";
        rows.add("| " + label + " (`" + guarded + "` / `" + twin + "`) | " + time(g) + " | " + time(t) + " | "
                + String.format(Locale.ROOT, "%.2f", ratio) + p50Ratio + " | " + percentiles(g) + " vs "
                + percentiles(t) + " | " + alloc(g) + " vs " + alloc(t)
                + " | " + (hasTarget ? "≤ " + target : "–") + " | "
                + (hasTarget ? (ratio <= target ? "yes" : "**no**") : "–") + " |");
    }

    private static void absolute(
            List<String> rows, Map<String, Figure> f, String label, String name, double targetNs, boolean p50) {
        Figure g = f.get(name);
        if (g == null) {
            rows.add("| " + label + " | not run | | | | | | |");
            return;
        }
        double value = p50 && g.p50Ns() != null ? g.p50Ns() : g.meanNs();
        rows.add("| " + label + " (`" + name + "`) | " + time(g) + " | – | – | " + percentiles(g) + " | " + alloc(g)
                + " | ≤ " + human(targetNs) + " | " + (value <= targetNs ? "yes" : "**no**") + " |");
    }

    private static void info(List<String> rows, Map<String, Figure> f, String label, String name) {
        Figure g = f.get(name);
        rows.add("| " + label + " (`" + name + "`) | " + (g == null ? "not run" : time(g)) + " | – | – | "
                + (g == null ? "" : percentiles(g)) + " | " + (g == null ? "" : alloc(g)) + " | – | – |");
    }

    private static String time(Figure g) {
        return human(g.meanNs()) + " ± " + human(g.errorNs());
    }

    private static String percentiles(Figure g) {
        return g.p50Ns() == null ? "–" : human(g.p50Ns()) + " / " + human(g.p99Ns());
    }

    private static String alloc(Figure g) {
        return g.allocBytes() == null ? "–" : String.format(Locale.ROOT, "%.0f B", g.allocBytes());
    }

    static String human(double ns) {
        if (ns >= 1e6) {
            return String.format(Locale.ROOT, "%.2f ms", ns / 1e6);
        }
        if (ns >= 1e3) {
            return String.format(Locale.ROOT, "%.1f µs", ns / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f ns", ns);
    }
}
