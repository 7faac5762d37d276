package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.testkit.LoopbackHttpServer;
import dev.mcpsecure.testkit.LoopbackHttpServer.Reply;
import dev.mcpsecure.testkit.RecordingAuditSink;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the egress table doesn't show: rebinding, proxies, timeouts, headers, tokens and audit. */
class EgressHttpClientBehaviourTest {

    LoopbackHttpServer target;
    SecurityPolicy policy;
    final RecordingAuditSink audit = new RecordingAuditSink();
    final AtomicInteger tokensFetched = new AtomicInteger();

    @BeforeEach
    void start() {
        target = LoopbackHttpServer.start();
        target.route("/v1/items", request -> Reply.json("{\"ok\":true}"))
                .route("/v1/see-other", request -> Reply.redirect(303, "/v1/items"))
                .route("/v1/temporary", request -> Reply.redirect(307, "/v1/items"));
        policy = PolicyLoader.fromYaml("""
                server: {name: egress-test}
                egress:
                  rules:
                    - {scheme: http, host: api.example, port: %1$d, paths: [/v1/], methods: [GET, POST],
                       audience: "https://api.example", allowAddresses: [127.0.0.1/32]}
                    - {scheme: http, host: rebind.example, port: %1$d}
                tokens:
                  audiences:
                    "https://api.example": {role: api}
                """.formatted(target.port()), "behaviour.yaml");
    }

    @AfterEach
    void stop() {
        target.close();
    }

    EgressHttpClient.Builder client(EgressHttpClient.Resolver resolver) {
        TokenSource tokens = audience -> {
            tokensFetched.incrementAndGet();
            return new AccessToken("secret-token-value", audience, Instant.now().plusSeconds(300));
        };
        return EgressHttpClient.builder(policy)
                .resolver(resolver)
                .tokenSource(tokens)
                .auditSink(audit);
    }

    static List<InetAddress> loopback(String host) throws UnknownHostException {
        return List.of(InetAddress.getByName("127.0.0.1"));
    }

    @Test
    void withoutTheGuardsTheTableRequestsWouldReachTheListener() throws IOException {
        // The control for the table's "no connection" assertions: the same engine and resolver,
        // unguarded, do connect to the listener.
        OkHttpClient unguarded = new OkHttpClient.Builder()
                .dns(EgressHttpClientTest::resolve)
                .proxy(Proxy.NO_PROXY)
                .build();
        for (String host : List.of("loopback.special.example", "evil.example", "127.0.0.1")) {
            try (Response response = unguarded
                    .newCall(new Request.Builder()
                            .url("http://" + host + ":" + target.port() + "/v1/items")
                            .build())
                    .execute()) {
                assertThat(response.code()).isEqualTo(200);
            }
        }
        assertThat(target.received()).hasSize(3);
        unguarded.connectionPool().evictAll();
    }

    @Test
    void dnsRebindingIsDecidedOnTheAnswerTheConnectionUses() throws Exception {
        // A fake resolver that flips: public for the first question, loopback for the next.
        AtomicInteger questions = new AtomicInteger();
        EgressHttpClient.Resolver flipping = host ->
                List.of(InetAddress.getByName(questions.getAndIncrement() % 2 == 0 ? "93.184.216.34" : "127.0.0.1"));
        String url = "http://rebind.example:" + target.port() + "/v1/items";
        // A naive validator resolves once to check: it sees the public address.
        assertThat(flipping.resolve("rebind.example").get(0).getHostAddress()).isEqualTo("93.184.216.34");
        try (EgressHttpClient client = client(flipping).build()) {
            assertThat(client.guard()
                            .checkRequest(URI.create(url), "GET", Optional.empty())
                            .allowed())
                    .isTrue();
            assertThat(questions).as("checking a request never resolves").hasValue(1);
            PolicyViolationException denial =
                    catchThrowableOfType(PolicyViolationException.class, () -> client.get(url));
            assertThat(denial.reason()).isEqualTo(ReasonCode.EGRESS_ADDRESS_BLOCKED);
            assertThat(denial.decision().detail()).contains("127.0.0.1", "loopback");
        }
        assertThat(questions)
                .as("exactly one resolution per connection, the one used")
                .hasValue(2);
        assertThat(target.accepted()).isZero();
    }

