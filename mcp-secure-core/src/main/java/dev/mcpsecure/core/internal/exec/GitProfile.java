package dev.mcpsecure.core.internal.exec;

import dev.mcpsecure.api.PolicyProblem;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.ProgramProfile;
import dev.mcpsecure.api.SubcommandRule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the {@link ProgramProfile#GIT git profile} adds to a run and refuses in a policy. git runs
 * programs named by its configuration (repository, user and system files, and every file they
 * include), by hooks, and by drivers that attribute files select by arbitrary names; none of that
 * may reach a run:
 *
 * <ul>
 *   <li>{@link #ENV}: system and user configuration and system attributes are off, only http(s)
 *       transports are allowed, prompts, askpass, editors and pagers are disabled;
 *   <li>{@link #LEADING_ARGS}: {@code --no-pager} and {@code -c} overrides, which beat every
 *       configuration file and reach the git processes git starts itself (in submodules too);
 *   <li>{@link GitShadow}: for each run the repository's common directory is replaced (through
 *       {@code GIT_COMMON_DIR}) by one whose configuration is a copy of the {@link #copied} keys
 *       only and which has no hooks, so no driver, helper or hook from the repository exists,
 *       whatever its name;
 *   <li>{@link #afterSubcommand}: options that keep diff and status from running external diffs,
 *       textconv or git inside submodules;
 *   <li>{@link #problems}: subcommands and options that run commands by design are refused in the
 *       policy, as are fixed arguments and environment that would undo the above.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class GitProfile {

    /** Environment of every git run, after the policy's. */
    public static final Map<String, String> ENV = ordered(
            "GIT_CONFIG_NOSYSTEM", "1",
            "GIT_CONFIG_SYSTEM", "/dev/null",
            "GIT_CONFIG_GLOBAL", "/dev/null",
            "GIT_ATTR_NOSYSTEM", "1",
            "GIT_ALLOW_PROTOCOL", "http:https",
            "GIT_TERMINAL_PROMPT", "0",
            "GIT_ASKPASS", "",
            "GIT_EDITOR", ":",
            "GIT_SEQUENCE_EDITOR", ":",
            "GIT_PAGER", "cat",
            "PAGER", "cat");

    /** Global options of every git run, after the policy's fixed arguments and before the subcommand. */
    public static final List<String> LEADING_ARGS = List.of(
            "--no-pager",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "core.askPass=",
            "-c",
            "credential.helper=",
            "-c",
            "core.attributesFile=/dev/null",
            "-c",
            "safe.bareRepository=explicit",
            "-c",
            "submodule.recurse=false",
            "-c",
            "diff.ignoreSubmodules=all",
            "-c",
            "diff.submodule=short",
            "-c",
            "status.submoduleSummary=false",
            "-c",
            "fetch.recurseSubmodules=false",
            "-c",
            "push.recurseSubmodules=no",
            "-c",
            "init.templateDir=",
            "-c",
            "gc.auto=0",
            "-c",
            "maintenance.auto=false");

    /** Options put right after a subcommand. */
    private static final Map<String, List<String>> AFTER_SUBCOMMAND = Map.ofEntries(
            Map.entry("status", List.of("--ignore-submodules=all")),
            Map.entry("diff", List.of("--no-ext-diff", "--no-textconv", "--ignore-submodules=all")),
            Map.entry("diff-index", List.of("--ignore-submodules=all")),
            Map.entry("diff-files", List.of("--ignore-submodules=all")),
            Map.entry("log", List.of("--no-ext-diff", "--no-textconv")),
            Map.entry("show", List.of("--no-ext-diff", "--no-textconv")),
            Map.entry("whatchanged", List.of("--no-ext-diff", "--no-textconv")),
            Map.entry("blame", List.of("--no-textconv")),
            Map.entry("annotate", List.of("--no-textconv")),
            Map.entry("grep", List.of("--no-textconv")),
            Map.entry("fetch", List.of("--no-recurse-submodules")),
            Map.entry("pull", List.of("--no-recurse-submodules")),
            Map.entry("push", List.of("--no-recurse-submodules")));

    /** Subcommands that make a repository: they run without the shadow, which would receive it. */
    private static final Set<String> CREATING = Set.of("clone", "init");

    private static final String SUBMODULES =
            "runs git inside submodules, which reads each submodule's own configuration";
    private static final String RUNS_ITS_ARGUMENT = "runs the command given to it";

    /** Subcommands refused under the profile, and why. */
    static final Map<String, String> REFUSED_SUBCOMMANDS = ordered(
            "bisect", "'bisect run' " + RUNS_ITS_ARGUMENT,
            "difftool", "runs the diff tool its configuration or arguments name",
            "mergetool", "runs the merge tool its configuration or arguments name",
            "filter-branch", "runs the shell commands given as filters",
            "submodule", SUBMODULES + " (and 'update = !command')",
            "worktree", "checks out new working trees outside the profile's per-run configuration",
            "maintenance", "registers scheduled jobs with cron, launchd or systemd",
            "help", "starts a man viewer or browser its configuration names",
            "instaweb", "starts a web server and browser",
            "web--browse", "starts a browser",
            "send-email", "runs the mail programs its configuration or arguments name",
            "imap-send", "runs the tunnel command its configuration names",
            "credential", "talks to credential helpers",
            "credential-cache", "talks to credential helpers",
            "credential-store", "reads and writes stored credentials",
            "daemon", "serves repositories to the network",
            "shell", "runs commands for a remote login",
            "upload-pack", "serves a repository to another git",
            "receive-pack", "serves a repository to another git",
            "upload-archive", "serves a repository to another git",
            "http-backend", "serves repositories over CGI",
            "archimport", "runs a foreign version control tool",
            "cvsimport", "runs a foreign version control tool",
            "cvsexportcommit", "runs a foreign version control tool",
            "cvsserver", "serves repositories to CVS clients",
            "p4", "runs a foreign version control tool",
            "svn", "runs a foreign version control tool",
            "quiltimport", "runs a foreign tool");

    /** Options refused after any subcommand, and why. */
    static final Map<String, String> REFUSED_OPTIONS = ordered(
            "--upload-pack", RUNS_ITS_ARGUMENT + " as the remote git",
            "--receive-pack", RUNS_ITS_ARGUMENT + " as the remote git",
            "--exec", RUNS_ITS_ARGUMENT,
            "--extcmd", RUNS_ITS_ARGUMENT,
            "--ext-diff", "runs the external diff program of the configuration",
            "--textconv", "runs the textconv programs of the configuration",
            "--filters", "runs the filter programs of the configuration",
            "--open-files-in-pager", RUNS_ITS_ARGUMENT + " as a pager",
            "--recurse-submodules", SUBMODULES,
            "--recursive", SUBMODULES,
            "--output", "writes a file wherever it names, outside the filesystem guard",
            "--template", "copies hooks and configuration from the directory it names",
            "--separate-git-dir", "puts the repository wherever it names",
            "--config", "writes configuration (filters, hooks) into the new repository",
            "--git-dir", "points git at another repository",
            "--work-tree", "points git at another working tree",
            "--exec-path", "points git at other programs",
            "--config-env", "sets configuration from the environment",
            "--paginate", "starts a pager");

    /** Options refused after one subcommand only (elsewhere they mean something harmless), and why. */
    static final Map<String, Map<String, String>> REFUSED_SUBCOMMAND_OPTIONS = Map.of(
            "clone",
                    ordered(
                            "-u",
                            RUNS_ITS_ARGUMENT + " as the remote git (--upload-pack)",
                            "-c",
                            "writes configuration (filters, hooks) into the new repository (--config)"),
            "ls-remote", ordered("-u", RUNS_ITS_ARGUMENT + " as the remote git (--upload-pack)"),
            "grep", ordered("-O", RUNS_ITS_ARGUMENT + " as a pager (--open-files-in-pager)"),
            "rebase",
                    ordered(
                            "-x", RUNS_ITS_ARGUMENT + " after each commit (--exec)",
                            "-i", "runs the exec lines of its todo list (--interactive)",
                            "--interactive", "runs the exec lines of its todo list",
                            "--continue",
                                    "runs the exec lines of the todo list in .git/rebase-merge, a file in the repository",
                            "--skip",
                                    "runs the exec lines of the todo list in .git/rebase-merge, a file in the repository",
                            "--edit-todo", "edits and then runs the todo list in .git/rebase-merge"),
            "describe",
                    ordered(
                            "--dirty", SUBMODULES,
                            "--broken", SUBMODULES),
            "archive", ordered("--remote", "asks another git to run --exec"),
            "format-patch",
                    ordered(
                            "-o",
                            "writes files wherever it names, outside the filesystem guard (--output-directory)",
                            "--output-directory",
                            "writes files wherever it names, outside the filesystem guard"),
            "config",
                    ordered(
                            "--file", "reads and writes the file it names, outside the filesystem guard",
                            "-f", "reads and writes the file it names, outside the filesystem guard (--file)",
                            "--global", "the profile's global configuration is /dev/null",
                            "--system", "the profile's system configuration is /dev/null"));

    /**
     * Options git has in their own right that are also prefixes of refused options, each with the
     * subcommands that lack them, where git reads them as the refused option they begin
     * ({@code cat-file --text} is {@code --textconv}, {@code cat-file --filter} is {@code
     * --filters}).
     */
    private static final Map<String, Set<String>> OPTIONS_OF_THEIR_OWN = Map.of(
            "--text", Set.of("cat-file"),
            "--filter", Set.of("cat-file"));

    /** Global options a policy may fix besides {@code -c key=value}: none of them runs or relocates anything. */
    private static final Set<String> SAFE_GLOBAL_OPTIONS = Set.of(
            "--no-optional-locks",
            "--literal-pathspecs",
            "--glob-pathspecs",
            "--noglob-pathspecs",
            "--icase-pathspecs",
            "--no-replace-objects");

    /** {@code GIT_*} variables a policy may pass through or fix: who wrote a commit, and when. */
    private static final Set<String> IDENTITY_ENV = Set.of(
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_AUTHOR_DATE",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "GIT_COMMITTER_DATE");

    /** The copied key whose value names a remote. */
    private static final String REMOTE_NAMED = "branch.*.remote";

    /**
     * Configuration keys (section and name in lower case, any subsection as {@code *}) copied from
     * a repository into its per-run shadow: how to read the repository and which branch tracks
     * which; none names a program or a file, and none a URL: {@code branch.<name>.remote} is
     * copied only when its value is a {@link #plainRemoteName plain remote name} (git takes a
     * remote without {@code remote.<name>.url}, as every remote in the shadow is, for the URL
     * itself). {@code branch.<name>.pushRemote} and {@code remote.pushDefault} are not copied.
     */
    private static final Set<String> COPIED = Set.of(
            "core.repositoryformatversion",
            "core.bare",
            "core.filemode",
            "core.symlinks",
            "core.ignorecase",
            "core.precomposeunicode",
            "core.protecthfs",
            "core.protectntfs",
            "core.logallrefupdates",
            "core.autocrlf",
            "core.eol",
            "core.safecrlf",
            "core.checkstat",
            "core.trustctime",
            "core.quotepath",
            "core.abbrev",
            "extensions.objectformat",
            REMOTE_NAMED,
            "branch.*.merge",
            "remote.*.fetch",
            "user.name",
            "user.email");

    /**
     * Further keys a policy may fix with {@code -c}: display and identity settings that name no
     * program, file or URL, and {@code safe.directory} (git reads it from the command line, never
     * from a repository), for a repository owned by another user.
     */
    private static final Set<String> FIXABLE = Set.of(
            "safe.directory",
            "user.useconfigonly",
            "color.ui",
            "color.diff",
            "color.status",
            "color.branch",
            "log.date",
            "log.decorate",
            "diff.renames",
            "diff.algorithm",
            "diff.context",
            "merge.conflictstyle",
            "init.defaultbranch",
            "pull.rebase",
            "pull.ff",
            "push.default",
            "fetch.prune",
            "advice.detachedhead",
            "i18n.commitencoding",
            "i18n.logoutputencoding");

    private static final Pattern KEY = Pattern.compile("([A-Za-z0-9-]+)(?:\\.(.*))?\\.([A-Za-z][A-Za-z0-9-]*)");

    private GitProfile() {}

    /** Options to put right after {@code subcommand}, before the tool's. */
    public static List<String> afterSubcommand(String subcommand) {
        return AFTER_SUBCOMMAND.getOrDefault(subcommand, List.of());
    }

    /** Whether a run of {@code subcommand} gets a {@link GitShadow}: every subcommand but those that make a repository. */
    public static boolean shadowsRepository(Optional<String> subcommand) {
        return subcommand.isEmpty() || !CREATING.contains(subcommand.get());
    }

    /** Whether the repository configuration key {@code key} (as {@code git config --list} prints it) is one copied into the shadow. */
    static boolean copied(String key) {
        return COPIED.contains(pattern(key));
    }

    /**
     * Whether the repository configuration entry {@code key} = {@code value} ({@code null} for a
     * key without a value) is copied into the shadow: its key is, and a value that names a remote
     * is a {@link #plainRemoteName plain remote name}.
     */
    static boolean copied(String key, String value) {
        String pattern = pattern(key);
        return COPIED.contains(pattern) && (!pattern.equals(REMOTE_NAMED) || plainRemoteName(value));
    }

    /**
     * Whether {@code value} can only be a remote's name: git takes the name of a remote that has
     * no {@code remote.<name>.url} as its URL, so a value with ':' or '/' (an http(s) URL, or any
     * other), '.' (the repository itself), one starting with '-' and an empty one are not.
     */
    static boolean plainRemoteName(String value) {
        return value != null
                && !value.isEmpty()
                && !value.equals(".")
                && !value.startsWith("-")
                && value.indexOf(':') < 0
                && value.indexOf('/') < 0
                && value.indexOf('\\') < 0;
    }

    /**
     * What in {@code program} the profile refuses, each with its path inside the program's
     * policy (as the policy file writes it) and why; empty when the profile can apply.
     */
    public static List<PolicyProblem> problems(ProgramPolicy program) {
        List<PolicyProblem> problems = new ArrayList<>();
        if (program.allowedSubcommands().isEmpty()) {
            problems.add(PolicyProblem.at(
                    "subcommands",
                    "the git profile needs the subcommands tools may run listed: any first argument could"
                            + " otherwise be any git command (or 'profile: none' to run git unprotected)"));
        }
        if (program.subcommandRules().isEmpty()) {
            for (int i = 0; i < program.subcommands().size(); i++) {
                refusedSubcommand(
                        problems,
                        PolicyProblem.indexPath("subcommands", i),
                        program.subcommands().get(i));
            }
            List<String> subcommands = program.subcommands().isEmpty() ? List.of("") : program.subcommands();
            for (int i = 0; i < program.flags().size(); i++) {
                String flag = program.flags().get(i);
                for (String subcommand : subcommands) {
                    if (refusedOption(problems, PolicyProblem.indexPath("flags", i), subcommand, flag)) {
                        break;
                    }
                }
            }
        }
        program.subcommandRules().forEach((subcommand, rule) -> {
            String path = PolicyProblem.keyPath("subcommands", subcommand);
            refusedSubcommand(problems, path, subcommand);
            flags(problems, path, subcommand, rule);
        });
        for (int i = 0; i < program.fixedArgs().size(); i++) {
            fixedArg(problems, program.fixedArgs(), i);
        }
        for (int i = 0; i < program.env().size(); i++) {
            variable(problems, PolicyProblem.indexPath("env", i), program.env().get(i));
        }
        program.fixedEnv().keySet().forEach(name -> variable(problems, PolicyProblem.keyPath("fixedEnv", name), name));
        return problems;
    }

    private static void flags(List<PolicyProblem> problems, String path, String subcommand, SubcommandRule rule) {
        for (int i = 0; i < rule.flags().size(); i++) {
            refusedOption(
                    problems,
                    PolicyProblem.indexPath(path + ".flags", i),
                    subcommand,
                    rule.flags().get(i));
        }
    }

    private static void refusedSubcommand(List<PolicyProblem> problems, String path, String subcommand) {
        String why = REFUSED_SUBCOMMANDS.get(subcommand);
        if (why == null && subcommand.startsWith("remote-")) {
            why = "is a transport helper, which connects wherever its arguments say (remote-ext runs them)";
        }
        if (why != null) {
            problems.add(
                    PolicyProblem.at(path, "the git profile refuses the subcommand '" + subcommand + "': it " + why));
        }
    }

    /** Adds the problem of {@code flag} after {@code subcommand}, if it is refused there; says whether it was. */
    private static boolean refusedOption(List<PolicyProblem> problems, String path, String subcommand, String flag) {
        Optional<String> option = refusedSpelling(subcommand, flag);
        if (option.isEmpty()) {
            return false;
        }
        String why = REFUSED_OPTIONS.get(option.get());
        if (why == null) {
            why = REFUSED_SUBCOMMAND_OPTIONS.get(subcommand).get(option.get());
        }
        boolean everywhere =
                REFUSED_OPTIONS.containsKey(option.get()) && !OPTIONS_OF_THEIR_OWN.containsKey(flag.split("=", 2)[0]);
        problems.add(PolicyProblem.at(
                path,
                "the git profile refuses the option '" + flag + "'"
                        + (flag.equals(option.get()) ? "" : " (git reads it as '" + option.get() + "')")
                        + (everywhere ? "" : " with '" + subcommand + "'") + ": it " + why));
        return true;
    }

    /**
     * The refused option {@code flag} spells after {@code subcommand}, as git reads it, if any:
     * a long option with or without {@code =value} (which the policy's flag rule refuses anyway),
     * or any prefix of it (git accepts an unambiguous one), save {@link #OPTIONS_OF_THEIR_OWN}; a
     * short option alone, with its value attached ({@code -Ocat}) or anywhere in a cluster of
     * short options ({@code -nOcat}).
     */
    private static Optional<String> refusedSpelling(String subcommand, String flag) {
        Map<String, String> specific = REFUSED_SUBCOMMAND_OPTIONS.getOrDefault(subcommand, Map.of());
        if (flag.startsWith("--")) {
            int equals = flag.indexOf('=');
            String name = equals < 0 ? flag : flag.substring(0, equals);
            if (name.length() <= 2) {
                return Optional.empty();
            }
            if (REFUSED_OPTIONS.containsKey(name) || specific.containsKey(name)) {
                return Optional.of(name);
            }
            Set<String> abbreviating = OPTIONS_OF_THEIR_OWN.get(name);
            if (abbreviating != null && !abbreviating.contains(subcommand)) {
                return Optional.empty();
            }
            for (String option : REFUSED_OPTIONS.keySet()) {
                if (option.startsWith(name)) {
                    return Optional.of(option);
                }
            }
            for (String option : specific.keySet()) {
                if (option.startsWith(name)) {
                    return Optional.of(option);
                }
            }
            return Optional.empty();
        }
        if (flag.startsWith("-")) {
            for (int i = 1; i < flag.length(); i++) {
                String option = "-" + flag.charAt(i);
                if (specific.containsKey(option)) {
                    return Optional.of(option);
                }
            }
        }
        return Optional.empty();
    }

    private static void fixedArg(List<PolicyProblem> problems, List<String> fixedArgs, int i) {
        String arg = fixedArgs.get(i);
        String path = PolicyProblem.indexPath("fixedArgs", i);
        if (SAFE_GLOBAL_OPTIONS.contains(arg)) {
            return;
        }
        if (arg.equals("-c")) {
            if (i + 1 >= fixedArgs.size()) {
                problems.add(PolicyProblem.at(path, "'-c' needs a key=value after it"));
            }
            return;
        }
        if (i > 0 && fixedArgs.get(i - 1).equals("-c")) {
            int equals = arg.indexOf('=');
            String key = equals < 0 ? arg : arg.substring(0, equals);
            if (!copied(key) && !FIXABLE.contains(pattern(key))) {
                problems.add(PolicyProblem.at(
                        path,
                        "the git profile fixes only keys that run nothing, such as user.name, user.email, color.ui or"
                                + " log.date; '" + key + "' is not one of them"));
            }
            return;
        }
        problems.add(PolicyProblem.at(
                path,
                "under the git profile, fixed arguments are '-c' key=value pairs or one of "
                        + String.join(
                                ", ", SAFE_GLOBAL_OPTIONS.stream().sorted().toList()) + ", not '" + arg + "'"));
    }

    private static void variable(List<PolicyProblem> problems, String path, String name) {
        if (ENV.containsKey(name)) {
            problems.add(PolicyProblem.at(
                    path, "the git profile fixes " + name + " to '" + ENV.get(name) + "'; it cannot be set here"));
        } else if (name.toUpperCase(Locale.ROOT).startsWith("GIT_") && !IDENTITY_ENV.contains(name)) {
            problems.add(PolicyProblem.at(
                    path,
                    "the git profile passes no GIT_* variable but "
                            + String.join(", ", IDENTITY_ENV.stream().sorted().toList())
                            + ": others choose repositories, configuration or programs"));
        }
    }

    /** {@code key} with section and name in lower case and any subsection as {@code *}; unparsable keys never match. */
    private static String pattern(String key) {
        var matcher = KEY.matcher(key);
        if (!matcher.matches()) {
            return "";
        }
        String section = matcher.group(1).toLowerCase(Locale.ROOT);
        String name = matcher.group(3).toLowerCase(Locale.ROOT);
        return matcher.group(2) == null ? section + "." + name : section + ".*." + name;
    }

    private static Map<String, String> ordered(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return Collections.unmodifiableMap(map);
    }
}
