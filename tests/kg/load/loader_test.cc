// Loaders: N-Triples parsing, TSV, bad lines (file:line, skip or fatal),
// idempotent reload, and WordNet from /usr/share/wordnet when installed.
#include "hymir/kg/loader.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "hymir/kg/triple_store.h"
#include "tests/testutil/testutil.h"

namespace hymir::kg {
namespace {

using hymir::testing::TempDir;
using hymir::testing::WriteText;

std::unique_ptr<TripleStore> OpenOrDie(const std::string& dir) {
  auto r = TripleStore::Open(dir);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

TriplePattern SubjectPattern(const std::string& s) {
  TriplePattern p;
  p.subject = s;
  return p;
}

TEST(NTriplesTest, ParsesIrisLiteralsAndBlankNodes) {
  Triple t;
  bool is_triple = false;
  std::string fault;
  ASSERT_TRUE(ParseNTriplesLine("<http://a/s> <http://a/p> <http://a/o> .", &t, &is_triple, &fault)) << fault;
  EXPECT_TRUE(is_triple);
  EXPECT_EQ(t, (Triple{"<http://a/s>", "<http://a/p>", "<http://a/o>"}));
  ASSERT_TRUE(ParseNTriplesLine("_:b1 <p> \"say \\\"hi\\\" .\"@en-GB .", &t, &is_triple, &fault)) << fault;
  EXPECT_EQ(t, (Triple{"_:b1", "<p>", "\"say \\\"hi\\\" .\"@en-GB"}));
  ASSERT_TRUE(
      ParseNTriplesLine("<s>\t<p>\t\"42\"^^<http://www.w3.org/2001/XMLSchema#int> . # c", &t, &is_triple, &fault))
      << fault;
  EXPECT_EQ(t.object, "\"42\"^^<http://www.w3.org/2001/XMLSchema#int>");
  ASSERT_TRUE(ParseNTriplesLine("<s> <p> _:x.", &t, &is_triple, &fault)) << fault;
  EXPECT_EQ(t.object, "_:x");
  ASSERT_TRUE(ParseNTriplesLine("   # comment", &t, &is_triple, &fault));
  EXPECT_FALSE(is_triple);
  ASSERT_TRUE(ParseNTriplesLine("", &t, &is_triple, &fault));
  EXPECT_FALSE(is_triple);

  for (const char* bad : {"<s> <p> <o>", "<s> <p> \"open .", "<s <p> <o> .", "\"lit\" <p> <o> .", "<s> _:b <o> .",
                          "<s> <p> <o> . extra", "<s> <p> \"x\"^^xsd:int .", "<s> <p> \"x\"@ .", "s p o ."}) {
    fault.clear();
    EXPECT_FALSE(ParseNTriplesLine(bad, &t, &is_triple, &fault)) << bad;
    EXPECT_FALSE(fault.empty()) << bad;
  }
}

// NUL bytes, invalid UTF-8 and undefined escapes are refused
// naming the column (before: all three were loaded as they were).
TEST(NTriplesTest, RefusesNulInvalidUtf8AndBadEscapes) {
  Triple t;
  bool is_triple = false;
  std::string fault;
  const std::string nul = std::string("<s> <p> \"a") + '\0' + "b\" .";
  struct Case {
    std::string line;
    std::string fault;
  };
  for (const Case& c :
       {Case{nul, "NUL byte at column 11"}, Case{"<s> <p> \"caf\xC3\" .", "invalid UTF-8 at column 13"},
        Case{"<s> <p> \"\xC0\xAF\" .", "invalid UTF-8 at column 10"},
        Case{"<s> <p> \"\xED\xA0\x80\" .", "invalid UTF-8"}, Case{"<s> <p> \"a\\qb\" .", "invalid escape at column 11"},
        Case{"<s> <p> \"\\u12G4\" .", "invalid \\u escape at column 10"},
        Case{"<s> <p> \"\\U0001F60\" .", "invalid \\U escape"},
        Case{"<s\\n> <p> <o> .", "invalid escape at column 3 (an IRI allows only"}}) {
    fault.clear();
    EXPECT_FALSE(ParseNTriplesLine(c.line, &t, &is_triple, &fault)) << c.line;
    EXPECT_NE(fault.find(c.fault), std::string::npos) << c.line << ": " << fault;
  }
  for (const char* good : {"<s> <p> \"caf\xC3\xA9 \\t\\\"\\\\ \\u00e9 \\U0001F600\" .", "<s\\u00e9> <p> <o> .",
                           "<s> <p> \"\xF0\x9F\x98\x80\"@en ."}) {
    fault.clear();
    EXPECT_TRUE(ParseNTriplesLine(good, &t, &is_triple, &fault)) << good << ": " << fault;
  }
}

TEST(LoaderTest, MalformedNTriplesAreFatalOrSkippedWithFileAndLine) {
  TempDir tmp;
  std::string path = tmp.Sub("g.nt");
  WriteText(path,
            "# header\n"
            "<a> <r> <b> .\n"
            "<a> <r> \"broken .\n"
            "<b> <r> <c> .\n"
            "<c> <r>\n");
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  auto fatal = LoadNTriples(*store, path);
  ASSERT_FALSE(fatal.ok());
  EXPECT_TRUE(fatal.status().IsInvalidArgument());
  EXPECT_NE(fatal.status().message().find(path + ":3: unterminated literal"), std::string::npos)
      << fatal.status().ToString();

  LoadOptions skip;
  skip.skip_bad = true;
  ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadNTriples(*store, path, skip));
  EXPECT_EQ(stats.lines, 5u);
  EXPECT_EQ(stats.triples, 2u);
  EXPECT_EQ(stats.bad_lines, 2u);
  ASSERT_EQ(stats.errors.size(), 2u);
  EXPECT_EQ(stats.errors[0].rfind(path + ":3: ", 0), 0u) << stats.errors[0];
  EXPECT_EQ(stats.errors[1].rfind(path + ":5: ", 0), 0u) << stats.errors[1];
  ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
  EXPECT_EQ(count, 2u);

  auto missing = LoadNTriples(*store, tmp.Sub("nope.nt"));
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST(LoaderTest, TsvReloadIsIdempotentAndBadLinesNameTheLine) {
  TempDir tmp;
  std::string path = tmp.Sub("g.tsv");
  std::string text = "# s\tp\to\n";
  for (int i = 0; i < 500; ++i) {
    // Appended piecewise: GCC 12 gives a false -Wrestrict on chained operator+.
    text += "e";
    text += std::to_string(i);
    text += "\tlinks\te";
    text += std::to_string((i * 7) % 500);
    text += "\r\n";
  }
  text += "e1\tlinks\te2\n";  // a duplicate line
  WriteText(path, text);
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  LoadOptions options;
  options.batch_size = 64;
  size_t progress_calls = 0;
  options.progress = [&](const LoadProgress& p) {
    ++progress_calls;
    EXPECT_EQ(p.file, path);
    EXPECT_LE(p.bytes_read, p.bytes_total);
  };
  ASSERT_OK_AND_ASSIGN(LoadStats first, LoadTsv(*store, path, options));
  EXPECT_EQ(first.triples, 501u);
  EXPECT_GT(progress_calls, 5u);
  ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
  ASSERT_OK_AND_ASSIGN(TripleStoreStats before, store->Stats());
  ASSERT_OK_AND_ASSIGN(auto e1_before, store->Match(SubjectPattern("e1")));

  ASSERT_OK_AND_ASSIGN(LoadStats second, LoadTsv(*store, path, options));
  EXPECT_EQ(second.added, 0u);
  ASSERT_OK_AND_ASSIGN(uint64_t count2, store->Count());
  EXPECT_EQ(count2, count);
  ASSERT_OK_AND_ASSIGN(TripleStoreStats after, store->Stats());
  EXPECT_EQ(after.terms, before.terms);  // no new dictionary ids
  ASSERT_OK_AND_ASSIGN(auto e1_after, store->Match(SubjectPattern("e1")));
  EXPECT_EQ(e1_after, e1_before);  // same ids, so the same key order

  std::string bad = tmp.Sub("bad.tsv");
  WriteText(bad, "a\tr\tb\na\tr\n\tr\tc\nx\ty\tz\n");
  auto fatal = LoadTsv(*store, bad);
  ASSERT_FALSE(fatal.ok());
  EXPECT_NE(fatal.status().message().find(bad + ":2: expected 3 tab-separated fields"), std::string::npos)
      << fatal.status().ToString();
  LoadOptions skip;
  skip.skip_bad = true;
  ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadTsv(*store, bad, skip));
  EXPECT_EQ(stats.bad_lines, 2u);
  ASSERT_EQ(stats.errors.size(), 2u);
  EXPECT_EQ(stats.errors[1], bad + ":3: empty subject");
  ASSERT_OK_AND_ASSIGN(bool exists, store->Exists(Triple{"x", "y", "z"}));
  EXPECT_TRUE(exists);
}

TEST(WordNetTest, DogReachesAnimalThroughHypernyms) {
  const std::string wn = "/usr/share/wordnet";
  if (!std::filesystem::exists(wn + "/data.noun")) GTEST_SKIP() << "wordnet-base not installed";
  TempDir tmp;
  // Only the nouns: the whole of WordNet is measured through the CLI instead.
  std::filesystem::create_directories(tmp.Sub("wn"));
  std::filesystem::create_symlink(wn + "/data.noun", tmp.Sub("wn/data.noun"));
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadWordNet(*store, tmp.Sub("wn")));
  EXPECT_EQ(stats.bad_lines, 0u);
  EXPECT_EQ(stats.entities, 82115u);  // noun synsets in WordNet 3.0
  std::printf("wordnet nouns: %llu triples in %.1f s\n", static_cast<unsigned long long>(stats.triples), stats.seconds);

