// Typed fields: schema parsing, typed values at ingest, range filters, sort
// and facets, each checked against a brute-force oracle over real Lucene++
// indexes.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "hymir/engine.h"
#include "hymir/index/schema.h"
#include "hymir/ingest.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::testing {
namespace {

using index::FieldType;
using index::RangeFilter;
using index::Schema;

Schema TestSchema() {
  auto s = index::ParseSchemaJson(R"({"fields": {
      "section": {"type": "keyword", "facet": true, "sort": true},
      "tag": {"type": "keyword", "facet": true},
      "size": {"type": "int64", "sort": true, "facet": true},
      "price": {"type": "double", "sort": true, "facet": true},
      "released": {"type": "date", "sort": true, "facet": true},
      "free": {"type": "bool", "facet": true, "sort": true}}})");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

// What the oracle knows of one document.
struct Truth {
  std::optional<int64_t> size;
  std::optional<double> price;
  std::optional<int64_t> released;  // epoch ms
  std::optional<bool> free;
  std::optional<std::string> section;
  std::set<std::string> tags;
  bool has_apple = false;  // its text holds "apple"
};

const char* kSections[] = {"admin", "graphics", "mail", "net", "text"};
const char* kTags[] = {"gtk", "qt", "x11", "cli", "web", "lib"};

Document RandomDoc(int i, std::mt19937& rng, Truth* t) {
  Document d;
  d.id = "d" + std::to_string(1000 + i);
  std::uniform_int_distribution<int> pct(0, 99);
  t->has_apple = pct(rng) < 40;
  d.title = "package " + std::to_string(i % 7);
  d.text = std::string(t->has_apple ? "apple " : "") + (pct(rng) < 50 ? "apple banana" : "cherry") + " words";
  t->has_apple = t->has_apple || d.text.find("apple") != std::string::npos;
  if (pct(rng) < 90) {
    t->size = std::uniform_int_distribution<int64_t>(-50, 200)(rng);  // many ties
    d.values["size"] = {*t->size};
  }
  if (pct(rng) < 85) {
    t->price = std::uniform_int_distribution<int>(-400, 400)(rng) / 8.0;
    d.values["price"] = {*t->price};
  }
  if (pct(rng) < 80) {
    t->released = int64_t{1500000000000} + std::uniform_int_distribution<int64_t>(0, 200)(rng) * 86400000;
    d.values["released"] = {index::FormatDate(*t->released)};
  }
  if (pct(rng) < 70) {
    t->free = pct(rng) < 50;
    d.values["free"] = {*t->free};
  }
  if (pct(rng) < 85) {
    t->section = kSections[pct(rng) % 5];
    d.values["section"] = {*t->section};
  }
  const int ntags = pct(rng) % 4;
  for (int k = 0; k < ntags; ++k) {
    const std::string tag = kTags[pct(rng) % 6];
    t->tags.insert(tag);
    d.values["tag"].push_back(tag);
  }
  return d;
}

class TypedFieldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(7);
    index::IndexWriterOptions o;
    o.schema = TestSchema();
    o.ram_buffer_mb = 1;
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir_.path(), o));
    for (int i = 0; i < 600; ++i) {
      Truth t;
      Document d = RandomDoc(i, rng, &t);
      ASSERT_OK(w->Upsert(d));
      truth_[d.id] = t;
      if (i % 150 == 149) ASSERT_OK(w->Commit());  // several segments
    }
    // Replace and delete some: the values must follow.
    for (int i = 0; i < 600; i += 9) {
      Truth t;
      Document d = RandomDoc(i + 5000, rng, &t);
      d.id = "d" + std::to_string(1000 + i);
      ASSERT_OK(w->Upsert(d));
      truth_[d.id] = t;
    }
    for (int i = 4; i < 600; i += 13) {
      ASSERT_OK(w->Delete("d" + std::to_string(1000 + i)));
      truth_.erase("d" + std::to_string(1000 + i));
    }
    ASSERT_OK(w->Commit());
    ASSERT_OK_AND_ASSIGN(searcher_, index::Searcher::Open(dir_.path()));
  }

  // Ids of every match of `q` (all pages).
  std::vector<std::string> All(index::TextQuery q, uint64_t* total = nullptr) {
    q.k = 100000;
    q.offset = 0;
    auto r = searcher_->SearchStructured(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    if (total) *total = r->total;
    return Ids(r->hits);
  }

  TempDir dir_;
  std::map<std::string, Truth> truth_;
  std::unique_ptr<index::Searcher> searcher_;
};

