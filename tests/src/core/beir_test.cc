#include "hymir/beir.h"

#include <fstream>
#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace hymir {
namespace {

using testing::TempDir;
using testing::WriteText;

TEST(BeirTest, ParsesCorpusLineWithDomainAndExtras) {
  auto doc = ParseCorpusLine(
      R"({"_id": "d1", "title": "T", "text": "Body \u00e9", "domain": "med", "year": 1999, "ok": true, "metadata": {"a": 1}})",
      "c.jsonl:1");
  ASSERT_OK(doc.status());
  EXPECT_EQ(doc->id, "d1");
  EXPECT_EQ(doc->title, "T");
  EXPECT_EQ(doc->text, "Body \xC3\xA9");
  ASSERT_TRUE(doc->domain.has_value());
  EXPECT_EQ(*doc->domain, "med");
  EXPECT_EQ(doc->fields.at("year"), "1999");
  EXPECT_EQ(doc->fields.at("ok"), "true");
  EXPECT_EQ(doc->fields.count("metadata"), 0u);
}

TEST(BeirTest, TopLevelScalarsAndArraysBecomeTypedValues) {
  auto d = ParseCorpusLine(
      R"({"_id": "p", "title": "t", "size": 42, "price": 2.5, "free": true, "section": "net", "tag": ["a", "b"],)"
      R"( "meta": {"x": 1}, "authors": [{"n": 1}], "none": null})",
      "c:1");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->values.at("size"), std::vector<FieldValue>{int64_t{42}});
  EXPECT_EQ(d->values.at("price"), std::vector<FieldValue>{2.5});
  EXPECT_EQ(d->values.at("free"), std::vector<FieldValue>{true});
  EXPECT_EQ(d->values.at("section"), std::vector<FieldValue>{std::string("net")});
  EXPECT_EQ(d->values.at("tag"), (std::vector<FieldValue>{std::string("a"), std::string("b")}));
  // Scalars stay string fields too; arrays, objects and null are no fields.
  EXPECT_EQ(d->fields.at("size"), "42");
  EXPECT_FALSE(d->fields.count("tag"));
  EXPECT_FALSE(d->values.count("meta"));
  EXPECT_FALSE(d->values.count("authors"));
  EXPECT_FALSE(d->values.count("none"));
}

TEST(BeirTest, NumericIdIsKeptAsText) {
  auto doc = ParseCorpusLine(R"({"_id": 42, "text": "x"})", "c:1");
  ASSERT_OK(doc.status());
  EXPECT_EQ(doc->id, "42");
}

TEST(BeirTest, MalformedLinesNameThePlaceAndFault) {
  struct Case {
    const char* line;
    const char* fault;
  } cases[] = {
      {R"({"_id": "a", "text": )", "malformed JSON"},
      {R"(["_id"])", "expected a JSON object"},
      {R"({"title": "no id"})", "missing \"_id\""},
      {R"({"_id": "", "text": "x"})", "\"_id\" is empty"},
      {R"({"_id": "a", "text": 5})", "\"text\" must be a string"},
      {R"({"_id": "a", "text": "x", "title": ["t"]})", "\"title\" must be a string"},
      {R"({"_id": "a", "text": "x", "_secret": "y"})", "reserved"},
  };
  for (const auto& c : cases) {
    auto doc = ParseCorpusLine(c.line, "corpus.jsonl:7");
    ASSERT_FALSE(doc.ok()) << c.line;
    EXPECT_TRUE(doc.status().IsInvalidArgument());
    EXPECT_NE(doc.status().message().find("corpus.jsonl:7"), std::string::npos) << doc.status().message();
    EXPECT_NE(doc.status().message().find(c.fault), std::string::npos) << doc.status().message();
  }
}

