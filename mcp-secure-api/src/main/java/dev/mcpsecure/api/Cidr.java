package dev.mcpsecure.api;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.Optional;

/**
 * A block of IP addresses: an address and the number of leading bits that count.
 *
 * @param network the first address of the block; its bits after {@code prefixLength} are zero
 * @param prefixLength 0 to 32 for IPv4, 0 to 128 for IPv6
 */
public record Cidr(InetAddress network, int prefixLength) {

    /** Validates that the prefix fits the address family and that no host bits are set. */
    public Cidr {
        Objects.requireNonNull(network, "network");
        String problem = Checks.between(prefixLength, 0, network.getAddress().length * 8L);
        if (problem == null && !sameBlock(network.getAddress(), network.getAddress(), prefixLength, true)) {
            problem = network.getHostAddress() + "/" + prefixLength + " has bits set after the prefix; write "
                    + masked(network, prefixLength) + "/" + prefixLength;
        }
        Checks.require("", problem);
    }

    /**
     * Parses {@code 10.0.0.0/8}, {@code 127.0.0.1} (one address), {@code fc00::/7} or {@code ::1}.
     * Never looks a name up.
     *
     * @throws InvalidPolicyException naming the text and the expected form
     */
    public static Cidr parse(String text) {
        Checks.require("", problem(text));
        int slash = text.indexOf('/');
        InetAddress address = IpLiterals.parse(slash < 0 ? text : text.substring(0, slash));
        int bits = address.getAddress().length * 8;
        return new Cidr(address, slash < 0 ? bits : Integer.parseInt(text.substring(slash + 1)));
    }

    /**
     * The address a canonical IP literal spells: IPv4 as four decimal octets without leading
     * zeros, IPv6 (without brackets or zone) in any of its textual forms; IPv4-mapped IPv6 stays
     * IPv6. Never looks a name up.
     *
     * @return empty for anything else, including the decimal, octal, hex and short IPv4 forms
     */
    public static Optional<InetAddress> parseAddress(String text) {
        return text == null ? Optional.empty() : Optional.ofNullable(IpLiterals.parse(text));
    }

    /**
     * Whether {@code host} — {@code localhost}, an IP literal, or an IPv6 literal in brackets as
     * in a URL — names this machine's loopback. Never looks a name up: any other name is not
     * loopback.
     */
    public static boolean isLoopbackHost(String host) {
        if (host == null) {
            return false;
        }
        String bare = host.length() > 1 && host.startsWith("[") && host.endsWith("]")
                ? host.substring(1, host.length() - 1)
                : host;
        return IpLiterals.isLoopback(bare);
    }

    static String problem(String text) {
        if (text == null) {
            return "is required";
        }
        String fix = "; write an address block such as 10.0.0.0/8, 127.0.0.1/32 or fc00::/7";
        int slash = text.indexOf('/');
        InetAddress address = IpLiterals.parse(slash < 0 ? text : text.substring(0, slash));
        if (address == null) {
            return Checks.quote(text) + " is not an IP address or address block" + fix;
        }
        if (slash >= 0 && !text.substring(slash + 1).matches("[0-9]{1,3}")) {
            return Checks.quote(text) + " has an invalid prefix length" + fix;
        }
        return null;
    }

    /** Whether {@code address} lies in this block; an address of the other family never does. */
    public boolean contains(InetAddress address) {
        byte[] candidate = address.getAddress();
        return candidate.length == network.getAddress().length
                && sameBlock(network.getAddress(), candidate, prefixLength, false);
    }

    /** {@code address/prefixLength}. */
    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }

    /**
     * With {@code hostBitsZero}, whether {@code a} has no bit set after the prefix; otherwise
     * whether {@code a} and {@code b} agree on the first {@code prefix} bits.
     */
    private static boolean sameBlock(byte[] a, byte[] b, int prefix, boolean hostBitsZero) {
        for (int i = 0; i < a.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            int mask = keep == 0 ? 0 : (0xff << (8 - keep)) & 0xff;
            if (hostBitsZero ? (a[i] & ~mask & 0xff) != 0 : (a[i] & mask) != (b[i] & mask)) {
                return false;
            }
        }
        return true;
    }

    private static String masked(InetAddress address, int prefix) {
        byte[] bytes = address.getAddress();
        for (int i = 0; i < bytes.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            bytes[i] &= (byte) (keep == 0 ? 0 : 0xff << (8 - keep));
        }
        try {
            return InetAddress.getByAddress(bytes).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