bool InRange(std::optional<double> v, const std::optional<double>& lo, bool lo_inc, const std::optional<double>& hi,
             bool hi_inc) {
  if (!v) return false;
  if (lo && (lo_inc ? *v < *lo : *v <= *lo)) return false;
  if (hi && (hi_inc ? *v > *hi : *v >= *hi)) return false;
  return true;
}

std::string Num(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

TEST(SchemaTest, ParsesTypesAndFlagsAndRoundTrips) {
  const Schema s = TestSchema();
  ASSERT_EQ(s.fields.size(), 6u);
  EXPECT_EQ(s.Find("size")->type, FieldType::kInt64);
  EXPECT_TRUE(s.Find("size")->sortable);
  EXPECT_FALSE(s.Find("tag")->sortable);
  EXPECT_TRUE(s.Find("tag")->indexed);
  ASSERT_OK_AND_ASSIGN(Schema back, index::ParseSchemaJson(index::SchemaToJson(s)));
  EXPECT_EQ(back, s);
}

TEST(SchemaTest, RefusesUnknownTypeFlagAndReservedNamesNamingTheKey) {
  auto bad_type = index::ParseSchemaJson(R"({"fields": {"size": {"type": "integer"}}})");
  ASSERT_TRUE(bad_type.status().IsInvalidArgument());
  EXPECT_NE(bad_type.status().message().find("\"size\""), std::string::npos) << bad_type.status().ToString();
  EXPECT_NE(bad_type.status().message().find("integer"), std::string::npos);
  auto bad_flag = index::ParseSchemaJson(R"({"fields": {"size": {"type": "int64", "sortable": true}}})");
  ASSERT_TRUE(bad_flag.status().IsInvalidArgument());
  EXPECT_NE(bad_flag.status().message().find("\"sortable\""), std::string::npos) << bad_flag.status().ToString();
  auto bad_value = index::ParseSchemaJson(R"({"fields": {"size": {"type": "int64", "sort": 1}}})");
  EXPECT_TRUE(bad_value.status().IsInvalidArgument());
  auto reserved = index::ParseSchemaJson(R"({"fields": {"title": {"type": "keyword"}}})");
  EXPECT_TRUE(reserved.status().IsInvalidArgument());
  auto text = index::ParseSchemaJson(R"({"fields": {"body": {"type": "text", "analyzer": "frenchh"}}})");
  ASSERT_TRUE(text.status().IsInvalidArgument());
  EXPECT_NE(text.status().message().find("unknown analyzer \"frenchh\""), std::string::npos)
      << text.status().ToString();
  EXPECT_TRUE(index::ParseSchemaJson("{").status().IsInvalidArgument());
  EXPECT_TRUE(index::ParseSchemaJson(R"({"field": {}})").status().IsInvalidArgument());
}

TEST(SchemaTest, DatesAreIso8601InEpochMilliseconds) {
  ASSERT_OK_AND_ASSIGN(int64_t day, index::ParseDate("2021-03-04"));
  EXPECT_EQ(day, int64_t{1614816000000});
  ASSERT_OK_AND_ASSIGN(int64_t t, index::ParseDate("2021-03-04T05:06:07Z"));
  EXPECT_EQ(t, day + (5 * 3600 + 6 * 60 + 7) * 1000);
  ASSERT_OK_AND_ASSIGN(int64_t frac, index::ParseDate("2021-03-04T05:06:07.250Z"));
  EXPECT_EQ(frac, t + 250);
  ASSERT_OK_AND_ASSIGN(int64_t off, index::ParseDate("2021-03-04T07:06:07+02:00"));
  EXPECT_EQ(off, t);
  ASSERT_OK_AND_ASSIGN(int64_t old, index::ParseDate("1969-12-31T23:59:59Z"));
  EXPECT_EQ(old, -1000);
  EXPECT_EQ(index::FormatDate(t), "2021-03-04T05:06:07Z");
  EXPECT_EQ(index::FormatDate(-1000), "1969-12-31T23:59:59Z");
  EXPECT_EQ(index::FormatDate(frac), "2021-03-04T05:06:07.250Z");
  for (const char* bad : {"2021-02-30", "2021-13-01", "21-03-04", "2021-03-04T25:00", "2021-03-04X", "yesterday"}) {
    EXPECT_TRUE(index::ParseDate(bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(SchemaTest, DoubleKeysOrderAsNumbers) {
  index::FieldSpec spec;
  spec.type = FieldType::kDouble;
  std::vector<double> v = {-1e300, -2.5, -1, -0.0, 0.0, 1e-300, 0.5, 3, 1e300};
  for (size_t i = 1; i < v.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t a, index::ValueKey("p", spec, FieldValue(v[i - 1])));
    ASSERT_OK_AND_ASSIGN(int64_t b, index::ValueKey("p", spec, FieldValue(v[i])));
    if (v[i - 1] == v[i]) {
      EXPECT_EQ(a, b);
    } else {
      EXPECT_LT(a, b) << v[i - 1] << " " << v[i];
    }
    EXPECT_EQ(std::get<double>(index::KeyValue(FieldType::kDouble, b)), v[i]);
  }
}

TEST(TypedIngestTest, WrongTypeIsRefusedNamingDocumentAndField) {
  TempDir dir;
  index::IndexWriterOptions o;
  o.schema = TestSchema();
  ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), o));
  Document d = Doc("x", "t", "u");
  d.values["size"] = {std::string("big")};
  Status s = w->Upsert(d);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("\"x\""), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("\"size\""), std::string::npos) << s.ToString();
  d.values["size"] = {int64_t{1}, int64_t{2}};
  EXPECT_TRUE(w->Upsert(d).IsInvalidArgument());  // one value only
  d.values.clear();
  d.values["section"] = {int64_t{3}};
  EXPECT_TRUE(w->Upsert(d).IsInvalidArgument());
  d.values.clear();
  d.values["price"] = {std::numeric_limits<double>::quiet_NaN()};
  EXPECT_TRUE(w->Upsert(d).IsInvalidArgument());
  d.values.clear();
  d.values["size"] = {2.0};  // a whole number written with a fraction
  d.values["price"] = {int64_t{3}};
  d.fields["released"] = "2020-01-01";  // text, read by the schema
  EXPECT_OK(w->Upsert(d));
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(auto s2, index::Searcher::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(Document back, s2->GetDocument("x"));
  ASSERT_EQ(back.values["size"].size(), 1u);
  EXPECT_EQ(std::get<int64_t>(back.values["size"][0]), 2);
  EXPECT_EQ(std::get<double>(back.values["price"][0]), 3.0);
  EXPECT_EQ(std::get<std::string>(back.values["released"][0]), "2020-01-01T00:00:00Z");
}

TEST(TypedIngestTest, CorpusLineWithWrongTypeIsNamedAndSkippedWithSkipBad) {
  TempDir dir;
  const std::string corpus = dir.Sub("corpus.jsonl");
  WriteText(corpus,
            "{\"_id\": \"a\", \"title\": \"t\", \"size\": 5, \"tag\": [\"x\", \"y\"]}\n"
            "{\"_id\": \"b\", \"title\": \"t\", \"size\": \"five\"}\n"
            "{\"_id\": \"c\", \"title\": \"t\", \"size\": 7}\n");
  index::IndexWriterOptions o;
  o.schema = TestSchema();
  {
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.Sub("strict"), o));
    auto r = IngestCorpus(corpus, *w, {});
    ASSERT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find("corpus.jsonl:2"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("\"size\""), std::string::npos) << r.status().ToString();
  }
  ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.Sub("lenient"), o));
  IngestOptions io;
  io.skip_bad = true;
  std::vector<std::string> skipped;
  io.on_skip = [&](const Status& s) { skipped.push_back(s.message()); };
  ASSERT_OK_AND_ASSIGN(IngestReport rep, IngestCorpus(corpus, *w, io));
  EXPECT_EQ(rep.added, 2u);
  EXPECT_EQ(rep.skipped, 1u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("corpus.jsonl:2"), std::string::npos);
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(auto s, index::Searcher::Open(dir.Sub("lenient")));
  index::TextQuery q;
  q.filters = {{"tag", {"y"}}};
  ASSERT_OK_AND_ASSIGN(auto r, s->SearchStructured(q));
  EXPECT_EQ(r.total, 1u);
}