  ASSERT_OK_AND_ASSIGN(auto dogs, store->EntitiesForAlias("dog"));
  ASSERT_TRUE(std::find(dogs.begin(), dogs.end(), "wn:n:02084071") != dogs.end());
  ASSERT_OK_AND_ASSIGN(auto animals, store->EntitiesForAlias("Animal"));
  ASSERT_TRUE(std::find(animals.begin(), animals.end(), "wn:n:00015388") != animals.end());
  ASSERT_OK_AND_ASSIGN(auto aliases, store->Aliases("wn:n:02084071"));
  EXPECT_TRUE(std::find(aliases.begin(), aliases.end(), "Canis familiaris") != aliases.end());

  ExpandOptions opt;
  opt.relation = "wn:hypernym";
  opt.direction = Direction::kOut;
  opt.max_hops = 4;
  ASSERT_OK_AND_ASSIGN(auto reached, store->Expand("wn:n:02084071", opt));
  auto animal =
      std::find_if(reached.begin(), reached.end(), [](const ReachedEntity& r) { return r.entity == "wn:n:00015388"; });
  ASSERT_NE(animal, reached.end());
  EXPECT_LE(animal->hops, 2);  // dog -> domestic animal -> animal

  // The inverse edges were loaded too: animal has dog's parent as a hyponym.
  ASSERT_OK_AND_ASSIGN(bool hyponym, store->Exists(Triple{"wn:n:00015388", "wn:hyponym", animal->parent}));
  EXPECT_TRUE(hyponym);

