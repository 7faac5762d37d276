package dev.mcpsecure.core;

import dev.mcpsecure.api.CommandPolicy;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.core.internal.pinning.LockSignatures;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reviewed tool surface of one server, as the {@code lock} command writes it to {@code
 * mcp-secure.lock}: for each tool its pin ({@link ToolPins#hash}), the pins of its fields and the
 * risk classes it declares beyond {@code READ_ONLY}; for each program of the command policy its
 * path and SHA-256 pin. Immutable; the JSON form is stable (sorted, two-space indented, one
 * trailing newline), so a change to it is a readable diff in review.
 *
 * @param server the server's name from its policy
 * @param tools one pin per tool, sorted by name, names unique
 * @param programs one pin per program, sorted by name, names unique
 */
public record Lockfile(String server, List<ToolPin> tools, List<ProgramPin> programs) {

    /** The format version this code reads and writes. */
    public static final int VERSION = 1;

    /** The largest lockfile read: 4 MiB. */
    public static final long MAX_BYTES = 4L << 20;

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /**
     * One tool's pin.
     *
     * @param name the tool's name
     * @param sha256 {@link ToolPins#hash} of its definition
     * @param fields {@link ToolPins#fieldHashes} of its definition
     * @param risks the risk classes it declares beyond {@code READ_ONLY}
     */
    public record ToolPin(String name, String sha256, Map<String, String> fields, Set<RiskClass> risks) {
        /** Validates the hashes and copies the collections. */
        public ToolPin {
            Objects.requireNonNull(name, "name");
            requireHash(sha256, "tool '" + name + "' sha256");
            fields = Collections.unmodifiableMap(new TreeMap<>(fields));
            fields.forEach((field, hash) -> requireHash(hash, "tool '" + name + "' field " + field));
            risks = Set.copyOf(risks);
            if (risks.contains(RiskClass.READ_ONLY)) {
                throw new IllegalArgumentException("tool '" + name + "' risks list READ_ONLY, which every tool has");
            }
        }

        /** The pin of {@code tool} declaring {@code risks}. */
        public static ToolPin of(McpSchema.Tool tool, Set<RiskClass> risks) {
            EnumSet<RiskClass> beyond = EnumSet.noneOf(RiskClass.class);
            beyond.addAll(risks);
            beyond.remove(RiskClass.READ_ONLY);
            return new ToolPin(tool.name(), ToolPins.hash(tool), ToolPins.fieldHashes(tool), beyond);
        }
    }

    /**
     * One program's pin.
     *
     * @param name the program's logical name in the command policy
     * @param path its absolute path
     * @param sha256 its binary's SHA-256 pin in the policy; empty when the policy pins none
     */
    public record ProgramPin(String name, String path, Optional<String> sha256) {
        /** Validates the hash. */
        public ProgramPin {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(path, "path");
            sha256.ifPresent(hash -> requireHash(hash, "program '" + name + "' sha256"));
        }
    }

    /** Sorts and copies the lists; names must be unique. */
    public Lockfile {
        Objects.requireNonNull(server, "server");
        tools = tools.stream().sorted(Comparator.comparing(ToolPin::name)).toList();
        programs =
                programs.stream().sorted(Comparator.comparing(ProgramPin::name)).toList();
        requireUnique(tools.stream().map(ToolPin::name).toList(), "tool");
        requireUnique(programs.stream().map(ProgramPin::name).toList(), "program");
    }

    /** The pins of {@code tools} (definition and declared risks) and of the programs in {@code commands}. */
    public static Lockfile of(String server, Map<McpSchema.Tool, Set<RiskClass>> tools, CommandPolicy commands) {
        List<ToolPin> toolPins = new ArrayList<>();
        tools.forEach((tool, risks) -> toolPins.add(ToolPin.of(tool, risks)));
        List<ProgramPin> programPins = new ArrayList<>();
        commands.programs()
                .forEach((name, program) ->
                        programPins.add(new ProgramPin(name, program.path().toString(), program.sha256())));
        return new Lockfile(server, toolPins, programPins);
    }

    /** The pin of the tool {@code name}, if locked. */
    public Optional<ToolPin> tool(String name) {
        return tools.stream().filter(pin -> pin.name().equals(name)).findFirst();
    }

    /**
     * Reads the lockfile at {@code file}.
     *
     * @throws PinningException if it does not exist (naming the {@code lock} command that writes
     *     it), is larger than {@link #MAX_BYTES}, or is not a lockfile of this version (naming the
     *     problem)
     * @throws IOException if it cannot be read
     */
    public static Lockfile read(Path file) throws IOException {
        return parse(readBytes(file), file.toString());
    }

    /**
     * The bytes of the lockfile at {@code file}, which its signature covers.
     *
     * @throws PinningException if it does not exist or is larger than {@link #MAX_BYTES}
     */
    static byte[] readBytes(Path file) throws IOException {
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new PinningException(
                        List.of("lockfile " + file + " has " + size + " bytes; a lockfile is at most " + MAX_BYTES));
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new PinningException(List.of("lockfile " + file
                    + " does not exist; write it with the server's lock command (<server> lock --policy <policy>)"
                    + " and commit it"));
        }
    }

    /**
     * Parses lockfile bytes; {@code source} names them in problems.
     *
     * @throws PinningException naming every problem found
     */
    public static Lockfile parse(byte[] bytes, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw new PinningException(List.of(source + " is not valid JSON: " + e.getOriginalMessage()));
        }
        Reader reader = new Reader(source);
        Lockfile lockfile = reader.lockfile(root);
        if (!reader.problems.isEmpty() || lockfile == null) {
            throw new PinningException(reader.problems);
        }
        return lockfile;
    }

    /** The JSON form: stable key order, two-space indent, a trailing newline. */
    public byte[] toBytes() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", VERSION);
        root.put("server", server);
        List<Map<String, Object>> toolList = new ArrayList<>();
        for (ToolPin pin : tools) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", pin.name());
            entry.put("sha256", pin.sha256());
            entry.put("risks", pin.risks().stream().sorted().map(Enum::name).toList());
            entry.put("fields", pin.fields());
            toolList.add(entry);
        }
        root.put("tools", toolList);
        List<Map<String, Object>> programList = new ArrayList<>();
        for (ProgramPin pin : programs) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", pin.name());
            entry.put("path", pin.path());
            entry.put("sha256", pin.sha256().orElse(null));
            programList.add(entry);
        }
        root.put("programs", programList);
        return (JSON.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Writes {@link #toBytes()} to {@code file} through a temporary file in the same folder and an
     * atomic rename, so a reader sees the old lockfile or the new one, never part of one.
     */
    public void write(Path file) throws IOException {
        writeAtomically(file, toBytes());
    }

    /** Where the detached signature of the lockfile at {@code lockfile} lives: {@code <lockfile>.jws}. */
    public static Path signatureFile(Path lockfile) {
        return LockSignatures.signatureFile(lockfile);
    }

    /**
     * Writes {@code compactJws}, a detached JWS over the lockfile's exact bytes, to {@link
     * #signatureFile}, atomically as {@link #write} does.
     */
    public static void writeSignature(Path lockfile, String compactJws) throws IOException {
        writeAtomically(signatureFile(lockfile), (compactJws.strip() + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        Path temporary = Files.createTempFile(folder, "." + file.getFileName() + ".", ".tmp");
        try {
            Files.write(temporary, bytes);
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static void requireHash(String hash, String what) {
        if (hash == null || !SHA256.matcher(hash).matches()) {
            throw new IllegalArgumentException(what + " must be 64 lower-case hex digits but was " + hash);
        }
    }

    private static void requireUnique(List<String> names, String what) {
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                throw new IllegalArgumentException(what + " '" + name + "' is pinned twice");
            }
        }
    }

    /** Reads the JSON form, collecting every problem with its place. */
    private static final class Reader {
        private final String source;
        private final List<String> problems = new ArrayList<>();

        Reader(String source) {
            this.source = source;
        }

        Lockfile lockfile(JsonNode root) {
            if (root == null || !root.isObject()) {
                return problem("", "must be a JSON object with version, server, tools and programs");
            }
            only(root, "", "version", "server", "tools", "programs");
            JsonNode version = root.get("version");
            if (version == null || !version.isInt() || version.intValue() != VERSION) {
                problem(
                        "version",
                        "must be " + VERSION + " but was " + version
                                + "; write the lockfile again with this version's lock command");
            }
            String server = text(root, "server", "");
            List<ToolPin> tools = new ArrayList<>();
            JsonNode toolList = array(root, "tools");
            for (int i = 0; toolList != null && i < toolList.size(); i++) {
                ToolPin pin = tool(toolList.get(i), "tools[" + i + "]");
                if (pin != null) {
                    tools.add(pin);
                }
            }
            List<ProgramPin> programs = new ArrayList<>();
            JsonNode programList = array(root, "programs");
            for (int i = 0; programList != null && i < programList.size(); i++) {
                ProgramPin pin = program(programList.get(i), "programs[" + i + "]");
                if (pin != null) {
                    programs.add(pin);
                }
            }
            if (!problems.isEmpty()) {
                return null;
            }
            try {
                return new Lockfile(server, tools, programs);
            } catch (IllegalArgumentException e) {
                return problem("", e.getMessage());
            }
        }

        private ToolPin tool(JsonNode node, String path) {
            if (!node.isObject()) {
                return problem(path, "must be an object with name, sha256, risks and fields");
            }
            only(node, path, "name", "sha256", "risks", "fields");
            String name = text(node, "name", path + ".");
            String sha256 = text(node, "sha256", path + ".");
            EnumSet<RiskClass> risks = EnumSet.noneOf(RiskClass.class);
            JsonNode riskList = array(node, "risks", path + ".");
            for (int i = 0; riskList != null && i < riskList.size(); i++) {
                JsonNode risk = riskList.get(i);
                try {
                    risks.add(RiskClass.valueOf(risk.asString("")));
                } catch (IllegalArgumentException e) {
                    problem(path + ".risks[" + i + "]", risk + " is not a risk class");
                }
            }
            Map<String, String> fields = new LinkedHashMap<>();
            JsonNode fieldMap = node.get("fields");
            if (fieldMap == null || !fieldMap.isObject()) {
                problem(path + ".fields", "must be an object of field name to sha256");
            } else {
                for (Map.Entry<String, JsonNode> field : fieldMap.properties()) {
                    if (!ToolPins.PINNED_FIELDS.contains(field.getKey())) {
                        problem(path + ".fields." + field.getKey(), "is not a pinned field " + ToolPins.PINNED_FIELDS);
                    } else if (!field.getValue().isString()) {
                        problem(path + ".fields." + field.getKey(), "must be a sha256 string");
                    } else {
                        fields.put(field.getKey(), field.getValue().stringValue());
                    }
                }
            }
            if (name == null || sha256 == null) {
                return null;
            }
            try {
                return new ToolPin(name, sha256, fields, risks);
            } catch (IllegalArgumentException e) {
                return problem(path, e.getMessage());
            }
        }

        private ProgramPin program(JsonNode node, String path) {
            if (!node.isObject()) {
                return problem(path, "must be an object with name, path and sha256");
            }
            only(node, path, "name", "path", "sha256");
            String name = text(node, "name", path + ".");
            String file = text(node, "path", path + ".");
            JsonNode hash = node.get("sha256");
            if (hash != null && !hash.isNull() && !hash.isString()) {
                problem(path + ".sha256", "must be a sha256 string or null");
                return null;
            }
            if (name == null || file == null) {
                return null;
            }
            try {
                return new ProgramPin(
                        name, file, hash == null || hash.isNull() ? Optional.empty() : Optional.of(hash.stringValue()));
            } catch (IllegalArgumentException e) {
                return problem(path, e.getMessage());
            }
        }

        private void only(JsonNode node, String path, String... keys) {
            List<String> allowed = List.of(keys);
            for (String key : node.propertyNames()) {
                if (!allowed.contains(key)) {
                    problem((path.isEmpty() ? "" : path + ".") + key, "is not a lockfile field " + allowed);
                }
            }
        }

        private String text(JsonNode node, String key, String prefix) {
            JsonNode value = node.get(key);
            if (value == null || !value.isString()) {
                problem(prefix + key, "must be a string");
                return null;
            }
            return value.stringValue();
        }

        private JsonNode array(JsonNode node, String key) {
            return array(node, key, "");
        }

        private JsonNode array(JsonNode node, String key, String prefix) {
            JsonNode value = node.get(key);
            if (value == null || !value.isArray()) {
                problem(prefix + key, "must be a list");
                return null;
            }
            return value;
        }

        private <T> T problem(String path, String message) {
            problems.add(source + (path.isEmpty() ? "" : " at " + path) + ": " + message);
            return null;
        }
    }
}
