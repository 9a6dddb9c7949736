// Java Lucene 8.8 BM25 baseline for hymir.
//
// Single-file program: run it with
//   CP=/usr/share/maven-repo/org/apache/lucene/lucene-core/8.x/lucene-core-8.x.jar:\
//      /usr/share/maven-repo/org/apache/lucene/lucene-analyzers-common/8.x/lucene-analyzers-common-8.x.jar
//   java -cp "$CP" bench/java/LuceneBaseline.java <mode> [options]
//
// Modes:
//   run     --corpus C.jsonl --queries Q.jsonl --out RUN.trec [--qrels QRELS.tsv] [--k 1000]
//           [--analyzer english|english-classic]
//   bench   --corpus C.jsonl [--queries Q.jsonl] [--threads N] [--seconds S] [--warmup S]
//           [--index-runs R] [--num-queries 1000] [--seed 42] [--tmpdir DIR] [--hits default,exhaustive]
//   analyze --text "..." [--text "..."]...   |   analyze --jsonl FILE [--limit N]
//
// See bench/java/README.md for what is measured.

import java.io.*;
import java.nio.charset.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.apache.lucene.analysis.tokenattributes.TypeAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopScoreDocCollector;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Version;

public class LuceneBaseline {

    static final String ID_FIELD = "id";
    static final String BODY_FIELD = "body";
    static final float K1 = 0.9f;
    static final float B = 0.4f;