TEST(TypedIngestTest, ReopenWithAnotherSchemaIsRefused) {
  TempDir dir;
  index::IndexWriterOptions o;
  o.schema = TestSchema();
  { ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), o)); }
  {
    index::IndexWriterOptions same;
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), same));  // nullopt: as recorded
    EXPECT_EQ(w->schema(), TestSchema());
  }
  index::IndexWriterOptions other = o;
  other.schema->fields["size"].type = FieldType::kDouble;
  auto w = index::IndexWriter::Open(dir.path(), other);
  ASSERT_TRUE(w.status().IsInvalidArgument());
  EXPECT_NE(w.status().message().find("schema"), std::string::npos) << w.status().ToString();
  // An index without a schema cannot gain one either.
  TempDir plain;
  ASSERT_OK(BuildIndex(plain.path(), {Doc("a", "t", "x")}));
  EXPECT_TRUE(index::IndexWriter::Open(plain.path(), o).status().IsInvalidArgument());
}

TEST(TypedIngestTest, IndexWithoutSchemaKeepsExactStringFilters) {
  TempDir dir;
  Document a = Doc("a", "apple", "x", "med");
  a.fields["size"] = "10";
  Document b = Doc("b", "apple", "y");
  b.fields["size"] = "010";
  ASSERT_OK(BuildIndex(dir.path(), {a, b}));
  ASSERT_OK_AND_ASSIGN(auto s, index::Searcher::Open(dir.path()));
  index::TextQuery q;
  q.text = "apple";
  q.filters = {{"size", {"010"}}};
  ASSERT_OK_AND_ASSIGN(auto hits, s->Search(q));
  EXPECT_EQ(Ids(hits), std::vector<std::string>{"b"});
  q.filters = {{"domain", {"med"}}};
  ASSERT_OK_AND_ASSIGN(hits, s->Search(q));
  EXPECT_EQ(Ids(hits), std::vector<std::string>{"a"});
  ASSERT_OK_AND_ASSIGN(Document back, s->GetDocument("b"));
  EXPECT_EQ(back.fields["size"], "010");
  q.filters = {};
  q.ranges = {RangeFilter{"size", "0", "20"}};
  EXPECT_TRUE(s->Search(q).status().IsInvalidArgument());  // no schema: no ranges
}

