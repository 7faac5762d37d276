package dev.mcpsecure.core.internal.policy;

import dev.mcpsecure.api.PolicyProblem;
import dev.mcpsecure.core.internal.policy.Node.Kind;
import dev.mcpsecure.core.internal.policy.Node.ListNode;
import dev.mcpsecure.core.internal.policy.Node.MapNode;
import dev.mcpsecure.core.internal.policy.Node.ScalarNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.dataformat.yaml.YAMLParser;

/**
 * Reads one YAML or JSON document into a {@link Node} tree, refusing what a policy must not hold:
 * duplicate keys, YAML aliases, more than one document, nesting deeper than {@link #MAX_DEPTH}.
 */
final class DocumentReader {

    static final int MAX_DEPTH = 32;

    private final JsonParser parser;
    private final Problems problems;

    private DocumentReader(JsonParser parser, Problems problems) {
        this.parser = parser;
        this.problems = problems;
    }

    /**
     * Reads the document; syntax errors and refused constructs go to {@code problems}.
     *
     * @return the root, {@code null} for an empty document or when the syntax is broken
     */
    static Node read(JsonParser parser, Problems problems) {
        DocumentReader reader = new DocumentReader(parser, problems);
        try (parser) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return null;
            }
            Node root = reader.value(first, 0, "");
            JsonToken extra = parser.nextToken();
            if (extra != null) {
                TokenStreamLocation at = parser.currentTokenLocation();
                problems.add(
                        at.getLineNr(),
                        at.getColumnNr(),
                        "",
                        "the file holds more than one document; a policy file is one mapping (remove the second"
                                + " '---' document)");
                return null;
            }
            return root;
        } catch (JacksonException e) {
            TokenStreamLocation at = e.getLocation();
            int line = at == null ? 0 : Math.max(0, at.getLineNr());
            int column = at == null ? 0 : Math.max(0, at.getColumnNr());
            problems.add(
                    line,
                    column,
                    "",
                    "syntax error: " + firstLine(e.getOriginalMessage()) + "; fix the " + problems.format()
                            + " syntax at this place");
            return null;
        } catch (RefusedConstruct e) {
            return null;
        } catch (RuntimeException e) {
            // A parser bug must not escape as an untyped exception (the fuzzer found one in
            // snakeyaml-engine 3.0.1): report it as a problem, with where the parser had got to.
            TokenStreamLocation at = parser.currentLocation();
            problems.add(
                    at == null ? 0 : Math.max(0, at.getLineNr()),
                    at == null ? 0 : Math.max(0, at.getColumnNr()),
                    "",
                    "the " + problems.format() + " parser failed here ("
                            + e.getClass().getSimpleName()
                            + "); check the text around this place for unusual characters");
            return null;
        }
    }

    private Node value(JsonToken token, int depth, String path) {
        TokenStreamLocation at = parser.currentTokenLocation();
        int line = at.getLineNr();
        int column = at.getColumnNr();
        if (depth > MAX_DEPTH) {
            problems.add(
                    line, column, path, "nesting is deeper than " + MAX_DEPTH + " levels; a policy never needs that");
            throw new RefusedConstruct();
        }
        if (parser instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
            problems.add(
                    line,
                    column,
                    path,
                    "YAML aliases (*name) are not allowed in a policy; write the value out in full");
            throw new RefusedConstruct();
        }
        switch (token) {
            case START_OBJECT:
                return object(line, column, depth, path);
            case START_ARRAY:
                List<Node> items = new ArrayList<>();
                for (JsonToken next = parser.nextToken(); next != JsonToken.END_ARRAY; next = parser.nextToken()) {
                    items.add(value(next, depth + 1, PolicyProblem.indexPath(path, items.size())));
                }
                return new ListNode(items, line, column);
            case VALUE_STRING:
                return new ScalarNode(parser.getString(), Kind.STRING, line, column);
            case VALUE_NUMBER_INT:
                return new ScalarNode(parser.getBigIntegerValue().toString(), Kind.INTEGER, line, column);
            case VALUE_NUMBER_FLOAT:
                return new ScalarNode(parser.getString(), Kind.DECIMAL, line, column);
            case VALUE_TRUE:
            case VALUE_FALSE:
                return new ScalarNode(String.valueOf(token == JsonToken.VALUE_TRUE), Kind.BOOLEAN, line, column);
            case VALUE_NULL:
                return new ScalarNode("", Kind.NULL, line, column);
            default:
                problems.add(line, column, path, "unexpected " + token + " in a policy document");
                throw new RefusedConstruct();
        }
    }

    private MapNode object(int line, int column, int depth, String path) {
        LinkedHashMap<String, Node> entries = new LinkedHashMap<>();
        LinkedHashMap<String, Integer> keyLines = new LinkedHashMap<>();
        for (JsonToken next = parser.nextToken(); next != JsonToken.END_OBJECT; next = parser.nextToken()) {
            String key = parser.currentName();
            TokenStreamLocation keyAt = parser.currentTokenLocation();
            String keyPath = PolicyProblem.keyPath(path, key);
            Node value = value(parser.nextToken(), depth + 1, keyPath);
            Integer firstLine = keyLines.putIfAbsent(key, keyAt.getLineNr());
            if (firstLine != null) {
                problems.add(
                        keyAt.getLineNr(),
                        keyAt.getColumnNr(),
                        keyPath,
                        "key '" + key + "' appears twice in the same mapping (first on line " + firstLine
                                + "); keep one of them");
            } else {
                entries.put(key, value);
            }
        }
        return new MapNode(entries, line, column);
    }

    /** The parser's message without its source-location suffixes, which repeat what the problem says. */
    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable input";
        }
        int end = message.length();
        for (String cut : new String[] {"\n", " (for ", " at [Source", "[Source:"}) {
            int at = message.indexOf(cut);
            if (at >= 0) {
                end = Math.min(end, at);
            }
        }
        return message.substring(0, end).trim();
    }

    /** Unwinds the reader after a construct it refuses; the problem is already recorded. */
    private static final class RefusedConstruct extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RefusedConstruct() {
            super(null, null, false, false);
        }
    }
}
