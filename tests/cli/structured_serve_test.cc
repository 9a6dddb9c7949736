// The search service's typed parameters (filter ranges, sort, facet, total)
// and its answers: the same as the library's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hymir/engine.h"
#include "serve/search_service.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using nlohmann::json;

class StructuredServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = index::ParseSchemaJson(R"({"fields": {"size": {"type": "int64", "sort": true, "facet": true},
        "section": {"type": "keyword", "facet": true}}})");
    ASSERT_TRUE(schema.ok());
    index::IndexWriterOptions o;
    o.schema = *schema;
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir_.path(), o));
    for (int i = 0; i < 30; ++i) {
      Document d = testing::Doc("p" + std::to_string(i), "apple " + std::to_string(i), i % 3 ? "pie" : "tart");
      d.values["size"] = {int64_t{(i * 7) % 30}};
      d.values["section"] = {std::string(i % 2 ? "odd" : "even")};
      ASSERT_OK(w->Upsert(d));
    }
    ASSERT_OK(w->Commit());
    ASSERT_OK_AND_ASSIGN(engine_, Engine::Open(dir_.path()));
    service_ = std::make_unique<serve::SearchService>(*engine_, nullptr, nullptr, serve::ServiceOptions{});
  }
  json Search(const std::multimap<std::string, std::string>& params, int want_status = 200) {
    serve::Reply r = service_->Search(params);
    EXPECT_EQ(r.status, want_status) << r.body;
    return json::parse(r.body);
  }
  testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<serve::SearchService> service_;
};

TEST_F(StructuredServeTest, SortFacetAndRangeParametersMatchTheLibrary) {
  json j = Search({{"q", "apple"}, {"filter", "size:[5 TO 20}"}, {"sort", "size:desc"}, {"facet", "section"},
                   {"k", "4"}});
  index::TextQuery q;
  q.text = "apple";
  q.ranges = {index::RangeFilter{"size", "5", "20", true, false}};
  q.sort = {{"size", true}};
  q.facets = {{"section", 10, {}}};
  q.k = 4;
  ASSERT_OK_AND_ASSIGN(auto want, engine_->searcher().SearchStructured(q));
  EXPECT_EQ(j["total"], want.total);
  ASSERT_EQ(j["hits"].size(), want.hits.size());
  for (size_t i = 0; i < want.hits.size(); ++i) EXPECT_EQ(j["hits"][i]["id"], want.hits[i].id);
  ASSERT_EQ(j["facets"]["section"].size(), want.facets[0].counts.size());
  for (size_t i = 0; i < want.facets[0].counts.size(); ++i) {
    EXPECT_EQ(j["facets"]["section"][i]["value"], want.facets[0].counts[i].value);
    EXPECT_EQ(j["facets"]["section"][i]["count"], want.facets[0].counts[i].count);
  }
  // total=1 alone counts; a plain query does not.
  EXPECT_EQ(Search({{"q", "apple"}, {"total", "1"}, {"filter", "section:odd"}})["total"], 15);
  EXPECT_FALSE(Search({{"q", "apple"}}).contains("total"));
}

TEST_F(StructuredServeTest, BadTypedParametersAre400NamingThem) {
  json j = Search({{"q", "apple"}, {"filter", "weight:>3"}}, 400);
  EXPECT_NE(j["error"].get<std::string>().find("\"weight\""), std::string::npos) << j;
  j = Search({{"q", "apple"}, {"sort", "size:up"}}, 400);
  EXPECT_NE(j["error"].get<std::string>().find("parameter sort"), std::string::npos) << j;
  j = Search({{"q", "apple"}, {"facet", "size:0"}}, 400);
  EXPECT_NE(j["error"].get<std::string>().find("parameter facet"), std::string::npos) << j;
  j = Search({{"q", "apple"}, {"filter", "size:[1 TO x]"}}, 400);
  EXPECT_NE(j["error"].get<std::string>().find("size"), std::string::npos) << j;
}

TEST_F(StructuredServeTest, DocumentEndpointReturnsTypedValues) {
  serve::Reply r = service_->GetDocument({{"id", "p3"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["values"]["size"], json::array({21}));
  EXPECT_EQ(j["values"]["section"], json::array({"odd"}));
}

}  // namespace
}  // namespace hymir
