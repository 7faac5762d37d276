package dev.mcpsecure.core.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.spec.McpServerSession;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuardedTransportProviderTest {

    @Test
    void theGuardedSessionOverridesEveryPublicMethodOfTheSdkSession() {
        List<String> missing = new ArrayList<>();
        for (Method method : McpServerSession.class.getMethods()) {
            if (Modifier.isStatic(method.getModifiers()) || method.getDeclaringClass() == Object.class) {
                continue;
            }
            try {
                Method own = GuardedTransportProvider.GuardedSession.class.getDeclaredMethod(
                        method.getName(), method.getParameterTypes());
                assertThat(own.getDeclaringClass()).isEqualTo(GuardedTransportProvider.GuardedSession.class);
            } catch (NoSuchMethodException e) {
                if (!method.isDefault()) {
                    missing.add(method.getName() + Arrays.toString(method.getParameterTypes()));
                }
            }
        }
        assertThat(missing)
                .as("an SDK session method the guarded session does not delegate would reach the unused parent state")
                .isEmpty();
    }
}
