package dev.mcpsecure.core.internal.pinning;

import dev.mcpsecure.api.EgressPolicy;
import dev.mcpsecure.core.internal.egress.PolicyEgressGuard;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Looks for tool poisoning in the text a model reads: a tool's title, description and every
 * string (keys included) of its schemas and annotations. It flags hidden characters (invisible
 * and bidirectional controls, tag characters), {@code <IMPORTANT>}-style blocks, instructions
 * addressed to the model, mentions of other tools (shadowing), long base64 blobs and URLs the
 * egress policy does not allow. Each finding names tool, field and offset. Thread-safe.
 *
 * <p>It is a tripwire for review, not a proof of innocence: text can instruct a model in ways no
 * pattern catches.
 */
public final class ToolLint {

    /** What a finding is. */
    public enum Kind {
        /** A zero-width, format or other invisible character. */
        INVISIBLE_CHARACTER,
        /** A bidirectional control (Trojan Source). */
        BIDI_CONTROL,
        /** A Unicode tag character (U+E0000 to U+E007F), which hides ASCII text. */
        TAG_CHARACTER,
        /** An {@code <IMPORTANT>}, {@code <SYSTEM>} or similar block. */
        HIDDEN_BLOCK,
        /** Text that instructs the model (ignore previous instructions, do not tell the user...). */
        MODEL_INSTRUCTION,
        /** A mention of another tool of this server. */
        TOOL_SHADOWING,
        /** A long run of base64. */
        BASE64_BLOB,
        /** A URL that no egress rule allows. */
        URL_NOT_ALLOWED
    }

    /**
     * One finding.
     *
     * @param tool the tool's name
     * @param field where: {@code description}, {@code inputSchema.properties.path.description}...
     * @param offset the index of the finding in that text, in UTF-16 code units
     * @param kind what was found
     * @param detail what exactly, with hidden characters written as code points
     */
    public record Finding(String tool, String field, int offset, Kind kind, String detail) {
        @Override
        public String toString() {
            return "tool '" + tool + "' " + field + " at " + offset + ": " + kind + " (" + detail + ")";
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static final Pattern HIDDEN_BLOCK = Pattern.compile(
            "<\\s*/?\\s*(important|system|instructions?|hidden|secret|critical|admin|prompt|context)\\b[^>]{0,200}>",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern INSTRUCTION = Pattern.compile(
            "\\b(ignore|disregard|forget)\\s+(all\\s+|any\\s+)?(the\\s+)?(previous|prior|above|earlier|other)\\s+"
                    + "(instructions?|prompts?|rules|messages)"
                    + "|\\b(do\\s+not|don't|never)\\s+(tell|inform|mention|reveal|show|notify|alert)\\s+(this\\s+to\\s+)?"
                    + "(the\\s+)?user"
                    + "|\\bwithout\\s+(telling|informing|notifying|asking)\\s+(the\\s+)?user"
                    + "|\\b(before|instead\\s+of)\\s+(using|calling)\\s+(this|any|the)\\s+(other\\s+)?tool"
                    + "|\\byou\\s+(must|should|have\\s+to)\\s+(first\\s+)?(read|call|send|include|pass|upload|use)\\b"
                    + "|\\b(system\\s+prompt|as\\s+an\\s+ai\\b|you\\s+are\\s+now\\b|new\\s+instructions)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/_-]{48,}={0,2}");
    private static final Pattern URL = Pattern.compile("(?i)\\b(https?|wss?|ftp)://[^\\s\"'<>()\\[\\]{}`]+");

    private final PolicyEgressGuard egress;

    /** A lint judging URLs by {@code egress}. */
    public ToolLint(EgressPolicy egress) {
        this.egress = new PolicyEgressGuard(egress);
    }

    /** The findings for each of {@code tools}, judged together (for shadowing). */
    public List<Finding> check(Collection<McpSchema.Tool> tools) {
        List<String> names = tools.stream().map(McpSchema.Tool::name).toList();
        List<Finding> findings = new ArrayList<>();
        for (McpSchema.Tool tool : tools) {
            check(tool, names, findings);
        }
        return findings;
    }

    private void check(McpSchema.Tool tool, List<String> names, List<Finding> findings) {
        text(tool, "title", tool.title(), names, findings);
        text(tool, "description", tool.description(), names, findings);
        tree(tool, "inputSchema", JSON.valueToTree(tool.inputSchema()), names, findings);
        if (tool.outputSchema() != null) {
            tree(tool, "outputSchema", JSON.valueToTree(tool.outputSchema()), names, findings);
        }
        if (tool.annotations() != null) {
            tree(tool, "annotations", JSON.valueToTree(tool.annotations()), names, findings);
        }
    }

    private void tree(McpSchema.Tool tool, String path, JsonNode node, List<String> names, List<Finding> findings) {
        if (node == null) {
            return;
        }
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> member : node.properties()) {
                String child = path + "." + member.getKey();
                text(tool, child + " (key)", member.getKey(), names, findings);
                tree(tool, child, member.getValue(), names, findings);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                tree(tool, path + "[" + i + "]", node.get(i), names, findings);
            }
        } else if (node.isString()) {
            text(tool, path, node.stringValue(), names, findings);
        }
    }

