package dev.mcpsecure.api;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Strict parsing of IP address literals, without any name lookup: IPv4 only as four decimal
 * octets without leading zeros, IPv6 in its textual forms without a zone.
 */
final class IpLiterals {

    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

    private IpLiterals() {}

    /** The address {@code text} spells, or {@code null} when it is not a canonical IP literal. */
    static InetAddress parse(String text) {
        try {
            if (IPV4.matcher(text).matches()) {
                String[] parts = text.split("\\.");
                byte[] bytes = new byte[4];
                for (int i = 0; i < 4; i++) {
                    bytes[i] = (byte) Integer.parseInt(parts[i]);
                }
                return InetAddress.getByAddress(bytes);
            }
            if (text.indexOf(':') >= 0 && IPV6_CHARS.matcher(text).matches()) {
                InetAddress address = InetAddress.getByName(text);
                if (address instanceof Inet4Address) {
                    // Java folds ::ffff:a.b.c.d to IPv4; keep the IPv6 form the text wrote.
                    byte[] mapped = new byte[16];
                    mapped[10] = (byte) 0xff;
                    mapped[11] = (byte) 0xff;
                    System.arraycopy(address.getAddress(), 0, mapped, 12, 4);
                    return Inet6Address.getByAddress(null, mapped, null);
                }
                return address;
            }
            return null;
        } catch (UnknownHostException | IllegalArgumentException e) {
            return null;
        }
    }

    /** Whether {@code text} is {@code localhost} or a loopback address literal. */
    static boolean isLoopback(String text) {
        if ("localhost".equalsIgnoreCase(text)) {
            return true;
        }
        InetAddress address = parse(text);
        return address != null && address.isLoopbackAddress();
    }
}
