// The search service's typed parameters (filter ranges, sort, facet, total)
// and its answers: the same as the library's.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "hymir/engine.h"
#include "serve/search_service.h"
#include "tests/index/lucene/index_fixture.h"
#include "tests/testutil/cli_util.h"

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
  json j =
      Search({{"q", "apple"}, {"filter", "size:[5 TO 20}"}, {"sort", "size:desc"}, {"facet", "section"}, {"k", "4"}});
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

// The page's facet sidebar in headless Chromium: values with counts as
// links carrying their filter, and a filter added by a click (a "chip",
// kept in the URL) narrowing the results and the counts.
TEST_F(StructuredServeTest, SearchPageShowsFacetsAndAppliesAClickedValue) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) GTEST_SKIP() << "chromium absent";
  httplib::Server server;
  service_->Mount(server);
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto dom = [&](const std::string& hash) {
    return testing::Shell(
        "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
        "--virtual-time-budget=10000 --dump-dom 'http://127.0.0.1:" +
        std::to_string(port) + "/#" + hash + "'");
  };
  testing::Ran all = dom("q=apple&k=50");
  testing::Ran odd = dom("q=apple&k=50&chip=section%3Aodd");
  server.stop();
  thread.join();
  ASSERT_EQ(all.exit_code, 0) << all.err;
  ASSERT_EQ(odd.exit_code, 0) << odd.err;
  // Every facetable field, its values with their counts as links.
  EXPECT_NE(all.out.find("<h4>section</h4>"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("<a data-filter=\"section:even\">even (15)</a>"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("<a data-filter=\"section:odd\">odd (15)</a>"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("<h4>size</h4>"), std::string::npos);
  EXPECT_NE(all.out.find("30 matches"), std::string::npos);
  // The clicked value: a chip, 15 matches, only "odd" counted.
  EXPECT_NE(odd.out.find("class=\"chip\""), std::string::npos) << odd.out;
  EXPECT_NE(odd.out.find("15 matches"), std::string::npos) << odd.out;
  EXPECT_EQ(odd.out.find("section:even"), std::string::npos);
  const std::regex hit("<div class=\"hit\">");
  EXPECT_EQ(std::distance(std::sregex_iterator(odd.out.begin(), odd.out.end(), hit), std::sregex_iterator()), 15);
}

}  // namespace
}  // namespace hymir
