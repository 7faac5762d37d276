package dev.mcpsecure.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mcpsecure.api.InvalidPolicyException;
import dev.mcpsecure.api.PolicyProblem;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.PolicyLoader;
import java.nio.charset.StandardCharsets;

/**
 * The policy loader on hostile text, as YAML and as JSON.
 *
 * <p>Property: loading either returns a complete policy (every section built; loading the same text
 * again gives an equal policy) or throws {@link InvalidPolicyException} naming at least one
 * problem with a message. Any other exception or error is a finding.
 */
class PolicyLoaderFuzzTest {

    /** The first byte picks the format (odd: JSON); the rest is the text, decoded as UTF-8. */
    @FuzzTest(maxDuration = "10m")
    void loadsOrRefusesWithTypedProblems(byte[] input) {
        if (input.length == 0) {
            return;
        }
        boolean json = (input[0] & 1) == 1;
        String text = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        SecurityPolicy policy = load(text, json);
        if (policy != null) {
            assertThat(policy.server()).isNotNull();
            assertThat(policy.tools()).doesNotContainNull();
            assertThat(load(text, json)).as("loading is deterministic").isEqualTo(policy);
        }
    }

    private static SecurityPolicy load(String text, boolean json) {
        try {
            return json ? PolicyLoader.fromJson(text, "fuzz.json") : PolicyLoader.fromYaml(text, "fuzz.yaml");
        } catch (InvalidPolicyException e) {
            assertThat(e.problems()).isNotEmpty();
            for (PolicyProblem problem : e.problems()) {
                assertThat(problem.message()).isNotBlank();
            }
            return null;
        }
    }
}