TEST_F(TypedFieldsTest, RangeFiltersMatchBruteForce) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pct(0, 99);
  for (int round = 0; round < 150; ++round) {
    const int which = round % 4;  // size, price, released, free
    std::optional<double> lo, hi;
    RangeFilter r;
    r.lo_inclusive = pct(rng) < 50;
    r.hi_inclusive = pct(rng) < 50;
    auto bound = [&]() -> double {
      switch (which) {
        case 0:
          return std::uniform_int_distribution<int>(-60, 210)(rng);
        case 1:
          return std::uniform_int_distribution<int>(-420, 420)(rng) / 8.0;
        case 2:
          return 1500000000000.0 + std::uniform_int_distribution<int>(-5, 205)(rng) * 86400000.0;
        default:
          return pct(rng) % 2;
      }
    };
    if (pct(rng) < 80) lo = bound();
    if (pct(rng) < 80) hi = bound();
    const char* field = which == 0 ? "size" : which == 1 ? "price" : which == 2 ? "released" : "free";
    r.field = field;
    auto text = [&](double v) {
      if (which == 2) return index::FormatDate(static_cast<int64_t>(v));
      if (which == 3) return std::string(v != 0 ? "true" : "false");
      return Num(v);
    };
    if (lo) r.lo = text(*lo);
    if (hi) r.hi = text(*hi);
    const bool with_text = round % 3 == 0;
    std::set<std::string> want;
    for (const auto& [id, t] : truth_) {
      std::optional<double> v = which == 0   ? (t.size ? std::optional<double>(*t.size) : std::nullopt)
                                : which == 1 ? t.price
                                : which == 2 ? (t.released ? std::optional<double>(*t.released) : std::nullopt)
                                             : (t.free ? std::optional<double>(*t.free) : std::nullopt);
      if (with_text && !t.has_apple) continue;
      if (InRange(v, lo, r.lo_inclusive, hi, r.hi_inclusive)) want.insert(id);
    }
    index::TextQuery q;
    if (with_text) q.text = "apple";
    q.ranges = {r};
    uint64_t total = 0;
    std::vector<std::string> got = All(q, &total);
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want)
        << field << " " << r.lo.value_or("*") << (r.lo_inclusive ? "[" : "{") << " " << r.hi.value_or("*")
        << (r.hi_inclusive ? "]" : "}");
    EXPECT_EQ(total, want.size());
    EXPECT_EQ(got.size(), want.size());
    // The pruned path agrees on the same filter.
    if (with_text) {
      q.k = 20;
      ASSERT_OK_AND_ASSIGN(auto pruned, searcher_->Search(q));
      for (const auto& id : Ids(pruned)) EXPECT_TRUE(want.count(id)) << id;
      EXPECT_EQ(pruned.size(), std::min<size_t>(20, want.size()));
    }
  }
}

