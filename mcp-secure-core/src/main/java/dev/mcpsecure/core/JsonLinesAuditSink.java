package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Appends each audit record as one JSON line ({@link Slf4jAuditSink#toJson}) to a file of its
 * own: no logger, no other writer, so nothing a client sends can make a line that reads as an
 * audit record. The file is created owner-only ({@code rw-------} where the file system has POSIX
 * permissions) with its missing folders; each record is one write, whole, before {@link #record}
 * returns. A failed write throws {@link UncheckedIOException}, which the audit gate counts and
 * handles as its fail mode says. Thread-safe.
 */
public final class JsonLinesAuditSink implements AuditSink, AutoCloseable {

    private final Path file;
    private final FileChannel channel;

    private JsonLinesAuditSink(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /**
     * Opens {@code file} for appending, creating it and its folders.
     *
     * @throws IOException when it cannot be opened, naming the file
     */
    public static JsonLinesAuditSink append(Path file) throws IOException {
        Path absolute = file.toAbsolutePath();
        try {
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
            try {
                Files.createFile(
                        absolute, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (FileAlreadyExistsException exists) {
                // appended to
            } catch (UnsupportedOperationException noPosix) {
                Files.newByteChannel(absolute, StandardOpenOption.CREATE, StandardOpenOption.WRITE)
                        .close();
            }
            return new JsonLinesAuditSink(
                    absolute, FileChannel.open(absolute, StandardOpenOption.WRITE, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new IOException("cannot open the audit file " + absolute + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void record(AuditEvent event) {
        ByteBuffer line = ByteBuffer.wrap((Slf4jAuditSink.toJson(event) + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (this) {
            try {
                while (line.hasRemaining()) {
                    channel.write(line);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the audit file " + file, e);
            }
        }
    }

    /** The file records go to. */
    public Path file() {
        return file;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "JsonLinesAuditSink[" + file + "]";
    }
}