  // Idempotent: loading again adds nothing.
  ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
  ASSERT_OK_AND_ASSIGN(LoadStats again, LoadWordNet(*store, tmp.Sub("wn")));
  EXPECT_EQ(again.added, 0u);
  ASSERT_OK_AND_ASSIGN(uint64_t count2, store->Count());
  EXPECT_EQ(count2, count);
}

// Found by tests/fuzz/wordnet_fuzz.cc): a word count of 2^63 or a
// pointer count of 2^62 wrapped the "list shorter than its count" check to
// zero and the parser read past the line's tokens.
TEST(WordNetTest, HugeCountsAreBadLinesNotOverreads) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.Sub("wn"));
  const std::string path = tmp.Sub("wn") + "/data.noun";
  WriteText(path,
            "00000001 05 n 8000000000000000 dog 0 000 | word count 2^63\n"
            "00000002 05 n 01 dog 0 4611686018427387904 @ 00000003 n 0000 | pointer count 2^62\n"
            "00000004 05 n 01 cat 0 001 @ 00000005 n 0000 | fine\n");
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  auto fatal = LoadWordNet(*store, tmp.Sub("wn"));
  ASSERT_FALSE(fatal.ok());
  EXPECT_EQ(fatal.status().message(), path + ":1: word list shorter than its count 9223372036854775808");
  LoadOptions skip;
  skip.skip_bad = true;
  ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadWordNet(*store, tmp.Sub("wn"), skip));
  EXPECT_EQ(stats.bad_lines, 2u);
  ASSERT_EQ(stats.errors.size(), 2u);
  EXPECT_EQ(stats.errors[1], path + ":2: pointer list shorter than its count 4611686018427387904");
  EXPECT_EQ(stats.entities, 1u);
  ASSERT_OK_AND_ASSIGN(bool exists, store->Exists(Triple{"wn:n:00000004", "wn:hypernym", "wn:n:00000005"}));
  EXPECT_TRUE(exists);
}

TEST(WordNetTest, MissingDirectoryIsNotFound) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  auto r = LoadWordNet(*store, tmp.Sub("nowhere"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find(tmp.Sub("nowhere")), std::string::npos);
}

}  // namespace
}  // namespace hymir::kg
