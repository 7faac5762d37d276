package dev.mcpsecure.core.internal.egress;

import dev.mcpsecure.api.Cidr;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * Classifies addresses a tool must not reach unless a rule names them: loopback, private,
 * link-local (cloud metadata), shared (CGNAT), unspecified, multicast, broadcast, reserved and
 * documentation blocks, and the IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64,
 * 6to4, Teredo) when the carried address is one of those. Thread-safe; never resolves names.
 */
public final class SpecialAddresses {

    private record Block(Cidr cidr, String kind) {}

    private static final List<Block> IPV4 = List.of(
            block("0.0.0.0/8", "unspecified"),
            block("10.0.0.0/8", "private"),
            block("100.64.0.0/10", "shared (CGNAT)"),
            block("127.0.0.0/8", "loopback"),
            block("169.254.0.0/16", "link-local (cloud metadata)"),
            block("172.16.0.0/12", "private"),
            block("192.0.0.0/24", "IETF protocol assignments"),
            block("192.0.2.0/24", "documentation"),
            block("192.88.99.0/24", "6to4 relay anycast"),
            block("192.168.0.0/16", "private"),
            block("198.18.0.0/15", "benchmarking"),
            block("198.51.100.0/24", "documentation"),
            block("203.0.113.0/24", "documentation"),
            block("224.0.0.0/4", "multicast"),
            block("240.0.0.0/4", "reserved"),
            block("255.255.255.255/32", "broadcast"));

    private static final List<Block> IPV6 = List.of(
            block("::/128", "unspecified"),
            block("::1/128", "loopback"),
            block("64:ff9b:1::/48", "local-use NAT64"),
            block("100::/64", "discard-only"),
            block("2001:db8::/32", "documentation"),
            block("fc00::/7", "unique local (private)"),
            block("fe80::/10", "link-local"),
            block("fec0::/10", "site-local"),
            block("ff00::/8", "multicast"));

    private static final Cidr MAPPED = Cidr.parse("::ffff:0:0/96");
    private static final Cidr COMPATIBLE = Cidr.parse("::/96");
    private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");
    private static final Cidr SIX_TO_FOUR = Cidr.parse("2002::/16");
    private static final Cidr TEREDO = Cidr.parse("2001::/32");

    private SpecialAddresses() {}

    /**
     * What makes {@code address} special, such as {@code "loopback"} or {@code "IPv4-mapped
     * loopback"}, or empty for an ordinary public unicast address.
     */
    public static Optional<String> kind(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length == 4) {
            return kindOf(IPV4, address);
        }
        Optional<String> own = kindOf(IPV6, address);
        if (own.isPresent()) {
            return own;
        }
        if (MAPPED.contains(address)) {
            return embedded("IPv4-mapped", bytes, 12, false);
        }
        if (COMPATIBLE.contains(address)) {
            return embedded("IPv4-compatible", bytes, 12, false);
        }
        if (NAT64.contains(address)) {
            return embedded("NAT64", bytes, 12, false);
        }
        if (SIX_TO_FOUR.contains(address)) {
            return embedded("6to4", bytes, 2, false);
        }
        if (TEREDO.contains(address)) {
            // Teredo carries the relay server's IPv4 in bits 32-63 and the client's, inverted, in 96-127.
            return embedded("Teredo server", bytes, 4, false).or(() -> embedded("Teredo client", bytes, 12, true));
        }
        return Optional.empty();
    }

    private static Optional<String> embedded(String form, byte[] bytes, int offset, boolean inverted) {
        byte[] v4 = new byte[4];
        for (int i = 0; i < 4; i++) {
            v4[i] = (byte) (inverted ? ~bytes[offset + i] : bytes[offset + i]);
        }
        return kindOf(IPV4, v4Address(v4)).map(kind -> form + " " + kind);
    }

    private static Optional<String> kindOf(List<Block> blocks, InetAddress address) {
        for (Block block : blocks) {
            if (block.cidr().contains(address)) {
                return Optional.of(block.kind());
            }
        }
        return Optional.empty();
    }

    private static Inet4Address v4Address(byte[] bytes) {
        try {
            return (Inet4Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }

    private static Block block(String cidr, String kind) {
        return new Block(Cidr.parse(cidr), kind);
    }
}
