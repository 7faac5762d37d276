package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.CommandPolicy;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.core.Lockfile;
import dev.mcpsecure.core.ToolPins;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one server shows and lets run: the tool definitions mcp-secure registered with the SDK
 * (by identity), which of them are listed, which names are withheld and why, and each
 * definition's pin against the lockfile.
 *
 * <p>The SDK lets app code add or replace tools at runtime without passing through mcp-secure
 * and then notifies {@code tools/list_changed}. Transports call {@link #toolsChanged()} on that
 * notification, before clients hear of it: a tool mcp-secure did not register is then neither
 * listed nor callable, and a name whose registered definition was replaced is refused with
 * {@code TOOL_DEFINITION_CHANGED}. Listing compares instances, so a replaced definition is never
 * listed even before the notification. Thread-safe.
 */
public final class ToolSurface {

    private final Lockfile lockfile;
    private final String lockfileName;
    private final Pipeline pipeline;
    private final Map<String, McpSchema.Tool> registered = new ConcurrentHashMap<>();
    private final Set<String> listed = ConcurrentHashMap.newKeySet();
    private final Map<String, Decision> withheld = new ConcurrentHashMap<>();
    private final Map<McpSchema.Tool, Boolean> reportedForeign = Collections.synchronizedMap(new IdentityHashMap<>());
    private volatile Set<String> replaced = Set.of();
    private volatile McpAsyncServer server;

    /**
     * @param lockfile the pins to check against, or {@code null} when tools are not pinned
     * @param lockfileName how drift messages name the lockfile
     */
    public ToolSurface(Lockfile lockfile, String lockfileName, Pipeline pipeline) {
        this.lockfile = lockfile;
        this.lockfileName = lockfileName;
        this.pipeline = pipeline;
    }

    /** Whether definitions are checked against a lockfile. */
    public boolean pinned() {
        return lockfile != null;
    }

    /**
     * Whether {@code tool} declaring {@code risks} matches its pin.
     *
     * @return allow when it does or nothing is pinned; else {@code TOOL_DEFINITION_CHANGED} whose
     *     detail names the tool and every field or risk that differs
     */
    public Decision check(McpSchema.Tool tool, Set<RiskClass> risks) {
        if (lockfile == null) {
            return Decision.allow();
        }
        String name = tool.name();
        Optional<Lockfile.ToolPin> pin = lockfile.tool(name);
        if (pin.isEmpty()) {
            return Decision.deny(
                    ReasonCode.TOOL_DEFINITION_CHANGED,
                    "tool '" + name + "' is not in " + lockfileName + "; run lock, review the new entry and commit it");
        }
        List<String> differences = new ArrayList<>();
        Map<String, String> now = ToolPins.fieldHashes(tool);
        Map<String, String> then = pin.get().fields();
        for (String field : ToolPins.PINNED_FIELDS) {
            String current = now.get(field);
            String locked = then.get(field);
            if (current != null && locked == null) {
                differences.add(field + " added");
            } else if (current == null && locked != null) {
                differences.add(field + " removed");
            } else if (current != null && !current.equals(locked)) {
                differences.add(field + " changed (lock " + locked.substring(0, 12) + ", now "
                        + current.substring(0, 12) + ")");
            }
        }
        if (differences.isEmpty() && !ToolPins.hash(tool).equals(pin.get().sha256())) {
            differences.add("definition changed");
        }
        EnumSet<RiskClass> added = EnumSet.noneOf(RiskClass.class);
        added.addAll(risks);
        added.remove(RiskClass.READ_ONLY);
        added.removeAll(pin.get().risks());
        if (!added.isEmpty()) {
            differences.add("new risk class " + added);
        }
        if (differences.isEmpty()) {
            return Decision.allow();
        }
        return Decision.deny(
                ReasonCode.TOOL_DEFINITION_CHANGED,
                "tool '" + name + "' differs from its pin in " + lockfileName + ": " + String.join(", ", differences)
                        + "; if the change is intended, run lock and review the diff");
    }

    /** Where the programs of {@code commands} differ from their pins: each a sentence, none when they match. */
    public List<String> programDrift(CommandPolicy commands) {
        if (lockfile == null) {
            return List.of();
        }
        List<String> drift = new ArrayList<>();
        Map<String, Lockfile.ProgramPin> pins = new HashMap<>();
        lockfile.programs().forEach(pin -> pins.put(pin.name(), pin));
        commands.programs().forEach((name, program) -> {
            Lockfile.ProgramPin pin = pins.get(name);
            if (pin == null) {
                drift.add("program '" + name + "' is not in " + lockfileName + "; run lock and review it");
            } else if (!pin.path().equals(program.path().toString())) {
                drift.add(
                        "program '" + name + "' is " + program.path() + " but " + lockfileName + " pins " + pin.path());
            } else if (!pin.sha256().equals(program.sha256())) {
                drift.add("program '" + name + "' has SHA-256 pin "
                        + program.sha256().orElse("none") + " but " + lockfileName + " has "
                        + pin.sha256().orElse("none"));
            }
        });
        return drift;
    }

    /**
     * {@code tool} as it is listed: a deep, unmodifiable copy (later changes to the app's schema or
     * {@code _meta} maps change nothing listed, pinned or checked), with its pin in {@code _meta}
     * under {@link ToolPins#META_KEY}.
     */
    public static McpSchema.Tool published(McpSchema.Tool tool) {
        McpSchema.Tool frozen = Frozen.tool(tool);
        Map<String, Object> meta = new LinkedHashMap<>();
        if (frozen.meta() != null) {
            meta.putAll(frozen.meta());
        }
        meta.put(ToolPins.META_KEY, ToolPins.hash(frozen));
        return new McpSchema.Tool(
                frozen.name(),
                frozen.title(),
                frozen.description(),
                frozen.inputSchema(),
                frozen.outputSchema(),
                frozen.annotations(),
                Collections.unmodifiableMap(meta),
                frozen.icons());
    }

    /**
     * Records that mcp-secure registers {@code tool} (this instance) with the SDK; listed only
     * when {@code listed}.
     */
    public void register(McpSchema.Tool tool, boolean listed) {
        registered.put(tool.name(), tool);
        withheld.remove(tool.name());
        if (listed) {
            this.listed.add(tool.name());
        } else {
            this.listed.remove(tool.name());
        }
    }

    /** Records that calls to {@code name} are refused with {@code why}, which must be a denial. */
    public void withhold(String name, Decision why) {
        if (why.allowed()) {
            throw new IllegalArgumentException("a withheld tool needs a denial");
        }
        withheld.put(name, why);
    }

    /** Whether {@code name} is registered by mcp-secure (listed or a refusing stand-in). */
    public boolean isRegistered(String name) {
        return registered.containsKey(name);
    }

    /** Whether {@code tool} as the SDK holds it may be listed: this very definition was registered and listed. */
    public boolean listable(McpSchema.Tool tool) {
        return listed.contains(tool.name()) && registered.get(tool.name()) == tool;
    }

    /**
     * Why a call to {@code name} must be answered without the SDK.
     *
     * @return {@code null} when the SDK holds mcp-secure's registered definition (whose handler is
     *     the pipeline); else the denial: the reason it was withheld, {@code TOOL_DEFINITION_CHANGED}
     *     when the definition was replaced at runtime, or {@code TOOL_NOT_ALLOWED} for a name
     *     mcp-secure never registered
     */
    public Decision refusal(String name) {
        if (registered.containsKey(name) && !replaced.contains(name)) {
            return null;
        }
        Decision why = withheld.get(name);
        if (why != null) {
            return why;
        }
        if (registered.containsKey(name)) {
            return Decision.deny(
                    ReasonCode.TOOL_DEFINITION_CHANGED,
                    "tool '" + Pipeline.shownName(name)
                            + "' was replaced at runtime outside mcp-secure and is withheld");
        }
        return Decision.deny(
                ReasonCode.TOOL_NOT_ALLOWED, "tool '" + Pipeline.shownName(name) + "' does not exist on this server");
    }

    /**
     * What transports call before they send the SDK's notification {@code method} to clients: on
     * {@code tools/list_changed}, {@link #toolsChanged()}.
     */
    public void beforeNotifying(String method) {
        if (McpSchema.METHOD_NOTIFICATION_TOOLS_LIST_CHANGED.equals(method)) {
            toolsChanged();
        }
    }

    /** The built server, or {@code null} before {@link #attach}. */
    public McpAsyncServer server() {
        return server;
    }

    /** Gives the surface the built server whose tools {@link #toolsChanged()} looks at. */
    public void attach(McpAsyncServer server) {
        this.server = server;
    }

    /**
     * Looks at the SDK's tools after a change: every name whose current definition is not the one
     * mcp-secure registered is refused from now on, and each foreign definition is logged and
     * audited once ({@code TOOL_DEFINITION_CHANGED}).
     */
    public void toolsChanged() {
        McpAsyncServer current = server;
        if (current == null) {
            return;
        }
        List<McpSchema.Tool> tools = new ArrayList<>();
        current.listTools().subscribe(tools::add); // the SDK's list is in memory: this completes at once
        Set<String> nowReplaced = new HashSet<>();
        Set<String> present = new HashSet<>();
        for (McpSchema.Tool tool : tools) {
            present.add(tool.name());
            McpSchema.Tool ours = registered.get(tool.name());
            if (ours == tool) {
                continue;
            }
            if (ours != null) {
                nowReplaced.add(tool.name());
            }
            if (reportedForeign.put(tool, Boolean.TRUE) == null) {
                String detail = ours == null
                        ? "tool '" + Pipeline.shownName(tool.name())
                                + "' was added with the SDK's addTool, bypassing mcp-secure;"
                                + " it is neither listed nor callable. Add runtime tools with SecureMcpServer's"
                                + " RuntimeTools"
                        : "tool '" + Pipeline.shownName(tool.name())
                                + "' was replaced with the SDK's addTool, bypassing mcp-secure;" + " it is withheld";
                pipeline.auditSurface(tool.name(), Decision.deny(ReasonCode.TOOL_DEFINITION_CHANGED, detail));
            }
        }
        for (String name : registered.keySet()) {
            if (!present.contains(name)) {
                nowReplaced.add(name); // removed from the SDK: nothing of ours answers it any more
            }
        }
        replaced = Set.copyOf(nowReplaced);
    }

    /** Forgets {@code name}: removed through mcp-secure. */
    public void forget(String name) {
        registered.remove(name);
        listed.remove(name);
    }
}
