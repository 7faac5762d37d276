package dev.mcpsecure.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes synthetic image tarballs for tests: {@code docker save} layout (manifest.json, a config,
 * layers plain or gzip) or an OCI image layout, with layers of files, directories, links and
 * whiteouts of any mode and owner; and raw tar entries for hostile cases.
 */
final class ImageTars {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** One tar entry. {@code declaredSize} overrides the size field (a lie) when not negative. */
    record Entry(String name, char type, int mode, int uid, int gid, byte[] body, String link, long declaredSize) {
        static Entry file(String name, byte[] body, int mode, int uid) {
            return new Entry(name, '0', mode, uid, uid, body, "", -1);
        }

        static Entry file(String name, String body) {
            return file(name, body.getBytes(StandardCharsets.UTF_8), 0644, 0);
        }

        static Entry dir(String name) {
            return new Entry(name, '5', 0755, 0, 0, new byte[0], "", -1);
        }

        static Entry symlink(String name, String target) {
            return new Entry(name, '2', 0777, 0, 0, new byte[0], target, -1);
        }

        static Entry whiteout(String folder, String name) {
            return file(folder + "/.wh." + name, new byte[0], 0644, 0);
        }
    }

    /** A tar of {@code entries}, ustar with a PAX header for long names, and the end marker. */
    static byte[] tar(List<Entry> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Entry entry : entries) {
            String name = entry.name();
            if (name.getBytes(StandardCharsets.UTF_8).length > 99) {
                byte[] record = paxRecord("path", name);
                out.writeBytes(header("././@PaxHeader", 'x', 0644, 0, 0, record.length, ""));
                out.writeBytes(record);
                out.writeBytes(new byte[pad(record.length)]);
                name = "long";
            }
            long size = entry.declaredSize() >= 0 ? entry.declaredSize() : entry.body().length;
            out.writeBytes(header(name, entry.type(), entry.mode(), entry.uid(), entry.gid(), size, entry.link()));
            out.writeBytes(entry.body());
            out.writeBytes(new byte[pad(entry.body().length)]);
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    /** A PAX extended header ({@code x} or {@code g}) with one record, and its padded body. */
    static byte[] paxHeader(char type, String key, String value) {
        byte[] record = paxRecord(key, value);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header("././@PaxHeader", type, 0644, 0, 0, record.length, ""));
        out.writeBytes(record);
        out.writeBytes(new byte[pad(record.length)]);
        return out.toByteArray();
    }

