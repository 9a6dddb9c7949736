// Java Lucene 8.8 reference for hymir's structured search (classic query syntax, typed fields).
//
// Single-file program: run it with
//   M=/usr/share/maven-repo/org/apache/lucene
//   CP=$M/lucene-core/8.x/lucene-core-8.x.jar:$M/lucene-analyzers-common/8.x/lucene-analyzers-common-8.x.jar:\
//      $M/lucene-queryparser/8.x/lucene-queryparser-8.x.jar:$M/lucene-facet/8.x/lucene-facet-8.x.jar
//   java -cp "$CP" bench/java/LuceneStructured.java <mode> --corpus C.jsonl --index DIR [--schema S.json]
//        [--analyzer english|english-classic] ...
//
// Modes (every mode builds the index in --index DIR when it is absent, and reuses it otherwise):
//   index   (only build)                                              [--rebuild]
//   parse   --queries Q.jsonl | --query "..."    prints qid, kind and the parsed Lucene query
//   count   --queries Q.jsonl [--out FILE]       qid<TAB>total (IndexSearcher.count); -1 = parse error
//   run     --queries Q.jsonl --out RUN.trec [--k 1000] [--sort FIELD[:asc|:desc]]
//   bench   --queries Q.jsonl [--k 10] [--seconds 5] [--warmup 2] [--by-kind true]
//   facets  --field F [--top 10] (--query "..." | --queries Q.jsonl) [--seconds 5] [--warmup 2]
//   range   --field F (--from A --to B | --keep 0.01) [--query "..."] [--seconds 5] [--warmup 2]
//
// See bench/structured/README.md for the index layout and the query semantics.

import java.io.*;
import java.nio.charset.*;
import java.nio.file.*;
import java.time.*;
import java.time.format.DateTimeParseException;
import java.util.*;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoubleDocValuesField;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedSetDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.facet.FacetResult;
import org.apache.lucene.facet.Facets;
import org.apache.lucene.facet.FacetsCollector;
import org.apache.lucene.facet.FacetsConfig;
import org.apache.lucene.facet.LabelAndValue;
import org.apache.lucene.facet.sortedset.DefaultSortedSetDocValuesReaderState;
import org.apache.lucene.facet.sortedset.SortedSetDocValuesFacetCounts;
import org.apache.lucene.facet.sortedset.SortedSetDocValuesFacetField;
import org.apache.lucene.facet.sortedset.SortedSetDocValuesReaderState;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.SortedSetSortField;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.ConstantScoreQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Version;

public class LuceneStructured {

    static final String ID_FIELD = "id";
    static final String DEFAULT_FIELD = "all";
    static final Set<String> RESERVED = Set.of("_id", "id", "title", "text", "all", "domain", "vectors");
    static final float K1 = 0.9f;
    static final float B = 0.4f;
    static final String FACET_PREFIX = "$facet.";

