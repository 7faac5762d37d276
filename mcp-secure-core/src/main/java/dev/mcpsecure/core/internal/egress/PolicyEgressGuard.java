package dev.mcpsecure.core.internal.egress;

import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.EgressGuard;
import dev.mcpsecure.api.EgressPolicy;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import java.net.InetAddress;
import java.net.URI;
import java.util.Locale;
import java.util.Optional;

/**
 * The {@link EgressGuard} of an {@link EgressPolicy}: a request must match a rule on scheme,
 * host, port, path prefix and method (and carry only a token whose audience that rule names);
 * an address is refused when it is special (see {@link SpecialAddresses}) unless a rule for the
 * host lists a block containing it. Thread-safe; never resolves names.
 */
public final class PolicyEgressGuard implements EgressGuard {

    private final EgressPolicy policy;

    public PolicyEgressGuard(EgressPolicy policy) {
        this.policy = policy;
    }

    @Override
    public Decision checkRequest(URI uri, String method, Optional<String> tokenAudience) {
        try {
            return checkRequest(EgressTarget.parse(uri), method, tokenAudience);
        } catch (PolicyViolationException e) {
            return e.decision();
        }
    }

    @Override
    public Decision checkAddress(URI uri, InetAddress address) {
        try {
            return checkAddress(EgressTarget.parse(uri).host(), address);
        } catch (PolicyViolationException e) {
            return e.decision();
        }
    }

    /**
     * Whether {@code target} may be requested with {@code method} carrying a token for {@code
     * tokenAudience}; for an IP-literal host, also whether that address may be connected to.
     */
    public Decision checkRequest(EgressTarget target, String method, Optional<String> tokenAudience) {
        return checkRequest(target, method, tokenAudience, true);
    }

    /**
     * {@link #checkRequest(EgressTarget, String, Optional)}, with rules for any public host ({@code
     * *}) taken into account only when {@code anyPublicHost}: a caller that cannot check the
     * address connected to (a program's URL argument, whose program resolves the name itself)
     * needs a rule naming the host.
     *
     * <p>A host that a rule names is decided by the rules naming it alone: a {@code *} rule never
     * widens what a named rule allows for its host (its paths, methods, or the special addresses
     * in its {@code allowAddresses}).
     */
    public Decision checkRequest(
            EgressTarget target, String method, Optional<String> tokenAudience, boolean anyPublicHost) {
        String verb = method == null ? "" : method.toUpperCase(Locale.ROOT);
        boolean hostNamed = false;
        boolean schemeNamed = false;
        boolean otherAudience = false;
        boolean named = policy.rules().stream()
                .anyMatch(rule -> !rule.anyPublicHost() && hostMatches(rule.host(), target.host()));
        for (EgressRule rule : policy.rules()) {
            if (!hostMatches(rule.host(), target.host()) || (rule.anyPublicHost() && (named || !anyPublicHost))) {
                continue;
            }
            hostNamed = true;
            if (!rule.scheme().equals(target.scheme())) {
                continue;
            }
            schemeNamed = true;
            if (rule.port() == target.port()
                    && pathMatches(rule, target.rawPath())
                    && rule.methods().contains(verb)) {
                if (tokenAudience.isEmpty() || rule.audience().equals(tokenAudience)) {
                    return target.literal()
                            .map(address -> checkAddress(target.host(), address))
                            .orElse(Decision.allow());
                }
                otherAudience = true;
            }
        }
        if (otherAudience) {
            return Decision.deny(
                    ReasonCode.TOKEN_AUDIENCE_MISMATCH,
                    "a token for " + EgressTarget.clip(tokenAudience.orElseThrow()) + " may not be sent to "
                            + target.origin() + "; no rule for that host names this audience");
        }
        if (!hostNamed) {
            return Decision.deny(
                    ReasonCode.EGRESS_HOST_NOT_ALLOWED,
                    "no egress rule names host " + target.host() + "; add one to egress.rules if tools need it");
        }
        if (!schemeNamed) {
            return Decision.deny(
                    ReasonCode.EGRESS_SCHEME_NOT_ALLOWED,
                    target.scheme() + " to " + target.host() + " is not allowed; its rules name another scheme");
        }
        return Decision.deny(
                ReasonCode.EGRESS_HOST_NOT_ALLOWED,
                "no egress rule allows " + EgressTarget.clip(verb) + " " + target.describe()
                        + " (port, path prefix or method differ from the rules for that host)");
    }

    /**
     * Whether a connection for {@code host} (as {@link EgressTarget#host()} spells it) may be
     * opened to {@code address}.
     */
    public Decision checkAddress(String host, InetAddress address) {
        Optional<String> kind = SpecialAddresses.kind(address);
        if (kind.isEmpty()) {
            return Decision.allow();
        }
        for (EgressRule rule : policy.rules()) {
            if (!rule.anyPublicHost() && hostMatches(rule.host(), host) && inAny(rule, address)) {
                return Decision.allow();
            }
        }
        return Decision.deny(
                ReasonCode.EGRESS_ADDRESS_BLOCKED,
                host + " resolves to " + address.getHostAddress() + " (" + kind.get() + "), which no rule for that"
                        + " host allows; name the block in the rule's allowAddresses if this is intended");
    }

    /**
     * The last check before a socket connects, knowing only the address: allowed when it is not
     * special or some rule lists a block containing it.
     */
    public Decision checkConnect(InetAddress address) {
        Optional<String> kind = SpecialAddresses.kind(address);
        if (kind.isEmpty() || policy.rules().stream().anyMatch(rule -> inAny(rule, address))) {
            return Decision.allow();
        }
        return Decision.deny(
                ReasonCode.EGRESS_ADDRESS_BLOCKED,
                "connection to " + address.getHostAddress() + " (" + kind.get() + ") refused");
    }

    private static boolean inAny(EgressRule rule, InetAddress address) {
        for (Cidr block : rule.allowAddresses()) {
            if (block.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Exact match, {@code *.suffix} matching exactly one more non-empty label, or {@code *} (any
     * public host) matching every host: such a rule lists no special address block, so {@link
     * #checkAddress} and {@link #checkConnect} still refuse every special address for it.
     */
    static boolean hostMatches(String pattern, String host) {
        if (pattern.equals(EgressRule.ANY_PUBLIC_HOST)) {
            return true;
        }
        if (!pattern.startsWith("*.")) {
            return pattern.equals(host);
        }
        String suffix = pattern.substring(1);
        if (host.length() <= suffix.length() || !host.endsWith(suffix) || host.startsWith("[")) {
            return false;
        }
        String label = host.substring(0, host.length() - suffix.length());
        return label.indexOf('.') < 0;
    }

    private static boolean pathMatches(EgressRule rule, String rawPath) {
        if (rule.paths().isEmpty()) {
            return true;
        }
        for (String prefix : rule.paths()) {
            if (rawPath.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