// Ids end up in whitespace-separated run files and qrels, and in C strings:
// whitespace, control bytes and NUL are refused at the door, naming the line.
TEST(BeirTest, IdsWithWhitespaceOrControlBytesAreRefused) {
  struct Case {
    const char* line;
    const char* fault;
  } cases[] = {
      {R"({"_id": "a b", "text": "x"})", "a space"},
      {R"({"_id": "a\tb", "text": "x"})", "a tab"},
      {R"({"_id": "a\nb", "text": "x"})", "a newline"},
      {R"({"_id": "a\u0000b", "text": "x"})", "a NUL byte"},
      {R"({"_id": "a\u0001b", "text": "x"})", "a control byte"},
      {R"({"_id": "a\u007fb", "text": "x"})", "a control byte"},
  };
  for (const auto& c : cases) {
    auto doc = ParseCorpusLine(c.line, "corpus.jsonl:3");
    ASSERT_FALSE(doc.ok()) << c.line;
    EXPECT_TRUE(doc.status().IsInvalidArgument());
    EXPECT_NE(doc.status().message().find("corpus.jsonl:3"), std::string::npos) << doc.status().message();
    EXPECT_NE(doc.status().message().find(c.fault), std::string::npos) << doc.status().message();
  }
  EXPECT_TRUE(ParseCorpusLine(R"({"_id": "caf\u00e9-1/x", "text": "x"})", "c:1").ok());
  TempDir tmp;
  WriteText(tmp.Sub("q.jsonl"), "{\"_id\":\"q1\",\"text\":\"a\"}\n{\"_id\":\"q 2\",\"text\":\"b\"}\n");
  auto queries = ReadQueries(tmp.Sub("q.jsonl"));
  ASSERT_FALSE(queries.ok());
  EXPECT_NE(queries.status().message().find(tmp.Sub("q.jsonl") + ":2"), std::string::npos)
      << queries.status().message();
  EXPECT_TRUE(CheckId("doc-1").ok());
  EXPECT_FALSE(CheckId(std::string("a\0b", 3)).ok());
}

// A line over the limit is refused naming file:line without being held
// whole, and the reader goes on with the next line.
TEST(BeirTest, OverLimitLinesAreRefusedNamingTheLine) {
  TempDir tmp;
  const std::string corpus = tmp.Sub("c.jsonl");
  {
    std::ofstream out(corpus, std::ios::binary);
    out << "{\"_id\":\"1\",\"text\":\"a\"}\n{\"_id\":\"2\",\"text\":\"" << std::string(kMaxCorpusLineBytes, 'x')
        << "\"}\n{\"_id\":\"3\",\"text\":\"c\"}";
  }
  auto reader = CorpusReader::Open(corpus);
  ASSERT_OK(reader.status());
  Document doc;
  auto r = (*reader)->Next(&doc);
  ASSERT_TRUE(r.ok() && *r);
  r = (*reader)->Next(&doc);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(corpus + ":2: line longer than the limit"), std::string::npos)
      << r.status().message();
  r = (*reader)->Next(&doc);
  ASSERT_TRUE(r.ok() && *r) << r.status().ToString();
  EXPECT_EQ(doc.id, "3");
  EXPECT_EQ((*reader)->bytes_read(), (*reader)->file_size());

  const std::string queries = tmp.Sub("q.jsonl");
  {
    std::ofstream out(queries, std::ios::binary);
    out << "{\"_id\":\"q1\",\"text\":\"a\"}\n{\"_id\":\"q2\",\"text\":\"" << std::string(kMaxQueryBytes, 'y')
        << "\"}\n";
  }
  auto q = ReadQueries(queries);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find(queries + ":2: line longer than the limit"), std::string::npos)
      << q.status().message();
  WriteText(queries, "{\"_id\":\"q1\",\"text\":\"blood\\u0000oxygen\"}\n");
  q = ReadQueries(queries);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find(queries + ":1: query \"q1\": \"text\" has a NUL byte"), std::string::npos)
      << q.status().message();
}

TEST(BeirTest, ReaderReportsLineNumbersAndContinues) {
  TempDir tmp;
  std::string path = tmp.Sub("c.jsonl");
  WriteText(path, "{\"_id\":\"1\",\"text\":\"a\"}\n\n{broken\n{\"_id\":\"2\",\"text\":\"b\"}\n");
  auto reader = CorpusReader::Open(path);
  ASSERT_OK(reader.status());
  Document d;
  auto r = (*reader)->Next(&d);
  ASSERT_OK(r.status());
  EXPECT_TRUE(*r);
  EXPECT_EQ(d.id, "1");
  r = (*reader)->Next(&d);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path + ":3"), std::string::npos) << r.status().message();
  r = (*reader)->Next(&d);
  ASSERT_OK(r.status());
  EXPECT_EQ(d.id, "2");
  EXPECT_EQ((*reader)->line(), 4u);
  r = (*reader)->Next(&d);
  ASSERT_OK(r.status());
  EXPECT_FALSE(*r);
}