    private void text(McpSchema.Tool tool, String field, String text, List<String> names, List<Finding> findings) {
        if (text == null || text.isEmpty()) {
            return;
        }
        String name = tool.name();
        int previous = ' ';
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            Kind kind = isEmojiPresentationSelector(c, previous) ? null : hiddenKind(c);
            if (kind != null) {
                findings.add(new Finding(name, field, i, kind, String.format(Locale.ROOT, "U+%04X", c)));
            }
            previous = c;
            i += Character.charCount(c);
        }
        match(HIDDEN_BLOCK, text, name, field, Kind.HIDDEN_BLOCK, findings);
        match(INSTRUCTION, text, name, field, Kind.MODEL_INSTRUCTION, findings);
        Matcher blob = BASE64.matcher(text);
        while (blob.find()) {
            String run = blob.group();
            if (run.chars().anyMatch(Character::isDigit)
                    && run.chars().anyMatch(Character::isUpperCase)
                    && run.chars().anyMatch(Character::isLowerCase)) {
                findings.add(new Finding(name, field, blob.start(), Kind.BASE64_BLOB, run.length() + " characters"));
            }
        }
        Matcher url = URL.matcher(text);
        while (url.find()) {
            String found = url.group().replaceAll("[.,;:!?]+$", "");
            if (!egressAllows(found)) {
                findings.add(new Finding(name, field, url.start(), Kind.URL_NOT_ALLOWED, clip(found)));
            }
        }
        for (String other : names) {
            if (!other.equals(name)) {
                int at = mention(text, other);
                if (at >= 0) {
                    findings.add(new Finding(name, field, at, Kind.TOOL_SHADOWING, "mentions tool '" + other + "'"));
                }
            }
        }
    }

    /**
     * A single U+FE0E or U+FE0F right after a symbol picks its text or emoji form, as in "☀️";
     * anywhere else (after a letter, or in a run) a variation selector only hides data.
     */
    private static boolean isEmojiPresentationSelector(int c, int previous) {
        if (c != 0xFE0E && c != 0xFE0F) {
            return false;
        }
        int type = Character.getType(previous);
        return type == Character.OTHER_SYMBOL
                || type == Character.MATH_SYMBOL
                || type == Character.DECIMAL_DIGIT_NUMBER
                || previous == '#'
                || previous == '*';
    }

    private static Kind hiddenKind(int c) {
        if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x061C || c == 0x200E || c == 0x200F) {
            return Kind.BIDI_CONTROL;
        }
        if (c >= 0xE0000 && c <= 0xE007F) {
            return Kind.TAG_CHARACTER;
        }
        int type = Character.getType(c);
        if (type == Character.FORMAT
                || c == 0x115F
                || c == 0x1160
                || c == 0x3164
                || c == 0xFFA0
                || (c >= 0xFE00 && c <= 0xFE0F)
                || (c >= 0xE0100 && c <= 0xE01EF)
                || (type == Character.CONTROL && c != '\n' && c != '\t' && c != '\r')) {
            return Kind.INVISIBLE_CHARACTER;
        }
        return null;
    }

    private static void match(
            Pattern pattern, String text, String tool, String field, Kind kind, List<Finding> findings) {
        Matcher matcher = pattern.matcher(text);
        while (matcher.find()) {
            findings.add(new Finding(tool, field, matcher.start(), kind, "'" + clip(matcher.group()) + "'"));
        }
    }

    /**
     * Where {@code text} names the tool {@code other}: as a whole token when the name has a
     * separator, digit or inner capital (such as {@code read_file}), else only quoted or in
     * backticks, so a tool called {@code search} does not flag every use of the word.
     */
    private static int mention(String text, String other) {
        boolean distinctive = other.chars().anyMatch(c -> c == '_' || c == '-' || c == '.' || Character.isDigit(c))
                || other.chars().skip(1).anyMatch(Character::isUpperCase);
        String quoted = "[`'\"]" + Pattern.quote(other) + "[`'\"]";
        String token = "(?<![\\w.-])" + Pattern.quote(other) + "(?![\\w-])";
        Matcher matcher =
                Pattern.compile(distinctive ? token + "|" + quoted : quoted).matcher(text);
        return matcher.find() ? matcher.start() : -1;
    }

    private boolean egressAllows(String url) {
        try {
            return egress.checkRequest(new URI(url), "GET", Optional.empty()).allowed();
        } catch (Exception e) {
            return false;
        }
    }

    private static String clip(String text) {
        String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
        StringBuilder out = new StringBuilder();
        shown.codePoints().forEach(c -> {
            if (hiddenKind(c) != null || c < 0x20) {
                out.append(String.format(Locale.ROOT, "\\u{%X}", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
