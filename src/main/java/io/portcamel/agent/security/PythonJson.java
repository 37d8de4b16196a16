package io.portcamel.agent.security;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Iterator;
import java.util.Map;

/**
 * Byte-exact re-implementation of Python's {@code json.dumps(obj, separators=(',',':'), ensure_ascii=...)}
 * for Jackson trees.
 * <p>
 * Why: Port signs the incoming message over Python's serialisation (ensure_ascii=False) and port-agent signs the
 * outgoing body with ensure_ascii=True; to verify and to produce the same signature we must emit the same bytes,
 * which Jackson's own writer does not (float formatting, escapes).
 * Integers are written exactly as parsed; floating point nodes (double, float, BigDecimal) like Python's
 * {@code float.__repr__} (shortest round-trip digits, exponent form when the decimal exponent is &lt; -4 or &ge; 16,
 * {@code .0} on integral values).
 */
public final class PythonJson {

    private PythonJson() {
    }

    public static String dumps(JsonNode node, boolean ensureAscii) {
        StringBuilder sb = new StringBuilder(256);
        write(sb, node, ensureAscii);
        return sb.toString();
    }

    private static void write(StringBuilder sb, JsonNode node, boolean ascii) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            sb.append("null");
        } else if (node.isObject()) {
            sb.append('{');
            boolean first = true;
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeString(sb, e.getKey(), ascii);
                sb.append(':');
                write(sb, e.getValue(), ascii);
            }
            sb.append('}');
        } else if (node.isArray()) {
            sb.append('[');
            for (int i = 0; i < node.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                write(sb, node.get(i), ascii);
            }
            sb.append(']');
        } else if (node.isTextual()) {
            writeString(sb, node.textValue(), ascii);
        } else if (node.isBoolean()) {
            sb.append(node.booleanValue() ? "true" : "false");
        } else if (node.isIntegralNumber()) {
            sb.append(node.bigIntegerValue().toString());
        } else if (node.isNumber()) {
            sb.append(floatRepr(node.doubleValue()));
        } else if (node.isBinary()) {
            writeString(sb, node.asText(), ascii);
        } else {
            writeString(sb, node.asText(), ascii);
        }
    }

    /** Python's {@code json.encoder} string escaping (py_encode_basestring[_ascii]). */
    static void writeString(StringBuilder sb, String s, boolean ascii) {
        writeString(sb, s, c -> c < 0x20 || (ascii && c > 0x7e));
    }

    /**
     * A JSON string with the short escapes every serialiser agrees on, and {@code \\uXXXX} (lower-case hex) for the
     * characters {@code unicodeEscaped} names — the one thing Python's json (ensure_ascii) and jq's tojson differ in.
     * Java chars are UTF-16 units, so a surrogate pair comes out as two escapes, as in Python.
     */
    public static void writeString(StringBuilder sb, String s, java.util.function.IntPredicate unicodeEscaped) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (unicodeEscaped.test(c)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Python {@code repr(float)}: shortest round-trip digits, Python's layout. */
    public static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        Digits dg = shortestDigits(d);
        int exp = dg.decpt - 1;
        StringBuilder sb = new StringBuilder();
        if (dg.negative) {
            sb.append('-');
        }
        String ds = dg.digits;
        if (exp < -4 || exp >= 16) {
            sb.append(ds.charAt(0));
            if (ds.length() > 1) {
                sb.append('.').append(ds, 1, ds.length());
            }
            sb.append('e').append(exp < 0 ? '-' : '+');
            int ax = Math.abs(exp);
            if (ax < 10) {
                sb.append('0');
            }
            sb.append(ax);
        } else if (dg.decpt <= 0) {
            sb.append("0.");
            sb.append("0".repeat(-dg.decpt));
            sb.append(ds);
        } else if (dg.decpt >= ds.length()) {
            sb.append(ds).append("0".repeat(dg.decpt - ds.length())).append(".0");
        } else {
            sb.append(ds, 0, dg.decpt).append('.').append(ds, dg.decpt, ds.length());
        }
        return sb.toString();
    }

    /**
     * Shortest decimal digit string that round-trips to {@code d} (what David Gay's dtoa mode 0 gives Python
     * and jq). {@code Double.toString} of Java 17 is not always shortest, hence the explicit search.
     *
     * @param digits   significant digits without leading/trailing zeros
     * @param decpt    position of the decimal point relative to the digits (value = 0.digits * 10^decpt)
     */
    public record Digits(boolean negative, String digits, int decpt) {
    }

    public static Digits shortestDigits(double d) {
        boolean neg = d < 0 || (d == 0 && 1 / d < 0);
        double a = Math.abs(d);
        if (a == 0) {
            return new Digits(neg, "0", 1);
        }
        BigDecimal exact = new BigDecimal(a);
        BigDecimal r = exact;
        for (int p = 1; p <= 17; p++) {
            BigDecimal c = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (c.doubleValue() == a) {
                r = c;
                break;
            }
        }
        r = r.stripTrailingZeros();
        String digits = r.unscaledValue().toString();
        int decpt = digits.length() - r.scale();
        return new Digits(neg, digits, decpt);
    }
}
