package org.savevm.migration.objects;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * QEMU's {@code authz-list}: an ordered list of rules, each matching an identity (for TLS, the client
 * certificate's distinguished name) exactly or as a glob ({@code *} any run, {@code ?} one character), with a
 * policy; the first matching rule decides, the list's {@code policy} (default deny) when none matches.
 *
 * <pre>-object authz-list,id=auth0,policy=deny,rules.0.match=CN=client,,O=Example,rules.0.policy=allow,rules.0.format=exact</pre>
 */
public final class AuthzList implements UserObject {
    public static final String TYPE = "authz-list";

    /** One rule: what it matches and what it then decides. */
    public record Rule(String match, boolean allow, boolean glob) {
        boolean matches(String identity) {
            return glob ? globPattern(match).matcher(identity).matches() : match.equals(identity);
        }
    }

    private final String id;
    private final boolean allowByDefault;
    private final List<Rule> rules;

    public AuthzList(String id, boolean allowByDefault, List<Rule> rules) {
        this.id = id;
        this.allowByDefault = allowByDefault;
        this.rules = List.copyOf(rules);
    }

    /** From {@code -object authz-list,...}: {@code policy}, {@code rules.N.match}, {@code rules.N.policy}, {@code rules.N.format}. */
    static AuthzList from(ObjectOptions o) {
        boolean allow = o.choice("policy", "deny", "deny", "allow").equals("allow");
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; ; i++) {
            String prefix = "rules." + i + ".";
            String match = o.get(prefix + "match");
            if (match == null) {
                if (o.keys().stream().anyMatch(k -> k.startsWith(prefix))) {
                    throw new IllegalArgumentException("Parameter '" + prefix + "match' is missing");
                }
                break;
            }
            // QAuthZListRule: policy is mandatory, format defaults to exact
            String policy = o.choice(prefix + "policy", null, "deny", "allow");
            if (policy == null) {
                throw new IllegalArgumentException("Parameter '" + prefix + "policy' is missing");
            }
            boolean glob = o.choice(prefix + "format", "exact", "exact", "glob").equals("glob");
            rules.add(new Rule(match, policy.equals("allow"), glob));
        }
        o.checkAllUsed();
        return new AuthzList(o.id(), allow, rules);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return TYPE;
    }

    public List<Rule> rules() {
        return rules;
    }

    /** QEMU's qauthz_list_is_allowed: the first matching rule's policy, else the default. */
    public boolean isAllowed(String identity) {
        for (Rule r : rules) {
            if (r.matches(identity)) {
                return r.allow();
            }
        }
        return allowByDefault;
    }

    /** g_pattern_match_simple's syntax: '*' and '?', everything else literal. */
    static Pattern globPattern(String glob) {
        StringBuilder re = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        for (char c : glob.toCharArray()) {
            if (c == '*' || c == '?') {
                if (literal.length() > 0) {
                    re.append(Pattern.quote(literal.toString()));
                    literal.setLength(0);
                }
                re.append(c == '*' ? ".*" : ".");
            } else {
                literal.append(c);
            }
        }
        if (literal.length() > 0) {
            re.append(Pattern.quote(literal.toString()));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
