package io.portcamel.agent.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.portcamel.agent.security.PythonJson;
import net.thisptr.jackson.jq.BuiltinFunctionLoader;
import net.thisptr.jackson.jq.Expression;
import net.thisptr.jackson.jq.Function;
import net.thisptr.jackson.jq.JsonQuery;
import net.thisptr.jackson.jq.Scope;
import net.thisptr.jackson.jq.Version;
import net.thisptr.jackson.jq.Versions;
import net.thisptr.jackson.jq.exception.JsonQueryException;
import net.thisptr.jackson.jq.internal.IsolatedScopeQuery;
import net.thisptr.jackson.jq.internal.JsonQueryFunction;
import net.thisptr.jackson.jq.internal.javacc.ExpressionParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The jq dialect mappings run in: jackson-jq made to behave like the jq 1.6 binary (and so like pyjq, which
 * port-agent uses) wherever mappings can observe it.
 * <p>
 * Why a custom root scope: jackson-jq lacks {@code env}/{@code $ENV} (every seed mapping reads {@code env.X}),
 * several jq 1.6 builtins, and prints numbers differently ({@code 1670417632.916|tostring} gave
 * {@code "1.670417632916e+9"}). Builtins are loaded for {@link Versions#JQ_1_6} because the reference binary
 * and the mappings written for pyjq (jq 1.5) follow 1.6 rules (e.g. {@code if} needs {@code else}); later
 * {@link Scope#addFunction} calls override the builtins. Camel's camel-jq uses a bound {@code Scope} bean as its
 * root scope without loading builtins, so the scope returned here is complete on its own.
 * <p>
 * Programs must be compiled with {@link #compile(String)}: it rewrites plain string interpolation
 * {@code "\(x)"} to {@code "\((x)|tostring)"} because jackson-jq formats interpolated values with Java's
 * {@code Double.toString} ({@code "3.0"}, {@code "1.0E-6"}) instead of jq's number format.
 */
public final class JqEnvironment {

    private static final Logger LOG = LoggerFactory.getLogger(JqEnvironment.class);

    /** The jq language version programs are compiled for. */
    public static final Version VERSION = Versions.JQ_1_6;

    private static final JsonNodeFactory NF = JsonNodeFactory.instance;

    private JqEnvironment() {
    }

    // ------------------------------------------------------------------ environment

    /**
     * The environment a mapping may see through {@code env}/{@code $ENV}: the process environment minus the agent's
     * own credentials (port-agent flaw 3.8-4 exposed PORT_CLIENT_SECRET to every mapping).
     * Removed: {@code PORT_CLIENT_SECRET}, {@code PORT_CLIENT_ID}, {@code KAFKA_CONSUMER_PASSWORD},
     * {@code KAFKA_CONSUMER_USERNAME}, and every variable whose name starts with {@code PORT_} or {@code KAFKA_}
     * and ends with {@code _PASSWORD} or {@code _SECRET}. Target credentials (CIRCLE_CI_TOKEN, GitLab trigger
     * tokens...) stay visible because mappings exist to forward them.
     */
    public static Map<String, String> mappingEnv(Map<String, String> processEnv) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : processEnv.entrySet()) {
            if (!isAgentSecret(e.getKey())) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    static boolean isAgentSecret(String name) {
        switch (name) {
            case "PORT_CLIENT_SECRET", "PORT_CLIENT_ID", "KAFKA_CONSUMER_PASSWORD", "KAFKA_CONSUMER_USERNAME":
                return true;
            default:
                return (name.startsWith("PORT_") || name.startsWith("KAFKA_"))
                        && (name.endsWith("_PASSWORD") || name.endsWith("_SECRET"));
        }
    }

    // ------------------------------------------------------------------ scope

    /**
     * A complete root scope: jq 1.6 builtins, jackson-jq-extra functions, {@code env}, {@code $ENV} and the jq 1.6
     * builtins jackson-jq lacks, with jq 1.6 number formatting. {@code mappingEnv} must already be filtered
     * (see {@link #mappingEnv(Map)}).
     */
    public static Scope rootScope(Map<String, String> mappingEnv) {
        Scope scope = Scope.newEmptyScope();
        BuiltinFunctionLoader.getInstance().loadFunctions(VERSION, scope);

        ObjectNode envNode = NF.objectNode();
        new TreeMap<>(mappingEnv).forEach(envNode::put);
        scope.setValue("ENV", envNode);
        scope.addFunction("env", 0, (s, args, in, path, out, v) -> out.emit(envNode, null));

        // jq 1.6 text formatting
        scope.addFunction("tostring", 0, fn0(in -> TextNode.valueOf(toJqString(in))));
        scope.addFunction("@text", 0, fn0(in -> TextNode.valueOf(toJqString(in))));
        scope.addFunction("tojson", 0, fn0(in -> TextNode.valueOf(toJqJson(in))));
        scope.addFunction("@json", 0, fn0(in -> TextNode.valueOf(toJqJson(in))));

        // dates (jq 1.6 C semantics, UTC; see JqTime)
        scope.addFunction("fromdateiso8601", 0, fn0(JqTime::fromIso8601));
        scope.addFunction("fromdate", 0, fn0(JqTime::fromIso8601));
        scope.addFunction("todateiso8601", 0, fn0(JqTime::toIso8601));
        scope.addFunction("todate", 0, fn0(JqTime::toIso8601));
        scope.addFunction("gmtime", 0, fn0(in -> JqTime.gmtime(in, ZoneOffset.UTC)));
        scope.addFunction("localtime", 0, fn0(in -> JqTime.gmtime(in, ZoneId.systemDefault())));
        scope.addFunction("mktime", 0, fn0(JqTime::mktime));
        scope.addFunction("strftime", 1, fn1((in, f) -> JqTime.strftime(in, f, ZoneOffset.UTC)));
        scope.addFunction("strflocaltime", 1, fn1((in, f) -> JqTime.strftime(in, f, ZoneId.systemDefault())));
        scope.addFunction("strptime", 1, fn1(JqTime::strptime));

        // math functions jq 1.6 has (libm) and jackson-jq lacks
        math1(scope, "trunc", x -> x < 0 ? Math.ceil(x) : Math.floor(x));
        math1(scope, "fabs", Math::abs);
        math1(scope, "rint", Math::rint);
        math1(scope, "nearbyint", Math::rint);
        math1(scope, "significand", x -> x == 0 || Double.isInfinite(x) || Double.isNaN(x) ? x
                : x / Math.pow(2, Math.getExponent(x)));
        math1(scope, "logb", x -> (double) Math.getExponent(x));
        math1(scope, "pow10", x -> Math.pow(10, x));
        math1(scope, "exp10", x -> Math.pow(10, x));
        math1(scope, "asinh", x -> Math.log(x + Math.sqrt(x * x + 1)));
        math1(scope, "acosh", x -> Math.log(x + Math.sqrt(x * x - 1)));
        math1(scope, "atanh", x -> 0.5 * Math.log((1 + x) / (1 - x)));
        math2(scope, "fmin", Math::min);
        math2(scope, "fmax", Math::max);
        math2(scope, "fdim", (a, b) -> a > b ? a - b : 0.0);
        math2(scope, "fmod", (a, b) -> a % b);
        math2(scope, "hypot", Math::hypot);
        math2(scope, "copysign", Math::copySign);
        math2(scope, "drem", Math::IEEEremainder);
        math2(scope, "remainder", Math::IEEEremainder);
        math2(scope, "nextafter", Math::nextAfter);
        math2(scope, "nexttoward", Math::nextAfter);
        math2(scope, "ldexp", (a, b) -> a * Math.pow(2, b));
        math2(scope, "scalb", (a, b) -> a * Math.pow(2, b));
        math2(scope, "scalbln", (a, b) -> a * Math.pow(2, b));
        scope.addFunction("frexp", 0, fn0(in -> {
            double x = number(in, "frexp");
            ArrayNode a = NF.arrayNode();
            if (x == 0 || Double.isNaN(x) || Double.isInfinite(x)) {
                return a.add(num(x)).add(0);
            }
            int e = Math.getExponent(x) + 1;
            return a.add(num(x / Math.pow(2, e))).add(e);
        }));
        scope.addFunction("modf", 0, fn0(in -> {
            double x = number(in, "modf");
            double ip = x < 0 ? Math.ceil(x) : Math.floor(x);
            return NF.arrayNode().add(num(x - ip)).add(num(ip));
        }));

        // I/O-ish builtins: no input stream and no stderr in a mapping; keep programs that use them compiling.
        scope.addFunction("debug", 0, (s, args, in, path, out, v) -> {
            LOG.debug("jq debug: {}", toJqJson(in));
            out.emit(in, path);
        });
        scope.addFunction("stderr", 0, (s, args, in, path, out, v) -> {
            LOG.debug("jq stderr: {}", toJqJson(in));
            out.emit(in, path);
        });
        scope.addFunction("input_filename", 0, fn0(in -> NullNode.getInstance()));
        scope.addFunction("input_line_number", 0, fn0(in -> LongNode.valueOf(0)));
        scope.addFunction("input", 0, (s, args, in, path, out, v) -> {
            throw new JsonQueryException("No more inputs");
        });
        scope.addFunction("inputs", 0, (s, args, in, path, out, v) -> {
        });
        scope.addFunction("format", 1, (s, args, in, path, out, v) -> args.get(0).apply(s, in, f -> {
            if (!f.isTextual()) {
                throw new JsonQueryException(toJqJson(f) + " is not a valid format");
            }
            Function fn = s.getFunction("@" + f.asText(), 0);
            if (fn == null) {
                throw new JsonQueryException(f.asText() + " is not a valid format");
            }
            fn.apply(s, List.of(), in, null, (o, p) -> out.emit(o, null), v);
        }));

        // jq 1.6 builtins defined in jq (from jq 1.6 src/builtin.jq)
        define(scope, "isempty", List.of("g"), "first((g|false), true)");
        define(scope, "repeat", List.of("f"), "def _repeat: f | (., _repeat); _repeat");
        define(scope, "scalars_or_empty", List.of(),
                "select(. == null or . == true or . == false or type == \"number\" or type == \"string\" or ((type==\"array\" or type==\"object\") and length==0))");
        define(scope, "join", List.of("$x"), "reduce .[] as $i (null; (if .==null then \"\" else .+$x end) + "
                + "($i | if .==null then \"\" elif type==\"boolean\" or type==\"number\" then tojson else . end)) // \"\"");
        define(scope, "tostream", List.of(), "path(def r: (.[]?|r), .; r) as $p | getpath($p) | "
                + "reduce path(.[]?) as $q ([$p, .]; [$p+$q])");
        define(scope, "fromstream", List.of("f"), "{ x: null, e: false } as $init | foreach f as $i ($init; "
                + "if .e then $init else . end | if $i | length == 2 "
                + "then setpath([\"e\"]; $i[0] | length == 0) | setpath([\"x\"] + $i[0]; $i[1]) "
                + "else setpath([\"e\"]; $i[0] | length == 1) end; if .e then .x else empty end)");
        define(scope, "truncate_stream", List.of("stream"),
                ". as $n | null | stream | . as $input | if (.[0]|length) > $n then setpath([0];.[0][$n:]) else empty end");
        define(scope, "INDEX", List.of("stream", "idx_expr"),
                "reduce stream as $row ({}; .[$row|idx_expr|tostring] = $row)");
        define(scope, "INDEX", List.of("idx_expr"), "INDEX(.[]; idx_expr)");
        define(scope, "JOIN", List.of("$idx", "idx_expr"), "[.[] | [., $idx[idx_expr]]]");
        define(scope, "JOIN", List.of("$idx", "stream", "idx_expr"), "stream | [., $idx[idx_expr]]");
        define(scope, "JOIN", List.of("$idx", "stream", "idx_expr", "join_expr"),
                "stream | [., $idx[idx_expr]] | join_expr");
        define(scope, "IN", List.of("s"), "any(s == .; .)");
        define(scope, "IN", List.of("src", "s"), "any(src == s; .)");
        define(scope, "halt_error", List.of(), "halt_error(5)");
        define(scope, "halt_error", List.of("$code"), "error(tostring)");
        define(scope, "halt", List.of(), "empty");
        define(scope, "bsearch", List.of("target"), "if length == 0 then -1 elif length == 1 then "
                + "(if target == .[0] then 0 elif target < .[0] then -1 else -2 end) "
                + "else . as $in | [0, length-1, null] | until( .[0] > .[1] ; "
                + "if .[2] != null then (.[1] = -1) else ( ( (.[1] + .[0]) / 2 ) | floor ) as $mid "
                + "| $in[$mid] as $monkey | if ($monkey == target) then (.[2] = $mid) "
                + "elif (.[0] == .[1]) then (.[1] = -1) elif ($monkey < target) then (.[0] = ($mid + 1)) "
                + "else (.[1] = ($mid - 1)) end end ) | if .[2] == null then "
                + "(if ($in[ .[0] ] < target) then (-2 -.[0]) else (-1 -.[0]) end) else .[2] end end");
        return scope;
    }

    /**
     * Compiles a jq program in this dialect (jq 1.6 grammar, interpolation routed through jq-style
     * {@code tostring}). Compile once, apply many times.
     */
    public static JsonQuery compile(String program) throws JsonQueryException {
        return JsonQuery.compile(rewriteInterpolation(program), VERSION);
    }

    /**
     * Evaluates {@code query} and returns its first output (pyjq's {@code jq.first}), {@code null} when there is
     * none. Integral doubles in the result become integers as pyjq's conversion does ({@code 3.0} is sent as
     * {@code 3}).
     */
    public static JsonNode first(JsonQuery query, Scope scope, JsonNode input) throws JsonQueryException {
        JsonNode[] holder = new JsonNode[1];
        try {
            query.apply(Scope.newChildScope(scope), input, out -> {
                holder[0] = out;
                throw FirstFound.INSTANCE;
            });
        } catch (FirstFound found) {
            // stop at the first output like pyjq's first()
        }
        return holder[0] == null ? null : pyjqNumbers(holder[0]);
    }

    private static final class FirstFound extends RuntimeException {
        static final FirstFound INSTANCE = new FirstFound();

        private FirstFound() {
            super(null, null, false, false);
        }
    }

    /** pyjq maps jq numbers that are integers to Python ints; copy-on-write so shared input nodes stay intact. */
    static JsonNode pyjqNumbers(JsonNode n) {
        if (n.isDouble() || n.isFloat() || n.isBigDecimal()) {
            double d = n.doubleValue();
            if (!Double.isInfinite(d) && !Double.isNaN(d) && d == Math.rint(d)) {
                if (Math.abs(d) < 9.0e18) {
                    return LongNode.valueOf((long) d);
                }
                return BigIntegerNode.valueOf(new BigDecimal(d).toBigInteger());
            }
            return n;
        }
        if (n.isArray()) {
            ArrayNode copy = null;
            for (int i = 0; i < n.size(); i++) {
                JsonNode c = n.get(i);
                JsonNode r = pyjqNumbers(c);
                if (r != c && copy == null) {
                    copy = NF.arrayNode();
                    for (int j = 0; j < i; j++) {
                        copy.add(n.get(j));
                    }
                }
                if (copy != null) {
                    copy.add(r);
                }
            }
            return copy == null ? n : copy;
        }
        if (n.isObject()) {
            ObjectNode copy = null;
            List<String> done = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode r = pyjqNumbers(e.getValue());
                if (r != e.getValue() && copy == null) {
                    copy = NF.objectNode();
                    for (String k : done) {
                        copy.set(k, n.get(k));
                    }
                }
                if (copy != null) {
                    copy.set(e.getKey(), r);
                } else {
                    done.add(e.getKey());
                }
            }
            return copy == null ? n : copy;
        }
        return n;
    }

    // ------------------------------------------------------------------ jq 1.6 text output

    /** jq 1.6 {@code tostring}: strings unchanged, everything else {@link #toJqJson(JsonNode)}. */
    public static String toJqString(JsonNode n) {
        return n.isTextual() ? n.textValue() : toJqJson(n);
    }

    /** jq 1.6 compact serialisation ({@code tojson}, {@code jq -c}). */
    public static String toJqJson(JsonNode n) {
        StringBuilder sb = new StringBuilder();
        writeJq(sb, n);
        return sb.toString();
    }

    private static void writeJq(StringBuilder sb, JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            sb.append("null");
        } else if (n.isTextual()) {
            // jq 1.6 also escapes DEL
            io.portcamel.agent.security.PythonJson.writeString(sb, n.textValue(), c -> c < 0x20 || c == 0x7f);
        } else if (n.isNumber()) {
            sb.append(formatNumber(n));
        } else if (n.isBoolean()) {
            sb.append(n.booleanValue());
        } else if (n.isArray()) {
            sb.append('[');
            for (int i = 0; i < n.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                writeJq(sb, n.get(i));
            }
            sb.append(']');
        } else if (n.isObject()) {
            sb.append('{');
            boolean first = true;
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeJq(sb, TextNode.valueOf(e.getKey()));
                sb.append(':');
                writeJq(sb, e.getValue());
            }
            sb.append('}');
        } else {
            writeJq(sb, TextNode.valueOf(n.asText()));
        }
    }

    /**
     * jq 1.6's number format (jv_dump_term / jvp_dtoa_fmt): shortest round-trip digits, exponent form
     * {@code 1e+17}/{@code 1e-07} when the decimal point is before -3 or beyond 15 positions after the digits,
     * NaN as {@code null}, infinities as ±DBL_MAX. Integer nodes print exactly (jq 1.6 would round beyond 2^53;
     * keeping ids intact is deliberate).
     */
    public static String formatNumber(JsonNode n) {
        if (n.isIntegralNumber()) {
            return n.bigIntegerValue().toString();
        }
        double d = n.doubleValue();
        if (Double.isNaN(d)) {
            return "null";
        }
        if (d > Double.MAX_VALUE) {
            d = Double.MAX_VALUE;
        } else if (d < -Double.MAX_VALUE) {
            d = -Double.MAX_VALUE;
        }
        return formatDouble(d);
    }

    static String formatDouble(double d) {
        PythonJson.Digits dg = PythonJson.shortestDigits(d);
        String s = dg.digits();
        int decpt = dg.decpt();
        StringBuilder b = new StringBuilder();
        if (dg.negative()) {
            b.append('-');
        }
        if (decpt <= -4 || decpt > s.length() + 15) {
            b.append(s.charAt(0));
            if (s.length() > 1) {
                b.append('.').append(s, 1, s.length());
            }
            int e = decpt - 1;
            b.append('e').append(e < 0 ? '-' : '+');
            int ae = Math.abs(e);
            if (ae < 10) {
                b.append('0');
            }
            b.append(ae);
        } else if (decpt <= 0) {
            b.append("0.").append("0".repeat(-decpt)).append(s);
        } else if (decpt >= s.length()) {
            b.append(s).append("0".repeat(decpt - s.length()));
        } else {
            b.append(s, 0, decpt).append('.').append(s, decpt, s.length());
        }
        return b.toString();
    }

    /** A jq number node: integral values as integers (jq prints 3.0 as 3 anyway). */
    static JsonNode num(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15 && !(d == 0 && 1 / d < 0)) {
            return LongNode.valueOf((long) d);
        }
        return DoubleNode.valueOf(d);
    }

    // ------------------------------------------------------------------ interpolation rewrite

    /**
     * Rewrites every interpolation {@code \(e)} in string literals that are not preceded by a {@code @format} to
     * {@code \((e)|tostring)}, so interpolated numbers format like jq. Formatted strings ({@code @json "\(x)"})
     * already pipe each interpolation into the (overridden) format function. Comments and nesting are respected.
     */
    static String rewriteInterpolation(String src) {
        if (src.indexOf("\\(") < 0) {
            return src;
        }
        StringBuilder out = new StringBuilder(src.length() + 32);
        int end = code(src, 0, out, false);
        if (end < src.length()) {
            out.append(src, end, src.length());
        }
        return out.toString();
    }

    /** Copies code from i; when nested, stops after the ')' that closes the interpolation. Returns next index. */
    private static int code(String s, int i, StringBuilder out, boolean nested) {
        int depth = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '#') {
                int nl = s.indexOf('\n', i);
                int stop = nl < 0 ? s.length() : nl;
                out.append(s, i, stop);
                i = stop;
            } else if (c == '"') {
                boolean formatted = precededByFormat(s, i);
                i = string(s, i, out, formatted);
            } else if (c == '(') {
                depth++;
                out.append(c);
                i++;
            } else if (c == ')') {
                if (nested && depth == 0) {
                    return i;
                }
                depth--;
                out.append(c);
                i++;
            } else {
                out.append(c);
                i++;
            }
        }
        return i;
    }

    private static int string(String s, int i, StringBuilder out, boolean formatted) {
        out.append('"');
        i++;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (n == '(') {
                    out.append(formatted ? "\\(" : "\\((");
                    int close = code(s, i + 2, out, true);
                    out.append(formatted ? ")" : ")|tostring)");
                    i = close + 1;
                } else {
                    out.append(c).append(n);
                    i += 2;
                }
            } else if (c == '"') {
                out.append(c);
                return i + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return i;
    }

    private static boolean precededByFormat(String s, int quote) {
        int j = quote - 1;
        while (j >= 0 && Character.isWhitespace(s.charAt(j))) {
            j--;
        }
        int endId = j;
        while (j >= 0 && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
            j--;
        }
        return endId > j && j >= 0 && s.charAt(j) == '@';
    }

    // ------------------------------------------------------------------ helpers

    interface Unary {
        JsonNode apply(JsonNode in) throws JsonQueryException;
    }

    interface Binary {
        JsonNode apply(JsonNode in, JsonNode arg) throws JsonQueryException;
    }

    interface D1 {
        double apply(double x);
    }

    interface D2 {
        double apply(double a, double b);
    }

    static Function fn0(Unary u) {
        return (scope, args, in, path, out, version) -> out.emit(u.apply(in), null);
    }

    static Function fn1(Binary b) {
        return (scope, args, in, path, out, version) ->
                args.get(0).apply(scope, in, a -> out.emit(b.apply(in, a), null));
    }

    private static void math1(Scope scope, String name, D1 f) {
        scope.addFunction(name, 0, fn0(in -> num(f.apply(number(in, name)))));
    }

    private static void math2(Scope scope, String name, D2 f) {
        scope.addFunction(name, 2, (s, args, in, path, out, v) ->
                args.get(1).apply(s, in, b -> args.get(0).apply(s, in, a ->
                        out.emit(num(f.apply(number(a, name), number(b, name))), null))));
    }

    static double number(JsonNode n, String fname) throws JsonQueryException {
        if (!n.isNumber()) {
            throw new JsonQueryException(typeName(n) + " (" + toJqJson(n) + ") number required");
        }
        return n.doubleValue();
    }

    static String typeName(JsonNode n) {
        if (n == null || n.isNull()) {
            return "null";
        }
        if (n.isBoolean()) {
            return "boolean";
        }
        if (n.isNumber()) {
            return "number";
        }
        if (n.isTextual()) {
            return "string";
        }
        return n.isArray() ? "array" : "object";
    }

    /** Registers a jq-defined function, as jackson-jq does for its own jq.json builtins. */
    private static void define(Scope scope, String name, List<String> params, String body) {
        try {
            Expression expr = ExpressionParser.compile(rewriteInterpolation(body), VERSION);
            scope.addFunction(name, params.size(), new JsonQueryFunction(name, params, new IsolatedScopeQuery(expr), scope));
        } catch (JsonQueryException e) {
            throw new IllegalStateException("builtin " + name + "/" + params.size() + " does not compile", e);
        }
    }

    // ------------------------------------------------------------------ time

    /** jq 1.6's C time functions (gmtime/mktime/strftime/strptime) over java.time. */
    static final class JqTime {
        private JqTime() {
        }

        private static final Pattern ISO = Pattern.compile(
                "(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(\\.\\d{1,9})?(Z|[+-]\\d{2}:?\\d{2})");

        /**
         * {@code fromdate}: jq 1.6 accepts only {@code %Y-%m-%dT%H:%M:%SZ}; we also accept fractional seconds and
         * numeric offsets because Port's {@code trigger.at} has milliseconds (documented improvement). Fractional
         * input gives fractional epoch seconds.
         */
        static JsonNode fromIso8601(JsonNode in) throws JsonQueryException {
            if (!in.isTextual()) {
                throw new JsonQueryException("strptime/1 requires string inputs and arguments");
            }
            Matcher m = ISO.matcher(in.textValue());
            if (!m.matches()) {
                throw new JsonQueryException("date \"" + in.textValue() + "\" does not match format \"%Y-%m-%dT%H:%M:%SZ\"");
            }
            try {
                String off = m.group(8);
                ZoneOffset zo = off.equals("Z") ? ZoneOffset.UTC : ZoneOffset.of(off.length() == 5
                        ? off.substring(0, 3) + ":" + off.substring(3) : off);
                LocalDateTime ldt = LocalDateTime.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                        Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)),
                        Integer.parseInt(m.group(6)));
                long secs = ldt.toEpochSecond(zo);
                String frac = m.group(7);
                if (frac == null || Long.parseLong(frac.substring(1)) == 0) {
                    return LongNode.valueOf(secs);
                }
                return DoubleNode.valueOf(new BigDecimal(secs).add(new BigDecimal("0" + frac)).doubleValue());
            } catch (DateTimeException | NumberFormatException e) {
                throw new JsonQueryException("date \"" + in.textValue() + "\" does not match format \"%Y-%m-%dT%H:%M:%SZ\"");
            }
        }

        static JsonNode toIso8601(JsonNode in) throws JsonQueryException {
            return strftime(in, TextNode.valueOf("%Y-%m-%dT%H:%M:%SZ"), ZoneOffset.UTC);
        }

        /** Seconds since epoch (or broken-down time) to a ZonedDateTime; jq truncates toward zero. */
        private static ZonedDateTime zdt(JsonNode in, ZoneId zone, String fname) throws JsonQueryException {
            if (in.isNumber()) {
                double d = in.doubleValue();
                long secs = (long) d;
                return Instant.ofEpochSecond(secs).atZone(zone);
            }
            if (in.isArray()) {
                return fromBrokenDown(in, fname).atZone(ZoneOffset.UTC);
            }
            throw new JsonQueryException(fname + "/1 requires parsed datetime inputs");
        }

        private static LocalDateTime fromBrokenDown(JsonNode a, String fname) throws JsonQueryException {
            if (a.size() < 6) {
                throw new JsonQueryException(fname + " requires array of 6 numbers");
            }
            for (int i = 0; i < 6; i++) {
                if (!a.get(i).isNumber()) {
                    throw new JsonQueryException(fname + " requires array of 6 numbers");
                }
            }
            LocalDateTime t = LocalDateTime.of(a.get(0).intValue(), 1, 1, 0, 0, 0);
            return t.plusMonths(a.get(1).longValue()).plusDays(a.get(2).longValue() - 1)
                    .plusHours(a.get(3).longValue()).plusMinutes(a.get(4).longValue())
                    .plusSeconds((long) a.get(5).doubleValue());
        }

        static JsonNode gmtime(JsonNode in, ZoneId zone) throws JsonQueryException {
            if (!in.isNumber()) {
                throw new JsonQueryException("gmtime() requires a number");
            }
            double d = in.doubleValue();
            long secs = (long) d;
            ZonedDateTime t = Instant.ofEpochSecond(secs).atZone(zone);
            return brokenDown(t, d - Math.floor(d));
        }

        private static ArrayNode brokenDown(ZonedDateTime t, double frac) {
            ArrayNode a = NF.arrayNode();
            a.add(t.getYear()).add(t.getMonthValue() - 1).add(t.getDayOfMonth()).add(t.getHour())
                    .add(t.getMinute());
            a.add(num(t.getSecond() + frac));
            a.add(t.getDayOfWeek().getValue() % 7).add(t.getDayOfYear() - 1);
            return a;
        }

        static JsonNode mktime(JsonNode in) throws JsonQueryException {
            if (!in.isArray()) {
                throw new JsonQueryException("mktime requires array of 6 numbers");
            }
            return LongNode.valueOf(fromBrokenDown(in, "mktime").toEpochSecond(ZoneOffset.UTC));
        }

        static JsonNode strftime(JsonNode in, JsonNode fmt, ZoneId zone) throws JsonQueryException {
            if (!fmt.isTextual()) {
                throw new JsonQueryException("strftime/1 requires a string format");
            }
            if (!in.isNumber() && !in.isArray()) {
                throw new JsonQueryException("strftime/1 requires parsed datetime inputs");
            }
            ZonedDateTime t = zdt(in, zone, "strftime/1");
            String f = fmt.textValue();
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < f.length(); i++) {
                char c = f.charAt(i);
                if (c != '%' || i + 1 >= f.length()) {
                    b.append(c);
                    continue;
                }
                char d = f.charAt(++i);
                switch (d) {
                    case 'Y' -> b.append(t.getYear());
                    case 'C' -> b.append(String.format("%02d", t.getYear() / 100));
                    case 'y' -> b.append(String.format("%02d", t.getYear() % 100));
                    case 'm' -> b.append(String.format("%02d", t.getMonthValue()));
                    case 'd' -> b.append(String.format("%02d", t.getDayOfMonth()));
                    case 'e' -> b.append(String.format("%2d", t.getDayOfMonth()));
                    case 'H' -> b.append(String.format("%02d", t.getHour()));
                    case 'I' -> b.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                    case 'M' -> b.append(String.format("%02d", t.getMinute()));
                    case 'S' -> b.append(String.format("%02d", t.getSecond()));
                    case 'j' -> b.append(String.format("%03d", t.getDayOfYear()));
                    case 'Z' -> b.append(zone.equals(ZoneOffset.UTC) ? "UTC"
                            : t.getZone().getDisplayName(TextStyle.SHORT, Locale.US));
                    case 'z' -> b.append(t.getOffset().getId().equals("Z") ? "+0000"
                            : t.getOffset().getId().replace(":", ""));
                    case 'a' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US));
                    case 'A' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US));
                    case 'b', 'h' -> b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US));
                    case 'B' -> b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.US));
                    case 'p' -> b.append(t.getHour() < 12 ? "AM" : "PM");
                    case 'c' -> b.append(t.format(DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US)));
                    case 'D' -> b.append(t.format(DateTimeFormatter.ofPattern("MM/dd/yy", Locale.US)));
                    case 'F' -> b.append(t.format(DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.US)));
                    case 'T' -> b.append(t.format(DateTimeFormatter.ofPattern("HH:mm:ss", Locale.US)));
                    case 'R' -> b.append(t.format(DateTimeFormatter.ofPattern("HH:mm", Locale.US)));
                    case 's' -> b.append(t.toEpochSecond());
                    case 'u' -> b.append(t.getDayOfWeek().getValue());
                    case 'w' -> b.append(t.getDayOfWeek().getValue() % 7);
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case '%' -> b.append('%');
                    default -> throw new JsonQueryException("strftime/1: unsupported conversion %" + d);
                }
            }
            return TextNode.valueOf(b.toString());
        }

        /** A subset of C strptime: %Y %m %d %e %H %M %S %j %y %b %B %a %A %Z %z %T %F %D %s %%. */
        static JsonNode strptime(JsonNode in, JsonNode fmt) throws JsonQueryException {
            if (!in.isTextual() || !fmt.isTextual()) {
                throw new JsonQueryException("strptime/1 requires string inputs and arguments");
            }
            String f = fmt.textValue().replace("%T", "%H:%M:%S").replace("%F", "%Y-%m-%d").replace("%D", "%m/%d/%y");
            StringBuilder re = new StringBuilder();
            List<Character> groups = new ArrayList<>();
            for (int i = 0; i < f.length(); i++) {
                char c = f.charAt(i);
                if (c == '%' && i + 1 < f.length()) {
                    char d = f.charAt(++i);
                    String g = switch (d) {
                        case 'Y' -> "([+-]?\\d{1,4})";
                        case 'm', 'd', 'H', 'M', 'S', 'y', 'e' -> "\\s*(\\d{1,2})";
                        case 'j' -> "(\\d{1,3})";
                        case 's' -> "([+-]?\\d+)";
                        case 'b', 'B', 'h', 'a', 'A' -> "([A-Za-z]+)";
                        case 'Z' -> "([A-Za-z]+)";
                        case 'z' -> "(Z|[+-]\\d{2}:?\\d{2})";
                        case '%' -> null;
                        default -> throw new JsonQueryException("strptime/1: unsupported conversion %" + d);
                    };
                    if (g == null) {
                        re.append('%');
                    } else {
                        re.append(g);
                        groups.add(d);
                    }
                } else if (Character.isWhitespace(c)) {
                    re.append("\\s*");
                } else {
                    re.append(Pattern.quote(String.valueOf(c)));
                }
            }
            Matcher m = Pattern.compile(re.toString()).matcher(in.textValue());
            if (!m.matches()) {
                throw new JsonQueryException("date \"" + in.textValue() + "\" does not match format \""
                        + fmt.textValue() + "\"");
            }
            int year = 1900, mon = 0, day = 0, h = 0, mi = 0, sec = 0;
            boolean haveDate = false;
            Long epoch = null;
            for (int gi = 0; gi < groups.size(); gi++) {
                String v = m.group(gi + 1);
                switch (groups.get(gi)) {
                    case 'Y' -> { year = Integer.parseInt(v); haveDate = true; }
                    case 'y' -> { int y = Integer.parseInt(v); year = y < 69 ? 2000 + y : 1900 + y; haveDate = true; }
                    case 'm' -> { mon = Integer.parseInt(v) - 1; haveDate = true; }
                    case 'd', 'e' -> { day = Integer.parseInt(v); haveDate = true; }
                    case 'H' -> h = Integer.parseInt(v);
                    case 'M' -> mi = Integer.parseInt(v);
                    case 'S' -> sec = Integer.parseInt(v);
                    case 's' -> epoch = Long.parseLong(v);
                    case 'b', 'B', 'h' -> {
                        int idx = monthIndex(v);
                        if (idx < 0) {
                            throw new JsonQueryException("date \"" + in.textValue() + "\" does not match format \""
                                    + fmt.textValue() + "\"");
                        }
                        mon = idx;
                        haveDate = true;
                    }
                    default -> {
                        // %a %A %Z %z %j are accepted and ignored like glibc does for the broken-down time
                    }
                }
            }
            if (epoch != null) {
                return brokenDown(Instant.ofEpochSecond(epoch).atZone(ZoneOffset.UTC), 0);
            }
            if (!haveDate || day == 0) {
                // glibc leaves tm_mday 0 when no day was parsed; jq then reports odd wday/yday. Mirror the fields.
                ArrayNode a = NF.arrayNode().add(year).add(mon).add(day).add(h).add(mi).add(sec);
                try {
                    LocalDate ld = LocalDate.of(year, mon + 1, 1).plusDays(day - 1L);
                    a.add(ld.getDayOfWeek().getValue() % 7).add(ld.getDayOfYear() - 1);
                } catch (DateTimeException e) {
                    a.add(0).add(0);
                }
                return a;
            }
            try {
                ZonedDateTime t = LocalDateTime.of(year, mon + 1, day, h, mi, sec).atZone(ZoneOffset.UTC);
                return brokenDown(t, 0);
            } catch (DateTimeException e) {
                throw new JsonQueryException("date \"" + in.textValue() + "\" does not match format \""
                        + fmt.textValue() + "\"");
            }
        }

        private static int monthIndex(String v) {
            String[] names = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
            String l = v.toLowerCase(Locale.ROOT);
            for (int i = 0; i < names.length; i++) {
                if (l.startsWith(names[i])) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** For tests and diagnostics: names of all functions visible in a scope. */
    static List<String> functionNames(Scope scope) {
        List<String> names = new ArrayList<>(scope.getLocalFunctions().keySet());
        names.sort(null);
        return names;
    }

}
