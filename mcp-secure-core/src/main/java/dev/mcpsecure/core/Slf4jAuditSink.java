package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditSink;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes each audit event as one JSON object ({@link #toJson}) at INFO on the logger {@value
 * #LOGGER}. Route that logger to an appender of its own (a file, a collector) that nothing else
 * writes to, and never to stdout when the server speaks stdio: a log that also carries other
 * loggers' lines (the MCP SDK logs text clients sent) cannot tell audit records from look-alikes.
 * Where no logging configuration can promise that, use {@link JsonLinesAuditSink}. Thread-safe.
 */
public final class Slf4jAuditSink implements AuditSink {

    /** The logger audit lines go to. */
    public static final String LOGGER = "dev.mcpsecure.audit";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Logger logger;

    /** Writes to the logger {@value #LOGGER}. */
    public Slf4jAuditSink() {
        this(LoggerFactory.getLogger(LOGGER));
    }

    /** Writes to {@code logger}. */
    public Slf4jAuditSink(Logger logger) {
        this.logger = logger;
    }

    @Override
    public void record(AuditEvent event) {
        if (logger.isInfoEnabled()) {
            logger.info(toJson(event));
        }
    }

    /**
     * The one-line JSON form of {@code event}. Keys, in this order: {@code time, kind ("call",
     * "effect", "transport", "message", "start", "surface"), server, callId, session, client,
     * clientVersion, subject, clientId, tool, action, decision ("allow", "deny", "finding"), reason,
     * argumentsSha256, durationMicros, redactions, incident, detail}, and {@code arguments} when the
     * audit policy includes them; unknown values are {@code null}. A {@code callId} of {@code null}
     * means the record belongs to no call. JSON escapes every control character, so a value can
     * never end the line.
     */
    public static String toJson(AuditEvent event) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", event.time().toString());
        line.put("kind", event.kind().name().toLowerCase(Locale.ROOT));
        line.put("server", event.server());
        line.put("callId", event.callId());
        line.put("session", event.sessionId());
        line.put("client", event.clientName());
        line.put("clientVersion", event.clientVersion());
        line.put("subject", event.subject());
        line.put("clientId", event.clientId());
        line.put("tool", event.tool());
        line.put("action", event.action());
        line.put("decision", event.outcome().name().toLowerCase(Locale.ROOT));
        line.put("reason", event.reason().name());
        line.put("argumentsSha256", event.argumentsSha256());
        line.put("durationMicros", event.durationMicros());
        line.put("redactions", event.redactions());
        line.put("incident", event.incidentId());
        line.put("detail", event.detail());
        if (event.arguments() != null) {
            line.put("arguments", event.arguments());
        }
        return JSON.writeValueAsString(line);
    }
}
