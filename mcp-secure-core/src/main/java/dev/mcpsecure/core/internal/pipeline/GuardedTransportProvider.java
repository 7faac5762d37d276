package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.Decision;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCMessage;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCRequest;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCResponse;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransport;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;

/**
 * Wraps an SDK transport provider so that a {@code tools/call} the {@link ToolSurface} refuses (a
 * name no one registered, a tool withheld for drift, a definition replaced at runtime) is answered
 * by the pipeline (refused with its reason code and audited) instead of by the SDK, which would
 * raise a JSON-RPC error or run a handler that bypasses the pipeline. Every other message goes to
 * the SDK's own session unchanged. A {@code tools/list_changed} notification from the SDK first
 * lets the surface look at the changed tools, then goes to the clients. A session that closes
 * ends the confirmation questions waiting in it ({@link Pipeline#sessionEnded}).
 *
 * <p>The SDK has no hook for this, so each session the SDK creates is wrapped in a {@link
 * McpServerSession} subclass that delegates every public method to it and looks at incoming
 * requests first. {@code GuardedTransportProviderTest} checks that every public method of the
 * session class is overridden, so an SDK upgrade that adds one fails the build instead of
 * silently reaching the unused parent state.
 */
public final class GuardedTransportProvider extends SurfaceNotifyingProvider<McpServerTransportProvider>
        implements McpServerTransportProvider {

    private final Pipeline pipeline;

    /** @param surface tells list_changed notifications to the pipeline's surface */
    public GuardedTransportProvider(McpServerTransportProvider delegate, ToolSurface surface, Pipeline pipeline) {
        super(delegate, surface);
        this.pipeline = pipeline;
    }

    @Override
    public void setSessionFactory(McpServerSession.Factory factory) {
        delegate.setSessionFactory(transport -> new GuardedSession(factory.create(transport), transport));
    }

    /** The SDK's session, with unknown tool calls answered before it sees them. */
    final class GuardedSession extends McpServerSession {
        private final McpServerSession sdk;
        private final McpServerTransport transport;
        private final AtomicReference<McpSchema.InitializeRequest> init = new AtomicReference<>();

        GuardedSession(McpServerSession sdk, McpServerTransport transport) {
            super(sdk.getId(), Duration.ofSeconds(1), transport, null, Map.of(), Map.of());
            this.sdk = sdk;
            this.transport = transport;
        }

        @Override
        public Mono<Void> handle(JSONRPCMessage message) {
            if (message instanceof JSONRPCRequest request) {
                if (McpSchema.METHOD_INITIALIZE.equals(request.method())) {
                    rememberInit(request);
                } else if (McpSchema.METHOD_TOOLS_CALL.equals(request.method())) {
                    Map<?, ?> params = request.params() instanceof Map<?, ?> map ? map : Map.of();
                    String name = params.get("name") instanceof String given ? given : "";
                    Optional<Pipeline.Refusal> refusal = pipeline.screen(name, null, () -> {
                        CallToolRequest call = callOf(request);
                        McpSchema.InitializeRequest hello = init.get();
                        return Inbound.screened(
                                name,
                                call == null ? null : call.arguments(),
                                sdk.getId(),
                                null,
                                hello == null ? null : hello.clientInfo(),
                                Inbound.telemetry(call == null ? null : call.meta(), null));
                    });
                    if (refusal.isPresent()) {
                        return transport.sendMessage(JSONRPCResponse.result(
                                request.id(), refusal.get().result()));
                    }
                } else {
                    Decision served = pipeline.checkMethod(request.method(), sdk.getId());
                    if (!served.allowed()) {
                        return transport.sendMessage(JSONRPCResponse.error(
                                request.id(),
                                new JSONRPCResponse.JSONRPCError(
                                        McpSchema.ErrorCodes.METHOD_NOT_FOUND,
                                        served.reason() + ": " + served.detail(),
                                        Map.of(
                                                ToolResults.REASON_KEY,
                                                served.reason().name()))));
                    }
                }
            }
            return sdk.handle(message);
        }

        private void rememberInit(JSONRPCRequest request) {
            try {
                init.set(transport.unmarshalFrom(request.params(), new TypeRef<McpSchema.InitializeRequest>() {}));
            } catch (RuntimeException e) {
                // a malformed initialize is the SDK's to answer
            }
        }

        private CallToolRequest callOf(JSONRPCRequest request) {
            try {
                return transport.unmarshalFrom(request.params(), new TypeRef<CallToolRequest>() {});
            } catch (RuntimeException e) {
                return null; // malformed params: the SDK answers with its own error
            }
        }

        @Override
        public String getId() {
            return sdk.getId();
        }

        @Override
        public void init(McpSchema.ClientCapabilities capabilities, McpSchema.Implementation clientInfo) {
            sdk.init(capabilities, clientInfo);
        }

        @Override
        public void setMinLoggingLevel(McpSchema.LoggingLevel level) {
            sdk.setMinLoggingLevel(level);
        }

        @Override
        public boolean isNotificationForLevelAllowed(McpSchema.LoggingLevel level) {
            return sdk.isNotificationForLevelAllowed(level);
        }

        @Override
        public <T> Mono<T> sendRequest(String method, Object params, TypeRef<T> typeRef) {
            return sdk.sendRequest(method, params, typeRef);
        }

        @Override
        public Mono<Void> sendNotification(String method, Object params) {
            return sdk.sendNotification(method, params);
        }

        @Override
        public Mono<Void> closeGracefully() {
            pipeline.sessionEnded(sdk.getId());
            return sdk.closeGracefully();
        }

        @Override
        public void close() {
            pipeline.sessionEnded(sdk.getId());
            sdk.close();
        }
    }
}
