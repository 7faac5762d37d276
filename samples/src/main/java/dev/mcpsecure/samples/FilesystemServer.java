package dev.mcpsecure.samples;

import static dev.mcpsecure.samples.SampleTools.argument;
import static dev.mcpsecure.samples.SampleTools.text;
import static dev.mcpsecure.samples.SampleTools.tool;

import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.core.SecureFiles;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.SecureStdioServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A filesystem MCP server over stdio whose four tools reach files only through {@link
 * SecureFiles}, under {@code samples/policies/filesystem.yaml} (a read-only project root and a
 * read-write scratch root):
 *
 * <pre>
 * mkdir -p /tmp/mcp-secure-samples/project /tmp/mcp-secure-samples/scratch
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.FilesystemServer \
 *     --policy samples/policies/filesystem.yaml
 * </pre>
 */
public final class FilesystemServer {

    /** Most matches {@code search_files} returns. */
    static final int MAX_MATCHES = 200;
    /** Deepest directory level {@code search_files} descends to. */
    static final int MAX_DEPTH = 12;

    private FilesystemServer() {}

    /**
     * Serves until stdin closes; see {@link SecureStdioServer} for arguments and exit codes. {@code
     * vault plan|apply|check ...} runs {@link dev.mcpsecure.vault.VaultCommand} instead.
     */
    public static void main(String[] args) {
        System.exit(SampleTools.launch(args, () -> SecureStdioServer.run(args, FilesystemServer::register)));
    }

    /** Adds the four file tools, all reaching files only through {@link SecureFiles}. */
    static void register(SecureMcpServer.Builder server) {
        SecureFiles files = SecureFiles.of(server.policy().filesystem());
        server.tool(tool(
                        "read_file",
                        "Reads a UTF-8 text file.",
                        List.of("path"),
                        List.of(),
                        request -> text(files.readText(argument(request, "path", null)))))
                .tool(tool(
                        "list_directory",
                        "Lists a directory.",
                        List.of("path"),
                        List.of(),
                        request -> text(files.list(argument(request, "path", null)).stream()
                                .map(FilesystemServer::describe)
                                .collect(Collectors.joining("\n")))))
                .tool(tool(
                        "search_files",
                        "Finds files whose name contains a pattern.",
                        List.of("path", "pattern"),
                        List.of(),
                        request -> text(String.join(
                                "\n",
                                search(files, argument(request, "path", null), argument(request, "pattern", null))))))
                .tool(
                        tool(
                                "write_file",
                                "Writes a UTF-8 text file (scratch only).",
                                List.of("path", "content"),
                                List.of(),
                                request -> {
                                    files.writeText(
                                            argument(request, "path", null), argument(request, "content", null));
                                    return text("written");
                                }),
                        RiskClass.FS_WRITE);
    }

    private static List<String> search(SecureFiles files, String path, String pattern) throws IOException {
        List<String> matches = new ArrayList<>();
        searchInto(files, path, pattern, 0, matches);
        return matches;
    }

    private static void searchInto(SecureFiles files, String dir, String pattern, int depth, List<String> matches)
            throws IOException {
        for (SecureFiles.Entry entry : files.list(dir)) {
            if (matches.size() >= MAX_MATCHES) {
                return;
            }
            String child = dir.endsWith("/") ? dir + entry.name() : dir + "/" + entry.name();
            if (entry.name().contains(pattern)) {
                matches.add(child);
            }
            if (entry.type() == SecureFiles.EntryType.DIRECTORY && depth < MAX_DEPTH) {
                searchInto(files, child, pattern, depth + 1, matches);
            }
        }
    }

    private static String describe(SecureFiles.Entry entry) {
        return switch (entry.type()) {
            case DIRECTORY -> "[dir]  " + entry.name();
            case SYMLINK -> "[link] " + entry.name() + (entry.leavesRoots() ? " (leaves the roots; not followed)" : "");
            case FILE -> "[file] " + entry.name() + " (" + entry.size() + " bytes)";
            default -> "[other] " + entry.name();
        };
    }
}
