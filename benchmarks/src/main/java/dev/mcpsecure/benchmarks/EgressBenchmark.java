package dev.mcpsecure.benchmarks;

import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.EgressHttpClient;
import dev.mcpsecure.core.PolicyLoader;
import dev.mcpsecure.testkit.LoopbackHttpServer;
import dev.mcpsecure.testkit.LoopbackHttpServer.Reply;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * B4: a GET of 1 KiB from a loopback server with keep-alive, through {@link EgressHttpClient}
 * (rule match, address checks, body cap, audit to a no-op sink) against the same engine (OkHttp)
 * unguarded, with the same resolver and no proxy.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EgressBenchmark {

    private LoopbackHttpServer server;
    private EgressHttpClient guarded;
    private OkHttpClient bare;
    private String url;

    @Setup(Level.Trial)
    public void start() {
        server = LoopbackHttpServer.start();
        server.route(
                "/v1/data",
                request -> new Reply(200, Map.of("Content-Type", "application/octet-stream"), new byte[1024], false));
        url = "http://api.example:" + server.port() + "/v1/data";
        SecurityPolicy policy = PolicyLoader.fromYaml(
                "egress: {rules: [{scheme: http, host: api.example, port: %d, paths: [/v1/],".formatted(server.port())
                        + " allowAddresses: [127.0.0.1/32]}]}",
                "b4.yaml");
        AuditSink dropped = event -> {};
        EgressHttpClient.Resolver loopback = host -> List.of(InetAddress.getByName("127.0.0.1"));
        guarded = EgressHttpClient.builder(policy)
                .resolver(loopback)
                .auditSink(dropped)
                .build();
        bare = new OkHttpClient.Builder()
                .proxy(Proxy.NO_PROXY)
                .dns(loopback::resolve)
                .followRedirects(false)
                .build();
    }

    @TearDown(Level.Trial)
    public void stop() {
        guarded.close();
        bare.connectionPool().evictAll();
        server.close();
    }

    @Benchmark
    public byte[] egressClientGet() throws IOException {
        return guarded.get(url).body();
    }

    @Benchmark
    public byte[] bareEngineGet() throws IOException {
        try (Response response =
                bare.newCall(new Request.Builder().url(url).build()).execute()) {
            return response.body().bytes();
        }
    }
}
