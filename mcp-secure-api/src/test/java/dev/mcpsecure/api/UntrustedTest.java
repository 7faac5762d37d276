package dev.mcpsecure.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UntrustedTest {

    @ParameterizedTest(name = "{2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "plain-name_1.2 | plain-name_1.2 | clean text comes back as it is",
                "a\\nb | a\\u000ab | a newline cannot start a forged log line",
                "a\\rb | a\\u000db | nor a carriage return",
                "x\\u001b[2Jy | x\\u001b[2Jy | ANSI escape sequences are shown, not run",
                "back\\\\slash | back\\\\slash | a backslash doubles, so an escape cannot be faked",
                "rtl\\u202eevil | rtl\\u202eevil | a bidi override cannot reorder what a terminal shows",
                "zero\\u200bwidth | zero\\u200bwidth | zero-width characters are made visible",
                "sep\\u2028line | sep\\u2028line | a line separator is escaped",
                "c1\\u0085next | c1\\u0085next | a C1 next-line is escaped",
            })
    void escapesWhatCouldForgeOrHide(String input, String expected, String why) {
        assertThat(Untrusted.text(unescape(input))).as(why).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void cutsLongTextKeepsPairsWholeAndNamesNull() {
        assertThat(Untrusted.text("x".repeat(200))).hasSize(123).endsWith("...");
        assertThat(Untrusted.text("ab\uD83D\uDE00", 3)).isEqualTo("ab...");
        assertThat(Untrusted.text("tag\uDB40\uDC41")).isEqualTo("tag\\u{e0041}");
        assertThat(Untrusted.text("lone\uD800")).isEqualTo("lone\\ud800");
        assertThat(Untrusted.text(null)).isEqualTo("(none)");
    }

    /** The table's backslash escapes (n, r, a doubled backslash, u and four hex digits) as the characters they name. */
    private static String unescape(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                out.append(c);
            } else if (text.charAt(i + 1) == 'n') {
                out.append('\n');
                i++;
            } else if (text.charAt(i + 1) == 'r') {
                out.append('\r');
                i++;
            } else if (text.charAt(i + 1) == '\\') {
                out.append('\\');
                i++;
            } else {
                out.append((char) Integer.parseInt(text.substring(i + 2, i + 6), 16));
                i += 5;
            }
        }
        return out.toString();
    }
}
