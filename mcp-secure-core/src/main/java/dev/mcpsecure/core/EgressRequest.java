package dev.mcpsecure.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An outbound HTTP request for {@link EgressHttpClient}: method, URL, headers and an optional
 * body. Immutable and thread-safe. The URL is only parsed and checked when the request is sent;
 * {@link #toString()} omits the query and the headers, which may carry data not meant for logs.
 */
public final class EgressRequest {

    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

    /**
     * Headers callers may not set: credentials come from {@link EgressHttpClient#withTokenFor}
     * only, and the engine owns the connection-level ones (a caller-set {@code Host} would let a
     * request reach one virtual host through another's allowed name).
     */
    private static final Set<String> RESERVED_HEADERS = Set.of(
            "authorization",
            "proxy-authorization",
            "host",
            "connection",
            "keep-alive",
            "proxy-connection",
            "content-length",
            "transfer-encoding",
            "te",
            "trailer",
            "upgrade");

    private final String method;
    private final String url;
    private final Map<String, List<String>> headers;
    private final byte[] body;
    private final String contentType;

    private EgressRequest(Builder builder) {
        this.method = builder.method;
        this.url = builder.url;
        Map<String, List<String>> copy = new LinkedHashMap<>();
        builder.headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
        this.headers = Collections.unmodifiableMap(copy);
        this.body = builder.body;
        this.contentType = builder.contentType;
    }

    /** A GET of {@code url}. */
    public static EgressRequest get(String url) {
        return builder("GET", url).build();
    }

    /** A request with {@code method} (GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS) to {@code url}. */
    public static Builder builder(String method, String url) {
        return new Builder(method, url);
    }

    /** The method, upper case. */
    public String method() {
        return method;
    }

    /** The URL as given. */
    public String url() {
        return url;
    }

    /** The headers the caller set, by lower-case name. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** A copy of the body, if any. */
    public Optional<byte[]> body() {
        return Optional.ofNullable(body).map(byte[]::clone);
    }

    /** The body's media type, if there is a body. */
    public Optional<String> contentType() {
        return Optional.ofNullable(contentType);
    }

    byte[] bodyUnsafe() {
        return body;
    }

    @Override
    public String toString() {
        int query = url.indexOf('?');
        return "EgressRequest[" + method + " " + (query < 0 ? url : url.substring(0, query) + "?...") + "]";
    }

    /** Builds an {@link EgressRequest}; checks each value as it is set. Not thread-safe. */
    public static final class Builder {
        private final String method;
        private final String url;
        private final Map<String, List<String>> headers = new LinkedHashMap<>();
        private byte[] body;
        private String contentType;

        private Builder(String method, String url) {
            Objects.requireNonNull(method, "method");
            this.method = method.toUpperCase(Locale.ROOT);
            if (!METHODS.contains(this.method)) {
                throw new IllegalArgumentException(
                        "method '" + method + "' is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
            }
            this.url = Objects.requireNonNull(url, "url");
        }

        /**
         * Adds a header value.
         *
         * @throws IllegalArgumentException for a malformed name, a value with control characters,
         *     or a reserved header ({@code Authorization} — use {@link EgressHttpClient#withTokenFor}
         *     — {@code Host}, {@code Proxy-Authorization} and the connection-level ones)
         */
        public Builder header(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            String lower = name.toLowerCase(Locale.ROOT);
            if (!lower.matches("[a-z0-9!#$%&'*+.^_`|~-]+")) {
                throw new IllegalArgumentException("header name '" + name + "' is not a valid HTTP token");
            }
            if (RESERVED_HEADERS.contains(lower)) {
                throw new IllegalArgumentException("header '" + name + "' is set by the client, not the caller"
                        + (lower.equals("authorization") ? "; use EgressHttpClient.withTokenFor(audience)" : ""));
            }
            if (value.chars().anyMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f)) {
                throw new IllegalArgumentException("header '" + name + "' has a control character in its value");
            }
            headers.computeIfAbsent(lower, k -> new ArrayList<>()).add(value);
            return this;
        }

        /**
         * Sets the body and its media type.
         *
         * @throws IllegalArgumentException for GET and HEAD, which carry no body
         */
        public Builder body(byte[] body, String contentType) {
            if (method.equals("GET") || method.equals("HEAD")) {
                throw new IllegalArgumentException(method + " requests carry no body");
            }
            this.body = Arrays.copyOf(Objects.requireNonNull(body, "body"), body.length);
            this.contentType = Objects.requireNonNull(contentType, "contentType");
            return this;
        }

        public EgressRequest build() {
            return new EgressRequest(this);
        }
    }
}
