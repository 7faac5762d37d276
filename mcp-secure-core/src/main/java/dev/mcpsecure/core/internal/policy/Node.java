package dev.mcpsecure.core.internal.policy;

import java.util.LinkedHashMap;
import java.util.List;

/**
 * A policy document as read, before binding: every value keeps the line and column it came from,
 * so that any problem found later can point at it.
 */
sealed interface Node {

    /** 1-based line of the value's first character. */
    int line();

    /** 1-based column of the value's first character. */
    int column();

    /** What kind of value this is, for messages: "a mapping", "a list", "a number"... */
    String describe();

    /** {@code text} in single quotes, cut after 60 characters, for messages. */
    static String quote(String text) {
        int limit = 60;
        if (text.codePointCount(0, text.length()) <= limit) {
            return "'" + text + "'";
        }
        return "'" + text.substring(0, text.offsetByCodePoints(0, limit)) + "...'";
    }

    /** A mapping, keys in document order. */
    record MapNode(LinkedHashMap<String, Node> entries, int line, int column) implements Node {
        @Override
        public String describe() {
            return "a mapping";
        }
    }

    /** A sequence. */
    record ListNode(List<Node> items, int line, int column) implements Node {
        @Override
        public String describe() {
            return "a list";
        }
    }

    /**
     * A scalar: {@code text} is the value as written (for numbers and booleans, their canonical
     * text), {@code kind} says what the parser made of it.
     */
    record ScalarNode(String text, Kind kind, int line, int column) implements Node {
        @Override
        public String describe() {
            return switch (kind) {
                case STRING -> "the text " + quote(text);
                case INTEGER, DECIMAL -> "the number " + text;
                case BOOLEAN -> "the boolean " + text;
                case NULL -> "an empty value";
            };
        }
    }

    /** The kinds of scalar. */
    enum Kind {
        STRING,
        INTEGER,
        DECIMAL,
        BOOLEAN,
        NULL
    }
}
