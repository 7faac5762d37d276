package dev.mcpsecure.api;

import java.net.InetAddress;
import java.net.URI;
import java.util.Optional;

/**
 * Decides which outbound requests tools may make, first by URL and then by the address actually
 * connected to, so that a name resolving somewhere else at connect time is still refused.
 *
 * <p>Implementations are thread-safe, never resolve names themselves, and have no side effects.
 */
public interface EgressGuard {

    /**
     * Whether a request may be attempted.
     *
     * @param tokenAudience the audience of the token the request would carry, if any
     * @return {@link ReasonCode#EGRESS_SCHEME_NOT_ALLOWED}, {@link ReasonCode#EGRESS_HOST_NOT_ALLOWED}
     *     or {@link ReasonCode#TOKEN_AUDIENCE_MISMATCH} on denial, else allow
     */
    Decision checkRequest(URI uri, String method, Optional<String> tokenAudience);

    /**
     * Whether a connection for {@code uri} may be opened to {@code address}.
     *
     * @return {@link ReasonCode#EGRESS_ADDRESS_BLOCKED} for loopback, private, link-local,
     *     metadata, unspecified and similar addresses no rule allows explicitly, else allow
     */
    Decision checkAddress(URI uri, InetAddress address);
}
