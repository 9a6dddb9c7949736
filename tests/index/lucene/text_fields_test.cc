// Text fields of a schema: each names one of Lucene++'s analyzers, indexes
// its values with it, and the query language analyses field:... clauses on
// it with the same analyzer, also after the index is reopened.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "hymir/index/analyzer.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/schema.h"
#include "hymir/index/searcher.h"
#include "src/core/file_util.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::testing {
namespace {

// A document text in the analyzer's language, and a query that differs from
// every word of it yet finds it through the analyzer: an inflected form
// (stemmers), another case or accent (normalisation), a bigram or a single
// ideograph (CJK, Chinese). `control`: the query also misses the same text
// analysed by the whitespace analyzer (false where the analyzer keeps words
// as they are).
struct Case {
  const char* analyzer;
  const char* text;
  const char* query;
  bool control = true;
};

const Case kCases[] = {
    {"english", "The runner was running home", "runs"},
    {"standard", "Foo-Bar and BAZ", "baz"},
    {"whitespace", "Foo-Bar baz", "Foo-Bar", false},
    {"english-lucenepp30", "The runner was running home", "runs"},
    {"simple", "Foo-Bar42baz", "bar"},
    {"stop", "The Foo-Bar", "FOO"},
    {"keyword", "Foo-Bar Baz", "\"Foo-Bar Baz\"", false},
    {"arabic", "قرأت الكتاب", "كتابات"},  // the article al- and the plural -at stripped
    {"brazilian", "Os livros antigos", "livro"},
    {"cjk", "东京大学的学生", "大学"},  // overlapping bigrams
    {"chinese", "东京大学", "学"},      // one token per ideograph
    {"czech", "Hrady PRAHA", "Praha"},  // Lucene 3.0's Czech analyzer has no stemmer
    {"dutch", "De boeken liggen", "boek"},
    {"french", "Les chevaux mangent", "cheval"},
    {"german", "Die Häuser sind alt", "Haus"},
    {"greek", "ΑΝΘΡΩΠΟΣ", "άνθρωπος"},  // lower case without accents, final sigma
    {"persian", "كتاب", "کتاب"},        // Arabic kaf and Persian keheh are one letter
    {"russian", "Я читаю книгами", "книга"},
    {"snowball-danish", "Husene er gamle", "hus"},
    {"snowball-dutch", "De boeken liggen", "boek"},
    {"snowball-english", "The runner was running home", "runs"},
    {"snowball-finnish", "kirjoissa on paljon", "kirja"},
    {"snowball-french", "Les chevaux mangent", "cheval"},
    {"snowball-german", "Die Häuser sind alt", "Haus"},
    {"snowball-hungarian", "Régi házak", "ház"},
    {"snowball-italian", "Libri antichi", "libro"},
    {"snowball-norwegian", "Husene er gamle", "hus"},
    {"snowball-porter", "The runner was running home", "runs"},
    {"snowball-portuguese", "Os livros antigos", "livro"},
    {"snowball-romanian", "Orașe vechi", "oraș"},
    {"snowball-russian", "Я читаю книгами", "книга"},
    {"snowball-spanish", "Libros antiguos", "libro"},
    {"snowball-swedish", "Husen är gamla", "hus"},
    {"snowball-turkish", "Eski kitapları", "kitap"},
};

// The schema field of case `c`: "f_" and the analyzer name with '-' as '_'.
std::string FieldOf(const Case& c) {
  std::string f = std::string("f_") + c.analyzer;
  for (char& ch : f) ch = ch == '-' ? '_' : ch;
  return f;
}

Result<uint64_t> Total(index::Searcher& s, const std::string& query, std::vector<std::string>* ids = nullptr) {
  index::TextQuery q;
  q.text = query;
  q.syntax = QuerySyntax::kLucene;
  q.k = 10;
  HYMIR_ASSIGN_OR_RETURN(index::SearchResults r, s.SearchStructured(q));
  if (ids) {
    ids->clear();
    for (const auto& h : r.hits) ids->push_back(h.id);
  }
  return r.total;
}

TEST(TextFieldAnalyzerTest, EveryAnalyzerHasACase) {
  std::set<std::string> covered;
  for (const Case& c : kCases) covered.insert(c.analyzer);
  for (index::AnalyzerKind kind : index::kAllAnalyzerKinds) {
    EXPECT_TRUE(covered.count(index::AnalyzerName(kind))) << index::AnalyzerName(kind);
    ASSERT_OK_AND_ASSIGN(index::AnalyzerKind back, index::ParseAnalyzerKind(index::AnalyzerName(kind)));
    EXPECT_EQ(back, kind);
  }
  EXPECT_EQ(covered.size(), std::size(index::kAllAnalyzerKinds));
}

TEST(TextFieldAnalyzerTest, InflectedQueryFindsTheDocumentThroughItsFieldsAnalyzer) {
  std::string schema = R"({"fields": {"raw": {"type": "text", "analyzer": "whitespace"})";
  for (const Case& c : kCases) {
    schema += ", \"" + FieldOf(c) + "\": {\"type\": \"text\", \"analyzer\": \"" + c.analyzer + "\"}";
  }
  schema += "}}";
  ASSERT_OK_AND_ASSIGN(index::Schema parsed, index::ParseSchemaJson(schema));
  TempDir dir;
  {
    index::IndexWriterOptions o;
    o.schema = parsed;
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), o));
    for (size_t i = 0; i < std::size(kCases); ++i) {
      Document d;
      d.id = "d" + std::to_string(i);
      d.title = "document";
      d.values[FieldOf(kCases[i])] = {std::string(kCases[i].text)};
      d.values["raw"] = {std::string(kCases[i].text)};
      ASSERT_OK(w->Upsert(d));
    }
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto s, index::Searcher::Open(dir.path()));
  for (size_t i = 0; i < std::size(kCases); ++i) {
    const Case& c = kCases[i];
    SCOPED_TRACE(c.analyzer);
    std::vector<std::string> ids;
    ASSERT_OK_AND_ASSIGN(uint64_t total, Total(*s, FieldOf(c) + ":" + c.query, &ids));
    EXPECT_EQ(total, 1u);
    EXPECT_EQ(ids, std::vector<std::string>{"d" + std::to_string(i)});
    if (c.control) {
      std::vector<std::string> raw_ids;
      ASSERT_OK_AND_ASSIGN(uint64_t raw, Total(*s, std::string("raw:") + c.query, &raw_ids));
      EXPECT_LE(raw, 1u);
      EXPECT_EQ(std::count(raw_ids.begin(), raw_ids.end(), "d" + std::to_string(i)), 0)
          << "the whitespace analyzer finds it too: the case shows nothing";
    }
    // The analyzer's terms never reach the title or the default field.
    ASSERT_OK_AND_ASSIGN(uint64_t in_all, Total(*s, std::string("all:") + c.query));
    EXPECT_EQ(in_all, 0u);
  }
  // The values come back as stored.
  ASSERT_OK_AND_ASSIGN(Document d, s->GetDocument("d14"));
  ASSERT_EQ(d.values[FieldOf(kCases[14])].size(), 1u);
  EXPECT_EQ(std::get<std::string>(d.values[FieldOf(kCases[14])][0]), kCases[14].text);
}

