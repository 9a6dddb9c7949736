// `hymir index --schema` and `hymir search --filter/--sort/--facet/--total`
// on a small corpus of typed package records.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/testutil/cli_util.h"
#include "tests/testutil/testutil.h"

namespace hymir {
namespace {

using testing::Ran;
using testing::Shell;
using testing::TempDir;

Ran Hymir(const std::string& args) { return Shell(testing::BinDir() + "/hymir " + args); }

constexpr const char* kSchema = R"({"fields": {
  "section": {"type": "keyword", "facet": true, "sort": true},
  "tag": {"type": "keyword", "facet": true},
  "installed_size": {"type": "int64", "sort": true, "facet": true},
  "rating": {"type": "double", "sort": true},
  "released": {"type": "date", "sort": true, "facet": true}}})";

constexpr const char* kCorpus =
    R"({"_id": "gimp", "title": "gimp image editor", "text": "edit images", "section": "graphics", "tag": ["gtk", "x11"], "installed_size": 60000, "rating": 4.5, "released": "2019-05-01"}
{"_id": "eog", "title": "image viewer", "text": "view images", "section": "graphics", "tag": ["gtk"], "installed_size": 3000, "rating": 3.9, "released": "2021-01-02T10:00:00Z"}
{"_id": "vim", "title": "text editor", "text": "edit text files", "section": "editors", "tag": [], "installed_size": 4000, "rating": 4.9, "released": "2020-06-30"}
{"_id": "mutt", "title": "mail client", "text": "read mail", "section": "mail", "installed_size": 900, "released": "2018-01-01"}
{"_id": "ed", "title": "line editor", "text": "edit lines", "section": "editors", "installed_size": 100, "rating": 2.0}
)";

class StructuredCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteText(tmp_.Sub("schema.json"), kSchema);
    testing::WriteText(tmp_.Sub("corpus.jsonl"), kCorpus);
    Ran ix = Hymir("index --corpus " + tmp_.Sub("corpus.jsonl") + " --index " + idx_ + " --schema " +
                   tmp_.Sub("schema.json"));
    ASSERT_EQ(ix.exit_code, 0) << ix.err;
  }
  nlohmann::json Json(const std::string& args) {
    Ran r = Hymir("search --index " + idx_ + " --json " + args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  std::vector<std::string> HitIds(const nlohmann::json& j) {
    std::vector<std::string> ids;
    for (const auto& h : j["hits"]) ids.push_back(h["id"]);
    return ids;
  }
  TempDir tmp_;
  std::string idx_ = tmp_.Sub("idx");
};

TEST_F(StructuredCliTest, RangeFilterSortAndTotal) {
  auto j = Json("--query edit --filter 'installed_size:[100 TO 5000]' --sort rating:desc");
  EXPECT_EQ(j["total"], 2);
  EXPECT_EQ(HitIds(j), (std::vector<std::string>{"vim", "ed"}));
  j = Json("--query edit --filter 'installed_size:>100' --filter section:editors --total");
  EXPECT_EQ(HitIds(j), (std::vector<std::string>{"vim"}));
  EXPECT_EQ(j["total"], 1);
  // Dates, open ends, documents without a value last.
  j = Json("--sort released:desc --filter 'released:{2018-01-01 TO *]' --k 10");
  EXPECT_EQ(HitIds(j), (std::vector<std::string>{"eog", "vim", "gimp"}));
  j = Json("--sort rating --k 10");
  EXPECT_EQ(HitIds(j), (std::vector<std::string>{"ed", "eog", "gimp", "vim", "mutt"}));
  // Pages of a sort are slices of it.
  j = Json("--sort rating --k 2 --offset 2");
  EXPECT_EQ(HitIds(j), (std::vector<std::string>{"gimp", "vim"}));
  EXPECT_EQ(j["hits"][0]["rank"], 3);
}

TEST_F(StructuredCliTest, ASortedQueriesFileWritesARunInTheSortsOrder) {
  testing::WriteText(tmp_.Sub("queries.jsonl"), "{\"_id\": \"q1\", \"text\": \"edit\"}\n");
  Ran r = Hymir("search --index " + idx_ + " --queries " + tmp_.Sub("queries.jsonl") + " --run " + tmp_.Sub("run") +
                " --sort installed_size:asc --k 10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(tmp_.Sub("run"));
  std::vector<std::string> ids;
  std::vector<double> scores;
  for (std::string q, q0, id, rank, score, tag; in >> q >> q0 >> id >> rank >> score >> tag;) {
    ids.push_back(id);
    scores.push_back(std::stod(score));
  }
  // "edit" matches gimp, vim and ed; by installed size: ed, vim, gimp.
  EXPECT_EQ(ids, (std::vector<std::string>{"ed", "vim", "gimp"}));
  EXPECT_EQ(scores, (std::vector<double>{3, 2, 1}));
}

TEST_F(StructuredCliTest, FacetsCountEveryMatch) {
  auto j = Json("--query edit --k 1 --facet section --facet tag:1 --facet installed_size:buckets=0,1000,10000,100000");
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(j["hits"].size(), 1u);
  EXPECT_EQ(j["facets"]["section"], nlohmann::json::parse(R"([{"value": "editors", "count": 2},
                                                              {"value": "graphics", "count": 1}])"));
  EXPECT_EQ(j["facets"]["tag"], nlohmann::json::parse(R"([{"value": "gtk", "count": 1}])"));
  EXPECT_EQ(j["facets"]["installed_size"], nlohmann::json::parse(R"j([{"value": "[0,1000)", "count": 1},
      {"value": "[1000,10000)", "count": 1}, {"value": "[10000,100000)", "count": 1}])j"));
  // Text output lists them too.
  Ran r = Hymir("search --index " + idx_ + " --query edit --facet section");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("facet section: editors (2) graphics (1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total: 3"), std::string::npos) << r.out;
}

TEST_F(StructuredCliTest, PlainJsonIsAnObjectWithTheTotal) {
  Ran r = Hymir("search --index " + idx_ + " --json --query edit --filter section:graphics");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["total"], 1);
  ASSERT_EQ(j["hits"].size(), 1u);
  EXPECT_EQ(j["hits"][0]["id"], "gimp");
  EXPECT_FALSE(j.contains("facets"));  // none asked for
}

TEST_F(StructuredCliTest, BadSpecsAreUsageErrorsNamingTheField) {
  Ran unknown = Hymir("search --index " + idx_ + " --query edit --filter 'weight:[1 TO 2]'");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("\"weight\""), std::string::npos) << unknown.err;
  Ran type = Hymir("search --index " + idx_ + " --query edit --filter 'installed_size:>=big'");
  EXPECT_NE(type.exit_code, 0);
  EXPECT_NE(type.err.find("installed_size"), std::string::npos) << type.err;
  Ran range = Hymir("search --index " + idx_ + " --query edit --filter 'installed_size:[1 2]'");
  EXPECT_EQ(range.exit_code, 2);
  Ran sort = Hymir("search --index " + idx_ + " --query edit --sort tag");
  EXPECT_NE(sort.exit_code, 0);
  EXPECT_NE(sort.err.find("not sortable"), std::string::npos) << sort.err;
  Ran dir = Hymir("search --index " + idx_ + " --query edit --sort rating:down");
  EXPECT_EQ(dir.exit_code, 2);
  Ran facet = Hymir("search --index " + idx_ + " --query edit --facet rating");
  EXPECT_NE(facet.exit_code, 0);
  EXPECT_NE(facet.err.find("not facetable"), std::string::npos) << facet.err;
}

