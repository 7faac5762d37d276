package dev.mcpsecure.core.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.Limits;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolCall;
import dev.mcpsecure.api.ToolPolicy;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PolicyToolGuardTest {

    private final AtomicLong clock = new AtomicLong();
    private final PolicyToolGuard guard = new PolicyToolGuard(
            SecurityPolicy.builder()
                    .tool(ToolPolicy.builder("search")
                            .rateLimit(2, Duration.ofSeconds(10))
                            .build())
                    .tool(ToolPolicy.builder("deploy")
                            .risks(RiskClass.ADMIN)
                            .scopes("deploy:write")
                            .build())
                    .limits(new Limits(1024, 8))
                    .build(),
            clock::get);

    private Decision call(String tool, String session) {
        return guard.checkCall(new ToolCall(tool, Set.of(RiskClass.READ_ONLY), Optional.empty(), session, 10));
    }

    @Test
    void theRateLimitRefillsEvenlyOverItsPeriod() {
        assertThat(call("search", "s1").allowed()).isTrue();
        assertThat(call("search", "s1").allowed()).isTrue();
        assertThat(call("search", "s1").reason()).isEqualTo(ReasonCode.RATE_LIMITED);

        clock.addAndGet(Duration.ofSeconds(5).toNanos());
        assertThat(call("search", "s1").allowed())
                .as("one token back after half the period")
                .isTrue();
        assertThat(call("search", "s1").reason()).isEqualTo(ReasonCode.RATE_LIMITED);
    }

    @Test
    void eachSessionHasItsOwnBudget() {
        assertThat(call("search", "s1").allowed()).isTrue();
        assertThat(call("search", "s1").allowed()).isTrue();
        assertThat(call("search", "s1").reason()).isEqualTo(ReasonCode.RATE_LIMITED);
        assertThat(call("search", "s2").allowed())
                .as("a flood in s1 does not starve s2")
                .isTrue();
    }

    @Test
    void scopesApplyOnlyWhereTheTransportAuthenticates() {
        Set<RiskClass> admin = Set.of(RiskClass.ADMIN);
        assertThat(guard.checkCall(new ToolCall("deploy", admin, Optional.empty(), "s", 1))
                        .allowed())
                .as("stdio: the local user is the caller")
                .isTrue();
        assertThat(guard.checkCall(new ToolCall("deploy", admin, Optional.of(Set.of("read")), "s", 1))
                        .reason())
                .isEqualTo(ReasonCode.SCOPE_MISSING);
        assertThat(guard.checkCall(new ToolCall("deploy", admin, Optional.of(Set.of("deploy:write")), "s", 1))
                        .allowed())
                .isTrue();
    }

    @Test
    void exposureNamesWhatIsMissing() {
        assertThat(guard.checkExposure("deploy", Set.of(RiskClass.ADMIN, RiskClass.EXEC)))
                .extracting(Decision::reason, Decision::detail)
                .containsExactly(
                        ReasonCode.RISK_NOT_ENABLED,
                        "tool 'deploy' needs risk [EXEC], which the server's policy does not enable for it");
        assertThat(guard.checkExposure("nope", Set.of()).reason()).isEqualTo(ReasonCode.TOOL_NOT_ALLOWED);
        assertThat(guard.checkCall(new ToolCall("search", Set.of(), Optional.empty(), "s", 1025))
                        .reason())
                .isEqualTo(ReasonCode.ARGUMENTS_TOO_LARGE);
    }
}
