package dev.mcpsecure.vault.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text of a Vault ACL policy: written from a map of path to capabilities, with a first line
 * naming the mcp-secure server it is for, and read back into such a map. Reading understands the
 * {@code path "..." { capabilities = [...] }} stanzas Vault's HCL policies are made of; other
 * attributes of a stanza (parameters, wrapping TTLs) are ignored.
 */
public final class AclText {

    /** The first line of every ACL policy mcp-secure writes; the server's name follows it. */
    public static final String MARKER = "# mcp-secure server: ";

    private static final Pattern STANZA = Pattern.compile("path\\s+\"([^\"]*)\"\\s*\\{([^}]*)}");
    private static final Pattern CAPABILITIES = Pattern.compile("capabilities\\s*=\\s*\\[([^\\]]*)]");
    private static final Pattern QUOTED = Pattern.compile("\"([^\"]*)\"");

    private AclText() {}

    /** The policy text granting {@code paths} (in their order), marked as {@code server}'s. */
    public static String render(String server, Map<String, List<String>> paths) {
        StringBuilder text = new StringBuilder(MARKER).append(server).append('\n');
        paths.forEach((path, capabilities) -> {
            text.append("path \"").append(path).append("\" {\n  capabilities = [");
            for (int i = 0; i < capabilities.size(); i++) {
                text.append(i == 0 ? "" : ", ")
                        .append('"')
                        .append(capabilities.get(i))
                        .append('"');
            }
            text.append("]\n}\n");
        });
        return text.toString();
    }

    /** Every path the text grants, with its capabilities; a path named twice gets the union. */
    public static Map<String, Set<String>> parse(String text) {
        Map<String, Set<String>> paths = new LinkedHashMap<>();
        Matcher stanza = STANZA.matcher(withoutComments(text));
        while (stanza.find()) {
            Set<String> capabilities = paths.computeIfAbsent(stanza.group(1), path -> new LinkedHashSet<>());
            Matcher list = CAPABILITIES.matcher(stanza.group(2));
            while (list.find()) {
                Matcher quoted = QUOTED.matcher(list.group(1));
                while (quoted.find()) {
                    capabilities.add(quoted.group(1));
                }
            }
        }
        paths.replaceAll((path, capabilities) -> Collections.unmodifiableSet(capabilities));
        return Collections.unmodifiableMap(paths);
    }

    /** The server named on the text's first line, if mcp-secure wrote it. */
    public static Optional<String> server(String text) {
        if (text == null || !text.startsWith(MARKER)) {
            return Optional.empty();
        }
        int end = text.indexOf('\n');
        return Optional.of(
                text.substring(MARKER.length(), end < 0 ? text.length() : end).strip());
    }

    /**
     * Whether the ACL path {@code pattern} covers {@code path}: equal, or a glob of Vault's kind
     * ({@code *} at the end matches any rest, {@code +} any one segment).
     */
    public static boolean covers(String pattern, String path) {
        if (pattern.equals(path)) {
            return true;
        }
        boolean prefix = pattern.endsWith("*");
        String[] want = (prefix ? pattern.substring(0, pattern.length() - 1) : pattern).split("/", -1);
        String[] have = path.split("/", -1);
        if (prefix ? have.length < want.length : have.length != want.length) {
            return false;
        }
        for (int i = 0; i < want.length; i++) {
            boolean last = i == want.length - 1;
            if (want[i].equals("+")) {
                continue;
            }
            if (last && prefix ? !have[i].startsWith(want[i]) : !have[i].equals(want[i])) {
                return false;
            }
        }
        return true;
    }

    private static String withoutComments(String text) {
        StringBuilder kept = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String trimmed = line.strip();
            if (!trimmed.startsWith("#") && !trimmed.startsWith("//")) {
                kept.append(line).append('\n');
            }
        }
        return kept.toString();
    }
}
