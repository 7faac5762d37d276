package dev.mcpsecure.core.internal.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The bounded tar reader on well-formed and hostile headers. */
class TarReaderTest {

    private static byte[] header(String name, char type, long size, String link) {
        byte[] header = new byte[512];
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(nameBytes, 0, header, 0, Math.min(100, nameBytes.length));
        octal(header, 100, 8, 0644);
        octal(header, 108, 8, 1000);
        octal(header, 116, 8, 1000);
        octal(header, 124, 12, size);
        header[156] = (byte) type;
        byte[] linkBytes = link.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(linkBytes, 0, header, 157, Math.min(100, linkBytes.length));
        System.arraycopy("ustar\u000000".getBytes(StandardCharsets.US_ASCII), 0, header, 257, 8);
        return checksum(header);
    }

    private static byte[] checksum(byte[] header) {
        Arrays.fill(header, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        octal(header, 148, 7, sum);
        return header;
    }

    private static void octal(byte[] header, int offset, int length, long value) {
        byte[] text = String.format("%0" + (length - 1) + "o", value).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, header, offset, length - 1);
    }

    private static byte[] body(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(bytes, (bytes.length + 511) / 512 * 512);
    }

    private static TarReader reader(byte[]... blocks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] block : blocks) {
            out.writeBytes(block);
        }
        return new TarReader(new ByteArrayInputStream(out.toByteArray()));
    }

    @Test
    void readsEntriesBodiesAndTheEnd() throws IOException {
        TarReader tar =
                reader(header("a.txt", '0', 5, ""), body("hello"), header("link", '2', 0, "a.txt"), new byte[1024]);

        TarReader.Entry first = tar.next();
        assertThat(first.name()).isEqualTo("a.txt");
        assertThat(first.isFile()).isTrue();
        assertThat(first.mode()).isEqualTo(0644);
        assertThat(first.uid()).isEqualTo(1000);
        assertThat(tar.body(100)).asString(StandardCharsets.UTF_8).isEqualTo("hello");
        TarReader.Entry link = tar.next();
        assertThat(link.isLink()).isTrue();
        assertThat(link.linkName()).isEqualTo("a.txt");
        assertThat(tar.next()).isNull();
        assertThat(tar.next()).isNull();
    }

    @Test
    void aBodyOverTheCapIsNotReadButSkipped() throws IOException {
        TarReader tar = reader(header("big", '0', 600, ""), body("x".repeat(600)), header("after", '5', 0, ""));

        tar.next();
        assertThat(tar.body(10)).isNull();
        assertThat(tar.next().name()).isEqualTo("after");
    }

    @Test
    void paxAndGnuLongNamesWin() throws IOException {
        String longName = "app/lib/" + "n".repeat(200) + ".jar";
        String record = " path=" + longName + "\n";
        record = (record.length() + 3) + record;
        TarReader tar = reader(
                header("././@PaxHeader", 'x', record.length(), ""),
                body(record),
                header("short", '0', 0, ""),
                header("././@LongLink", 'L', 12, ""),
                body("gnu-long.txt"),
                header("cut", '0', 0, ""));

        assertThat(tar.next().name()).isEqualTo(longName);
        assertThat(tar.next().name()).isEqualTo("gnu-long.txt");
    }

    @Test
    void aBadChecksumIsNoTar() {
        byte[] header = header("a", '0', 0, "");
        header[0] = 'b';

        assertThatThrownBy(() -> reader(header).next())
                .isInstanceOf(ImageFormatException.class)
                .hasMessageContaining("bad checksum");
    }

    @Test
    void aBase256SizeIsReadAndANegativeOneRefused() throws IOException {
        byte[] big = header("big", '0', 0, "");
        Arrays.fill(big, 124, 136, (byte) 0);
        big[124] = (byte) 0x80;
        big[135] = 1;
        assertThat(reader(checksum(big), body("x")).next().size()).isEqualTo(1);

        byte[] negative = header("neg", '0', 0, "");
        Arrays.fill(negative, 124, 136, (byte) 0xff);
        assertThatThrownBy(() -> reader(checksum(negative)).next())
                .isInstanceOf(ImageFormatException.class)
                .hasMessageContaining("negative size");
    }

    @Test
    void hostileHeadersAreFormatErrors() {
        assertThatThrownBy(() -> {
                    TarReader tar = reader(header("a", '0', 0, ""), new byte[100]);
                    tar.next();
                    tar.next();
                })
                .isInstanceOf(ImageFormatException.class)
                .hasMessage("truncated tar header");
        assertThatThrownBy(() -> reader(header("x", 'x', 2L << 20, "")).next())
                .isInstanceOf(ImageFormatException.class)
                .hasMessageContaining("extended tar header of");
        assertThatThrownBy(() ->
                        reader(header("x", 'x', 10, ""), body("99 path=x\n")).next())
                .isInstanceOf(ImageFormatException.class)
                .hasMessage("a malformed PAX header");
        String huge = " size=" + (1L << 40) + "\n";
        String record = (huge.length() + 2) + huge;
        assertThatThrownBy(() -> reader(header("x", 'x', record.length(), ""), body(record), header("huge", '0', 0, ""))
                        .next())
                .isInstanceOf(ImageFormatException.class)
                .hasMessageContaining("declares");
        assertThatThrownBy(() -> {
                    TarReader tar = reader(header("a", '0', 1000, ""), body("short"));
                    tar.next();
                    tar.next();
                })
                .isInstanceOf(ImageFormatException.class)
                .hasMessage("truncated tar entry");
    }

    private static byte[] withMagic(byte[] header, String magic, String prefix) {
        Arrays.fill(header, 257, 265, (byte) 0);
        byte[] magicBytes = magic.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(magicBytes, 0, header, 257, magicBytes.length);
        byte[] prefixBytes = prefix.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(prefixBytes, 0, header, 345, prefixBytes.length);
        return checksum(header);
    }

    private static byte[][] pax(char type, String key, String value) {
        String record = " " + key + "=" + value + "\n";
        int length = record.getBytes(StandardCharsets.UTF_8).length;
        int total = length + String.valueOf(length).length();
        if (String.valueOf(total).length() != String.valueOf(length).length()) {
            total++;
        }
        String text = total + record;
        return new byte[][] {
            header("././@PaxHeader", type, text.getBytes(StandardCharsets.UTF_8).length, ""), body(text)
        };
    }

    private static byte[][] concat(byte[][]... parts) {
        return Arrays.stream(parts).flatMap(Arrays::stream).toArray(byte[][]::new);
    }

    private static void refused(String message, byte[]... blocks) {
        assertThatThrownBy(() -> {
                    TarReader tar = reader(blocks);
                    while (tar.next() != null) {
                        // read them all
                    }
                })
                .isInstanceOf(ImageFormatException.class)
                .hasMessageContaining(message);
    }

    @Test
    void thePrefixCountsOnlyForPosixUstarMagic() throws IOException {
        assertThat(reader(withMagic(header("sh", '0', 0, ""), "ustar\u000000", "usr/bin"))
                        .next()
                        .name())
                .isEqualTo("usr/bin/sh");
        // GNU tar keeps times there; Go's archive/tar (Docker, containerd) reads no prefix
        assertThat(reader(withMagic(header("usr/bin/sh", '0', 0, ""), "ustar  \u0000", "1"))
                        .next()
                        .name())
                .isEqualTo("usr/bin/sh");
    }

    @Test
    void anotherMagicWithAPrefixIsRefused() throws IOException {
        refused("neither POSIX nor GNU magic", withMagic(header("usr/bin/sh", '0', 0, ""), "ustarX00", "opt"));
        refused("neither POSIX nor GNU magic", withMagic(header("usr/bin/sh", '0', 0, ""), "ustar\u0000xx", "opt"));
        assertThat(reader(withMagic(header("v7", '0', 0, ""), "\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000", ""))
                        .next()
                        .name())
                .as("v7 with no prefix")
                .isEqualTo("v7");
    }

    @Test
    void twoExtendedHeadersForOneEntryAreRefused() {
        byte[] file = header("usr/bin/sh", '0', 0, "");
        refused(
                "two extended tar headers",
                concat(pax('x', "path", "opt/harmless"), pax('x', "mtime", "1"), new byte[][] {file}));
        refused(
                "two extended tar headers",
                concat(pax('x', "path", "opt/harmless"), pax('g', "comment", "c"), new byte[][] {file}));
        refused(
                "two extended tar headers",
                header("././@LongLink", 'L', 3, ""),
                body("a/b"),
                header("././@LongLink", 'L', 3, ""),
                body("c/d"),
                file);
        refused(
                "two extended tar headers",
                header("././@LongLink", 'K', 3, ""),
                body("a/b"),
                header("././@LongLink", 'K', 3, ""),
                body("c/d"),
                header("l", '2', 0, "x"));
        refused("both by a PAX header and a GNU long name", concat(pax('x', "path", "opt/harmless"), new byte[][] {
            header("././@LongLink", 'L', 10, ""), body("usr/bin/sh"), file
        }));
    }

    @Test
    void aGlobalHeaderThatSetsNamesIsRefused() throws IOException {
        refused("a global PAX header", concat(pax('g', "path", "usr/bin/sh"), new byte[][] {header("x", '0', 0, "")}));
        TarReader tar = reader(concat(pax('g', "comment", "abc"), new byte[][] {header("x", '0', 0, "")}));
        assertThat(tar.next().name()).as("a global comment is harmless").isEqualTo("x");
    }

    @Test
    void sparseFilesAreRefused() {
        refused("GNU sparse", header("usr/bin/sh", 'S', 0, ""));
        refused("GNU sparse", concat(pax('x', "GNU.sparse.name", "usr/bin/sh"), new byte[][] {header("x", '0', 0, "")
        }));
    }

    @Test
    void aPaxNameWithNulIsRefused() {
        refused("with a NUL", concat(pax('x', "path", "usr/bin/sh\u0000.txt"), new byte[][] {header("x", '0', 0, "")}));
        refused("with a NUL", concat(pax('x', "linkpath", "a\u0000b"), new byte[][] {header("x", '2', 0, "")}));
    }

    @Test
    void digitsAfterANumbersEndAreRefused() {
        byte[] header = header("x", '0', 0, "");
        header[100 + 7] = '7'; // "0000644" then '7' where the NUL ends it
        header[100 + 6] = ' ';
        refused("malformed mode", checksum(header));
    }
}