    // ------------------------------------------------------------------ main

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            usage(System.out);
            return;
        }
        String mode = args[0];
        Opts o = new Opts(Arrays.copyOfRange(args, 1, args.length));
        try {
            switch (mode) {
                case "run": runMode(o); break;
                case "bench": benchMode(o); break;
                case "analyze": analyzeMode(o); break;
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
        out.println("usage: java -cp \"$CP\" LuceneBaseline.java <mode> [options]");
        out.println("  run     --corpus C.jsonl --queries Q.jsonl --out RUN.trec [--qrels QRELS.tsv] [--k 1000]");
        out.println("  bench   --corpus C.jsonl [--queries Q.jsonl] [--threads N] [--seconds S] [--warmup S]");
        out.println("          [--index-runs R] [--num-queries 1000] [--seed 42] [--tmpdir DIR]");
        out.println("          [--hits default,exhaustive]");
        out.println("  analyze --text \"...\" [--text ...]   |   analyze --jsonl FILE [--limit N]");
    }

    static final class UsageError extends RuntimeException {
        UsageError(String m) { super(m); }
    }

    static final class InputError extends RuntimeException {
        InputError(String m) { super(m); }
    }

    /** --key value options; a key may repeat (all values kept). */
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

        List<String> all(String k) {
            used.add(k);
            return m.getOrDefault(k, List.of());
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

        void checkAllUsed() {
            for (String k : m.keySet())
                if (!used.contains(k)) throw new UsageError("unknown option --" + k);
        }
    }

    // ------------------------------------------------------------------ data

    static final class Doc {
        final String id, body;
        Doc(String id, String body) { this.id = id; this.body = body; }
    }

    static final class Qry {
        final String id, text;
        Qry(String id, String text) { this.id = id; this.text = text; }
    }

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

    static String idOf(Map<String, Object> o, String where) {
        Object v = o.get("_id");
        if (v == null) throw new InputError(where + ": missing \"_id\"");
        if (v instanceof String) return (String) v;
        if (v instanceof Json.Num) return ((Json.Num) v).text; // tolerate numeric ids, keep their text
        throw new InputError(where + ": \"_id\" must be a string");
    }

    static String strOf(Map<String, Object> o, String key, String where) {
        Object v = o.get(key);
        if (v == null || v == Json.NULL) return "";
        if (v instanceof String) return (String) v;
        throw new InputError(where + ": \"" + key + "\" must be a string");
    }

    static List<Doc> readCorpus(Path file) throws IOException {
        List<Doc> docs = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        readJsonl(file, (o, where) -> {
            String id = idOf(o, where);
            if (!seen.add(id)) throw new InputError(where + ": duplicate document id " + id);
            docs.add(new Doc(id, strOf(o, "title", where) + " " + strOf(o, "text", where)));
        });
        return docs;
    }

    static List<Qry> readQueries(Path file) throws IOException {
        List<Qry> qs = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        readJsonl(file, (o, where) -> {
            String id = idOf(o, where);
            if (!seen.add(id)) throw new InputError(where + ": duplicate query id " + id);
            qs.add(new Qry(id, strOf(o, "text", where)));
        });
        return qs;
    }

    /** BEIR qrels tsv (header "query-id corpus-id score"); returns the set of query ids. */
    static Set<String> readQrelsQueryIds(Path file) throws IOException {
        Set<String> ids = new LinkedHashSet<>();
        long lineNo = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                String[] f = line.split("\t", -1);
                if (lineNo == 1 && f[0].equals("query-id")) continue; // header
                if (f.length != 3)
                    throw new InputError(file + ":" + lineNo + ": expected 3 tab-separated columns, got " + f.length);
                try {
                    Integer.parseInt(f[2].trim());
                } catch (NumberFormatException e) {
                    throw new InputError(file + ":" + lineNo + ": score is not an integer: " + f[2]);
                }
                ids.add(f[0]);
            }
        } catch (NoSuchFileException e) {
            throw new InputError("no such file: " + file);
        }
        return ids;
    }

    // ------------------------------------------------------------------ JSON

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

    // ------------------------------------------------------------------ analysis / queries

    static Analyzer newAnalyzer() {
        return new EnglishAnalyzer(); // StandardTokenizer, EnglishPossessive, LowerCase, Stop(33), SetKeywordMarker, PorterStem
    }

    /**
     * "english": newAnalyzer(). "english-classic": the same filters on ClassicTokenizer + ClassicFilter,
     * the Lucene 3.0 grammar of hymir's Lucene++ tokenizer, so that only scoring can differ from hymir.
     */
    static Analyzer newAnalyzer(String kind) {
        if (kind.equals("english")) return newAnalyzer();
        if (!kind.equals("english-classic")) throw new UsageError("--analyzer english|english-classic");
        return new Analyzer() {
            @Override
            protected TokenStreamComponents createComponents(String field) {
                org.apache.lucene.analysis.standard.ClassicTokenizer src =
                        new org.apache.lucene.analysis.standard.ClassicTokenizer();
                TokenStream t = new org.apache.lucene.analysis.standard.ClassicFilter(src);
                t = new org.apache.lucene.analysis.en.EnglishPossessiveFilter(t);
                t = new org.apache.lucene.analysis.LowerCaseFilter(t);
                t = new org.apache.lucene.analysis.StopFilter(t, EnglishAnalyzer.ENGLISH_STOP_WORDS_SET);
                t = new org.apache.lucene.analysis.en.PorterStemFilter(t);
                return new TokenStreamComponents(src, t);
            }
        };
    }

    static List<String> analyze(Analyzer a, String text) throws IOException {
        List<String> out = new ArrayList<>();
        try (TokenStream ts = a.tokenStream(BODY_FIELD, text)) {
            CharTermAttribute t = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) out.add(t.toString());
            ts.end();
        }
        return out;
    }

    /** Bag-of-words: one SHOULD TermQuery per analysed token, duplicates kept (as QueryParser does). */
    static Query bagOfWords(List<String> tokens) {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        for (String t : tokens) b.add(new TermQuery(new Term(BODY_FIELD, t)), BooleanClause.Occur.SHOULD);
        return b.build();
    }

    static IndexWriterConfig writerConfig(Analyzer a) {
        IndexWriterConfig c = new IndexWriterConfig(a);
        c.setSimilarity(new BM25Similarity(K1, B));
        c.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        c.setRAMBufferSizeMB(128);
        c.setUseCompoundFile(false);
        return c;
    }

    static void indexAll(IndexWriter w, List<Doc> docs) throws IOException {
        indexAll(w, docs, false);
    }

    /** With store: the body is stored too (Lucene 8's default stored-fields compression, LZ4). */
    static void indexAll(IndexWriter w, List<Doc> docs, boolean store) throws IOException {
        Document d = new Document();
        StringField idf = new StringField(ID_FIELD, "", Field.Store.YES);
        TextField body = new TextField(BODY_FIELD, "", store ? Field.Store.YES : Field.Store.NO);
        d.add(idf);
        d.add(body);
        for (Doc doc : docs) {
            idf.setStringValue(doc.id);
            body.setStringValue(doc.body);
            w.addDocument(d);
        }
    }

    static String fmtScore(float s) {
        String t = Float.toString(s);
        if (t.indexOf('E') >= 0) t = new java.math.BigDecimal(t).toPlainString();
        return t;
    }

    // ------------------------------------------------------------------ run mode

    static void runMode(Opts o) throws Exception {
        Path corpus = Paths.get(o.req("corpus"));
        Path queries = Paths.get(o.req("queries"));
        Path out = Paths.get(o.req("out"));
        String qrels = o.get("qrels", null);
        int k = o.getInt("k", 1000);
        String analyzerKind = o.get("analyzer", "english");
        o.checkAllUsed();
        if (k < 1) throw new UsageError("--k must be >= 1");
        BooleanQuery.setMaxClauseCount(Integer.MAX_VALUE);

        long t0 = System.nanoTime();
        List<Doc> docs = readCorpus(corpus);
        List<Qry> qs = readQueries(queries);
        if (qrels != null) {
            Set<String> want = readQrelsQueryIds(Paths.get(qrels));
            Set<String> have = new HashSet<>();
            List<Qry> kept = new ArrayList<>();
            for (Qry q : qs) if (want.contains(q.id)) { kept.add(q); have.add(q.id); }
            int missing = 0;
            for (String id : want) if (!have.contains(id)) missing++;
            if (missing > 0)
                System.err.println("warning: " + missing + " qrels query ids are not in " + queries);
            qs = kept;
        }

        Analyzer analyzer = newAnalyzer(analyzerKind);
        BM25Similarity sim = new BM25Similarity(K1, B);
        int written = 0, emptyQueries = 0;
        try (Directory dir = new ByteBuffersDirectory()) {
            try (IndexWriter w = new IndexWriter(dir, writerConfig(analyzer))) {
                indexAll(w, docs);
                w.forceMerge(1); // one segment: no effect on scores, keeps docid order = file order
                w.commit();
            }
            long t1 = System.nanoTime();
            try (DirectoryReader reader = DirectoryReader.open(dir);
                 BufferedWriter bw = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                IndexSearcher searcher = new IndexSearcher(reader);
                searcher.setSimilarity(sim);
                for (Qry q : qs) {
                    List<String> toks = analyze(analyzer, q.text);
                    if (toks.isEmpty()) { emptyQueries++; continue; }
                    TopDocs td = searcher.search(bagOfWords(toks), k);
                    // Lucene breaks ties by internal docid; re-sort ties by external docid
                    // descending so file ranks equal trec_eval's ordering (score desc, docno desc).
                    String[] ids = new String[td.scoreDocs.length];
                    Integer[] order = new Integer[ids.length];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = reader.document(td.scoreDocs[i].doc).get(ID_FIELD);
                        order[i] = i;
                    }
                    ScoreDoc[] sd = td.scoreDocs;
                    Arrays.sort(order, (a, b) -> {
                        int c = Float.compare(sd[b].score, sd[a].score);
                        return c != 0 ? c : ids[b].compareTo(ids[a]);
                    });
                    for (int r = 0; r < order.length; r++) {
                        int i = order[r];
                        bw.write(q.id + " Q0 " + ids[i] + " " + (r + 1) + " " + fmtScore(sd[i].score) + " lucene\n");
                        written++;
                    }
                }
            }
            long t2 = System.nanoTime();
            System.err.printf(Locale.ROOT,
                    "lucene run docs=%d queries=%d empty_queries=%d lines=%d k=%d index_s=%.2f search_s=%.2f out=%s%n",
                    docs.size(), qs.size(), emptyQueries, written, k, (t1 - t0) / 1e9, (t2 - t1) / 1e9, out);
        }
    }

    // ------------------------------------------------------------------ analyze mode

    static void analyzeMode(Opts o) throws Exception {
        List<String> texts = o.all("text");
        String jsonl = o.get("jsonl", null);
        int limit = o.getInt("limit", Integer.MAX_VALUE);
        boolean verbose = o.get("verbose", "false").equals("true");
        o.checkAllUsed();
        if (texts.isEmpty() && jsonl == null) throw new UsageError("analyze needs --text or --jsonl");
        Analyzer a = newAnalyzer();
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        for (String t : texts) {
            if (verbose) {
                try (TokenStream ts = a.tokenStream(BODY_FIELD, t)) {
                    CharTermAttribute ta = ts.addAttribute(CharTermAttribute.class);
                    PositionIncrementAttribute pi = ts.addAttribute(PositionIncrementAttribute.class);
                    OffsetAttribute off = ts.addAttribute(OffsetAttribute.class);
                    TypeAttribute ty = ts.addAttribute(TypeAttribute.class);
                    ts.reset();
                    int pos = -1;
                    while (ts.incrementToken()) {
                        pos += pi.getPositionIncrement();
                        out.println(ta + "\tpos=" + pos + "\toffsets=" + off.startOffset() + "-" + off.endOffset()
                                + "\ttype=" + ty.type());
                    }
                    ts.end();
                }
            } else {
                out.println(String.join(" ", analyze(a, t)));
            }
        }
        if (jsonl != null) {
            int[] n = {0};
            readJsonl(Paths.get(jsonl), (obj, where) -> {
                if (n[0]++ >= limit) return;
                String id = idOf(obj, where);
                String body = obj.containsKey("title")
                        ? strOf(obj, "title", where) + " " + strOf(obj, "text", where)
                        : strOf(obj, "text", where);
                try {
                    out.println(id + "\t" + String.join(" ", analyze(a, body)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        out.flush();
    }

    // ------------------------------------------------------------------ bench mode

    static long dirBytes(Path p) throws IOException {
        long n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
            for (Path f : ds) if (Files.isRegularFile(f)) n += Files.size(f);
        }
        return n;
    }

    static void deleteTree(Path p) {
        if (p == null || !Files.exists(p)) return;
        try (var st = Files.walk(p)) {
            st.sorted(Comparator.reverseOrder()).forEach(f -> {
                try { Files.delete(f); } catch (IOException ignored) { }
            });
        } catch (IOException ignored) { }
    }

    /** Indexes all docs into a fresh FSDirectory at dirPath with 1 thread; returns seconds incl. commit. */
    static double timedIndex(Path dirPath, List<Doc> docs, Analyzer a) throws IOException {
        return timedIndex(dirPath, docs, a, false);
    }

    static double timedIndex(Path dirPath, List<Doc> docs, Analyzer a, boolean store) throws IOException {
        long t0 = System.nanoTime();
        try (Directory dir = FSDirectory.open(dirPath);
             IndexWriter w = new IndexWriter(dir, writerConfig(a))) {
            indexAll(w, docs, store);
            w.commit();
            long t1 = System.nanoTime();
            return (t1 - t0) / 1e9;
        }
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        int n = c.length;
        return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }

    static double pct(long[] sortedNanos, int n, double q) {
        if (n == 0) return Double.NaN;
        // nearest-rank percentile
        int idx = (int) Math.ceil(q * n) - 1;
        idx = Math.max(0, Math.min(n - 1, idx));
        return sortedNanos[idx] / 1e6;
    }

    static final class LongList {
        long[] a = new long[1 << 12];
        int n = 0;
        void add(long v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }
    }

    static final class Result {
        long queries;
        double seconds;
        long[] lat;
        int n;
        long hitsSum;
    }

    /**
     * Runs queries round-robin on `threads` threads sharing one searcher for `seconds`
     * (each thread starts at a different offset). exhaustive=true counts every hit (no pruning).
     */
    static Result timedSearch(IndexSearcher searcher, Query[] qs, int k, int threads, double seconds,
                              boolean exhaustive) throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(threads);
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        AtomicLong totalHits = new AtomicLong();
        List<Future<LongList>> fs = new ArrayList<>();
        long budget = (long) (seconds * 1e9);
        long[] startNs = new long[1];
        for (int t = 0; t < threads; t++) {
            final int tid = t;
            fs.add(ex.submit(() -> {
                LongList lat = new LongList();
                int i = (int) ((long) tid * qs.length / threads);
                long hits = 0;
                start.await();
                long deadline = startNs[0] + budget;
                while (true) {
                    long a = System.nanoTime();
                    if (a >= deadline) break;
                    TopDocs td;
                    if (exhaustive) {
                        TopScoreDocCollector c = TopScoreDocCollector.create(k, Integer.MAX_VALUE);
                        searcher.search(qs[i], c);
                        td = c.topDocs();
                    } else {
                        td = searcher.search(qs[i], k);
                    }
                    long b = System.nanoTime();
                    hits += td.scoreDocs.length;
                    lat.add(b - a);
                    if (++i == qs.length) i = 0;
                }
                totalHits.addAndGet(hits);
                return lat;
            }));
        }
        startNs[0] = System.nanoTime() + 20_000_000L; // all threads wait for the barrier, then run to the same deadline
        start.await();
        LongList all = new LongList();
        for (Future<LongList> f : fs) {
            LongList l = f.get();
            for (int i = 0; i < l.n; i++) all.add(l.a[i]);
        }
        long end = System.nanoTime();
        ex.shutdown();
        Result r = new Result();
        r.queries = all.n;
        r.seconds = (end - startNs[0]) / 1e9;
        r.lat = Arrays.copyOf(all.a, all.n);
        Arrays.sort(r.lat);
        r.n = all.n;
        r.hitsSum = totalHits.get();
        return r;
    }

    static void benchMode(Opts o) throws Exception {
        Path corpus = Paths.get(o.req("corpus"));
        String queriesFile = o.get("queries", null);
        int threads = o.getInt("threads", Runtime.getRuntime().availableProcessors());
        double seconds = o.getDouble("seconds", 5);
        double warmup = o.getDouble("warmup", 2);
        int indexRuns = o.getInt("index-runs", 3);
        int numQueries = o.getInt("num-queries", 1000);
        long seed = Long.parseLong(o.get("seed", "42"));
        String tmp = o.get("tmpdir", System.getProperty("java.io.tmpdir"));
        List<String> hitModes = Arrays.asList(o.get("hits", "default,exhaustive").split(","));
        o.checkAllUsed();
        for (String h : hitModes)
            if (!h.equals("default") && !h.equals("exhaustive"))
                throw new UsageError("--hits takes default and/or exhaustive");
        if (threads < 1 || indexRuns < 1 || seconds <= 0) throw new UsageError("bad --threads/--index-runs/--seconds");
        BooleanQuery.setMaxClauseCount(Integer.MAX_VALUE);

        System.out.printf(Locale.ROOT, "lucene info lucene=%s java=%s cpus=%d threads=%d seconds=%s warmup=%s "
                        + "loadavg=%s corpus=%s%n",
                Version.LATEST, System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), threads, seconds, warmup, loadavg(), corpus);

        List<Doc> docs = readCorpus(corpus);
        long bytes = 0;
        for (Doc d : docs) bytes += d.body.getBytes(StandardCharsets.UTF_8).length;
        Analyzer analyzer = newAnalyzer();

        Path base = Files.createTempDirectory(Paths.get(tmp), "lucene-bench-");
        try {
            // ---- indexing: one untimed warm-up pass, then indexRuns timed passes (each into a fresh dir)
            long warmEnd = System.nanoTime() + (long) (warmup * 1e9);
            int warmPasses = 0;
            do { // untimed warm-up passes (at least one, for at least --warmup seconds)
                Path warm = base.resolve("warmup");
                timedIndex(warm, docs, analyzer);
                deleteTree(warm);
                warmPasses++;
            } while (System.nanoTime() < warmEnd);
            double[] secs = new double[indexRuns];
            Path idx = null;
            for (int r = 0; r < indexRuns; r++) {
                if (idx != null) deleteTree(idx);
                idx = base.resolve("index" + r);
                secs[r] = timedIndex(idx, docs, analyzer);
            }
            double med = median(secs);
            double best = Arrays.stream(secs).min().getAsDouble();
            double worst = Arrays.stream(secs).max().getAsDouble();
            System.out.printf(Locale.ROOT,
                    "lucene index docs=%d mb=%.1f warmup_passes=%d runs=%d index_docs_per_s=%.0f index_mb_per_s=%.2f "
                            + "seconds_median=%.3f docs_per_s_best=%.0f docs_per_s_worst=%.0f index_bytes=%d dir=%s%n",
                    docs.size(), bytes / 1e6, warmPasses, indexRuns, docs.size() / med, bytes / 1e6 / med, med,
                    docs.size() / best, docs.size() / worst, dirBytes(idx), base);
            // The same with the body stored (hymir stores title and text): size and speed.
            double[] storedSecs = new double[indexRuns];
            Path stored = null;
            for (int r = 0; r < indexRuns; r++) {
                if (stored != null) deleteTree(stored);
                stored = base.resolve("stored" + r);
                storedSecs[r] = timedIndex(stored, docs, analyzer, true);
            }
            System.out.printf(Locale.ROOT,
                    "lucene index_stored docs=%d runs=%d index_docs_per_s=%.0f seconds_median=%.3f index_bytes=%d%n",
                    docs.size(), indexRuns, docs.size() / median(storedSecs), median(storedSecs), dirBytes(stored));
            deleteTree(stored);

            // ---- queries
            List<List<String>> qtoks = new ArrayList<>();
            String qsrc;
            if (queriesFile != null) {
                for (Qry q : readQueries(Paths.get(queriesFile))) {
                    List<String> t = analyze(analyzer, q.text);
                    if (!t.isEmpty()) qtoks.add(t);
                }
                qsrc = queriesFile;
            } else {
                Random rnd = new Random(seed);
                int attempts = 0;
                while (qtoks.size() < numQueries) {
                    if (++attempts > numQueries * 1000) throw new InputError("corpus too small to sample queries");
                    List<String> t = analyze(analyzer, docs.get(rnd.nextInt(docs.size())).body);
                    List<String> distinct = new ArrayList<>(new LinkedHashSet<>(t));
                    int want = 2 + rnd.nextInt(2);
                    if (distinct.size() < want) continue;
                    Collections.shuffle(distinct, rnd);
                    qtoks.add(new ArrayList<>(distinct.subList(0, want)));
                }
                qsrc = "random(seed=" + seed + ",terms=2-3)";
            }
            if (qtoks.isEmpty()) throw new InputError("no non-empty queries");
            Query[] qs = new Query[qtoks.size()];
            double avgTerms = 0;
            for (int i = 0; i < qs.length; i++) {
                qs[i] = bagOfWords(qtoks.get(i));
                avgTerms += qtoks.get(i).size();
            }
            avgTerms /= qs.length;

            try (Directory dir = FSDirectory.open(idx); DirectoryReader reader = DirectoryReader.open(dir)) {
                IndexSearcher searcher = new IndexSearcher(reader); // no executor: one query = one thread
                searcher.setSimilarity(new BM25Similarity(K1, B));
                searcher.setQueryCache(null); // every query is fresh work
                // average number of matching docs (exhaustive OR), for context
                long matched = 0;
                for (Query q : qs) matched += searcher.count(q);
                System.out.printf(Locale.ROOT, "lucene queries n=%d source=%s avg_terms=%.2f avg_matching_docs=%.0f%n",
                        qs.length, qsrc, avgTerms, (double) matched / qs.length);

                int[] threadCounts = threads == 1 ? new int[]{1} : new int[]{1, threads};
                // global warm-up: every (hits, k, threads) shape once before anything is timed,
                // so the first timed configuration is not penalised by JIT compilation
                for (String hm : hitModes)
                    for (int k : new int[]{10, 1000})
                        for (int th : threadCounts)
                            timedSearch(searcher, qs, k, th, warmup, hm.equals("exhaustive"));
                for (String hm : hitModes) {
                    boolean exhaustive = hm.equals("exhaustive");
                    for (int k : new int[]{10, 1000}) {
                        for (int th : threadCounts) {
                            timedSearch(searcher, qs, k, th, Math.min(1.0, warmup), exhaustive); // short re-warm
                            Result r = timedSearch(searcher, qs, k, th, seconds, exhaustive);
                            System.out.printf(Locale.ROOT,
                                    "lucene search k=%d threads=%d hits=%s qps=%.1f p50_ms=%.3f p99_ms=%.3f "
                                            + "mean_ms=%.3f queries=%d seconds=%.2f%n",
                                    k, th, hm, r.queries / r.seconds, pct(r.lat, r.n, 0.50), pct(r.lat, r.n, 0.99),
                                    Arrays.stream(r.lat).average().orElse(Double.NaN) / 1e6, r.queries, r.seconds);
                        }
                    }
                }
            }
            System.out.printf(Locale.ROOT, "lucene done loadavg=%s%n", loadavg());
        } finally {
            deleteTree(base);
        }
    }

    /** 1-minute load average from /proc/loadavg (other work on the machine skews every figure). */
    static String loadavg() {
        try {
            return Files.readString(Paths.get("/proc/loadavg")).trim().split("\\s+")[0];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }
}
