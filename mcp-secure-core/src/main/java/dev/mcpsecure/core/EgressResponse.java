package dev.mcpsecure.core;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A response {@link EgressHttpClient} read completely, within its size cap. Immutable and
 * thread-safe.
 */
public final class EgressResponse {

    private final int status;
    private final Map<String, List<String>> headers;
    private final byte[] body;
    private final URI uri;
    private final int redirects;

    EgressResponse(int status, Map<String, List<String>> headers, byte[] body, URI uri, int redirects) {
        this.status = status;
        this.headers = Map.copyOf(headers);
        this.body = body;
        this.uri = uri;
        this.redirects = redirects;
    }

    /** The HTTP status code. */
    public int status() {
        return status;
    }

    /** The response headers, by lower-case name. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The first value of header {@code name} (any case), if present. */
    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** A copy of the body. */
    public byte[] body() {
        return body.clone();
    }

    /** The body decoded as UTF-8. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** The URL that answered, after any redirects. */
    public URI uri() {
        return uri;
    }

    /** How many redirects were followed. */
    public int redirects() {
        return redirects;
    }

    @Override
    public String toString() {
        return "EgressResponse[" + status + ", " + body.length + " bytes]";
    }
}
