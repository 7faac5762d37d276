package dev.mcpsecure.core.internal.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A small streaming reader of ustar, PAX and GNU tar archives, written for untrusted input: every
 * header is checked (checksum, sizes), extended headers are capped, a truncated archive is a
 * {@link ImageFormatException}, and an entry's body is only read when the caller asks for it, up to
 * a cap. It is strict rather than clever where readers disagree, so what it reads is what Go's
 * {@code archive/tar} (Docker, containerd) unpacks: the ustar name prefix only with POSIX magic
 * and version, none with GNU magic, and a prefix with any other magic is refused; two extended
 * headers for one entry, a PAX name and a GNU long name for one entry, a global header that sets
 * names, sizes or owners, GNU sparse files (type {@code S} or {@code GNU.sparse.*} records), a PAX
 * path or link with a NUL, and digits after a number's end are refused. Not thread-safe; one
 * reader per stream.
 */
public final class TarReader {

    /** The largest PAX extended header or GNU long name read. */
    public static final int MAX_EXTENDED_HEADER = 1 << 20;
    /** The longest entry name or link target kept. */
    public static final int MAX_NAME = 4096;
    /** The largest entry size believed: 64 GiB. */
    public static final long MAX_ENTRY_SIZE = 64L << 30;

    private static final int BLOCK = 512;

    private final InputStream in;
    private long position;
    private long remaining;
    private long padding;
    private boolean ended;

    /**
     * One entry's header.
     *
     * @param name the entry's name as stored (PAX or GNU long name applied), not normalized
     * @param type the type flag: '0' (or NUL) file, '1' hard link, '2' symlink, '5' directory, ...
     * @param mode the permission bits
     * @param uid the owner
     * @param gid the group
     * @param size the body's size
     * @param linkName the link target, or ""
     * @param dataOffset where the body starts in the stream
     */
    public record Entry(
            String name, char type, int mode, long uid, long gid, long size, String linkName, long dataOffset) {
        /** A regular file. */
        public boolean isFile() {
            return type == '0' || type == '\0' || type == '7';
        }

        /** A directory. */
        public boolean isDirectory() {
            return type == '5';
        }

        /** A symbolic or hard link. */
        public boolean isLink() {
            return type == '1' || type == '2';
        }
    }

    /** Reads from {@code in}, which the caller closes. */
    public TarReader(InputStream in) {
        this.in = in;
    }

