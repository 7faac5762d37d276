package dev.mcpsecure.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs scripts with the official Python MCP SDK ({@code mcp} from PyPI, version {@value
 * #MCP_VERSION}), provisioned on first use into a virtualenv under {@code ~/.cache/mcp-secure/}
 * (or {@code $MCP_SECURE_CACHE}). Never skips: when Python or the registry is missing, the test
 * fails with what to install.
 */
public final class PythonMcpClient {

    /** The pinned version of PyPI's {@code mcp} package. */
    public static final String MCP_VERSION = "2.3.0";

    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

    private PythonMcpClient() {}

    /** What a script printed and how it ended. */
    public record Result(int exitCode, String stdout, String stderr) {}

    /**
     * Runs {@code script} with {@code args} under the virtualenv's Python.
     *
     * @throws IllegalStateException if the client cannot be provisioned, or the script outlives
     *     {@code timeout} (it is killed)
     */
    public static Result run(Path script, List<String> args, Duration timeout) {
        List<String> command = new ArrayList<>();
        command.add(python().toString());
        command.add(script.toString());
        command.addAll(args);
        return Provisioning.exec(command, timeout);
    }

    /** The virtualenv's Python with {@code mcp} installed, provisioning it when needed. */
    public static synchronized Path python() {
        Path home = Provisioning.cacheDir().resolve("python-mcp-" + MCP_VERSION);
        try {
            Provisioning.provision(home, PythonMcpClient::hasMcp, staging -> {
                Provisioning.require(
                        Provisioning.exec(List.of("python3", "-m", "venv", staging.toString()), INSTALL_TIMEOUT),
                        "python3 -m venv");
                Provisioning.require(
                        Provisioning.exec(
                                List.of(
                                        staging.resolve("bin/python").toString(),
                                        "-m",
                                        "pip",
                                        "install",
                                        "--quiet",
                                        "--disable-pip-version-check",
                                        "mcp==" + MCP_VERSION),
                                INSTALL_TIMEOUT),
                        "pip install mcp==" + MCP_VERSION);
            });
        } catch (IOException e) {
            throw new IllegalStateException(hint(home, e.getMessage()), e);
        }
        return home.resolve("bin").resolve("python");
    }

    private static boolean hasMcp(Path home) {
        Path python = home.resolve("bin").resolve("python");
        return Files.isExecutable(python)
                && Provisioning.exec(List.of(python.toString(), "-c", "import mcp"), Duration.ofMinutes(1))
                                .exitCode()
                        == 0;
    }

    private static String hint(Path home, String cause) {
        return "cannot provision the Python MCP client (mcp==" + MCP_VERSION + ") into " + home + ": " + cause
                + "\nInstall hint: a python3 with the venv module (Debian: apt-get install python3-venv) and access to"
                + " PyPI; or create it by hand: python3 -m venv " + home + " && " + home
                + "/bin/pip install mcp==" + MCP_VERSION;
    }
}
