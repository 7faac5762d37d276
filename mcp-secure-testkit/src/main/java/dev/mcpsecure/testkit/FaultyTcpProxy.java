package dev.mcpsecure.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A fake for fault injection: a TCP proxy on 127.0.0.1 in front of a real server that can be
 * switched to "hang" — it keeps accepting connections and reading requests but never forwards or
 * answers, which is what a wedged load balancer or a frozen server looks like and what a real
 * server cannot be made to do on demand. {@link #forward()} restores normal service and closes the
 * connections that lost data while hanging. Stop it with {@link #close()}.
 */
public final class FaultyTcpProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final AtomicBoolean hanging = new AtomicBoolean();
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private final class Link {
        final Socket client;
        volatile Socket upstream;
        volatile boolean poisoned;

        Link(Socket client) {
            this.client = client;
        }

        void close() {
            closeQuietly(client);
            closeQuietly(upstream);
            links.remove(this);
        }
    }

    private FaultyTcpProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "faulty-proxy-accept-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A forwarding proxy to {@code 127.0.0.1:targetPort}. */
    public static FaultyTcpProxy to(int targetPort) {
        try {
            return new FaultyTcpProxy(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on 127.0.0.1", e);
        }
    }

    /** The proxy's port on 127.0.0.1. */
    public int port() {
        return listener.getLocalPort();
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String address() {
        return "http://127.0.0.1:" + port();
    }

    /** From now on: accept and read, never forward, never answer. */
    public void hang() {
        hanging.set(true);
    }

    /** Forward again; connections that lost bytes while hanging are closed. */
    public void forward() {
        hanging.set(false);
        for (Link link : links) {
            if (link.poisoned || link.upstream == null) {
                link.close();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        for (Link link : links) {
            link.close();
        }
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            Link link = new Link(client);
            links.add(link);
            Thread opener = new Thread(() -> open(link), "faulty-proxy-link");
            opener.setDaemon(true);
            opener.start();
        }
    }

    private void open(Link link) {
        try {
            if (hanging.get()) {
                link.poisoned = true;
                drain(link.client.getInputStream()); // hold the connection, answer nothing
                link.close();
                return;
            }
            Socket upstream = new Socket();
            upstream.connect(target, 2_000);
            link.upstream = upstream;
            Thread back = new Thread(() -> pump(link, upstream, link.client), "faulty-proxy-back");
            back.setDaemon(true);
            back.start();
            pump(link, link.client, upstream);
        } catch (IOException e) {
            link.close();
        }
    }

    private void pump(Link link, Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (hanging.get()) {
                    link.poisoned = true;
                    continue;
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed
        } finally {
            link.close();
        }
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[4096];
        while (in.read(buffer) >= 0) {
            // discard
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (IOException e) {
                // closing
            }
        }
    }
}