    @Test
    void jvmAndEnvironmentProxySettingsAreIgnored() throws Exception {
        ProxySelector original = ProxySelector.getDefault();
        try (ServerSocket proxy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            AtomicInteger proxyAccepts = new AtomicInteger();
            Thread acceptor = new Thread(() -> {
                while (!proxy.isClosed()) {
                    try {
                        proxy.accept().close();
                        proxyAccepts.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            ProxySelector.setDefault(new ProxySelector() {
                @Override
                public List<Proxy> select(URI uri) {
                    return List.of(new Proxy(Proxy.Type.HTTP, proxy.getLocalSocketAddress()));
                }

                @Override
                public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
            });
            System.setProperty("http.proxyHost", "127.0.0.1");
            System.setProperty("http.proxyPort", Integer.toString(proxy.getLocalPort()));
            try (EgressHttpClient client =
                    client(EgressHttpClientBehaviourTest::loopback).build()) {
                EgressResponse response = client.get("http://api.example:" + target.port() + "/v1/items");
                assertThat(response.status()).isEqualTo(200);
            }
            assertThat(target.received()).hasSize(1);
            assertThat(proxyAccepts).as("connections to the configured proxy").hasValue(0);
            // The control: an engine left to its defaults does go through that proxy.
            OkHttpClient defaults = new OkHttpClient.Builder()
                    .readTimeout(Duration.ofMillis(500))
                    .build();
            assertThatThrownBy(() -> defaults.newCall(new Request.Builder()
                                    .url("http://api.example:" + target.port() + "/v1/items")
                                    .build())
                            .execute()
                            .close())
                    .isInstanceOf(IOException.class);
            assertThat(proxyAccepts).hasValueGreaterThanOrEqualTo(1);
        } finally {
            ProxySelector.setDefault(original);
            System.clearProperty("http.proxyHost");
            System.clearProperty("http.proxyPort");
        }
    }

    @Test
    void aListenerThatNeverAnswersTimesOutWithinTheBound() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            policy = PolicyLoader.fromYaml(
                    "egress: {rules: [{scheme: http, host: api.example, port: %d, allowAddresses: [127.0.0.1/32]}]}"
                            .formatted(silent.getLocalPort()),
                    "silent.yaml");
            try (EgressHttpClient client = client(EgressHttpClientBehaviourTest::loopback)
                    .readTimeout(Duration.ofSeconds(5))
                    .callTimeout(Duration.ofMillis(800))
                    .build()) {
                long started = System.nanoTime();
                assertThatThrownBy(() -> client.get("http://api.example:" + silent.getLocalPort() + "/"))
                        .isInstanceOf(IOException.class);
                long millis = (System.nanoTime() - started) / 1_000_000;
                assertThat(millis).as("time to give up").isBetween(700L, 3_000L);
            }
            assertThat(held).hasSize(1);
            for (Socket socket : held) {
                socket.close();
            }
        }
        assertThat(audit.events()).singleElement().satisfies(event -> assertThat(event.detail())
                .contains("failed"));
    }

    @Test
    void tokensAreFetchedOnlyForAllowedRequestsAndNeverAudited() throws Exception {
        try (EgressHttpClient client =
                client(EgressHttpClientBehaviourTest::loopback).build()) {
            EgressHttpClient withToken = client.withTokenFor("https://api.example");
            assertThatThrownBy(() -> withToken.get("http://rebind.example:" + target.port() + "/v1/items"))
                    .isInstanceOf(PolicyViolationException.class);
            assertThat(tokensFetched)
                    .as("no token fetched for a refused request")
                    .hasValue(0);
            EgressResponse response =
                    withToken.get("http://api.example:" + target.port() + "/v1/items?api_key=hunter2");
            assertThat(response.status()).isEqualTo(200);
            assertThat(tokensFetched).hasValue(1);
            assertThat(target.received().get(0).headers()).containsEntry("authorization", "Bearer secret-token-value");
            assertThat(withToken.toString()).doesNotContain("secret-token-value");
        }
        assertThat(audit.events()).hasSize(2);
        for (AuditEvent event : audit.events()) {
            assertThat(event.server()).isEqualTo("egress-test");
            assertThat(event.toString()).doesNotContain("secret-token-value").doesNotContain("hunter2");
        }
        assertThat(audit.events().get(1).action()).isEqualTo("egress");
        assertThat(audit.events().get(1).detail())
                .isEqualTo("GET http://api.example:" + target.port() + "/v1/items -> 200");
    }

    @Test
    void seeOtherTurnsAPostIntoAGetAndTemporaryKeepsIt() throws Exception {
        try (EgressHttpClient client =
                client(EgressHttpClientBehaviourTest::loopback).build()) {
            byte[] body = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
            EgressResponse seeOther =
                    client.send(EgressRequest.builder("POST", "http://api.example:" + target.port() + "/v1/see-other")
                            .body(body, "application/json")
                            .build());
            assertThat(seeOther.redirects()).isEqualTo(1);
            assertThat(seeOther.uri().getPath()).isEqualTo("/v1/items");
            client.send(EgressRequest.builder("POST", "http://api.example:" + target.port() + "/v1/temporary")
                    .body(body, "application/json")
                    .build());
        }
        List<LoopbackHttpServer.Received> received = target.received();
        assertThat(received)
                .extracting(LoopbackHttpServer.Received::method)
                .containsExactly("POST", "GET", "POST", "POST");
        assertThat(received.get(1).body()).isEmpty();
        assertThat(received.get(3).body()).isEqualTo("{\"n\":1}".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void callersCannotSetCredentialsOrConnectionHeaders() {
        EgressRequest.Builder request = EgressRequest.builder("GET", "https://api.example/");
        for (String reserved : List.of("Authorization", "Host", "proxy-authorization", "Transfer-Encoding")) {
            assertThatThrownBy(() -> request.header(reserved, "x"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(reserved);
        }
        assertThatThrownBy(() -> request.header("X-Trace", "a\r\nHost: evil.example"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("control character");
        assertThatThrownBy(() -> request.body(new byte[1], "text/plain"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("GET requests carry no body");
        assertThatThrownBy(() -> EgressRequest.builder("CONNECT", "https://api.example/"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CONNECT");
        assertThat(EgressRequest.get("https://api.example/v1?token=abc").toString())
                .isEqualTo("EgressRequest[GET https://api.example/v1?...]");
    }

    @Test
    void theGuardChecksAddressesWithoutResolving() {
        try (EgressHttpClient client = client(host -> {
                    throw new AssertionError("the guard must not resolve " + host);
                })
                .build()) {
            URI api = URI.create("http://api.example:" + target.port() + "/v1/items");
            assertThat(client.guard()
                            .checkAddress(api, InetAddress.getByName("127.0.0.1"))
                            .allowed())
                    .isTrue();
            assertThat(client.guard()
                            .checkAddress(api, InetAddress.getByName("169.254.169.254"))
                            .reason())
                    .isEqualTo(ReasonCode.EGRESS_ADDRESS_BLOCKED);
            assertThat(client.guard()
                            .checkAddress(URI.create("http://rebind.example/"), InetAddress.getByName("8.8.8.8"))
                            .allowed())
                    .isTrue();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void optionsAreValidatedWithTheBadValueNamed() {
        EgressHttpClient.Builder builder = EgressHttpClient.builder(policy);
        assertThatThrownBy(() -> builder.maxRedirects(21)).hasMessageContaining("maxRedirects 21");
        assertThatThrownBy(() -> builder.maxResponseBytes(0)).hasMessageContaining("maxResponseBytes 0");
        assertThatThrownBy(() -> builder.callTimeout(Duration.ZERO)).hasMessageContaining("callTimeout PT0S");
    }
}