TEST_F(TypedFieldsTest, ExactValuesOfTypedFieldsAndKeywordFilters) {
  index::TextQuery q;
  q.filters = {{"size", {"7", "100"}}, {"tag", {"qt"}}};
  std::set<std::string> want;
  for (const auto& [id, t] : truth_) {
    if (t.size && (*t.size == 7 || *t.size == 100) && t.tags.count("qt")) want.insert(id);
  }
  std::vector<std::string> got = All(q);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want);
  // Keyword ranges are byte order over the values.
  q.filters = {};
  q.ranges = {RangeFilter{"section", "graphics", "net", true, false}};
  want.clear();
  for (const auto& [id, t] : truth_) {
    if (t.section && *t.section >= "graphics" && *t.section < "net") want.insert(id);
  }
  got = All(q);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want);
  // Errors name the field.
  q.ranges = {RangeFilter{"nosuch", "1", "2"}};
  auto bad = searcher_->SearchStructured(q);
  ASSERT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("\"nosuch\""), std::string::npos);
  q.ranges = {RangeFilter{"size", "ten", std::nullopt}};
  bad = searcher_->SearchStructured(q);
  ASSERT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("\"size\""), std::string::npos);
}

TEST_F(TypedFieldsTest, SortMatchesFullSortOracleAndPagesAreStable) {
  // Scores of every apple document, from the exhaustive oracle.
  index::TextQuery base;
  base.text = "apple";
  base.k = 100000;
  ASSERT_OK_AND_ASSIGN(auto scored, searcher_->SearchExhaustive(base));
  std::map<std::string, double> score;
  for (const auto& h : scored) score[h.id] = h.score;
  struct Case {
    std::vector<index::SortField> sort;
    bool text;
  };
  std::vector<Case> cases = {{{{"size", false}}, true},
                             {{{"size", true}}, true},
                             {{{"price", true}}, false},
                             {{{"released", false}, {"size", true}}, true},
                             {{{"section", false}, {"price", false}}, false},
                             {{{"section", true}}, true},
                             {{{"free", true}, {"section", false}}, true}};
  for (const Case& c : cases) {
    std::vector<std::string> want;
    for (const auto& [id, t] : truth_) {
      if (!c.text || t.has_apple) want.push_back(id);
    }
    auto key = [&](const std::string& id, const std::string& f) -> std::optional<double> {
      const Truth& t = truth_.at(id);
      if (f == "size" && t.size) return *t.size;
      if (f == "price") return t.price;
      if (f == "released" && t.released) return *t.released;
      if (f == "free" && t.free) return *t.free;
      return std::nullopt;
    };
    std::stable_sort(want.begin(), want.end(), [&](const std::string& a, const std::string& b) {
      for (const auto& sf : c.sort) {
        if (sf.field == "section") {
          const auto& x = truth_.at(a).section;
          const auto& y = truth_.at(b).section;
          if (x.has_value() != y.has_value()) return x.has_value();
          if (x && *x != *y) return sf.descending ? *x > *y : *x < *y;
          continue;
        }
        auto x = key(a, sf.field), y = key(b, sf.field);
        if (x.has_value() != y.has_value()) return x.has_value();
        if (x && *x != *y) return sf.descending ? *x > *y : *x < *y;
      }
      const double sa = c.text ? score.at(a) : 0, sb = c.text ? score.at(b) : 0;
      if (sa != sb) return sa > sb;
      return a < b;
    });
    index::TextQuery q;
    if (c.text) q.text = "apple";
    q.sort = c.sort;
    EXPECT_EQ(All(q), want) << c.sort[0].field;
    // Pages of 7 at every offset are slices of the full order.
    for (size_t offset = 0; offset < want.size(); offset += 23) {
      q.k = 7;
      q.offset = offset;
      ASSERT_OK_AND_ASSIGN(auto page, searcher_->Search(q));
      std::vector<std::string> slice(want.begin() + offset, want.begin() + std::min(want.size(), offset + 7));
      EXPECT_EQ(Ids(page), slice) << "offset " << offset;
      if (!page.empty()) EXPECT_EQ(page[0].rank, offset + 1);
      // Each hit comes with the values it sorts by (what shards send to be
      // merged): present iff the document has one, the key, or the smallest
      // keyword.
      ASSERT_OK_AND_ASSIGN(auto structured, searcher_->SearchStructured(q));
      ASSERT_EQ(structured.sort_values.size(), structured.hits.size());
      for (size_t i = 0; i < structured.hits.size(); ++i) {
        const std::string& id = structured.hits[i].id;
        ASSERT_EQ(structured.sort_values[i].size(), c.sort.size());
        for (size_t j = 0; j < c.sort.size(); ++j) {
          const index::SortValue& v = structured.sort_values[i][j];
          const std::string& f = c.sort[j].field;
          if (f == "section") {
            const auto& section = truth_.at(id).section;
            EXPECT_EQ(v.present, section.has_value()) << id;
            if (v.present && section) EXPECT_EQ(v.keyword, *section) << id;
            continue;
          }
          const auto k = key(id, f);
          EXPECT_EQ(v.present, k.has_value()) << id << " " << f;
          if (v.present && k && f != "price") EXPECT_EQ(static_cast<double>(v.key), *k) << id << " " << f;
        }
      }
    }
  }
  index::TextQuery q;
  q.sort = {{"tag", false}};  // not declared sortable
  auto bad = searcher_->SearchStructured(q);
  ASSERT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("\"tag\""), std::string::npos);
}

