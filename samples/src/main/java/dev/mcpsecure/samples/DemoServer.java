package dev.mcpsecure.samples;

import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.Secret;
import dev.mcpsecure.api.SecretSource;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.SecureStdioServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * A stdio MCP server with seven tools, run behind {@code samples/policies/demo.yaml}, so each
 * step of the pipeline can be seen from any MCP client:
 *
 * <pre>
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.DemoServer \
 *     --policy samples/policies/demo.yaml [--secret-file FILE]
 * </pre>
 *
 * <p>{@code show_secret} reads the secret {@code demo-api-key} from the server's secret source:
 * the first line of {@code --secret-file} (as a mounted secret would be), or a random value.
 */
public final class DemoServer {

    private DemoServer() {}

    /**
     * Serves until stdin closes; see {@link SecureStdioServer} for arguments and exit codes. {@code
     * vault plan|apply|check ...} runs {@link dev.mcpsecure.vault.VaultCommand} instead.
     */
    public static void main(String[] args) {
        System.exit(SampleTools.launch(args, () -> {
            List<String> rest = new ArrayList<>(Arrays.asList(args));
            SecretSource secrets = demoSecrets(takeOption(rest, "--secret-file"));
            return SecureStdioServer.run(rest.toArray(String[]::new), server -> register(server.secretSource(secrets)));
        }));
    }

    /** Adds the demo's tools to {@code server}. */
    static void register(SecureMcpServer.Builder server) {
        SecretSource secrets = server.secrets();
        server.tool(tool(
                        "echo",
                        "Returns its text argument.",
                        (exchange, request) ->
                                text(String.valueOf(request.arguments().getOrDefault("text", "")))))
                .tool(tool(
                        "show_secret",
                        "Reads the demo API key and (tries to) show it.",
                        (exchange, request) -> text(
                                "the key is " + secrets.secret("demo-api-key").value())))
                .tool(tool("slow", "Sleeps for a minute.", (exchange, request) -> {
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return text("finally done");
                }))
                .tool(tool("boom", "Fails with a host path in its exception.", (exchange, request) -> {
                    throw new IllegalStateException("cannot read /home/demo/.config/demo/credentials.json");
                }))
                .tool(
                        tool(
                                "delete_note",
                                "Deletes a note (asks first).",
                                (exchange, request) -> text("note deleted")),
                        RiskClass.FS_WRITE)
                .tool(
                        tool("write_note", "Writes a note.", (exchange, request) -> text("note written")),
                        RiskClass.FS_WRITE)
                .tool(tool("unlisted_tool", "Not in the policy.", (exchange, request) -> text("should never run")));
    }

    private static SyncToolSpecification tool(
            String name, String description, BiFunction<McpSyncServerExchange, CallToolRequest, CallToolResult> body) {
        return SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder(
                                name, Map.of("type", "object", "properties", Map.of("text", Map.of("type", "string"))))
                        .description(description)
                        .build())
                .callHandler(body)
                .build();
    }

    private static CallToolResult text(String text) {
        return CallToolResult.builder().addTextContent(text).isError(false).build();
    }

    private static String takeOption(List<String> args, String option) {
        int at = args.indexOf(option);
        if (at < 0 || at + 1 >= args.size()) {
            return null;
        }
        String value = args.get(at + 1);
        args.subList(at, at + 2).clear();
        return value;
    }

    /** One secret, {@code demo-api-key}: from the file's first line, or random. */
    private static SecretSource demoSecrets(String file) {
        String value;
        if (file != null) {
            try {
                value = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)
                        .get(0)
                        .strip();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the demo secret file", e);
            }
        } else {
            byte[] random = new byte[16];
            new SecureRandom().nextBytes(random);
            value = "demo-" + HexFormat.of().formatHex(random);
        }
        String secret = value;
        return name -> {
            if (!name.equals("demo-api-key")) {
                throw new dev.mcpsecure.api.PolicyViolationException(dev.mcpsecure.api.Decision.deny(
                        dev.mcpsecure.api.ReasonCode.SECRET_UNKNOWN, "no secret named '" + name + "'"));
            }
            return new Secret(name, secret);
        };
    }
}
