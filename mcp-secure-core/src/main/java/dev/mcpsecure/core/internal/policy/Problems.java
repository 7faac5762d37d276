package dev.mcpsecure.core.internal.policy;

import dev.mcpsecure.api.PolicyProblem;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The problems found in one policy document, each with its place in the text. */
final class Problems {

    private final String source;
    private final String format;
    private final List<PolicyProblem> found = new ArrayList<>();

    Problems(String source, String format) {
        this.source = source;
        this.format = format;
    }

    /** "YAML" or "JSON", for messages. */
    String format() {
        return format;
    }

    void add(int line, int column, String path, String message) {
        found.add(new PolicyProblem(source, line, column, path, message));
    }

    void add(Node at, String path, String message) {
        add(at.line(), at.column(), path, message);
    }

    int count() {
        return found.size();
    }

    /** Every problem, in the order of the text. */
    List<PolicyProblem> sorted() {
        List<PolicyProblem> sorted = new ArrayList<>(found);
        sorted.sort(Comparator.comparingInt(PolicyProblem::line).thenComparingInt(PolicyProblem::column));
        return sorted;
    }
}
