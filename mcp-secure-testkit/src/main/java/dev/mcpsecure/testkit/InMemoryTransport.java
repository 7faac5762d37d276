package dev.mcpsecure.testkit;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCMessage;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransport;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import io.modelcontextprotocol.spec.McpTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A connected pair of MCP transports in one JVM: give {@link #serverProvider()} to a server and
 * {@link #clientTransport()} to a client. Every message makes a JSON round trip (serialized and
 * parsed again, as on a wire), so what passes is exactly what a real transport would carry.
 *
 * <p>One pair serves one client session. Messages in each direction are delivered in order on a
 * thread of their own, never on the sender's.
 */
public final class InMemoryTransport {

    private final McpJsonMapper mapper;
    private final Sinks.Many<JSONRPCMessage> toServer = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.Many<JSONRPCMessage> toClient = Sinks.many().unicast().onBackpressureBuffer();
    private final Scheduler serverInbound = Schedulers.newSingle("in-memory-server");
    private final Scheduler clientInbound = Schedulers.newSingle("in-memory-client");
    private final ServerProvider serverProvider = new ServerProvider();
    private final ClientTransport clientTransport = new ClientTransport();

    private volatile McpServerSession.Factory sessionFactory;
    private volatile McpServerSession session;

    private InMemoryTransport(McpJsonMapper mapper) {
        this.mapper = mapper;
    }

    /** A pair using the SDK's default JSON mapper. */
    public static InMemoryTransport create() {
        return new InMemoryTransport(McpJsonDefaults.getMapper());
    }

    /** The server's side. */
    public McpServerTransportProvider serverProvider() {
        return serverProvider;
    }

    /** The client's side. */
    public McpClientTransport clientTransport() {
        return clientTransport;
    }

    private JSONRPCMessage roundTrip(JSONRPCMessage message) {
        try {
            return McpSchema.deserializeJsonRpcMessage(mapper, mapper.writeValueAsString(message));
        } catch (IOException e) {
            throw new UncheckedIOException("message did not survive a JSON round trip", e);
        }
    }

    private Mono<Void> emit(Sinks.Many<JSONRPCMessage> sink, JSONRPCMessage message) {
        return Mono.fromCallable(() -> roundTrip(message)).flatMap(copy -> {
            synchronized (sink) {
                return sink.tryEmitNext(copy).isSuccess()
                        ? Mono.<Void>empty()
                        : Mono.<Void>error(new IllegalStateException("the in-memory transport is closed"));
            }
        });
    }

    private void close() {
        toServer.tryEmitComplete();
        toClient.tryEmitComplete();
        serverInbound.dispose();
        clientInbound.dispose();
    }

    private final class ServerProvider implements McpServerTransportProvider {
        @Override
        public void setSessionFactory(McpServerSession.Factory factory) {
            sessionFactory = factory;
        }

        @Override
        public Mono<Void> notifyClients(String method, Object params) {
            McpServerSession current = session;
            return current == null ? Mono.empty() : current.sendNotification(method, params);
        }

        @Override
        public Mono<Void> closeGracefully() {
            McpServerSession current = session;
            return (current == null ? Mono.<Void>empty() : current.closeGracefully())
                    .then(Mono.fromRunnable(InMemoryTransport.this::close));
        }
    }

    /** What both ends do alike: send towards the other end, convert, close the pair. */
    private abstract class End implements McpTransport {
        private final Sinks.Many<JSONRPCMessage> outbound;

        End(Sinks.Many<JSONRPCMessage> outbound) {
            this.outbound = outbound;
        }

        @Override
        public Mono<Void> sendMessage(JSONRPCMessage message) {
            return emit(outbound, message);
        }

        @Override
        public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
            return mapper.convertValue(data, typeRef);
        }

        @Override
        public Mono<Void> closeGracefully() {
            return Mono.fromRunnable(InMemoryTransport.this::close);
        }
    }

    private final class ServerTransport extends End implements McpServerTransport {
        ServerTransport() {
            super(toClient);
        }
    }

    private final class ClientTransport extends End implements McpClientTransport {
        ClientTransport() {
            super(toServer);
        }

        @Override
        public Mono<Void> connect(Function<Mono<JSONRPCMessage>, Mono<JSONRPCMessage>> handler) {
            return Mono.fromRunnable(() -> {
                McpServerSession.Factory factory = sessionFactory;
                if (factory == null) {
                    throw new IllegalStateException(
                            "build the server on serverProvider() before connecting the client");
                }
                McpServerSession created = factory.create(new ServerTransport());
                session = created;
                toServer.asFlux()
                        .publishOn(serverInbound)
                        .flatMap(created::handle)
                        .subscribe();
                toClient.asFlux()
                        .publishOn(clientInbound)
                        .flatMap(message -> handler.apply(Mono.just(message)))
                        .subscribe();
            });
        }
    }
}