TEST_F(TypedFieldsTest, FacetCountsMatchBruteForceOverEveryMatch) {
  index::TextQuery q;
  q.text = "apple";
  q.ranges = {RangeFilter{"size", "0", std::nullopt}};
  q.k = 3;  // facets count every match, not the page
  q.facets = {{"tag", 10, {}},
              {"section", 2, {}},
              {"size", 5, {}},
              {"price", 10, {"-10", "0", "10", "50"}},
              {"released", 10, {"2017-01-01", "2017-03-01", "2018-01-01"}},
              {"free", 10, {}}};
  std::map<std::string, std::map<std::string, uint64_t>> want;
  uint64_t total = 0;
  std::vector<int64_t> bounds;
  for (const char* b : {"2017-01-01", "2017-03-01", "2018-01-01"}) bounds.push_back(*index::ParseDate(b));
  for (const auto& [id, t] : truth_) {
    if (!t.has_apple || !t.size || *t.size < 0) continue;
    ++total;
    for (const auto& tag : t.tags) ++want["tag"][tag];
    if (t.section) ++want["section"][*t.section];
    ++want["size"][std::to_string(*t.size)];
    if (t.price) {
      const double p = *t.price;
      if (p >= -10 && p < 0) ++want["price"]["[-10,0)"];
      if (p >= 0 && p < 10) ++want["price"]["[0,10)"];
      if (p >= 10 && p < 50) ++want["price"]["[10,50)"];
    }
    if (t.released) {
      if (*t.released >= bounds[0] && *t.released < bounds[1]) ++want["released"]["[2017-01-01,2017-03-01)"];
      if (*t.released >= bounds[1] && *t.released < bounds[2]) ++want["released"]["[2017-03-01,2018-01-01)"];
    }
    if (t.free) ++want["free"][*t.free ? "true" : "false"];
  }
  ASSERT_OK_AND_ASSIGN(auto r, searcher_->SearchStructured(q));
  EXPECT_EQ(r.total, total);
  EXPECT_EQ(r.hits.size(), 3u);
  ASSERT_EQ(r.facets.size(), 6u);
  // Top-N: the N largest counts, ties by smaller value; the oracle's order.
  auto top = [&](const std::string& field, size_t n) {
    std::vector<std::pair<std::string, uint64_t>> v(want[field].begin(), want[field].end());
    std::stable_sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second > b.second;
      if (field == "size") return std::stoll(a.first) < std::stoll(b.first);
      return a.first < b.first;
    });
    if (v.size() > n) v.resize(n);
    return v;
  };
  auto got = [&](size_t i) {
    std::vector<std::pair<std::string, uint64_t>> v;
    for (const auto& c : r.facets[i].counts) v.push_back({c.value, c.count});
    return v;
  };
  EXPECT_EQ(got(0), top("tag", 10));
  EXPECT_EQ(got(1), top("section", 2));
  EXPECT_EQ(got(2), top("size", 5));
  std::vector<std::pair<std::string, uint64_t>> price = {{"[-10,0)", want["price"]["[-10,0)"]},
                                                         {"[0,10)", want["price"]["[0,10)"]},
                                                         {"[10,50)", want["price"]["[10,50)"]}};
  EXPECT_EQ(got(3), price);
  std::vector<std::pair<std::string, uint64_t>> released = {
      {"[2017-01-01,2017-03-01)", want["released"]["[2017-01-01,2017-03-01)"]},
      {"[2017-03-01,2018-01-01)", want["released"]["[2017-03-01,2018-01-01)"]}};
  EXPECT_EQ(got(4), released);
  EXPECT_EQ(got(5), top("free", 10));
  q.facets = {{"size", 10, {"5", "1"}}};
  EXPECT_TRUE(searcher_->SearchStructured(q).status().IsInvalidArgument());  // bounds must ascend
}