TEST(TextFieldAnalyzerTest, PhrasesPrefixesAndBm25OnATextField) {
  TempDir dir;
  {
    index::IndexWriterOptions o;
    ASSERT_OK_AND_ASSIGN(o.schema, index::ParseSchemaJson(R"({"fields": {
        "beschreibung": {"type": "text", "analyzer": "german"},
        "kategorie": {"type": "keyword"}}})"));
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), o));
    auto add = [&](const std::string& id, const std::string& text, const std::string& cat) {
      Document d;
      d.id = id;
      d.values["beschreibung"] = {text};
      d.values["kategorie"] = {cat};
      return w->Upsert(d);
    };
    ASSERT_OK(add("a", "Häuser, Häuser und nochmals Häuser", "bau"));
    ASSERT_OK(add("b", "Ein Haus am See mit einem langen Garten voller Blumen und Bäume", "bau"));
    ASSERT_OK(add("c", "Der alte Garten hinter dem Haus", "natur"));
    ASSERT_OK(add("d", "Bücher über Gärten", "natur"));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto s, index::Searcher::Open(dir.path()));
  std::vector<std::string> ids;
  // BM25 on the field: three occurrences in a short value beat one in a long one.
  ASSERT_OK_AND_ASSIGN(uint64_t n, Total(*s, "beschreibung:Haus", &ids));
  EXPECT_EQ(n, 3u);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], "a");
  // A phrase analysed with the field's analyzer (stop word "dem" removed, "Häusern" stemmed).
  ASSERT_OK_AND_ASSIGN(n, Total(*s, "beschreibung:\"Garten hinter dem Häusern\"", &ids));
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(ids, std::vector<std::string>{"c"});
  ASSERT_OK_AND_ASSIGN(n, Total(*s, "beschreibung:\"Haus Garten\"~1"));
  EXPECT_EQ(n, 0u);
  ASSERT_OK_AND_ASSIGN(n, Total(*s, "beschreibung:\"Haus Garten\"~20"));
  EXPECT_EQ(n, 2u);
  // A prefix, normalised (lower-cased, not stemmed), over the field's terms
  // (the German stemmer makes "Garten" and "Gärten" "gar"); with a keyword clause.
  ASSERT_OK_AND_ASSIGN(n, Total(*s, "beschreibung:GAR* AND kategorie:natur", &ids));
  EXPECT_EQ(n, 2u);
  ASSERT_OK_AND_ASSIGN(n, Total(*s, "beschreibung:gart*"));
  EXPECT_EQ(n, 0u);
  // A filter on a text field is refused, naming it.
  index::TextQuery q;
  q.text = "beschreibung:Haus";
  q.syntax = QuerySyntax::kLucene;
  q.filters = {{"beschreibung", {"haus"}}};
  auto r = s->SearchStructured(q);
  ASSERT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("\"beschreibung\" is text"), std::string::npos) << r.status().ToString();
}

