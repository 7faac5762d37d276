package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.CallContext;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tool failures: each gets a random id, and its exception goes to the server log under that id,
 * never to the client.
 */
final class Incidents {

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.core.incidents");

    private final SecureRandom random = new SecureRandom();

    /** Logs {@code error} and returns the incident id that names it. */
    String record(CallContext call, Throwable error) {
        byte[] id = new byte[6];
        random.nextBytes(id);
        String incident = HexFormat.of().formatHex(id);
        LOG.warn("incident {}: tool '{}' failed in call {}", incident, call.tool(), call.callId(), error);
        return incident;
    }
}
