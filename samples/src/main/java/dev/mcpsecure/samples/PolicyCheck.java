package dev.mcpsecure.samples;

import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.PolicyLoader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * Loads a policy file and prints what it allows, or every problem in it.
 *
 * <p>Exit codes: 0 valid, 2 invalid (problems on stderr), 64 usage error, 66 file not readable.
 */
public final class PolicyCheck {

    static final int OK = 0;
    static final int INVALID = PolicyLoader.EXIT_INVALID_POLICY;
    static final int USAGE = 64;
    static final int NO_INPUT = PolicyLoader.EXIT_NO_INPUT;

    private PolicyCheck() {}

    /** {@code policy-check <policy.yaml|policy.json>} */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 1) {
            err.println("usage: policy-check <policy.yaml|policy.json>");
            return USAGE;
        }
        Path file = Path.of(args[0]);
        PolicyLoader.CommandLineLoad loaded = PolicyLoader.loadForCommandLine(file, err);
        if (!loaded.loaded()) {
            return loaded.exitCode();
        }
        describe(file, loaded.policy(), out);
        return OK;
    }

    private static void describe(Path file, SecurityPolicy policy, PrintStream out) {
        out.println(file + ": OK. Whatever is not listed below is denied.");
        out.println("server     " + policy.server().name());
        if (policy.tools().isEmpty()) {
            out.println("tools      none");
        }
        for (ToolPolicy tool : policy.tools()) {
            out.println("tool       " + tool.name() + " risks=" + tool.risks() + " rate=" + tool.rateLimit()
                    + " timeout=" + tool.timeout().toMillis() + "ms" + (tool.confirm() ? " confirm" : "")
                    + (tool.scopes().isEmpty() ? "" : " scopes=" + tool.scopes()));
        }
        FilesystemPolicy files = policy.filesystem();
        out.println("files      "
                + (files.roots().isEmpty()
                        ? "none"
                        : files.roots().stream()
                                .map(FilesystemRoot::path)
                                .map(Path::toString)
                                .collect(Collectors.joining(", "))));
        for (FilesystemRoot root : files.roots()) {
            out.println("  root     " + root.path() + " " + root.access());
        }
        out.println("  deny     " + files.effectiveDeny().size() + " patterns (" + FilesystemPolicy.DEFAULT_DENY.size()
                + " built in)");
        out.println("programs   "
                + (policy.commands().programs().isEmpty()
                        ? "none"
                        : policy.commands().programs().entrySet().stream()
                                .map(e -> e.getKey() + "=" + e.getValue().path())
                                .collect(Collectors.joining(", "))));
        if (policy.egress().rules().isEmpty()) {
            out.println("egress     none");
        }
        for (EgressRule rule : policy.egress().rules()) {
            out.println("egress     " + rule.methods() + " " + rule.scheme() + "://" + rule.host() + ":" + rule.port()
                    + (rule.paths().isEmpty() ? "" : " " + rule.paths())
                    + rule.audience().map(a -> " token=" + a).orElse("")
                    + (rule.allowAddresses().isEmpty() ? "" : " special addresses allowed " + rule.allowAddresses()));
        }
        out.println("tokens     "
                + (policy.tokens().audiences().isEmpty()
                        ? "none"
                        : policy.tokens().audiences().keySet() + " max ttl "
                                + policy.tokens().maxTtl().toSeconds() + "s"));
        out.println("transport  " + policy.transport().bind());
    }
}
