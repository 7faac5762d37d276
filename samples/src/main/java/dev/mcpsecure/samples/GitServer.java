package dev.mcpsecure.samples;

import static dev.mcpsecure.samples.SampleTools.argument;
import static dev.mcpsecure.samples.SampleTools.error;
import static dev.mcpsecure.samples.SampleTools.text;
import static dev.mcpsecure.samples.SampleTools.tool;

import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.core.SecureExec;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.SecureStdioServer;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A git MCP server over stdio whose four tools run git only through {@link SecureExec}, under
 * {@code samples/policies/git.yaml} (one read-only repository, git with four subcommands and a
 * few flags, no shell, no environment):
 *
 * <pre>
 * git init /tmp/mcp-secure-samples/repo   # or clone one there
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.GitServer \
 *     --policy samples/policies/git.yaml
 * </pre>
 */
public final class GitServer {

    private GitServer() {}

    /**
     * Serves until stdin closes; see {@link SecureStdioServer} for arguments and exit codes. {@code
     * vault plan|apply|check ...} runs {@link dev.mcpsecure.vault.VaultCommand} instead.
     */
    public static void main(String[] args) {
        System.exit(SampleTools.launch(args, () -> SecureStdioServer.run(args, GitServer::register)));
    }

    /** Adds git_status, git_log, git_diff and git_show, all running git through {@link SecureExec}. */
    static void register(SecureMcpServer.Builder server) {
        SecureExec exec = SecureExec.of(server.policy());
        server.tool(
                        tool(
                                "git_status",
                                "Shows the working tree status.",
                                List.of(),
                                List.of(),
                                request -> git(exec, "status", "--short", "--branch")),
                        RiskClass.EXEC)
                .tool(
                        tool(
                                "git_log",
                                "Shows recent commits, one line each.",
                                List.of(),
                                List.of("count", "rev"),
                                request -> {
                                    List<String> args = new ArrayList<>(
                                            List.of("log", "--oneline", "-n", argument(request, "count", "10")));
                                    String rev = argument(request, "rev", "");
                                    if (!rev.isEmpty()) {
                                        args.add(rev);
                                    }
                                    return git(exec, args.toArray(String[]::new));
                                }),
                        RiskClass.EXEC)
                .tool(
                        tool(
                                "git_diff",
                                "Summarizes changes against a revision.",
                                List.of(),
                                List.of("rev"),
                                request -> {
                                    String rev = argument(request, "rev", "");
                                    return rev.isEmpty()
                                            ? git(exec, "diff", "--stat")
                                            : git(exec, "diff", "--stat", rev);
                                }),
                        RiskClass.EXEC)
                .tool(
                        tool(
                                "git_show",
                                "Summarizes one commit.",
                                List.of("rev"),
                                List.of(),
                                request -> git(exec, "show", "--stat", "--no-color", argument(request, "rev", null))),
                        RiskClass.EXEC);
    }

    private static CallToolResult git(SecureExec exec, String... args) throws IOException {
        SecureExec.Result result = exec.run("git", List.of(args));
        String output = result.stdout() + (result.stdoutTruncated() ? "\n[output truncated]" : "");
        return result.exitCode() == 0
                ? text(output)
                : error("git exited with " + result.exitCode() + ": "
                        + result.stderr().strip());
    }
}
