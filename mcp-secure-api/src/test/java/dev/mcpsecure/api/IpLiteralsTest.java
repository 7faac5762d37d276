package dev.mcpsecure.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpLiteralsTest {

    /** Parses a literal the test knows to be valid; never a name lookup. */
    static InetAddress address(String literal) {
        InetAddress address = IpLiterals.parse(literal);
        if (address == null) {
            throw new IllegalArgumentException(literal);
        }
        return address;
    }

    @ParameterizedTest(name = "{0} -> {1} ({2})")
    @CsvSource(
            delimiter = '|',
            value = {
                "127.0.0.1       | 127.0.0.1                  | canonical IPv4",
                "0.0.0.0         | 0.0.0.0                    | unspecified is still a literal",
                "::1             | 0:0:0:0:0:0:0:1            | IPv6 loopback",
                "::ffff:127.0.0.1 | 0:0:0:0:0:ffff:7f00:1     | IPv4-mapped stays IPv6",
                "0177.0.0.1      | -                          | octal octet is not canonical",
                "127.1           | -                          | short form is not canonical",
                "2130706433      | -                          | decimal form is not canonical",
                "0x7f.0.0.1      | -                          | hex octet is not canonical",
                "256.0.0.1       | -                          | octet out of range",
                "localhost       | -                          | names are never looked up",
                "fe80::1%eth0    | -                          | zones are refused",
            })
    void parsesOnlyCanonicalLiterals(String text, String expected, String why) throws UnknownHostException {
        InetAddress parsed = IpLiterals.parse(text);
        if (expected.equals("-")) {
            assertThat(parsed).as(why).isNull();
        } else {
            assertThat(parsed).as(why).isNotNull();
            assertThat(parsed.getHostAddress()).as(why).isEqualTo(expected);
        }
    }

    @Test
    void loopbackHostsAreRecognisedWithoutLookingNamesUp() {
        for (String host : List.of("localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]")) {
            assertThat(Cidr.isLoopbackHost(host)).as(host).isTrue();
        }
        for (String host :
                List.of("10.0.0.1", "0177.0.0.1", "2130706433", "localhost.evil.test", "[::1", "", "::ffff:10.0.0.1")) {
            assertThat(Cidr.isLoopbackHost(host)).as(host).isFalse();
        }
        assertThat(Cidr.isLoopbackHost(null)).isFalse();
    }
}