TEST(TextFieldAnalyzerTest, UnknownAnalyzerIsRefusedNamingFileFieldAndValidNames) {
  TempDir dir;
  const std::string path = dir.path() + "/schema.json";
  std::ofstream(path) << R"({"fields": {"body": {"type": "text", "analyzer": "klingon"}}})";
  auto s = index::ReadSchemaFile(path);
  ASSERT_TRUE(s.status().IsInvalidArgument());
  const std::string m = s.status().ToString();
  EXPECT_NE(m.find(path), std::string::npos) << m;
  EXPECT_NE(m.find("\"body\""), std::string::npos) << m;
  EXPECT_NE(m.find("klingon"), std::string::npos) << m;
  for (index::AnalyzerKind kind : index::kAllAnalyzerKinds) {
    EXPECT_NE(m.find(index::AnalyzerName(kind)), std::string::npos) << m;
  }
  // An analyzer on a field that is not text, and a sorted text field.
  EXPECT_TRUE(index::ParseSchemaJson(R"({"fields": {"k": {"type": "keyword", "analyzer": "german"}}})")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      index::ParseSchemaJson(R"({"fields": {"b": {"type": "text", "sort": true}}})").status().IsInvalidArgument());
  // No analyzer named: standard, recorded as such.
  ASSERT_OK_AND_ASSIGN(index::Schema plain, index::ParseSchemaJson(R"({"fields": {"b": {"type": "text"}}})"));
  EXPECT_EQ(plain.Find("b")->analyzer, "standard");
  EXPECT_NE(index::SchemaToJson(plain).find("\"analyzer\":\"standard\""), std::string::npos);
  // A schema given in code is checked when the index is opened.
  index::IndexWriterOptions o;
  o.schema = plain;
  o.schema->fields["b"].analyzer = "klingon";
  auto w = index::IndexWriter::Open(dir.path() + "/idx", o);
  ASSERT_TRUE(w.status().IsInvalidArgument());
  EXPECT_NE(w.status().message().find("klingon"), std::string::npos) << w.status().ToString();
}

TEST(TextFieldAnalyzerTest, ReopenedIndexKeepsTheFieldsAnalyzer) {
  TempDir dir;
  index::IndexWriterOptions o;
  ASSERT_OK_AND_ASSIGN(o.schema, index::ParseSchemaJson(R"({"fields": {"body": {"type": "text",
                                                             "analyzer": "german"}}})"));
  auto doc = [](const std::string& id, const std::string& body) {
    Document d;
    d.id = id;
    d.values["body"] = {body};
    return d;
  };
  {
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), o));
    ASSERT_OK(w->Upsert(doc("a", "Die Häuser")));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(std::string meta, hymir::internal::ReadFile(dir.path() + "/hymir.json"));
  EXPECT_NE(meta.find("\"german\""), std::string::npos) << meta;
  {
    // Reopened without a schema ("as recorded"): the field keeps german.
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), index::IndexWriterOptions{}));
    EXPECT_EQ(w->schema().Find("body")->analyzer, "german");
    ASSERT_OK(w->Upsert(doc("b", "Ein Haus")));
    ASSERT_OK(w->Commit());
  }
  // Another analyzer for the field is another schema: refused.
  index::IndexWriterOptions other = o;
  other.schema->fields["body"].analyzer = "french";
  auto refused = index::IndexWriter::Open(dir.path(), other);
  ASSERT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_NE(refused.status().message().find("schema"), std::string::npos) << refused.status().ToString();
  // A searcher opened afterwards analyses the query with german: both forms find both documents.
  ASSERT_OK_AND_ASSIGN(auto s, index::Searcher::Open(dir.path()));
  for (const char* q : {"body:Häuser", "body:Haus", "body:HAUSES"}) {
    ASSERT_OK_AND_ASSIGN(uint64_t n, Total(*s, q));
    EXPECT_EQ(n, 2u) << q;
  }
}

TEST(TextFieldAnalyzerTest, WrongTypeInATextFieldIsRefusedNamingIt) {
  TempDir dir;
  index::IndexWriterOptions o;
  ASSERT_OK_AND_ASSIGN(o.schema, index::ParseSchemaJson(R"({"fields": {"body": {"type": "text"}}})"));
  ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), o));
  Document d;
  d.id = "x";
  d.values["body"] = {int64_t{42}};
  Status st = w->Upsert(d);
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("\"body\" is text"), std::string::npos) << st.ToString();
  // Several strings are one multi-valued text.
  d.values["body"] = {std::string("alpha beta"), std::string("gamma")};
  ASSERT_OK(w->Upsert(d));
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(auto s, index::Searcher::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(uint64_t n, Total(*s, "body:gamma AND body:alpha"));
  EXPECT_EQ(n, 1u);
}

}  // namespace
}  // namespace hymir::testing