TEST_F(TypedFieldsTest, ValuesFollowUpsertsDeletesAndMergesAcrossReopen) {
  // Many small commits make Lucene++ merge segments (renumbering docids).
  std::mt19937 rng(3);
  {
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir_.path()));
    for (int c = 0; c < 25; ++c) {
      for (int j = 0; j < 8; ++j) {
        Truth t;
        const int i = std::uniform_int_distribution<int>(0, 700)(rng);
        Document d = RandomDoc(i + 9000, rng, &t);
        d.id = "d" + std::to_string(1000 + i);
        ASSERT_OK(w->Upsert(d));
        truth_[d.id] = t;
      }
      const std::string gone = "d" + std::to_string(1000 + std::uniform_int_distribution<int>(0, 700)(rng));
      ASSERT_OK(w->Delete(gone));
      truth_.erase(gone);
      ASSERT_OK(w->Commit());
    }
  }
  ASSERT_OK(searcher_->Refresh());
  index::TextQuery q;
  q.sort = {{"size", false}};
  std::vector<std::string> want;
  for (const auto& [id, t] : truth_) want.push_back(id);
  std::stable_sort(want.begin(), want.end(), [&](const std::string& a, const std::string& b) {
    const auto& x = truth_.at(a).size;
    const auto& y = truth_.at(b).size;
    if (x.has_value() != y.has_value()) return x.has_value();
    if (x && *x != *y) return *x < *y;
    return a < b;
  });
  EXPECT_EQ(All(q), want);
  ASSERT_OK_AND_ASSIGN(auto reopened, index::Searcher::Open(dir_.path()));
  searcher_ = std::move(reopened);
  EXPECT_EQ(All(q), want);
  for (const auto& [id, t] : truth_) {
    ASSERT_OK_AND_ASSIGN(Document d, searcher_->GetDocument(id));
    if (t.size) {
      ASSERT_EQ(d.values["size"].size(), 1u) << id;
      EXPECT_EQ(std::get<int64_t>(d.values["size"][0]), *t.size) << id;
    } else {
      EXPECT_FALSE(d.values.count("size")) << id;
    }
    std::set<std::string> tags;
    for (const auto& v : d.values["tag"]) tags.insert(std::get<std::string>(v));
    EXPECT_EQ(tags, t.tags) << id;
  }
}

