package dev.mcpsecure.core.internal.egress;

import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.core.EgressHttpClient;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import okhttp3.Dns;

/**
 * The only name resolution the HTTP engine does: the resolver's answer, filtered to the
 * addresses the policy allows for that name, so what is checked is what is connected to.
 * Refuses with {@link EgressDenials.Denied} when no address is left. Thread-safe when
 * the resolver is.
 */
public final class GuardedDns implements Dns {

    private final PolicyEgressGuard guard;
    private final EgressHttpClient.Resolver resolver;

    public GuardedDns(PolicyEgressGuard guard, EgressHttpClient.Resolver resolver) {
        this.guard = guard;
        this.resolver = resolver;
    }

    @Override
    public List<InetAddress> lookup(String hostname) throws UnknownHostException {
        String host = hostname.toLowerCase(Locale.ROOT);
        if (host.indexOf(':') >= 0) {
            // an IPv6 literal, spelled as the guard spells hosts
            String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
            host = Cidr.parseAddress(bare)
                    .map(a -> "[" + a.getHostAddress() + "]")
                    .orElse(host);
        }
        List<InetAddress> answer = resolver.resolve(hostname);
        List<InetAddress> allowed = new ArrayList<>(answer.size());
        Decision firstDenial = null;
        for (InetAddress address : answer) {
            Decision decision = guard.checkAddress(host, address);
            if (decision.allowed()) {
                allowed.add(address);
            } else if (firstDenial == null) {
                firstDenial = decision;
            }
        }
        if (allowed.isEmpty()) {
            throw new EgressDenials.Denied(
                    firstDenial != null
                            ? firstDenial
                            : Decision.deny(ReasonCode.EGRESS_ADDRESS_BLOCKED, hostname + " has no addresses"));
        }
        return allowed;
    }
}