    /** A file entry, its body padded, from a raw header. */
    static byte[] rawFile(byte[] header, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header);
        out.writeBytes(body);
        out.writeBytes(new byte[pad(body.length)]);
        return out.toByteArray();
    }

    /** Raw tar blocks and the end marker: a hostile layer. */
    static byte[] rawTar(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static byte[] paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int length = body.getBytes(StandardCharsets.UTF_8).length;
        int total = length + String.valueOf(length).length();
        if (String.valueOf(total).length() != String.valueOf(length).length()) {
            total++;
        }
        return (total + body).getBytes(StandardCharsets.UTF_8);
    }

    private static int pad(long size) {
        return (int) ((512 - size % 512) % 512);
    }

    static byte[] header(String name, char type, int mode, int uid, int gid, long size, String link) {
        return header(name, type, mode, uid, gid, size, link, "ustar\u000000", "");
    }

    /** A raw header with this 8-byte magic and version, and this 155-byte prefix area. */
    static byte[] header(
            String name, char type, int mode, int uid, int gid, long size, String link, String magic, String prefix) {
        byte[] header = new byte[512];
        put(header, 0, 100, name.getBytes(StandardCharsets.UTF_8));
        octal(header, 100, 8, mode);
        octal(header, 108, 8, uid);
        octal(header, 116, 8, gid);
        octal(header, 124, 12, size);
        octal(header, 136, 12, 0);
        header[156] = (byte) type;
        put(header, 157, 100, link.getBytes(StandardCharsets.UTF_8));
        put(header, 257, 8, magic.getBytes(StandardCharsets.ISO_8859_1));
        put(header, 345, 155, prefix.getBytes(StandardCharsets.UTF_8));
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        octal(header, 148, 7, sum);
        return header;
    }

    private static void put(byte[] header, int offset, int length, byte[] value) {
        System.arraycopy(value, 0, header, offset, Math.min(length, value.length));
    }

    private static void octal(byte[] header, int offset, int length, long value) {
        String text = String.format("%0" + (length - 1) + "o", value);
        put(header, offset, length - 1, text.getBytes(StandardCharsets.US_ASCII));
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An image to write: its config and its layers, changed freely by each test. */
    static final class Image {
        String user;
        List<String> entrypoint;
        List<String> cmd;
        final Map<String, String> labels = new LinkedHashMap<>();
        final List<String> volumes = new ArrayList<>();
        final List<List<Entry>> layers = new ArrayList<>();
        boolean gzip = true;
        /** The layers the config's diff_ids describe, when not {@link #layers}. */
        List<List<Entry>> diffIdLayers;
        /** Layers given as raw tar bytes, added after {@link #layers}. */
        final List<byte[]> rawLayers = new ArrayList<>();
        /** Whether an OCI layout also has a manifest.json, as docker save (25 and later) writes. */
        boolean alsoManifestJson;
        /** The config an OCI layout's index.json names, when not the one manifest.json names. */
        byte[] ociConfig;
        /** More entries of an OCI layout's index.json, after the image's own. */
        final List<Map<String, Object>> moreIndexEntries = new ArrayList<>();

        /** The image config JSON. */
        byte[] config() {
            ObjectNode root = JSON.createObjectNode();
            root.put("architecture", "amd64");
            root.put("os", "linux");
            ObjectNode config = root.putObject("config");
            if (user != null) {
                config.put("User", user);
            }
            if (entrypoint != null) {
                config.set("Entrypoint", JSON.valueToTree(entrypoint));
            }
            if (cmd != null) {
                config.set("Cmd", JSON.valueToTree(cmd));
            }
            config.set("Labels", JSON.valueToTree(labels));
            ObjectNode volumeNode = config.putObject("Volumes");
            volumes.forEach(volume -> volumeNode.putObject(volume));
            ObjectNode rootfs = root.putObject("rootfs");
            rootfs.put("type", "layers");
            var diffIds = rootfs.putArray("diff_ids");
            for (List<Entry> layer : diffIdLayers != null ? diffIdLayers : layers) {
                diffIds.add("sha256:" + sha256(tar(layer)));
            }
            for (byte[] raw : rawLayers) {
                diffIds.add("sha256:" + sha256(raw));
            }
            return JSON.writeValueAsBytes(root);
        }

        List<byte[]> layerBlobs() {
            List<byte[]> blobs = new ArrayList<>();
            for (List<Entry> layer : layers) {
                byte[] tar = tar(layer);
                blobs.add(gzip ? gzip(tar) : tar);
            }
            for (byte[] raw : rawLayers) {
                blobs.add(gzip ? gzip(raw) : raw);
            }
            return blobs;
        }

        /** A {@code docker save} tarball: manifest.json, the config, one folder per layer. */
        Path writeDockerSave(Path file) throws IOException {
            return writeDockerSave(file, config());
        }

        Path writeDockerSave(Path file, byte[] config) throws IOException {
            List<Entry> outer = new ArrayList<>();
            List<String> layerNames = new ArrayList<>();
            List<byte[]> blobs = layerBlobs();
            for (int i = 0; i < blobs.size(); i++) {
                String name = "layer" + i + "/layer.tar";
                layerNames.add(name);
                outer.add(Entry.dir("layer" + i + "/"));
                outer.add(Entry.file(name, blobs.get(i), 0644, 0));
            }
            outer.add(Entry.file("config.json", config, 0644, 0));
            List<Map<String, Object>> manifest =
                    List.of(Map.of("Config", "config.json", "RepoTags", List.of("test:latest"), "Layers", layerNames));
            outer.add(Entry.file("manifest.json", JSON.writeValueAsBytes(manifest), 0644, 0));
            Files.write(file, tar(outer));
            return file;
        }

        /** An OCI image layout tarball: oci-layout, index.json, blobs/sha256/. */
        Path writeOciLayout(Path file) throws IOException {
            List<Entry> outer = new ArrayList<>();
            outer.add(Entry.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
            List<Map<String, Object>> layerDescriptors = new ArrayList<>();
            for (byte[] blob : layerBlobs()) {
                outer.add(Entry.file("blobs/sha256/" + sha256(blob), blob, 0644, 0));
                layerDescriptors.add(Map.of(
                        "mediaType",
                        "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest",
                        "sha256:" + sha256(blob),
                        "size",
                        blob.length));
            }
            byte[] config = ociConfig != null ? ociConfig : config();
            outer.add(Entry.file("blobs/sha256/" + sha256(config), config, 0644, 0));
            if (alsoManifestJson) {
                byte[] dockerConfig = config();
                if (ociConfig != null) {
                    outer.add(Entry.file("blobs/sha256/" + sha256(dockerConfig), dockerConfig, 0644, 0));
                }
                List<String> layerNames = new ArrayList<>();
                for (byte[] blob : layerBlobs()) {
                    layerNames.add("blobs/sha256/" + sha256(blob));
                }
                outer.add(Entry.file(
                        "manifest.json",
                        JSON.writeValueAsBytes(List.of(
                                Map.of("Config", "blobs/sha256/" + sha256(dockerConfig), "Layers", layerNames))),
                        0644,
                        0));
            }
            byte[] manifest = JSON.writeValueAsBytes(Map.of(
                    "schemaVersion",
                    2,
                    "mediaType",
                    "application/vnd.oci.image.manifest.v1+json",
                    "config",
                    Map.of(
                            "mediaType",
                            "application/vnd.oci.image.config.v1+json",
                            "digest",
                            "sha256:" + sha256(config),
                            "size",
                            config.length),
                    "layers",
                    layerDescriptors));
            outer.add(Entry.file("blobs/sha256/" + sha256(manifest), manifest, 0644, 0));
            List<Map<String, Object>> entries = new ArrayList<>();
            entries.add(Map.of(
                    "mediaType",
                    "application/vnd.oci.image.manifest.v1+json",
                    "digest",
                    "sha256:" + sha256(manifest),
                    "size",
                    manifest.length));
            entries.addAll(moreIndexEntries);
            byte[] index = JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "manifests", entries));
            outer.add(Entry.file("index.json", index, 0644, 0));
            Files.write(file, tar(outer));
            return file;
        }
    }

    private ImageTars() {}
}