TEST(TypedVectorTest, RangeFiltersRestrictVectorSearch) {
  TempDir dir;
  std::vector<Document> docs;
  for (int i = 0; i < 200; ++i) {
    const std::string words[] = {"apple", "pie", "banana", "bread", "cherry", "plum",
                                 "tart",  "jam", "fig",    "lime",  "kiwi",   "pear"};
    Document d = Doc("v" + std::to_string(i), words[i % 12] + " " + words[(i / 12) % 12],
                     words[(i * 7) % 12] + " " + words[(i * 5 + 3) % 12]);
    d.values["size"] = {int64_t{i}};
    docs.push_back(d);
  }
  index::IndexWriterOptions o;
  o.schema = TestSchema();
  ASSERT_OK(AddLsaField(dir.path(), docs, 8, &o));
  {
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), o));
    for (const auto& d : docs) ASSERT_OK(w->Upsert(d));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto s, index::Searcher::Open(dir.path()));
  for (const auto& [lo, hi] : std::vector<std::pair<int, int>>{{10, 19}, {0, 150}, {199, 199}}) {
    index::VectorQuery q;
    q.field = "emb";
    q.text = "apple";
    q.k = 50;
    q.ranges = {RangeFilter{"size", std::to_string(lo), std::to_string(hi)}};
    ASSERT_OK_AND_ASSIGN(auto hits, s->SearchVector(q));
    EXPECT_EQ(hits.size(), std::min<size_t>(50, hi - lo + 1));
    for (const auto& h : hits) {
      const int i = std::stoi(h.id.substr(1));
      EXPECT_GE(i, lo);
      EXPECT_LE(i, hi);
    }
  }
  // Through the engine, a hybrid query's filter restricts both lists.
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  HybridQuery hq;
  hq.text = "apple pie";
  hq.retriever = Retriever::kHybrid;
  hq.ranges = {RangeFilter{"size", "40", "59"}};
  hq.k = 30;
  ASSERT_OK_AND_ASSIGN(auto hybrid, engine->Search(hq));
  ASSERT_FALSE(hybrid.empty());
  bool vector_seen = false;
  for (const auto& h : hybrid) {
    const int i = std::stoi(h.id.substr(1));
    EXPECT_GE(i, 40) << h.id;
    EXPECT_LE(i, 59) << h.id;
    vector_seen |= h.vector.present;
  }
  EXPECT_TRUE(vector_seen);
  ASSERT_OK_AND_ASSIGN(auto counted, engine->Count(hq));
  index::TextQuery tq;
  tq.text = "apple pie";
  tq.ranges = hq.ranges;
  ASSERT_OK_AND_ASSIGN(auto direct, engine->searcher().SearchStructured(tq));
  EXPECT_EQ(counted.total, direct.total);
}

}  // namespace
}  // namespace hymir::testing
