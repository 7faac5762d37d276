package dev.mcpsecure.core.internal.egress;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.ReasonCode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import javax.net.SocketFactory;

/**
 * Plain sockets that check the address they are about to connect to, the last point before a
 * TCP handshake: whatever path an address took to get here, a special one no rule allows is
 * refused with {@link EgressDenials.Denied}. Only unconnected sockets are made; the
 * engine connects them by address.
 */
public final class GuardedSocketFactory extends SocketFactory {

    private final PolicyEgressGuard guard;

    public GuardedSocketFactory(PolicyEgressGuard guard) {
        this.guard = guard;
    }

    @Override
    public Socket createSocket() {
        return new GuardedSocket(guard);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        throw unsupported();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        throw unsupported();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        throw unsupported();
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        throw unsupported();
    }

    private static SocketException unsupported() {
        return new SocketException("guarded sockets are created unconnected and connected by address");
    }

    private static final class GuardedSocket extends Socket {
        private final PolicyEgressGuard guard;

        GuardedSocket(PolicyEgressGuard guard) {
            this.guard = guard;
        }

        @Override
        public void connect(SocketAddress endpoint, int timeout) throws IOException {
            if (!(endpoint instanceof InetSocketAddress inet) || inet.isUnresolved()) {
                throw new EgressDenials.Denied(Decision.deny(
                        ReasonCode.EGRESS_ADDRESS_BLOCKED, "connection to an unresolved address refused"));
            }
            Decision decision = guard.checkConnect(inet.getAddress());
            if (!decision.allowed()) {
                throw new EgressDenials.Denied(decision);
            }
            super.connect(endpoint, timeout);
        }
    }
}