    /** The next entry, or {@code null} at the end of the archive; skips what is left of the previous body. */
    public Entry next() throws IOException {
        if (ended) {
            return null;
        }
        skipFully(remaining + padding);
        remaining = 0;
        padding = 0;
        String longName = null;
        String longLink = null;
        String paxPath = null;
        String paxLink = null;
        Long paxSize = null;
        Long paxUid = null;
        Long paxGid = null;
        boolean pax = false;
        boolean meta = false;
        while (true) {
            byte[] header = new byte[BLOCK];
            int read = in.readNBytes(header, 0, BLOCK);
            if (read == 0) {
                ended = true; // a missing end marker is tolerated
                return null;
            }
            if (read < BLOCK) {
                throw new ImageFormatException("truncated tar header");
            }
            position += BLOCK;
            if (allZero(header)) {
                ended = true;
                return null;
            }
            verifyChecksum(header);
            char type = (char) (header[156] & 0xff);
            long size = number(header, 124, 12, "size");
            if (size > MAX_ENTRY_SIZE) {
                throw new ImageFormatException("a tar entry declares " + size + " bytes");
            }
            if (type == 'S') {
                throw new ImageFormatException("a GNU sparse tar entry (not supported: readers disagree on it)");
            }
            if (type == 'x' || type == 'L' || type == 'K' || type == 'g') {
                // Go's archive/tar lets a second extended header replace the first, and a global
                // header ends the entry it interrupts; other readers merge: refuse what is ambiguous
                if ((type == 'x' && pax)
                        || (type == 'g' && meta)
                        || (type == 'L' && longName != null)
                        || (type == 'K' && longLink != null)) {
                    throw new ImageFormatException(
                            "two extended tar headers for one entry (readers disagree on" + " which counts)");
                }
                if (size > MAX_EXTENDED_HEADER) {
                    throw new ImageFormatException("an extended tar header of " + size + " bytes");
                }
                byte[] body = in.readNBytes((int) size);
                if (body.length < size) {
                    throw new ImageFormatException("truncated extended tar header");
                }
                position += size;
                skipFully(pad(size));
                meta = true;
                if (type == 'L') {
                    longName = cString(body, 0, body.length);
                } else if (type == 'K') {
                    longLink = cString(body, 0, body.length);
                } else {
                    String[] values = pax(body);
                    if (type == 'g') {
                        if (values[0] != null
                                || values[1] != null
                                || values[2] != null
                                || values[3] != null
                                || values[4] != null) {
                            throw new ImageFormatException("a global PAX header that sets a name, link, size or"
                                    + " owner for the entries after it (not supported: readers disagree on it)");
                        }
                        continue;
                    }
                    pax = true;
                    paxPath = values[0];
                    paxLink = values[1];
                    paxSize = values[2] != null ? paxNumber(values[2], "size") : null;
                    paxUid = values[3] != null ? paxNumber(values[3], "uid") : null;
                    paxGid = values[4] != null ? paxNumber(values[4], "gid") : null;
                }
                continue;
            }
            if ((paxPath != null && longName != null) || (paxLink != null && longLink != null)) {
                throw new ImageFormatException("a tar entry named both by a PAX header and a GNU long name"
                        + " (readers disagree on which counts)");
            }
            String name = cString(header, 0, 100);
            name = prefixed(header, name);
            name = paxPath != null ? paxPath : longName != null ? longName : name;
            String link = paxLink != null ? paxLink : longLink != null ? longLink : cString(header, 157, 100);
            if (type == '\0' && name.endsWith("/")) {
                type = '5'; // as Go's archive/tar reads an old-style file entry whose name ends in '/'
            }
            if (paxSize != null) {
                size = paxSize;
                if (size > MAX_ENTRY_SIZE) {
                    throw new ImageFormatException("a tar entry declares " + size + " bytes");
                }
            }
            if (name.length() > MAX_NAME || link.length() > MAX_NAME) {
                throw new ImageFormatException("a tar entry name longer than " + MAX_NAME + " characters");
            }
            int mode = (int) (number(header, 100, 8, "mode") & 07777);
            long uid = paxUid != null ? paxUid : number(header, 108, 8, "uid");
            long gid = paxGid != null ? paxGid : number(header, 116, 8, "gid");
            boolean hasBody = type != '1' && type != '2' && type != '3' && type != '4' && type != '5' && type != '6';
            long bodySize = hasBody ? size : 0;
            remaining = bodySize;
            padding = pad(bodySize);
            return new Entry(name, type, mode, uid, gid, bodySize, link, position);
        }
    }

    /**
     * The current entry's body, up to {@code max} bytes; {@code null} when it has more than that
     * (nothing is read then, the body is skipped by {@link #next}).
     */
    public byte[] body(long max) throws IOException {
        if (remaining > max) {
            return null;
        }
        byte[] body = in.readNBytes((int) remaining);
        if (body.length < remaining) {
            throw new ImageFormatException("truncated tar entry");
        }
        position += remaining;
        remaining = 0;
        return body;
    }

    /** The current entry's body as a stream that ends with it; it must be used before {@link #next}. */
    public InputStream bodyStream() {
        return new EntryBody(in, remaining, n -> {
            remaining -= n;
            position += n;
        });
    }

