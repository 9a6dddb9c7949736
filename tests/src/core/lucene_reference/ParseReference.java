import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.queryparser.classic.QueryParser;
import java.io.*;
public class ParseReference {
  public static void main(String[] a) throws Exception {
    Analyzer an = a[0].equals("english") ? new EnglishAnalyzer() : a[0].equals("standard") ? new StandardAnalyzer(EnglishAnalyzer.ENGLISH_STOP_WORDS_SET) : new WhitespaceAnalyzer();
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    for (String line; (line = r.readLine()) != null;) {
      QueryParser qp = new QueryParser("all", an);
      try { System.out.println(line + "\t=> " + qp.parse(line).toString("all")); }
      catch (Exception e) { System.out.println(line + "\t=> ERROR " + e.getMessage().replace('\n',' ')); }
    }
  }
}