TEST_F(StructuredCliTest, SchemaErrorsAndWrongTypesNameTheirPlace) {
  testing::WriteText(tmp_.Sub("bad.json"), R"({"fields": {"size": {"type": "integer"}}})");
  Ran bad = Hymir("index --corpus " + tmp_.Sub("corpus.jsonl") + " --index " + tmp_.Sub("b") + " --schema " +
                  tmp_.Sub("bad.json"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("\"size\""), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("bad.json"), std::string::npos) << bad.err;
  testing::WriteText(tmp_.Sub("wrong.jsonl"),
                     "{\"_id\": \"a\", \"title\": \"x\", \"installed_size\": 5}\n"
                     "{\"_id\": \"b\", \"title\": \"x\", \"installed_size\": \"huge\"}\n");
  Ran strict = Hymir("index --corpus " + tmp_.Sub("wrong.jsonl") + " --index " + tmp_.Sub("w") + " --schema " +
                     tmp_.Sub("schema.json"));
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_NE(strict.err.find("wrong.jsonl:2"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("installed_size"), std::string::npos) << strict.err;
  Ran lenient = Hymir("index --corpus " + tmp_.Sub("wrong.jsonl") + " --index " + tmp_.Sub("w2") + " --schema " +
                      tmp_.Sub("schema.json") + " --skip-bad");
  EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
  EXPECT_NE(lenient.out.find("indexed 1 docs (1 skipped)"), std::string::npos) << lenient.out;
  // Another schema for an existing index is refused.
  testing::WriteText(tmp_.Sub("other.json"), R"({"fields": {"section": {"type": "keyword"}}})");
  Ran other =
      Hymir("index --corpus " + tmp_.Sub("corpus.jsonl") + " --index " + idx_ + " --schema " + tmp_.Sub("other.json"));
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("schema"), std::string::npos) << other.err;
}

TEST(TextFieldCliTest, TextFieldsAreSearchedWithTheirAnalyzerAndUnknownOnesRefused) {
  TempDir tmp;
  testing::WriteText(tmp.Sub("schema.json"), R"({"fields": {
      "beschreibung": {"type": "text", "analyzer": "german"},
      "titre": {"type": "text", "analyzer": "snowball-french"}}})");
  testing::WriteText(tmp.Sub("corpus.jsonl"),
                     R"({"_id": "a", "title": "eins", "beschreibung": "Die alten Häuser", "titre": "Les chevaux"})"
                     "\n"
                     R"({"_id": "b", "title": "zwei", "beschreibung": "Ein Baum", "titre": "Un cheval blanc"})"
                     "\n");
  const std::string idx = tmp.Sub("idx");
  Ran ix =
      Hymir("index --corpus " + tmp.Sub("corpus.jsonl") + " --index " + idx + " --schema " + tmp.Sub("schema.json"));
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  auto total = [&](const std::string& q) {
    Ran r = Hymir("search --index " + idx + " --syntax lucene --json --total --query '" + q + "'");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_object() ? j.value("total", -1) : -1;
  };
  EXPECT_EQ(total("beschreibung:Haus"), 1);
  EXPECT_EQ(total("titre:cheval"), 2);
  EXPECT_EQ(total("titre:cheval -beschreibung:Häusern"), 1);
  EXPECT_EQ(total("Haus"), 0);  // unfielded words search title and text only
  // The index-wide analyzer takes the same names.
  Ran de = Hymir("index --corpus " + tmp.Sub("corpus.jsonl") + " --index " + tmp.Sub("de") + " --analyzer german");
  EXPECT_EQ(de.exit_code, 0) << de.err;
  // An unknown analyzer: the schema file, the field and the valid names.
  testing::WriteText(tmp.Sub("bad.json"), R"({"fields": {"body": {"type": "text", "analyzer": "klingon"}}})");
  Ran bad = Hymir("index --corpus " + tmp.Sub("corpus.jsonl") + " --index " + tmp.Sub("b") + " --schema " +
                  tmp.Sub("bad.json"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.json"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("\"body\""), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("snowball-turkish"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace hymir
