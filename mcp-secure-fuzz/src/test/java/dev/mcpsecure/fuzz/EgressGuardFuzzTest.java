package dev.mcpsecure.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.EgressPolicy;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.core.internal.egress.EgressTarget;
import dev.mcpsecure.core.internal.egress.PolicyEgressGuard;
import dev.mcpsecure.core.internal.egress.SpecialAddresses;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * URL parsing and the egress decision on hostile URLs, methods and connect addresses.
 *
 * <p>Property: whatever request the guard allows parses to a target whose scheme, host, port, path
 * and method match one rule exactly (checked here without the guard's code); whatever address it
 * allows for that target is an ordinary public address, or one the matching rule names in its
 * {@code allowAddresses}. Denials are decisions or {@link PolicyViolationException}s; any other
 * exception is a finding.
 */
class EgressGuardFuzzTest {

    private static final List<EgressRule> RULES = List.of(
            EgressRule.builder("api.example.com").paths("/v1/").build(),
            EgressRule.builder("*.cdn.example.net").methods("GET").build(),
            EgressRule.builder("127.0.0.1")
                    .scheme("http")
                    .port(8089)
                    .methods("GET", "POST")
                    .allowAddresses("127.0.0.1/32")
                    .build());
    private static final PolicyEgressGuard GUARD = new PolicyEgressGuard(new EgressPolicy(RULES));
    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "get", "CONNECT", ""};

    @FuzzTest(maxDuration = "10m")
    void allowsOnlyWhatARuleAndAnAddressPermit(FuzzedDataProvider data) throws UnknownHostException {
        String method = data.pickValue(METHODS);
        byte[] address = data.consumeBytes(data.consumeBoolean() ? 4 : 16);
        String url = data.consumeRemainingAsString();
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return; // no request can be built from it
        }
        Decision request;
        try {
            request = GUARD.checkRequest(uri, method, Optional.empty());
        } catch (PolicyViolationException e) {
            return;
        }
        if (!request.allowed()) {
            return;
        }
        EgressTarget target = EgressTarget.parse(uri);
        EgressRule rule = RULES.stream()
                .filter(candidate -> matches(candidate, target, method))
                .findFirst()
                .orElse(null);
        assertThat(rule)
                .as("an allowed request %s %s matches a rule", method, url)
                .isNotNull();
        if (address.length != 4 && address.length != 16) {
            return;
        }
        InetAddress connect = InetAddress.getByAddress(address);
        Decision connection = GUARD.checkAddress(uri, connect);
        if (connection.allowed()) {
            boolean ordinary = SpecialAddresses.kind(connect).isEmpty();
            boolean named = rule.allowAddresses().stream().anyMatch(block -> block.contains(connect));
            assertThat(ordinary || named)
                    .as("connecting %s to %s is allowed only for a public or named address", url, connect)
                    .isTrue();
        }
    }

    /** The rule semantics, written out independently of the guard. */
    private static boolean matches(EgressRule rule, EgressTarget target, String method) {
        return hostMatches(rule.host(), target.host())
                && rule.scheme().equals(target.scheme())
                && rule.port() == target.port()
                && (rule.paths().isEmpty() || rule.paths().stream().anyMatch(target.rawPath()::startsWith))
                && rule.methods().contains(method.toUpperCase(Locale.ROOT)); // methods are sent upper-cased
    }

    /** {@code *.suffix} stands for exactly one more non-empty label; anything else for itself. */
    private static boolean hostMatches(String pattern, String host) {
        if (!pattern.startsWith("*.")) {
            return pattern.equals(host);
        }
        String suffix = pattern.substring(1);
        if (!host.endsWith(suffix)) {
            return false;
        }
        String label = host.substring(0, host.length() - suffix.length());
        return !label.isEmpty() && !label.contains(".") && !label.contains("[");
    }
}