TEST(BeirTest, MissingFileIsNotFound) {
  auto reader = CorpusReader::Open("/nonexistent/corpus.jsonl");
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(reader.status().IsNotFound());
  auto q = ReadQueries("/nonexistent/q.jsonl");
  EXPECT_TRUE(q.status().IsNotFound());
}

TEST(BeirTest, ReadsQueries) {
  TempDir tmp;
  std::string path = tmp.Sub("q.jsonl");
  WriteText(path, "{\"_id\":\"q1\",\"text\":\"hello\",\"domain\":\"cisi\"}\n{\"_id\":\"q2\"}\n");
  auto q = ReadQueries(path);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find(path + ":2"), std::string::npos);
  WriteText(path, "{\"_id\":\"q1\",\"text\":\"hello\",\"domain\":\"cisi\"}\n");
  q = ReadQueries(path);
  ASSERT_OK(q.status());
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].text, "hello");
  EXPECT_EQ((*q)[0].domain.value_or(""), "cisi");
  EXPECT_TRUE((*q)[0].vectors.empty());
  // Query vectors, and a bad one named by line, query and element.
  WriteText(path, "{\"_id\":\"q1\",\"text\":\"\",\"vectors\":{\"img\":[0.5, 1, -2]}}\n");
  q = ReadQueries(path);
  ASSERT_OK(q.status());
  EXPECT_EQ((*q)[0].vectors.at("img"), (std::vector<float>{0.5f, 1.0f, -2.0f}));
  WriteText(path,
            "{\"_id\":\"q1\",\"text\":\"a\"}\n{\"_id\":\"q9\",\"text\":\"b\",\"vectors\":{\"img\":[1, \"x\"]}}\n");
  q = ReadQueries(path);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find(path + ":2: query \"q9\": vector \"img\"[1]"), std::string::npos)
      << q.status().ToString();
}

}  // namespace
}  // namespace hymir

namespace hymir {
namespace {

// Over-long ids, repeated JSON keys and repeated query ids are
// refused naming file:line (before: an id of 16,384+ characters was indexed
// and read back as "", the first of two keys won, both queries ran).
TEST(BeirTest, BadInputIsRefusedNamingThePlace) {
  const std::string long_id(kMaxIdBytes + 1, 'x');
  auto doc = ParseCorpusLine("{\"_id\": \"" + long_id + "\", \"text\": \"t\"}", "c.jsonl:7");
  ASSERT_FALSE(doc.ok());
  EXPECT_TRUE(doc.status().IsInvalidArgument());
  EXPECT_NE(doc.status().message().find("c.jsonl:7: \"_id\" is 4097 bytes"), std::string::npos)
      << doc.status().ToString();
  ASSERT_OK(ParseCorpusLine("{\"_id\": \"" + std::string(kMaxIdBytes, 'x') + "\"}", "c:1").status());

  for (const char* line :
       {R"({"_id": "a", "text": "one", "text": "two"})", R"({"_id": "a", "_id": "b"})",
        R"({"_id": "a", "vectors": {"v": [1], "v": [2]}})", R"({"_id": "a", "meta": [{"k": 1, "k": 2}]})"}) {
    auto d = ParseCorpusLine(line, "c.jsonl:3");
    ASSERT_FALSE(d.ok()) << line;
    EXPECT_NE(d.status().message().find("c.jsonl:3: key \""), std::string::npos) << d.status().ToString();
    EXPECT_NE(d.status().message().find("appears more than once"), std::string::npos) << d.status().ToString();
  }

  TempDir tmp;
  const std::string path = tmp.Sub("q.jsonl");
  WriteText(path,
            "{\"_id\":\"q1\",\"text\":\"a\"}\n{\"_id\":\"q2\",\"text\":\"b\"}\n\n{\"_id\":\"q1\",\"text\":\"c\"}\n");
  auto q = ReadQueries(path);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find(path + ":4: query id \"q1\" repeats line 1"), std::string::npos)
      << q.status().ToString();
  WriteText(path, "{\"_id\":\"q1\",\"text\":\"a\",\"text\":\"b\"}\n");
  q = ReadQueries(path);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find(path + ":1: key \"text\""), std::string::npos) << q.status().ToString();
}

}  // namespace
}  // namespace hymir
