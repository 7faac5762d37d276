package dev.mcpsecure.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs Node scripts with the official TypeScript MCP SDK ({@code @modelcontextprotocol/sdk} from
 * npm, version {@value #SDK_VERSION}), installed on first use with {@code npm install --prefix}
 * into {@code ~/.cache/mcp-secure/} (or {@code $MCP_SECURE_CACHE}). Never skips: when Node, npm
 * or the registry is missing, the test fails with what to install.
 */
public final class TypeScriptMcpClient {

    /** The pinned version of npm's {@code @modelcontextprotocol/sdk}. */
    public static final String SDK_VERSION = "1.32.2";

    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

    private TypeScriptMcpClient() {}

    /**
     * Runs {@code script} (an ES module importing {@code @modelcontextprotocol/sdk}) with
     * {@code args} under {@code node}. The script is copied next to the installed SDK first, since
     * Node resolves packages from the script's own directory.
     *
     * @throws IllegalStateException if the SDK cannot be provisioned, or the script outlives
     *     {@code timeout} (it is killed)
     */
    public static PythonMcpClient.Result run(Path script, List<String> args, Duration timeout) {
        Path home = home();
        Path copy = home.resolve("scripts").resolve(script.getFileName());
        try {
            Files.createDirectories(copy.getParent());
            Files.copy(script, copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy " + script + " into " + copy.getParent(), e);
        }
        List<String> command = new ArrayList<>();
        command.add("node");
        command.add(copy.toString());
        command.addAll(args);
        return Provisioning.exec(command, timeout);
    }

    /** The folder holding {@code node_modules/@modelcontextprotocol/sdk}, provisioning it when needed. */
    public static synchronized Path home() {
        Path home = Provisioning.cacheDir().resolve("typescript-mcp-sdk-" + SDK_VERSION);
        try {
            Provisioning.provision(home, TypeScriptMcpClient::hasSdk, staging -> {
                Files.createDirectories(staging);
                Provisioning.require(
                        Provisioning.exec(
                                List.of(
                                        "npm",
                                        "install",
                                        "--prefix",
                                        staging.toString(),
                                        "--no-audit",
                                        "--no-fund",
                                        "--ignore-scripts",
                                        "@modelcontextprotocol/sdk@" + SDK_VERSION),
                                INSTALL_TIMEOUT),
                        "npm install @modelcontextprotocol/sdk@" + SDK_VERSION);
            });
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(
                    "cannot provision the TypeScript MCP SDK (@modelcontextprotocol/sdk@" + SDK_VERSION + ") into "
                            + home + ": " + e.getMessage()
                            + "\nInstall hint: Node.js 18 or newer with npm and access to the npm registry; or install"
                            + " it by hand: npm install --prefix " + home + " @modelcontextprotocol/sdk@" + SDK_VERSION,
                    e);
        }
        return home;
    }

    private static boolean hasSdk(Path home) {
        return Files.isRegularFile(home.resolve("node_modules/@modelcontextprotocol/sdk/package.json"));
    }
}
