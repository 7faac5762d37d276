package dev.mcpsecure.core.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {

    @Test
    void argumentsAreDigestedInKeyOrder() {
        Map<String, Object> ba = new LinkedHashMap<>();
        ba.put("b", 2);
        ba.put("a", 1);

        CanonicalJson canonical = CanonicalJson.of(ba);

        assertThat(canonical.json()).isEqualTo("{\"a\":1,\"b\":2}");
        assertThat(canonical.bytes()).isEqualTo(13);
        assertThat(canonical.sha256())
                .isEqualTo(CanonicalJson.of(Map.of("a", 1, "b", 2)).sha256());
        assertThat(CanonicalJson.of(null).json()).isEqualTo("{}");
    }

    @Test
    void theOutputLimitIsExactAndSerializationStopsPastIt() {
        Map<String, String> value = Map.of("k", "v".repeat(10)); // {"k":"vvvvvvvvvv"} = 18 bytes

        assertThat(CanonicalJson.longerThan(value, 18)).isFalse();
        assertThat(CanonicalJson.longerThan(value, 17)).isTrue();
        assertThat(CanonicalJson.longerThan(Map.of("k", "x".repeat(10_000_000)), 1024))
                .isTrue();
    }
}
