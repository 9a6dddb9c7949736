// Java Lucene 8.8's English analysis of texts, one text a line on stdin, for
// comparison with hymir's (bench/stem_compare.sh).
//
//   java -cp "$CP" bench/java/StemWords.java words  < texts   # CP as in LuceneBaseline.java
//   java -cp "$CP" bench/java/StemWords.java lines [english|english-classic] < texts
//
// words: every distinct word of the texts (EnglishAnalyzer's tokenizer,
//   possessive and lower-case filters: StandardTokenizer = UAX#29), in order
//   of first appearance, as "word<TAB>stem" where the stem is what
//   PorterStemFilter makes of the word alone.
// lines: the terms of each text, space-separated, one line per text:
//   "english" = EnglishAnalyzer; "english-classic" = the same chain on
//   ClassicTokenizer + ClassicFilter (the Lucene 3.0 grammar of hymir's
//   Lucene++ tokenizer), so that only the filters can differ.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.standard.ClassicFilter;
import org.apache.lucene.analysis.standard.ClassicTokenizer;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

public class StemWords {
    interface Chain {
        TokenStream build(Tokenizer source);
    }

    static Analyzer analyzer(java.util.function.Supplier<Tokenizer> source, Chain chain) {
        return new Analyzer() {
            @Override
            protected TokenStreamComponents createComponents(String field) {
                Tokenizer src = source.get();
                return new TokenStreamComponents(src, chain.build(src));
            }
        };
    }

    static List<String> analyze(Analyzer a, String text) throws IOException {
        List<String> out = new ArrayList<>();
        try (TokenStream ts = a.tokenStream("body", text)) {
            CharTermAttribute t = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) out.add(t.toString());
            ts.end();
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || !(args[0].equals("words") || args[0].equals("lines"))) {
            System.err.println("usage: StemWords words | lines [english|english-classic]  < one text a line");
            System.exit(2);
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        if (args[0].equals("words")) {
            Analyzer words = analyzer(StandardTokenizer::new,
                    src -> new LowerCaseFilter(new EnglishPossessiveFilter(src)));
            Analyzer stem = analyzer(KeywordTokenizer::new, PorterStemFilter::new);
            Set<String> seen = new LinkedHashSet<>();
            for (String line; (line = in.readLine()) != null; ) seen.addAll(analyze(words, line));
            for (String w : seen) out.println(w + "\t" + String.join(" ", analyze(stem, w)));
        } else {
            String kind = args.length > 1 ? args[1] : "english";
            Analyzer a;
            if (kind.equals("english")) {
                a = new EnglishAnalyzer();
            } else if (kind.equals("english-classic")) {
                a = analyzer(ClassicTokenizer::new, src -> new PorterStemFilter(new StopFilter(
                        new LowerCaseFilter(new EnglishPossessiveFilter(new ClassicFilter(src))),
                        EnglishAnalyzer.ENGLISH_STOP_WORDS_SET)));
            } else {
                throw new IllegalArgumentException("analyzer " + kind + ": english or english-classic");
            }
            for (String line; (line = in.readLine()) != null; ) out.println(String.join(" ", analyze(a, line)));
        }
        out.flush();
    }
}