    private void skipFully(long count) throws IOException {
        long left = count;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new ImageFormatException("truncated tar entry");
                }
                skipped = 1;
            }
            left -= skipped;
            position += skipped;
        }
    }

    /**
     * {@code name} with the ustar prefix applied, exactly where Go's archive/tar applies it: only
     * for POSIX {@code ustar\0} magic with version {@code 00}. GNU headers ({@code ustar  \0}) use
     * that area for other fields, so no prefix; any other magic with a prefix area that is not all
     * NUL is ambiguous and refused.
     */
    private static String prefixed(byte[] header, String name) throws ImageFormatException {
        String magic = new String(header, 257, 8, StandardCharsets.ISO_8859_1);
        if (magic.equals("ustar  \0")) {
            return name;
        }
        if (magic.equals("ustar\u000000")) {
            boolean star = header[508] == 't' && header[509] == 'a' && header[510] == 'r' && header[511] == 0;
            String prefix = cString(header, 345, 155);
            if (star && prefix.getBytes(StandardCharsets.UTF_8).length > 130) {
                throw new ImageFormatException(
                        "a tar header whose name prefix runs into the star trailer" + " (readers disagree on it)");
            }
            return prefix.isEmpty() ? name : prefix + "/" + name;
        }
        for (int i = 345; i < 500; i++) {
            if (header[i] != 0) {
                throw new ImageFormatException("a tar header with neither POSIX nor GNU magic but a name"
                        + " prefix (readers disagree on it)");
            }
        }
        return name;
    }

    private static long pad(long size) {
        return (BLOCK - size % BLOCK) % BLOCK;
    }

    private static boolean allZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static void verifyChecksum(byte[] header) throws ImageFormatException {
        long stored = number(header, 148, 8, "checksum");
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = i >= 148 && i < 156 ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw new ImageFormatException("a tar header with a bad checksum (not a tar, or corrupt)");
        }
    }

    private static long number(byte[] header, int offset, int length, String field) throws ImageFormatException {
        if ((header[offset] & 0x80) != 0) { // GNU base-256
            if ((header[offset] & 0x40) != 0) {
                throw new ImageFormatException("a tar header with a negative " + field);
            }
            long value = header[offset] & 0x3f;
            for (int i = 1; i < length; i++) {
                if (value > (Long.MAX_VALUE >> 8)) {
                    throw new ImageFormatException("a tar header with a " + field + " out of range");
                }
                value = (value << 8) | (header[offset + i] & 0xff);
            }
            return value;
        }
        long value = 0;
        int i = offset;
        int end = offset + length;
        while (i < end && (header[i] == ' ' || header[i] == 0)) {
            i++;
        }
        for (; i < end && header[i] != 0 && header[i] != ' '; i++) {
            int digit = header[i] - '0';
            if (digit < 0 || digit > 7 || value > (Long.MAX_VALUE >> 3)) {
                throw new ImageFormatException("a tar header with a malformed " + field + " (not a tar, or corrupt)");
            }
            value = value * 8 + digit;
        }
        for (; i < end; i++) {
            if (header[i] != 0 && header[i] != ' ') { // Go's archive/tar refuses digits after the end
                throw new ImageFormatException("a tar header with a malformed " + field + " (not a tar, or corrupt)");
            }
        }
        return value;
    }

    private static Long paxNumber(String text, String field) throws ImageFormatException {
        if (!text.matches("[0-9]{1,18}")) {
            throw new ImageFormatException("a PAX header with a malformed " + field);
        }
        return Long.parseLong(text);
    }

    private static String cString(byte[] bytes, int offset, int length) {
        int end = offset;
        while (end < offset + length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** path, linkpath, size, uid, gid of a PAX header ("%d %s=%s\n" records). */
    private static String[] pax(byte[] body) throws ImageFormatException {
        String[] values = new String[5];
        int i = 0;
        while (i < body.length) {
            int space = i;
            while (space < body.length && body[space] != ' ') {
                space++;
            }
            String lengthText = new String(body, i, space - i, StandardCharsets.US_ASCII);
            if (space >= body.length || !lengthText.matches("[0-9]{1,7}")) {
                if (Arrays.equals(Arrays.copyOfRange(body, i, body.length), new byte[body.length - i])) {
                    break; // trailing NULs
                }
                throw new ImageFormatException("a malformed PAX header");
            }
            int length = Integer.parseInt(lengthText);
            if (length <= space - i + 1 || i + length > body.length || body[i + length - 1] != '\n') {
                throw new ImageFormatException("a malformed PAX header");
            }
            String record = new String(body, space + 1, i + length - 1 - space - 1, StandardCharsets.UTF_8);
            int equals = record.indexOf('=');
            if (equals < 0) {
                throw new ImageFormatException("a malformed PAX header");
            }
            String key = record.substring(0, equals);
            String value = record.substring(equals + 1);
            if (key.startsWith("GNU.sparse.")) {
                throw new ImageFormatException(
                        "a PAX header for a GNU sparse file (not supported: readers" + " disagree on it)");
            }
            if ((key.equals("path") || key.equals("linkpath")) && value.indexOf('\0') >= 0) {
                throw new ImageFormatException("a PAX " + key + " with a NUL character");
            }
            switch (key) {
                case "path" -> values[0] = value;
                case "linkpath" -> values[1] = value;
                case "size" -> values[2] = value;
                case "uid" -> values[3] = value;
                case "gid" -> values[4] = value;
                default -> {
                    // other keys (times, xattrs) do not matter here
                }
            }
            i += length;
        }
        return values;
    }
}
