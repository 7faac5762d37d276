package dev.mcpsecure.api;

/**
 * The one sanitizer for text mcp-secure did not write itself (tool names, session ids, header
 * values, paths and methods a client sent) before it goes into a message, a log line or an audit
 * detail. One rule everywhere: every control character (C0, DEL, C1), line and paragraph
 * separator, bidirectional control, zero-width or invisible character, tag character and lone
 * surrogate becomes {@code \\uXXXX} ({@code \\u{XXXXX}} beyond the BMP), a backslash becomes
 * {@code \\\\}, and text longer than the limit is cut with {@code ...}. The result is one printable line that cannot
 * start a new log line or reorder what a terminal shows. Thread-safe; allocation-free when the
 * text is already clean and short.
 */
public final class Untrusted {

    /** How many characters {@link #text(String)} keeps. */
    public static final int DEFAULT_LIMIT = 120;

    private Untrusted() {}

    /** {@code text} made safe, cut to {@value #DEFAULT_LIMIT} characters; {@code (none)} for {@code null}. */
    public static String text(String text) {
        return text(text, DEFAULT_LIMIT);
    }

    /** {@code text} made safe, cut to {@code limit} characters; {@code (none)} for {@code null}. */
    public static String text(String text, int limit) {
        if (text == null) {
            return "(none)";
        }
        int end = Math.min(text.length(), limit);
        if (end > 0 && end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--; // never cut a pair in half
        }
        if (end == text.length() && clean(text)) {
            return text;
        }
        StringBuilder out = new StringBuilder(end + 16);
        for (int i = 0; i < end; ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (c == '\\') {
                out.append("\\\\");
            } else if (unsafe(c)) {
                out.append(c > 0xffff ? String.format("\\u{%x}", c) : String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        }
        return end < text.length() ? out.append("...").toString() : out.toString();
    }

    private static boolean clean(String text) {
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            if (c == '\\' || unsafe(c)) {
                return false;
            }
            i += Character.charCount(c);
        }
        return true;
    }

    /**
     * Control characters, line and paragraph separators, bidirectional controls, zero-width and
     * invisible formatting characters, tag characters, and lone surrogates.
     */
    private static boolean unsafe(int c) {
        return c < 0x20
                || (c >= 0x7f && c <= 0x9f)
                || c == 0x061c
                || (c >= 0x200b && c <= 0x200f)
                || (c >= 0x2028 && c <= 0x202e)
                || (c >= 0x2060 && c <= 0x2069)
                || c == 0xfeff
                || (c >= 0xd800 && c <= 0xdfff)
                || (c >= 0xe0000 && c <= 0xe007f);
    }
}