    // ------------------------------------------------------------------ main

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            usage(System.out);
            return;
        }
        String mode = args[0];
        try {
            Opts o = new Opts(Arrays.copyOfRange(args, 1, args.length));
            switch (mode) {
                case "index": indexMode(o); break;
                case "parse": parseMode(o); break;
                case "count": countMode(o); break;
                case "run": runMode(o); break;
                case "bench": benchMode(o); break;
                case "facets": facetsMode(o); break;
                case "range": rangeMode(o); break;
                default:
                    System.err.println("unknown mode: " + mode);
                    usage(System.err);
                    System.exit(2);
            }
        } catch (UsageError e) {
            System.err.println("error: " + e.getMessage());
            usage(System.err);
            System.exit(2);
        } catch (InputError e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    static void usage(PrintStream out) {
        out.println("usage: java -cp \"$CP\" LuceneStructured.java <mode> --corpus C.jsonl --index DIR [--schema S.json]");
        out.println("       [--analyzer english|english-classic] ...");
        out.println("  index   [--rebuild true]");
        out.println("  parse   --queries Q.jsonl | --query \"...\"");
        out.println("  count   --queries Q.jsonl [--out FILE]");
        out.println("  run     --queries Q.jsonl --out RUN.trec [--k 1000] [--sort FIELD[:asc|:desc]]");
        out.println("  bench   --queries Q.jsonl [--k 10] [--seconds 5] [--warmup 2] [--by-kind true]");
        out.println("  facets  --field F [--top 10] (--query \"...\" | --queries Q.jsonl) [--seconds 5] [--warmup 2]");
        out.println("  range   --field F (--from A --to B | --keep FRACTION) [--query \"...\"] [--seconds 5] [--warmup 2]");
        out.println("The index is built in DIR when absent (single thread, one segment, docid = corpus order).");
    }

    static final class UsageError extends RuntimeException {
        UsageError(String m) { super(m); }
    }

    static final class InputError extends RuntimeException {
        InputError(String m) { super(m); }
    }

    /** --key value options (or --key=value); a key may repeat (the last value wins for get). */
    static final class Opts {
        final Map<String, List<String>> m = new LinkedHashMap<>();
        final Set<String> used = new HashSet<>();

        Opts(String[] a) {
            for (int i = 0; i < a.length; i++) {
                String k = a[i];
                if (!k.startsWith("--")) throw new UsageError("unexpected argument: " + k);
                String v;
                int eq = k.indexOf('=');
                if (eq > 0) {
                    v = k.substring(eq + 1);
                    k = k.substring(0, eq);
                } else {
                    if (i + 1 >= a.length) throw new UsageError("missing value for " + k);
                    v = a[++i];
                }
                m.computeIfAbsent(k.substring(2), x -> new ArrayList<>()).add(v);
            }
        }

        String get(String k, String def) {
            used.add(k);
            List<String> l = m.get(k);
            return l == null ? def : l.get(l.size() - 1);
        }

        String req(String k) {
            String v = get(k, null);
            if (v == null) throw new UsageError("--" + k + " is required");
            return v;
        }

        int getInt(String k, int def) {
            String v = get(k, null);
            if (v == null) return def;
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new UsageError("--" + k + " expects an integer, got " + v);
            }
        }

        double getDouble(String k, double def) {
            String v = get(k, null);
            if (v == null) return def;
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new UsageError("--" + k + " expects a number, got " + v);
            }
        }

        boolean getBool(String k, boolean def) {
            String v = get(k, null);
            if (v == null) return def;
            if (v.equals("true") || v.equals("1") || v.equals("yes")) return true;
            if (v.equals("false") || v.equals("0") || v.equals("no")) return false;
            throw new UsageError("--" + k + " expects true or false, got " + v);
        }

        void checkAllUsed() {
            for (String k : m.keySet())
                if (!used.contains(k)) throw new UsageError("unknown option --" + k);
        }
    }

    // ------------------------------------------------------------------ schema

    enum Type { KEYWORD, TEXT, INT64, DOUBLE, DATE, BOOL }

    static final class FieldSpec {
        final String name;
        final Type type;
        final boolean facet, sort;
        FieldSpec(String name, Type type, boolean facet, boolean sort) {
            this.name = name; this.type = type; this.facet = facet; this.sort = sort;
        }
        boolean numeric() { return type == Type.INT64 || type == Type.DATE || type == Type.DOUBLE; }
    }

    /** {"fields": {"name": {"type": "keyword|text|int64|double|date|bool", "facet": bool, "sort": bool}}} */
    static Map<String, FieldSpec> readSchema(String path) throws IOException {
        Map<String, FieldSpec> out = new LinkedHashMap<>();
        if (path == null) return out;
        String s;
        try {
            s = Files.readString(Paths.get(path), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new InputError("no such file: " + path);
        }
        Object v;
        try {
            v = new Json(s.replace('\n', ' ').replace('\r', ' ')).parseDocument();
        } catch (Json.Error e) {
            throw new InputError(path + ": column " + e.column + " (newlines counted as spaces): " + e.getMessage());
        }
        if (!(v instanceof Map) || !(((Map<?, ?>) v).get("fields") instanceof Map))
            throw new InputError(path + ": expected {\"fields\": {...}}");
        for (Map.Entry<?, ?> e : ((Map<?, ?>) ((Map<?, ?>) v).get("fields")).entrySet()) {
            String name = (String) e.getKey();
            if (RESERVED.contains(name) || name.startsWith("$"))
                throw new InputError(path + ": field name \"" + name + "\" is reserved");
            if (!(e.getValue() instanceof Map)) throw new InputError(path + ": field " + name + ": expected an object");
            Map<?, ?> f = (Map<?, ?>) e.getValue();
            Object t = f.get("type");
            if (!(t instanceof String)) throw new InputError(path + ": field " + name + ": \"type\" is required");
            Type type;
            switch ((String) t) {
                case "keyword": type = Type.KEYWORD; break;
                case "text": type = Type.TEXT; break;
                case "int64": case "long": type = Type.INT64; break;
                case "double": type = Type.DOUBLE; break;
                case "date": type = Type.DATE; break;
                case "bool": case "boolean": type = Type.BOOL; break;
                default: throw new InputError(path + ": field " + name + ": unknown type \"" + t + "\"");
            }
            boolean facet = Boolean.TRUE.equals(f.get("facet"));
            boolean sort = Boolean.TRUE.equals(f.get("sort"));
            if (facet && type != Type.KEYWORD && type != Type.BOOL)
                throw new InputError(path + ": field " + name + ": facets are supported on keyword and bool fields");
            out.put(name, new FieldSpec(name, type, facet, sort));
        }
        return out;
    }

    /** ISO 8601 date or date-time (no zone = UTC), or an integer (epoch milliseconds). */
    static long parseDate(String s) {
        String t = s.trim();
        if (t.matches("-?\\d+") && !t.matches("\\d{4}")) return Long.parseLong(t);
        try { return Instant.parse(t).toEpochMilli(); } catch (DateTimeParseException ignored) { }
        try { return OffsetDateTime.parse(t).toInstant().toEpochMilli(); } catch (DateTimeParseException ignored) { }
        try { return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC).toEpochMilli(); } catch (DateTimeParseException ignored) { }
        try { return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli(); } catch (DateTimeParseException ignored) { }
        if (t.matches("\\d{4}-\\d{2}"))
            return YearMonth.parse(t).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        if (t.matches("\\d{4}"))
            return Year.parse(t).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        throw new NumberFormatException("not an ISO 8601 date: " + s);
    }

    static long parseLong(String s) {
        String t = s.trim();
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            double d = Double.parseDouble(t); // 1e3, 5000.0
            if (d != Math.rint(d) || Math.abs(d) > 9.007199254740992E15)
                throw new NumberFormatException("not an integer: " + s);
            return (long) d;
        }
    }

    // ------------------------------------------------------------------ JSON input

    /** Reads a jsonl file strictly (UTF-8, one JSON object a line, blank lines skipped). */
    interface LineHandler {
        void accept(Map<String, Object> obj, String where);
    }

    static void readJsonl(Path file, LineHandler h) throws IOException {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        long lineNo = 0;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream(1 << 12);
            boolean eof = false;
            while (!eof) {
                // read one raw line (bytes up to '\n'), so that UTF-8 errors get the right line number
                buf.reset();
                int c;
                while ((c = in.read()) != -1 && c != '\n') buf.write(c);
                if (c == -1) {
                    eof = true;
                    if (buf.size() == 0) break;
                }
                lineNo++;
                String where = file + ":" + lineNo;
                String line;
                try {
                    line = dec.decode(java.nio.ByteBuffer.wrap(buf.toByteArray())).toString();
                } catch (CharacterCodingException e) {
                    throw new InputError(where + ": invalid UTF-8 (" + e + ")");
                }
                if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
                if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
                if (line.isBlank()) continue;
                Object v;
                try {
                    v = new Json(line).parseDocument();
                } catch (Json.Error e) {
                    throw new InputError(where + ":" + e.column + ": " + e.getMessage());
                }
                if (!(v instanceof Map)) throw new InputError(where + ": expected a JSON object");
                @SuppressWarnings("unchecked")
                Map<String, Object> obj = (Map<String, Object>) v;
                h.accept(obj, where);
            }
        } catch (NoSuchFileException e) {
            throw new InputError("no such file: " + file);
        }
    }

    // ------------------------------------------------------------------ JSON (the same parser as LuceneBaseline.java)

    /**
     * Small strict JSON parser (RFC 8259). Objects become LinkedHashMap (last duplicate key wins),
     * arrays ArrayList, strings String, numbers Json.Num (text kept), true/false Boolean, null Json.NULL.
     * \\uXXXX escapes are decoded; a high+low surrogate escape pair yields the supplementary character,
     * an unpaired surrogate escape becomes U+FFFD. Raw control characters inside strings are errors.
     */
    static final class Json {
        static final Object NULL = new Object() {
            @Override public String toString() { return "null"; }
        };

        static final class Num {
            final String text;
            Num(String t) { text = t; }
            double value() { return Double.parseDouble(text); }
            @Override public String toString() { return text; }
        }

        static final class Error extends RuntimeException {
            final int column;
            Error(String m, int column) { super(m); this.column = column; }
        }

        static final int MAX_DEPTH = 512;
        final String s;
        int p = 0;
        int depth = 0;

        Json(String s) { this.s = s; }

        Error err(String m) {
            // column is 1-based, counted in UTF-16 code units of the decoded line
            return new Error(m, p + 1);
        }

        Object parseDocument() {
            ws();
            Object v = value();
            ws();
            if (p != s.length()) throw err("unexpected trailing characters");
            return v;
        }

        void ws() {
            while (p < s.length()) {
                char c = s.charAt(p);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') p++;
                else break;
            }
        }

        Object value() {
            if (p >= s.length()) throw err("unexpected end of input, expected a value");
            char c = s.charAt(p);
            switch (c) {
                case '{': return object();
                case '[': return array();
                case '"': return string();
                case 't': literal("true"); return Boolean.TRUE;
                case 'f': literal("false"); return Boolean.FALSE;
                case 'n': literal("null"); return NULL;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw err("unexpected character '" + printable(c) + "'");
            }
        }

        static String printable(char c) {
            return c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c);
        }

        void literal(String w) {
            if (!s.startsWith(w, p)) throw err("invalid literal, expected " + w);
            p += w.length();
        }

        Map<String, Object> object() {
            if (++depth > MAX_DEPTH) throw err("nesting too deep");
            p++; // {
            Map<String, Object> m = new LinkedHashMap<>();
            ws();
            if (p < s.length() && s.charAt(p) == '}') {
                p++;
                depth--;
                return m;
            }
            while (true) {
                ws();
                if (p >= s.length() || s.charAt(p) != '"') throw err("expected a string key");
                String k = string();
                ws();
                if (p >= s.length() || s.charAt(p) != ':') throw err("expected ':'");
                p++;
                ws();
                m.put(k, value());
                ws();
                if (p >= s.length()) throw err("unexpected end of input in object");
                char c = s.charAt(p++);
                if (c == ',') continue;
                if (c == '}') break;
                p--;
                throw err("expected ',' or '}'");
            }
            depth--;
            return m;
        }

        List<Object> array() {
            if (++depth > MAX_DEPTH) throw err("nesting too deep");
            p++; // [
            List<Object> l = new ArrayList<>();
            ws();
            if (p < s.length() && s.charAt(p) == ']') {
                p++;
                depth--;
                return l;
            }
            while (true) {
                ws();
                l.add(value());
                ws();
                if (p >= s.length()) throw err("unexpected end of input in array");
                char c = s.charAt(p++);
                if (c == ',') continue;
                if (c == ']') break;
                p--;
                throw err("expected ',' or ']'");
            }
            depth--;
            return l;
        }

        Num number() {
            int start = p;
            if (s.charAt(p) == '-') p++;
            if (p >= s.length()) throw err("invalid number");
            char c = s.charAt(p);
            if (c == '0') {
                p++;
            } else if (c >= '1' && c <= '9') {
                while (p < s.length() && isDigit(s.charAt(p))) p++;
            } else {
                throw err("invalid number");
            }
            if (p < s.length() && s.charAt(p) == '.') {
                p++;
                if (p >= s.length() || !isDigit(s.charAt(p))) throw err("invalid number: digit expected after '.'");
                while (p < s.length() && isDigit(s.charAt(p))) p++;
            }
            if (p < s.length() && (s.charAt(p) == 'e' || s.charAt(p) == 'E')) {
                p++;
                if (p < s.length() && (s.charAt(p) == '+' || s.charAt(p) == '-')) p++;
                if (p >= s.length() || !isDigit(s.charAt(p))) throw err("invalid number: digit expected in exponent");
                while (p < s.length() && isDigit(s.charAt(p))) p++;
            }
            return new Num(s.substring(start, p));
        }

        static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

        String string() {
            p++; // opening quote
            int start = p;
            // fast path: no escapes
            while (p < s.length()) {
                char c = s.charAt(p);
                if (c == '"') {
                    String r = s.substring(start, p);
                    p++;
                    return r;
                }
                if (c == '\\') break;
                if (c < 0x20) throw err("raw control character in string");
                p++;
            }
            StringBuilder sb = new StringBuilder(s.length() - start);
            sb.append(s, start, p);
            while (true) {
                if (p >= s.length()) throw err("unterminated string");
                char c = s.charAt(p);
                if (c == '"') {
                    p++;
                    return sb.toString();
                }
                if (c < 0x20) throw err("raw control character in string");
                if (c != '\\') {
                    sb.append(c);
                    p++;
                    continue;
                }
                p++;
                if (p >= s.length()) throw err("unterminated escape");
                char e = s.charAt(p++);
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u': {
                        char u = hex4();
                        if (Character.isHighSurrogate(u)) {
                            if (p + 6 <= s.length() && s.charAt(p) == '\\' && s.charAt(p + 1) == 'u') {
                                int save = p;
                                p += 2;
                                char lo = hex4();
                                if (Character.isLowSurrogate(lo)) {
                                    sb.append(u).append(lo);
                                } else {
                                    sb.append('\uFFFD');
                                    p = save; // re-read the second escape on its own
                                }
                            } else {
                                sb.append('\uFFFD');
                            }
                        } else if (Character.isLowSurrogate(u)) {
                            sb.append('\uFFFD');
                        } else {
                            sb.append(u);
                        }
                        break;
                    }
                    default:
                        p--;
                        throw err("invalid escape '\\" + printable(e) + "'");
                }
            }
        }

        char hex4() {
            if (p + 4 > s.length()) throw err("truncated \\u escape");
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int d = Character.digit(s.charAt(p + i), 16);
                if (d < 0 || s.charAt(p + i) > 0x7f) throw err("invalid hex digit in \\u escape");
                v = v * 16 + d;
            }
            p += 4;
            return (char) v;
        }
    }


    static String idOf(Map<String, Object> o, String where) {
        Object v = o.get("_id");
        if (v == null) throw new InputError(where + ": missing \"_id\"");
        if (v instanceof String) return (String) v;
        if (v instanceof Json.Num) return ((Json.Num) v).text;
        throw new InputError(where + ": \"_id\" must be a string");
    }

    static String strOf(Map<String, Object> o, String key, String where) {
        Object v = o.get(key);
        if (v == null || v == Json.NULL) return "";
        if (v instanceof String) return (String) v;
        throw new InputError(where + ": \"" + key + "\" must be a string");
    }

    static final class Qry {
        final String id, text, kind;
        Qry(String id, String text, String kind) { this.id = id; this.text = text; this.kind = kind; }
    }

    static List<Qry> readQueries(Opts o) throws IOException {
        String file = o.get("queries", null);
        String one = o.get("query", null);
        List<Qry> qs = new ArrayList<>();
        if (one != null) qs.add(new Qry("q", one, "cli"));
        if (file != null) {
            Set<String> seen = new HashSet<>();
            readJsonl(Paths.get(file), (obj, where) -> {
                String id = idOf(obj, where);
                if (!seen.add(id)) throw new InputError(where + ": duplicate query id " + id);
                String kind = obj.get("kind") instanceof String ? (String) obj.get("kind") : "query";
                qs.add(new Qry(id, strOf(obj, "text", where), kind));
            });
        }
        if (qs.isEmpty()) throw new UsageError("--queries or --query is required");
        return qs;
    }

    // ------------------------------------------------------------------ index

    /**
     * "english": Lucene's EnglishAnalyzer (StandardTokenizer = UAX#29, EnglishPossessive, LowerCase,
     * Stop(33), SetKeywordMarker, PorterStem). "english-classic": the same chain on ClassicTokenizer +
     * ClassicFilter, the Lucene 3.0 grammar that hymir's Lucene++ analyser uses, so that tokenization
     * differences do not hide query differences.
     */
    static Analyzer textAnalyzer(String kind) {
        if (kind.equals("english")) return new EnglishAnalyzer();
        if (!kind.equals("english-classic")) throw new UsageError("--analyzer english|english-classic");
        return new Analyzer() {
            @Override
            protected TokenStreamComponents createComponents(String field) {
                org.apache.lucene.analysis.standard.ClassicTokenizer src =
                        new org.apache.lucene.analysis.standard.ClassicTokenizer();
                org.apache.lucene.analysis.TokenStream t = new org.apache.lucene.analysis.standard.ClassicFilter(src);
                t = new org.apache.lucene.analysis.en.EnglishPossessiveFilter(t);
                t = new org.apache.lucene.analysis.LowerCaseFilter(t);
                t = new org.apache.lucene.analysis.StopFilter(t, EnglishAnalyzer.ENGLISH_STOP_WORDS_SET);
                t = new org.apache.lucene.analysis.en.PorterStemFilter(t);
                return new TokenStreamComponents(src, t);
            }

            @Override
            protected org.apache.lucene.analysis.TokenStream normalize(String field,
                                                                      org.apache.lucene.analysis.TokenStream in) {
                return new org.apache.lucene.analysis.LowerCaseFilter(in);
            }
        };
    }

    static Analyzer newAnalyzer(Map<String, FieldSpec> schema, String kind) {
        Map<String, Analyzer> per = new HashMap<>();
        for (FieldSpec f : schema.values())
            if (f.type == Type.KEYWORD || f.type == Type.BOOL) per.put(f.name, new KeywordAnalyzer());
        return new PerFieldAnalyzerWrapper(textAnalyzer(kind), per);
    }

    static FacetsConfig facetsConfig(Map<String, FieldSpec> schema) {
        FacetsConfig c = new FacetsConfig();
        for (FieldSpec f : schema.values()) {
            if (!f.facet) continue;
            c.setMultiValued(f.name, true);
            c.setIndexFieldName(f.name, FACET_PREFIX + f.name); // one doc-values field per dimension
        }
        return c;
    }

    static List<String> scalarList(Object v, FieldSpec f, String where) {
        List<String> out = new ArrayList<>();
        if (v == null || v == Json.NULL) return out;
        List<?> items = v instanceof List ? (List<?>) v : List.of(v);
        for (Object x : items) {
            if (x == null || x == Json.NULL) continue;
            if (x instanceof String) out.add((String) x);
            else if (x instanceof Json.Num) out.add(((Json.Num) x).text);
            else if (x instanceof Boolean) out.add(x.toString());
            else throw new InputError(where + ": field " + f.name + ": expected a string, number, bool or an array of them");
        }
        return out;
    }

    static String normBool(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("true") || t.equals("1") || t.equals("yes")) return "true";
        if (t.equals("false") || t.equals("0") || t.equals("no")) return "false";
        return null;
    }

    /** Adds the typed fields of one corpus object to d. */
    static void addTyped(Document d, Map<String, Object> obj, Map<String, FieldSpec> schema, String where) {
        for (FieldSpec f : schema.values()) {
            List<String> vals = scalarList(obj.get(f.name), f, where);
            if (vals.isEmpty()) continue;
            if (f.numeric() && vals.size() > 1)
                throw new InputError(where + ": field " + f.name + ": multi-valued numeric fields are not supported");
            for (String s : vals) {
                try {
                    switch (f.type) {
                        case KEYWORD:
                            if (s.isEmpty()) break;
                            d.add(new StringField(f.name, s, Field.Store.NO));
                            if (f.facet) d.add(new SortedSetDocValuesFacetField(f.name, s));
                            if (f.sort) d.add(new SortedSetDocValuesField(f.name, new org.apache.lucene.util.BytesRef(s)));
                            break;
                        case BOOL: {
                            String b = normBool(s);
                            if (b == null) throw new InputError(where + ": field " + f.name + ": not a bool: " + s);
                            d.add(new StringField(f.name, b, Field.Store.NO));
                            if (f.facet) d.add(new SortedSetDocValuesFacetField(f.name, b));
                            if (f.sort) d.add(new SortedSetDocValuesField(f.name, new org.apache.lucene.util.BytesRef(b)));
                            break;
                        }
                        case TEXT:
                            d.add(new TextField(f.name, s, Field.Store.NO));
                            break;
                        case INT64:
                        case DATE: {
                            long v = f.type == Type.DATE ? parseDate(s) : parseLong(s);
                            d.add(new LongPoint(f.name, v));
                            d.add(new NumericDocValuesField(f.name, v));
                            d.add(new StoredField(f.name, v));
                            break;
                        }
                        case DOUBLE: {
                            double v = Double.parseDouble(s.trim());
                            if (Double.isNaN(v)) throw new NumberFormatException("NaN");
                            d.add(new DoublePoint(f.name, v));
                            d.add(new DoubleDocValuesField(f.name, v));
                            d.add(new StoredField(f.name, v));
                            break;
                        }
                    }
                } catch (NumberFormatException e) {
                    throw new InputError(where + ": field " + f.name + " (" + f.type.name().toLowerCase(Locale.ROOT)
                            + "): " + e.getMessage());
                }
            }
        }
    }

    static String fingerprint(Path corpus, String schemaPath, String analyzer) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("v1 analyzer=").append(analyzer).append(" corpus=").append(corpus.toAbsolutePath().normalize())
          .append(" bytes=").append(Files.size(corpus))
          .append(" mtime=").append(Files.getLastModifiedTime(corpus).toMillis());
        if (schemaPath != null) {
            byte[] b = Files.readAllBytes(Paths.get(schemaPath));
            sb.append(" schema=").append(Arrays.hashCode(b)).append('/').append(b.length);
        } else {
            sb.append(" schema=none");
        }
        return sb.toString();
    }

    static void buildIndex(Path dirPath, Path corpus, Map<String, FieldSpec> schema, String analyzer, String fp)
            throws IOException {
        long t0 = System.nanoTime();
        Analyzer a = newAnalyzer(schema, analyzer);
        FacetsConfig fc = facetsConfig(schema);
        boolean anyFacet = schema.values().stream().anyMatch(f -> f.facet);
        IndexWriterConfig c = new IndexWriterConfig(a);
        c.setSimilarity(new BM25Similarity(K1, B));
        c.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        c.setRAMBufferSizeMB(128);
        c.setUseCompoundFile(false);
        long[] n = {0};
        Files.createDirectories(dirPath);
        try (Directory dir = FSDirectory.open(dirPath); IndexWriter w = new IndexWriter(dir, c)) {
            Set<String> seen = new HashSet<>();
            readJsonl(corpus, (obj, where) -> {
                String id = idOf(obj, where);
                if (!seen.add(id)) throw new InputError(where + ": duplicate document id " + id);
                String title = strOf(obj, "title", where), text = strOf(obj, "text", where);
                Document d = new Document();
                d.add(new StringField(ID_FIELD, id, Field.Store.YES));
                d.add(new TextField("title", title, Field.Store.NO));
                d.add(new TextField("text", text, Field.Store.NO));
                d.add(new TextField(DEFAULT_FIELD, title + " " + text, Field.Store.NO));
                addTyped(d, obj, schema, where);
                try {
                    w.addDocument(anyFacet ? fc.build(d) : d);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                n[0]++;
            });
            w.forceMerge(1); // one segment: docid = corpus order
            w.setLiveCommitData(Map.of("hymir-structured", fp).entrySet());
            w.commit();
        }
        System.err.printf(Locale.ROOT, "lucene-structured index docs=%d fields=%d analyzer=%s seconds=%.2f bytes=%d "
                + "dir=%s%n", n[0], schema.size(), analyzer, (System.nanoTime() - t0) / 1e9, dirBytes(dirPath), dirPath);
    }

    static long dirBytes(Path p) throws IOException {
        long n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
            for (Path f : ds) if (Files.isRegularFile(f)) n += Files.size(f);
        }
        return n;
    }

    /** Opened index plus what the modes need. */
    static final class Ctx implements Closeable {
        Map<String, FieldSpec> schema;
        Analyzer analyzer;
        Directory dir;
        DirectoryReader reader;
        IndexSearcher searcher;

        StructuredParser parser() { return new StructuredParser(analyzer, schema); }

        @Override public void close() throws IOException {
            if (reader != null) reader.close();
            if (dir != null) dir.close();
        }
    }

    static Ctx open(Opts o) throws IOException {
        Path corpus = Paths.get(o.req("corpus"));
        Path idx = Paths.get(o.req("index"));
        String schemaPath = o.get("schema", null);
        boolean rebuild = o.getBool("rebuild", false);
        String kind = o.get("analyzer", "english");
        if (!Files.isRegularFile(corpus)) throw new InputError("no such file: " + corpus);
        Ctx c = new Ctx();
        c.schema = readSchema(schemaPath);
        c.analyzer = newAnalyzer(c.schema, kind);
        String fp = fingerprint(corpus, schemaPath, kind);
        String have = null;
        if (Files.isDirectory(idx)) {
            try (Directory d = FSDirectory.open(idx)) {
                if (DirectoryReader.indexExists(d))
                    have = SegmentInfos.readLatestCommit(d).getUserData().get("hymir-structured");
            }
        }
        if (rebuild || have == null || !have.equals(fp)) {
            if (have != null && !rebuild)
                System.err.println("lucene-structured: " + idx + " was built from other input; rebuilding");
            buildIndex(idx, corpus, c.schema, kind, fp);
        }
        c.dir = FSDirectory.open(idx);
        c.reader = DirectoryReader.open(c.dir);
        c.searcher = new IndexSearcher(c.reader); // no executor: one query = one thread
        c.searcher.setSimilarity(new BM25Similarity(K1, B));
        c.searcher.setQueryCache(null); // every query is fresh work
        BooleanQuery.setMaxClauseCount(1 << 20);
        return c;
    }

    // ------------------------------------------------------------------ query parser

    /**
     * The classic QueryParser (default field "all", default operator OR) with typed fields:
     * a keyword/bool field's term is an exact TermQuery (not analysed) with a constant score; on an int64/date/double
     * field `f:[a TO b]`, `f:{a TO b}`, `f:[a TO *]`, `f:N`, `f:>N`, `f:>=N`, `f:<N`, `f:<=N`
     * become point queries (LongPoint / DoublePoint).
     */
    static final class StructuredParser extends QueryParser {
        final Map<String, FieldSpec> schema;

        StructuredParser(Analyzer a, Map<String, FieldSpec> schema) {
            super(DEFAULT_FIELD, a);
            this.schema = schema;
            setDefaultOperator(QueryParser.OR_OPERATOR);
        }

        @Override
        protected Query getFieldQuery(String field, String text, boolean quoted) throws ParseException {
            FieldSpec f = schema.get(field);
            if (f == null || f.type == Type.TEXT) return super.getFieldQuery(field, text, quoted);
            // Exact values filter and score a constant (the clause's boost), as hymir scores them
            // (and as a typed keyword field is queried in Lucene-based engines): a TermQuery
            // inside a ConstantScoreQuery, not BM25 over the values.
            if (f.type == Type.KEYWORD) return new ConstantScoreQuery(new TermQuery(new Term(field, text)));
            if (f.type == Type.BOOL) {
                String b = normBool(text);
                return b == null ? new MatchNoDocsQuery("not a bool: " + text)
                                 : new ConstantScoreQuery(new TermQuery(new Term(field, b)));
            }
            String t = text.trim();
            if (!quoted) {
                if (t.startsWith(">=")) return numericRange(f, t.substring(2), null, true, true);
                if (t.startsWith("<=")) return numericRange(f, null, t.substring(2), true, true);
                if (t.startsWith(">")) return numericRange(f, t.substring(1), null, false, true);
                if (t.startsWith("<")) return numericRange(f, null, t.substring(1), true, false);
            }
            return numericRange(f, t, t, true, true);
        }

        @Override
        protected Query getRangeQuery(String field, String a, String b, boolean si, boolean ei) throws ParseException {
            FieldSpec f = schema.get(field);
            if (f == null || f.type == Type.TEXT) return super.getRangeQuery(field, a, b, si, ei);
            if (f.numeric()) return numericRange(f, a, b, si, ei);
            // keyword / bool: a term range on the raw (not normalised) values
            return org.apache.lucene.search.TermRangeQuery.newStringRange(field,
                    a == null || a.equals("*") ? null : a, b == null || b.equals("*") ? null : b, si, ei);
        }

        Query numericRange(FieldSpec f, String a, String b, boolean si, boolean ei) throws ParseException {
            boolean openLo = a == null || a.trim().equals("*") || a.trim().isEmpty();
            boolean openHi = b == null || b.trim().equals("*") || b.trim().isEmpty();
            try {
                if (f.type == Type.DOUBLE) {
                    double lo = openLo ? Double.NEGATIVE_INFINITY : Double.parseDouble(a.trim());
                    double hi = openHi ? Double.POSITIVE_INFINITY : Double.parseDouble(b.trim());
                    if (!openLo && !si) lo = DoublePoint.nextUp(lo);
                    if (!openHi && !ei) hi = DoublePoint.nextDown(hi);
                    return DoublePoint.newRangeQuery(f.name, lo, hi);
                }
                long lo = openLo ? Long.MIN_VALUE : (f.type == Type.DATE ? parseDate(a) : parseLong(a));
                long hi = openHi ? Long.MAX_VALUE : (f.type == Type.DATE ? parseDate(b) : parseLong(b));
                if (!openLo && !si) {
                    if (lo == Long.MAX_VALUE) return new MatchNoDocsQuery("empty range");
                    lo++;
                }
                if (!openHi && !ei) {
                    if (hi == Long.MIN_VALUE) return new MatchNoDocsQuery("empty range");
                    hi--;
                }
                return LongPoint.newRangeQuery(f.name, lo, hi); // lo > hi matches nothing
            } catch (NumberFormatException e) {
                throw new ParseException("field " + f.name + " (" + f.type.name().toLowerCase(Locale.ROOT) + "): "
                        + e.getMessage());
            }
        }

        void noMultiTerm(String field, String what) throws ParseException {
            FieldSpec f = schema.get(field);
            if (f != null && f.numeric())
                throw new ParseException(what + " queries are not supported on numeric field " + field);
        }

        @Override
        protected Query getPrefixQuery(String field, String termStr) throws ParseException {
            noMultiTerm(field, "prefix");
            FieldSpec f = schema.get(field);
            if (f != null && (f.type == Type.KEYWORD || f.type == Type.BOOL))
                return newPrefixQuery(new Term(field, termStr)); // raw value, not lower-cased
            return super.getPrefixQuery(field, termStr);
        }

        @Override
        protected Query getWildcardQuery(String field, String termStr) throws ParseException {
            noMultiTerm(field, "wildcard");
            return super.getWildcardQuery(field, termStr);
        }

        @Override
        protected Query getFuzzyQuery(String field, String termStr, float minSimilarity) throws ParseException {
            noMultiTerm(field, "fuzzy");
            return super.getFuzzyQuery(field, termStr, minSimilarity);
        }

        @Override
        protected Query getRegexpQuery(String field, String termStr) throws ParseException {
            noMultiTerm(field, "regexp");
            return super.getRegexpQuery(field, termStr);
        }
    }

    /** Parses every query; a parse error leaves null and a message in errs. */
    static Query[] parseAll(Ctx c, List<Qry> qs, Map<String, String> errs) {
        Query[] out = new Query[qs.size()];
        for (int i = 0; i < qs.size(); i++) {
            StructuredParser p = c.parser(); // fresh parser per query: the classic parser keeps state
            try {
                out[i] = p.parse(qs.get(i).text);
            } catch (ParseException | RuntimeException e) {
                String m = e.getMessage() == null ? e.toString() : e.getMessage();
                errs.put(qs.get(i).id, m.replace('\n', ' '));
            }
        }
        return out;
    }

    static PrintStream stdout() {
        return new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ modes

    static void indexMode(Opts o) throws Exception {
        try (Ctx c = open(o)) {
            o.checkAllUsed();
            System.out.printf(Locale.ROOT, "lucene-structured index docs=%d lucene=%s%n", c.reader.numDocs(), Version.LATEST);
        }
    }

    static void parseMode(Opts o) throws Exception {
        try (Ctx c = open(o)) {
            List<Qry> qs = readQueries(o);
            o.checkAllUsed();
            Map<String, String> errs = new HashMap<>();
            Query[] q = parseAll(c, qs, errs);
            PrintStream out = stdout();
            for (int i = 0; i < q.length; i++)
                out.println(qs.get(i).id + "\t" + qs.get(i).kind + "\t"
                        + (q[i] == null ? "ERROR " + errs.get(qs.get(i).id) : q[i].toString()));
            out.flush();
        }
    }

    static void countMode(Opts o) throws Exception {
        try (Ctx c = open(o)) {
            List<Qry> qs = readQueries(o);
            String outPath = o.get("out", null);
            o.checkAllUsed();
            Map<String, String> errs = new HashMap<>();
            Query[] q = parseAll(c, qs, errs);
            long t0 = System.nanoTime();
            long[] counts = new long[q.length];
            for (int i = 0; i < q.length; i++) counts[i] = q[i] == null ? -1 : c.searcher.count(q[i]);
            double secs = (System.nanoTime() - t0) / 1e9;
            try (PrintStream out = outPath == null ? stdout()
                    : new PrintStream(new FileOutputStream(outPath), false, StandardCharsets.UTF_8)) {
                for (int i = 0; i < q.length; i++) out.println(qs.get(i).id + "\t" + counts[i]);
                out.flush();
            }
            for (Map.Entry<String, String> e : errs.entrySet())
                System.err.println("parse error: " + e.getKey() + ": " + e.getValue());
            System.err.printf(Locale.ROOT, "lucene-structured count docs=%d queries=%d parse_errors=%d seconds=%.3f%n",
                    c.reader.numDocs(), q.length, errs.size(), secs);
            // distribution by kind
            Map<String, List<Long>> byKind = new TreeMap<>();
            for (int i = 0; i < q.length; i++)
                byKind.computeIfAbsent(qs.get(i).kind, k -> new ArrayList<>()).add(counts[i]);
            System.err.printf(Locale.ROOT, "%-14s %6s %6s %6s %9s %8s %8s %8s%n",
                    "kind", "n", "errors", "zero", "mean", "median", "p90", "max");
            for (Map.Entry<String, List<Long>> e : byKind.entrySet()) {
                List<Long> v = new ArrayList<>();
                int err = 0, zero = 0;
                for (long x : e.getValue()) {
                    if (x < 0) err++;
                    else { v.add(x); if (x == 0) zero++; }
                }
                Collections.sort(v);
                double mean = v.stream().mapToLong(Long::longValue).average().orElse(Double.NaN);
                System.err.printf(Locale.ROOT, "%-14s %6d %6d %6d %9.1f %8s %8s %8s%n", e.getKey(), e.getValue().size(),
                        err, zero, mean, v.isEmpty() ? "-" : v.get(v.size() / 2),
                        v.isEmpty() ? "-" : v.get(Math.min(v.size() - 1, (int) Math.ceil(0.9 * v.size()) - 1)),
                        v.isEmpty() ? "-" : v.get(v.size() - 1));
            }
        }
    }

    static String fmtScore(float s) {
        String t = Float.toString(s);
        if (t.indexOf('E') >= 0) t = new java.math.BigDecimal(t).toPlainString();
        return t;
    }

    static Sort parseSort(String spec, Map<String, FieldSpec> schema) {
        if (spec == null) return null;
        String name = spec;
        boolean desc = false;
        int colon = spec.lastIndexOf(':');
        if (colon > 0) {
            String dir = spec.substring(colon + 1);
            if (!dir.equals("asc") && !dir.equals("desc")) throw new UsageError("--sort FIELD[:asc|:desc]");
            desc = dir.equals("desc");
            name = spec.substring(0, colon);
        }
        FieldSpec f = schema.get(name);
        if (f == null) throw new UsageError("--sort: no field " + name + " in the schema");
        SortField sf;
        switch (f.type) {
            case INT64: case DATE: sf = new SortField(name, SortField.Type.LONG, desc); break;
            case DOUBLE: sf = new SortField(name, SortField.Type.DOUBLE, desc); break;
            case KEYWORD: case BOOL:
                if (!f.sort) throw new UsageError("--sort: field " + name + " needs \"sort\": true in the schema");
                sf = new SortedSetSortField(name, desc);
                break;
            default: throw new UsageError("--sort: text field " + name + " cannot be sorted on");
        }
        if (!desc) sf.setMissingValue(f.numeric() ? (f.type == Type.DOUBLE ? (Object) Double.POSITIVE_INFINITY
                : (Object) Long.MAX_VALUE) : SortField.STRING_LAST);
        else sf.setMissingValue(f.numeric() ? (f.type == Type.DOUBLE ? (Object) Double.NEGATIVE_INFINITY
                : (Object) Long.MIN_VALUE) : SortField.STRING_FIRST);
        return new Sort(sf, SortField.FIELD_DOC);
    }

    static void runMode(Opts o) throws Exception {
        try (Ctx c = open(o)) {
            List<Qry> qs = readQueries(o);
            Path out = Paths.get(o.req("out"));
            int k = o.getInt("k", 1000);
            Sort sort = parseSort(o.get("sort", null), c.schema);
            o.checkAllUsed();
            if (k < 1) throw new UsageError("--k must be >= 1");
            Map<String, String> errs = new HashMap<>();
            Query[] q = parseAll(c, qs, errs);
            long t0 = System.nanoTime();
            int written = 0;
            try (BufferedWriter bw = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                for (int qi = 0; qi < q.length; qi++) {
                    if (q[qi] == null) continue;
                    TopDocs td = sort == null ? c.searcher.search(q[qi], k) : c.searcher.search(q[qi], k, sort, true);
                    ScoreDoc[] sd = td.scoreDocs;
                    String[] ids = new String[sd.length];
                    Integer[] order = new Integer[ids.length];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = c.reader.document(sd[i].doc).get(ID_FIELD);
                        order[i] = i;
                    }
                    if (sort == null) {
                        // Lucene breaks ties by internal docid; ties are re-sorted by external docid descending
                        // so that the file's ranks equal trec_eval's order (score desc, docno desc).
                        Arrays.sort(order, (a, b) -> {
                            int cmp = Float.compare(sd[b].score, sd[a].score);
                            return cmp != 0 ? cmp : ids[b].compareTo(ids[a]);
                        });
                    }
                    for (int r = 0; r < order.length; r++) {
                        int i = order[r];
                        bw.write(qs.get(qi).id + " Q0 " + ids[i] + " " + (r + 1) + " " + fmtScore(sd[i].score) + " lucene\n");
                        written++;
                    }
                }
            }
            for (Map.Entry<String, String> e : errs.entrySet())
                System.err.println("parse error: " + e.getKey() + ": " + e.getValue());
            System.err.printf(Locale.ROOT, "lucene-structured run queries=%d parse_errors=%d lines=%d k=%d sort=%s "
                            + "search_s=%.2f out=%s%n", q.length, errs.size(), written, k,
                    sort == null ? "score" : sort, (System.nanoTime() - t0) / 1e9, out);
        }
    }

    // ------------------------------------------------------------------ timing

    interface Work {
        long run(int i) throws IOException;
    }

    static final class Timing {
        long n;
        double seconds;
        double cpuSeconds; // CPU time of the timing thread: robust to other load on a shared machine
        long[] lat;
        long sink;

        double qps() { return n / seconds; }

        double cpuQps() { return cpuSeconds > 0 ? n / cpuSeconds : Double.NaN; }

        double pct(double q) {
            if (lat.length == 0) return Double.NaN;
            int idx = Math.max(0, Math.min(lat.length - 1, (int) Math.ceil(q * lat.length) - 1));
            return lat[idx] / 1e6;
        }

        double meanMs() { return Arrays.stream(lat).average().orElse(Double.NaN) / 1e6; }

        String fmt() {
            return String.format(Locale.ROOT, "qps=%.1f cpu_qps=%.1f p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f queries=%d "
                    + "seconds=%.2f", qps(), cpuQps(), pct(0.5), pct(0.99), meanMs(), n, seconds);
        }
    }

    /** Cycles over n work items on this thread for `seconds` (at least one full pass). */
    static Timing time(int n, Work w, double seconds) throws IOException {
        long[] lat = new long[1 << 12];
        int cnt = 0;
        long sink = 0;
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpuStart = mx.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        int i = 0;
        while (true) {
            long a = System.nanoTime();
            if (a >= deadline && cnt >= n) break;
            sink += w.run(i);
            long b = System.nanoTime();
            if (cnt == lat.length) lat = Arrays.copyOf(lat, cnt * 2);
            lat[cnt++] = b - a;
            if (++i == n) i = 0;
        }
        Timing t = new Timing();
        t.seconds = (System.nanoTime() - start) / 1e9;
        t.cpuSeconds = (mx.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        t.n = cnt;
        t.lat = Arrays.copyOf(lat, cnt);
        Arrays.sort(t.lat);
        t.sink = sink;
        return t;
    }

    static Timing warmAndTime(int n, Work w, double warmup, double seconds) throws IOException {
        if (warmup > 0) time(n, w, warmup);
        return time(n, w, seconds);
    }

    static String loadavg() {
        try {
            return Files.readString(Paths.get("/proc/loadavg")).trim().split("\\s+")[0];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    static void benchMode(Opts o) throws Exception {
        try (Ctx c = open(o)) {
            List<Qry> qs = readQueries(o);
            int k = o.getInt("k", 10);
            double seconds = o.getDouble("seconds", 5);
            double warmup = o.getDouble("warmup", 2);
            boolean byKind = o.getBool("by-kind", true);
            String hits = o.get("hits", "default");
            o.checkAllUsed();
            if (!hits.equals("default") && !hits.equals("exhaustive"))
                throw new UsageError("--hits default|exhaustive");
            boolean exhaustive = hits.equals("exhaustive");
            Map<String, String> errs = new HashMap<>();
            Query[] parsed = parseAll(c, qs, errs);
            List<Query> all = new ArrayList<>();
            Map<String, List<Query>> kinds = new TreeMap<>();
            for (int i = 0; i < parsed.length; i++) {
                if (parsed[i] == null) continue;
                all.add(parsed[i]);
                kinds.computeIfAbsent(qs.get(i).kind, x -> new ArrayList<>()).add(parsed[i]);
            }
            if (all.isEmpty()) throw new InputError("no query parsed");
            System.out.printf(Locale.ROOT, "lucene-structured info lucene=%s java=%s docs=%d queries=%d parse_errors=%d "
                            + "k=%d hits=%s seconds=%s warmup=%s threads=1 loadavg=%s%n", Version.LATEST,
                    System.getProperty("java.version"), c.reader.numDocs(), qs.size(), errs.size(), k, hits, seconds,
                    warmup, loadavg());
            IndexSearcher s = c.searcher;
            Map<String, List<Query>> groups = new LinkedHashMap<>();
            groups.put("ALL", all);
            if (byKind) groups.putAll(kinds);
            boolean first = true;
            for (Map.Entry<String, List<Query>> g : groups.entrySet()) {
                Query[] arr = g.getValue().toArray(new Query[0]);
                Work w = exhaustive
                        ? i -> {
                            org.apache.lucene.search.TopScoreDocCollector col =
                                    org.apache.lucene.search.TopScoreDocCollector.create(k, Integer.MAX_VALUE);
                            s.search(arr[i], col);
                            return col.getTotalHits();
                        }
                        : i -> s.search(arr[i], k).scoreDocs.length;
                // the first group gets the full warm-up (JIT); later groups a short re-warm
                Timing t = warmAndTime(arr.length, w, first ? warmup : Math.min(1.0, warmup),
                        g.getKey().equals("ALL") ? seconds : Math.max(1.0, seconds / 2));
                first = false;
                System.out.printf(Locale.ROOT, "lucene-structured search kind=%s n=%d k=%d %s%n",
                        g.getKey(), arr.length, k, t.fmt());
            }
            System.out.printf(Locale.ROOT, "lucene-structured done loadavg=%s%n", loadavg());
        }
    }

    static void facetsMode(Opts o) throws Exception {
        try (Ctx c = open(o)) {
            String field = o.req("field");
            int top = o.getInt("top", 10);
            double seconds = o.getDouble("seconds", 5);
            double warmup = o.getDouble("warmup", 2);
            List<Qry> qs = readQueries(o);
            o.checkAllUsed();
            FieldSpec f = c.schema.get(field);
            if (f == null || !f.facet) throw new UsageError("--field " + field + " is not a facet field of the schema");
            Map<String, String> errs = new HashMap<>();
            Query[] parsed = parseAll(c, qs, errs);
            List<Query> ql = new ArrayList<>();
            for (Query q : parsed) if (q != null) ql.add(q);
            if (ql.isEmpty()) throw new InputError("no query parsed: " + errs);
            Query[] arr = ql.toArray(new Query[0]);

            long t0 = System.nanoTime();
            SortedSetDocValuesReaderState state = new DefaultSortedSetDocValuesReaderState(c.reader, FACET_PREFIX + field);
            double stateMs = (System.nanoTime() - t0) / 1e6;
            IndexSearcher s = c.searcher;
            PrintStream out = stdout();
            out.printf(Locale.ROOT, "lucene-structured facets info lucene=%s docs=%d field=%s queries=%d top=%d "
                            + "state_ms=%.1f loadavg=%s%n", Version.LATEST, c.reader.numDocs(), field, arr.length,
                    top, stateMs, loadavg());
            // the values for the first query
            FacetsCollector fc0 = new FacetsCollector();
            s.search(arr[0], fc0);
            FacetResult r0 = new SortedSetDocValuesFacetCounts(state, fc0).getTopChildren(top, field);
            long hits0 = s.count(arr[0]);
            out.printf(Locale.ROOT, "lucene-structured facets query=%s hits=%d values=%d%n",
                    arr[0], hits0, r0 == null ? 0 : r0.childCount);
            if (r0 != null)
                for (LabelAndValue lv : r0.labelValues) out.println("  " + lv.label + "\t" + lv.value);

            Work countOnly = i -> s.count(arr[i]);
            Work collect = i -> {
                FacetsCollector fc = new FacetsCollector();
                s.search(arr[i], fc);
                return fc.getMatchingDocs().size();
            };
            Work facets = i -> {
                FacetsCollector fc = new FacetsCollector();
                s.search(arr[i], fc);
                Facets fs = new SortedSetDocValuesFacetCounts(state, fc);
                FacetResult r = fs.getTopChildren(top, field);
                return r == null ? 0 : r.childCount;
            };
            // the top 10 hits by score as well (what a results page with a facet sidebar asks)
            Work topAndFacets = i -> {
                FacetsCollector fc = new FacetsCollector();
                TopDocs td = FacetsCollector.search(s, arr[i], 10, fc);
                Facets fs = new SortedSetDocValuesFacetCounts(state, fc);
                FacetResult r = fs.getTopChildren(top, field);
                return td.scoreDocs.length + (r == null ? 0 : r.childCount);
            };
            Timing tc = warmAndTime(arr.length, countOnly, warmup, seconds);
            Timing tcol = warmAndTime(arr.length, collect, Math.min(1, warmup), seconds);
            Timing tf = warmAndTime(arr.length, facets, Math.min(1, warmup), seconds);
            Timing ttf = warmAndTime(arr.length, topAndFacets, Math.min(1, warmup), seconds);
            out.printf(Locale.ROOT, "lucene-structured facets step=count %s%n", tc.fmt());
            out.printf(Locale.ROOT, "lucene-structured facets step=collect %s%n", tcol.fmt());
            out.printf(Locale.ROOT, "lucene-structured facets step=collect+count_top%d %s%n", top, tf.fmt());
            out.printf(Locale.ROOT, "lucene-structured facets step=top10+count_top%d %s%n", top, ttf.fmt());
            // counting over the whole index (no query)
            Work allDocs = i -> {
                FacetResult r = new SortedSetDocValuesFacetCounts(state).getTopChildren(top, field);
                return r == null ? 0 : r.childCount;
            };
            Timing ta = warmAndTime(1, allDocs, Math.min(1, warmup), Math.max(1, seconds / 2));
            out.printf(Locale.ROOT, "lucene-structured facets step=all_docs_top%d %s%n", top, ta.fmt());
            out.flush();
        }
    }

    /** The values of a numeric field over all live docs (doc values), sorted. */
    static long[] sortedValues(Ctx c, FieldSpec f) throws IOException {
        long[] v = new long[c.reader.maxDoc()];
        int n = 0;
        for (LeafReaderContext lc : c.reader.leaves()) {
            NumericDocValues dv = DocValues.getNumeric(lc.reader(), f.name);
            for (int d = dv.nextDoc(); d != DocIdSetIterator.NO_MORE_DOCS; d = dv.nextDoc()) v[n++] = dv.longValue();
        }
        v = Arrays.copyOf(v, n);
        if (f.type == Type.DOUBLE) { // DoubleDocValuesField stores raw double bits
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = Double.longBitsToDouble(v[i]);
            Arrays.sort(d);
            for (int i = 0; i < n; i++) v[i] = Double.doubleToRawLongBits(d[i]);
            return v;
        }
        Arrays.sort(v);
        return v;
    }

    static String valueText(FieldSpec f, long raw) {
        if (f.type == Type.DOUBLE) return Double.toString(Double.longBitsToDouble(raw));
        if (f.type == Type.DATE) return Instant.ofEpochMilli(raw).toString();
        return Long.toString(raw);
    }

    static void rangeMode(Opts o) throws Exception {
        try (Ctx c = open(o)) {
            String field = o.req("field");
            String from = o.get("from", null), to = o.get("to", null);
            double keep = o.getDouble("keep", -1);
            String qtext = o.get("query", null);
            double seconds = o.getDouble("seconds", 5);
            double warmup = o.getDouble("warmup", 2);
            o.checkAllUsed();
            FieldSpec f = c.schema.get(field);
            if (f == null || !f.numeric()) throw new UsageError("--field " + field + " is not a numeric/date field of the schema");
            if ((keep > 0) == (from != null || to != null))
                throw new UsageError("range needs --keep FRACTION or --from/--to (not both)");
            int numDocs = c.reader.numDocs();
            long[] vals = sortedValues(c, f);
            if (keep > 0) {
                if (vals.length == 0) throw new InputError("field " + field + " has no values");
                // a window starting at the median that holds about keep * numDocs documents
                int lo = vals.length / 2;
                int hi = Math.min(vals.length - 1, lo + Math.max(0, (int) Math.round(keep * numDocs) - 1));
                from = valueText(f, vals[lo]);
                to = valueText(f, vals[hi]);
            }
            String rtext = field + ":[" + (from == null ? "*" : from) + " TO " + (to == null ? "*" : to) + "]";
            if (f.type == Type.DATE) rtext = field + ":[\"" + (from == null ? "*" : from) + "\" TO \"" + (to == null ? "*" : to) + "\"]";
            Query range = c.parser().parse(rtext);
            IndexSearcher s = c.searcher;
            long matched = s.count(range);
            PrintStream out = stdout();
            out.printf(Locale.ROOT, "lucene-structured range info lucene=%s docs=%d with_values=%d field=%s query=%s "
                            + "parsed=%s matched=%d fraction=%.4f loadavg=%s%n", Version.LATEST, numDocs, vals.length,
                    field, rtext, range, matched, (double) matched / numDocs, loadavg());
            Query[] one = {range};
            Timing tc = warmAndTime(1, i -> s.count(one[0]), warmup, seconds);
            out.printf(Locale.ROOT, "lucene-structured range step=count %s%n", tc.fmt());
            Timing ts = warmAndTime(1, i -> s.search(one[0], 10).scoreDocs.length, Math.min(1, warmup), seconds);
            out.printf(Locale.ROOT, "lucene-structured range step=top10 %s%n", ts.fmt());
            if (qtext != null) {
                Query q = c.parser().parse(qtext);
                Query filtered = new BooleanQuery.Builder()
                        .add(q, BooleanClause.Occur.MUST)
                        .add(range, BooleanClause.Occur.FILTER).build();
                out.printf(Locale.ROOT, "lucene-structured range query=%s hits=%d filtered_hits=%d%n",
                        q, s.count(q), s.count(filtered));
                Query[] two = {q, filtered};
                Timing tq = warmAndTime(1, i -> s.search(two[0], 10).scoreDocs.length, Math.min(1, warmup), seconds);
                out.printf(Locale.ROOT, "lucene-structured range step=query_top10 %s%n", tq.fmt());
                Timing tf = warmAndTime(1, i -> s.search(two[1], 10).scoreDocs.length, Math.min(1, warmup), seconds);
                out.printf(Locale.ROOT, "lucene-structured range step=query_filtered_top10 %s%n", tf.fmt());
                Timing tfc = warmAndTime(1, i -> s.count(two[1]), Math.min(1, warmup), seconds);
                out.printf(Locale.ROOT, "lucene-structured range step=query_filtered_count %s%n", tfc.fmt());
            }
            out.flush();
        }
    }
}
