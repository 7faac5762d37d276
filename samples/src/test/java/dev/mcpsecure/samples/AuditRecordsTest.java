package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The ITs' audit file reader refuses every line that is not one JSON object with a known kind. */
class AuditRecordsTest {

    private static final String CALL =
            "{\"kind\":\"call\",\"server\":\"s\",\"callId\":\"c-1\",\"session\":\"x\",\"client\":\"t\",\"subject\":null,"
                    + "\"tool\":\"read_file\",\"action\":null,\"reason\":\"ALLOWED\"}";
    private static final String EFFECT =
            "{\"kind\":\"effect\",\"server\":\"s\",\"callId\":\"c-1\",\"session\":\"x\",\"client\":\"t\",\"subject\":null,"
                    + "\"tool\":\"read_file\",\"action\":\"file.read\",\"reason\":\"ALLOWED\"}";

    @Test
    void readsOneObjectALine() {
        List<Map<String, Object>> records = AuditRecords.parse(AuditRecords.lines(EFFECT, CALL), "t");

        assertThat(records).extracting(r -> r.get("kind")).containsExactly("effect", "call");
        assertThat(AuditRecords.parse("", "t")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "2026-12-02T13:01:51.674Z INFO dev.mcpsecure.audit - {\"kind\":\"call\"}",
                "",
                " {\"kind\":\"call\"}",
                "[{\"kind\":\"call\"}]",
                "{\"kind\":\"call\"} {\"kind\":\"call\"}",
                "{\"kind\":\"call\"},{\"kind\":\"call\"}",
                "{\"kind\":\"call\"}],[{\"kind\":\"call\"}",
                "{\"kind\":\"call\"",
                "{\"decision\":\"allow\"}",
                "{\"kind\":null}",
                "{\"kind\":\"fake\"}",
                "{\"kind\":1}"
            })
    void refusesAnythingElse(String line) {
        assertThatThrownBy(() -> AuditRecords.parse(AuditRecords.lines(CALL, line, CALL), "t"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("t:2");
    }

    @Test
    void refusesATornLastLine() {
        assertThatThrownBy(() -> AuditRecords.parse(AuditRecords.lines(CALL) + "{\"kind\":\"ca", "t"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("torn");
    }

    @Test
    void anEffectMustNameTheOneCallItBelongsTo() {
        AuditRecords.assertEffectsCarryTheirCall(
                AuditRecords.parse(AuditRecords.lines(EFFECT, CALL), "t"), "file.read");

        assertThatThrownBy(() -> AuditRecords.assertEffectsCarryTheirCall(
                        AuditRecords.parse(AuditRecords.lines(EFFECT.replace("\"c-1\"", "null"), CALL), "t")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("callId");
        assertThatThrownBy(() -> AuditRecords.assertEffectsCarryTheirCall(
                        AuditRecords.parse(AuditRecords.lines(EFFECT.replace("c-1", "c-2"), CALL), "t")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("the call record");
        assertThatThrownBy(() -> AuditRecords.assertEffectsCarryTheirCall(AuditRecords.parse(
                        AuditRecords.lines(EFFECT.replace("\"session\":\"x\"", "\"session\":\"y\""), CALL), "t")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("session");
        assertThatThrownBy(() -> AuditRecords.assertEffectsCarryTheirCall(
                        AuditRecords.parse(AuditRecords.lines(EFFECT, CALL, CALL), "t")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("call ids");
        assertThatThrownBy(() -> AuditRecords.assertEffectsCarryTheirCall(
                        AuditRecords.parse(AuditRecords.lines(CALL), "t"), "file.read"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("file.read");
    }
}
