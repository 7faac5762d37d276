package dev.mcpsecure.core.internal.image;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongConsumer;

/**
 * The body of one tar entry: at most {@code size} bytes of the stream under it, then the end. A
 * stream that ends before that is a truncated entry ({@link ImageFormatException}). Not thread-safe.
 */
public final class EntryBody extends InputStream {

    private final InputStream in;
    private final LongConsumer consumed;
    private long left;

    /**
     * @param in the stream positioned at the body
     * @param size the body's length
     * @param consumed told how many bytes each read took from {@code in}
     */
    public EntryBody(InputStream in, long size, LongConsumer consumed) {
        this.in = in;
        this.left = size;
        this.consumed = consumed;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (left <= 0) {
            return -1;
        }
        int n = in.read(buffer, offset, (int) Math.min(length, left));
        if (n < 0) {
            throw new ImageFormatException("truncated tar entry");
        }
        left -= n;
        consumed.accept(n);
        return n;
    }
}
