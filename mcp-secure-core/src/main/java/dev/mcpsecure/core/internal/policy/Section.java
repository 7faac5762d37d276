package dev.mcpsecure.core.internal.policy;

import dev.mcpsecure.api.PolicyProblem;
import dev.mcpsecure.core.internal.policy.Node.MapNode;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One mapping of the document being bound. Remembers which keys the binder asked for, so that
 * {@link #finish()} can report every other key as unknown, with a suggestion.
 */
final class Section {

    private final MapNode node;
    private final Node at;
    private final String path;
    private final Set<String> known = new LinkedHashSet<>();

    /**
     * @param node the mapping, or {@code null} when the section is absent (all defaults)
     * @param at where to point problems of an absent section
     */
    Section(MapNode node, Node at, String path) {
        this.node = node;
        this.at = at;
        this.path = path;
    }

    String path() {
        return path;
    }

    /** The mapping itself, or the closest node that stands for it when absent. */
    Node at() {
        return node != null ? node : at;
    }

    /** The value of {@code key}, or {@code null}; marks the key as known. */
    Node take(String key) {
        known.add(key);
        return node == null ? null : node.entries().get(key);
    }

    /** The keys and values of this mapping; for mappings whose keys are names chosen by the user. */
    Map<String, Node> entries() {
        return node == null ? Map.of() : node.entries();
    }

    /** The path of {@code key} inside this section. */
    String path(String key) {
        return PolicyProblem.keyPath(path, key);
    }

    /** Reports every key of the mapping that the binder did not ask for. */
    void finish(Problems problems) {
        if (node == null) {
            return;
        }
        for (Map.Entry<String, Node> entry : node.entries().entrySet()) {
            String key = entry.getKey();
            if (!known.contains(key)) {
                String suggestion = closest(key);
                problems.add(
                        entry.getValue(),
                        path(key),
                        "unknown key '" + key + "'"
                                + (suggestion == null ? "" : "; did you mean '" + suggestion + "'?")
                                + " Keys allowed here: " + String.join(", ", known));
            }
        }
    }

    private String closest(String key) {
        String best = null;
        int bestDistance = 3;
        for (String candidate : known) {
            int distance = candidate.equalsIgnoreCase(key)
                    ? 0
                    : distance(key.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
