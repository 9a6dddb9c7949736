// Structured search over shards: `hymir-mpi index --schema` and `hymir-mpi
// search --sort/--facet/--total/--counts` against `hymir index --schema` and
// `hymir search` on the same generated corpus of typed records. Totals and
// facet counts must be equal, sorted pages the same slices of one order (key,
// then score, then id) at every offset, with 2 and 3 shards; shards whose
// schemas differ are refused, naming the odd shard.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testutil/cli_util.h"
#include "tests/testutil/testutil.h"

namespace hymir {
namespace {

using testing::Ran;
using testing::Shell;
using testing::TempDir;

constexpr const char* kSchema = R"({"fields": {
  "section": {"type": "keyword", "facet": true, "sort": true},
  "tag": {"type": "keyword", "facet": true},
  "size": {"type": "int64", "sort": true, "facet": true},
  "rating": {"type": "double", "sort": true, "facet": true},
  "released": {"type": "date", "sort": true, "facet": true},
  "essential": {"type": "bool", "facet": true, "sort": true},
  "notes": {"type": "text", "analyzer": "german"}}})";

// The same fields but `size` not sortable: a different schema.
constexpr const char* kOtherSchema = R"({"fields": {
  "section": {"type": "keyword", "facet": true, "sort": true},
  "tag": {"type": "keyword", "facet": true},
  "size": {"type": "int64", "facet": true},
  "rating": {"type": "double", "sort": true, "facet": true},
  "released": {"type": "date", "sort": true, "facet": true},
  "essential": {"type": "bool", "facet": true, "sort": true},
  "notes": {"type": "text", "analyzer": "german"}}})";

// 120 records with few distinct values (ties in every key), some values
// missing, repeated texts (ties in score), and one line whose size is not a
// number (skipped with --skip-bad).
std::string Corpus() {
  const char* words[] = {"alpha", "beta", "gamma", "delta", "editor", "image", "mail", "viewer"};
  const char* sections[] = {"graphics", "editors", "mail", "net", "admin"};
  const char* tags[] = {"gtk", "qt", "x11", "cli"};
  const char* notes[] = {"alte Häuser", "das Haus am See", "neue Bücher", "ein Buch über Häuser"};
  uint64_t x = 12345;
  auto next = [&x](uint64_t n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % n;
  };
  std::ostringstream out;
  for (int i = 0; i < 120; ++i) {
    nlohmann::json d;
    d["_id"] = "d" + std::to_string(i);
    std::string title, text;
    for (int w = 0; w < 3; ++w) title += std::string(words[next(8)]) + " ";
    // Every fifth document repeats a fixed text: equal scores.
    if (i % 5 == 0) {
      title = "alpha beta ";
      text = "gamma editor";
    } else {
      for (uint64_t w = 0, n = 2 + next(6); w < n; ++w) text += std::string(words[next(8)]) + " ";
    }
    d["title"] = title;
    d["text"] = text;
    if (i % 7 != 3) d["section"] = sections[next(5)];
    std::vector<std::string> t;
    for (int k = 0; k < 4; ++k)
      if (next(3) == 0) t.push_back(tags[k]);
    if (!t.empty()) d["tag"] = t;
    if (i % 11 != 5) d["size"] = static_cast<int64_t>(10 * next(9));
    if (i % 4 != 1) d["rating"] = static_cast<double>(next(6)) / 2.0;
    if (i % 6 != 2) d["released"] = "2020-0" + std::to_string(1 + next(9)) + "-1" + std::to_string(next(9));
    if (i % 3 == 0) d["essential"] = next(2) == 0;
    if (i % 2 == 0) d["notes"] = notes[next(4)];
    out << d.dump() << "\n";
    if (i == 60)
      out << R"({"_id": "bad", "title": "alpha", "text": "beta", "size": "huge"})"
          << "\n";
  }
  return out.str();
}

class MpiStructuredTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
#ifdef HYMIR_MPIEXEC
    tmp_ = new TempDir();
    testing::WriteText(Sub("schema.json"), kSchema);
    testing::WriteText(Sub("other.json"), kOtherSchema);
    testing::WriteText(Sub("corpus.jsonl"), Corpus());
    Ran one = Shell(testing::BinDir() + "/hymir index --skip-bad --corpus " + Sub("corpus.jsonl") + " --index " +
                    Sub("single") + " --schema " + Sub("schema.json"));
    ASSERT_EQ(one.exit_code, 0) << one.err;
    for (int np : {2, 3}) {
      Ran r = Shell(Mpi(np) + "index --skip-bad --corpus " + Sub("corpus.jsonl") + " --index " + Sharded(np) +
                    " --schema " + Sub("schema.json"));
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      // The line refused by whichever rank upserted it is counted once.
      EXPECT_NE(r.out.find("(1 skipped)"), std::string::npos) << r.out;
    }
#endif
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  static std::string Sub(const std::string& name) { return tmp_->Sub(name); }
  static std::string Sharded(int np) { return Sub("sharded" + std::to_string(np)); }
  static std::string Mpi(int np) {
#ifdef HYMIR_MPIEXEC
    return std::string(HYMIR_MPIEXEC) +
           " --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np " + std::to_string(np) +
           " " + testing::BinDir() + "/hymir-mpi ";
#else
    return "";
#endif
  }
  static nlohmann::json Parse(const Ran& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 0) << what << "\n" << r.out << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << what << "\n" << r.out;
    return j;
  }
  // `hymir search --json ARGS` on the single index and `hymir-mpi search
  // --json ARGS` on the np-shard index: the same total and facets, and the
  // same hits at the same ranks with the same scores (to 1e-9). A sorted
  // page must hold the same documents in the same order (ties by score,
  // then id); a page by score may order documents of equal score otherwise
  // (ties keep shard order), so there the documents scoring above the
  // page's lowest score must be the same. Returns the single index's answer.
  static nlohmann::json ExpectSame(int np, const std::string& args) {
    const std::string what = std::to_string(np) + " shards: " + args;
    const nlohmann::json want =
        Parse(Shell(testing::BinDir() + "/hymir search --json --index " + Sub("single") + " " + args), args);
    const nlohmann::json got = Parse(Shell(Mpi(np) + "search --json --index " + Sharded(np) + " " + args), args);
    if (want.is_discarded() || got.is_discarded()) return want;
    EXPECT_EQ(got.value("total", -1), want.value("total", -2)) << what;
    EXPECT_EQ(got.value("facets", nlohmann::json()), want.value("facets", nlohmann::json())) << what;
    const auto& wh = want["hits"];
    const auto& gh = got["hits"];
    EXPECT_EQ(gh.size(), wh.size()) << what;
    const bool sorted = args.find("--sort") != std::string::npos;
    double lowest = INFINITY;
    for (const auto& h : wh) lowest = std::min(lowest, h["score"].get<double>());
    std::set<std::string> want_above, got_above;
    for (size_t i = 0; i < std::min(gh.size(), wh.size()); ++i) {
      EXPECT_EQ(gh[i]["rank"], wh[i]["rank"]) << what << " hit " << i;
      EXPECT_NEAR(gh[i]["score"].get<double>(), wh[i]["score"].get<double>(), 1e-9) << what << " hit " << i;
      if (sorted) {
        EXPECT_EQ(gh[i]["id"], wh[i]["id"]) << what << " hit " << i;
        EXPECT_EQ(gh[i]["title"], wh[i]["title"]) << what << " hit " << i;
      }
      if (wh[i]["score"].get<double>() > lowest + 1e-9) want_above.insert(wh[i]["id"].get<std::string>());
      if (gh[i]["score"].get<double>() > lowest + 1e-9) got_above.insert(gh[i]["id"].get<std::string>());
    }
    EXPECT_EQ(got_above, want_above) << what;
    return want;
  }
  static TempDir* tmp_;
};

TempDir* MpiStructuredTest::tmp_ = nullptr;

#ifndef HYMIR_MPIEXEC
#define SKIP_WITHOUT_MPI() GTEST_SKIP() << "built without MPI (HYMIR_WITH_MPI=OFF)"
#else
#define SKIP_WITHOUT_MPI() (void)0
#endif

TEST_F(MpiStructuredTest, SortedPagesAreSlicesOfOneIndexOrder) {
  SKIP_WITHOUT_MPI();
  for (int np : {2, 3}) {
    // Every offset of a sort with many ties in the key and in the score.
    for (int offset : {0, 3, 7, 12}) {
      auto j = ExpectSame(np, "--query 'alpha beta' --sort size:desc --k 5 --offset " + std::to_string(offset));
      EXPECT_EQ(j["hits"].size(), 5u);
    }
    ExpectSame(np, "--query alpha --sort section --sort rating:desc --k 8 --offset 2");
    ExpectSame(np, "--query editor --sort released --sort size --k 10 --offset 4");
    // Without a query: every document the filters admit (score 0: ties by id).
    auto all = ExpectSame(np, "--sort rating --k 30 --offset 40");
    EXPECT_EQ(all["total"], 120);
    ExpectSame(np, "--sort released:desc --filter 'size:[20 TO 60]' --k 12");
    ExpectSame(np,
               "--syntax lucene --query 'alpha OR (gamma AND -beta)' --sort essential --sort size --k 9 --offset 1");
  }
}

TEST_F(MpiStructuredTest, TotalsAndFacetsSumEveryShard) {
  SKIP_WITHOUT_MPI();
  for (int np : {2, 3}) {
    auto j = ExpectSame(np,
                        "--query 'alpha gamma' --k 3 --facet section --facet tag:2 --facet essential --facet size:3 "
                        "--facet rating --facet released:4 --facet size:buckets=0,25,50,100");
    EXPECT_GT(j["total"].get<int>(), 20);
    EXPECT_EQ(j["facets"]["tag"].size(), 2u);
    // Range filters, in --filter and in the query language.
    ExpectSame(np, "--query beta --total --filter 'rating:>=1.5' --filter 'released:[2020-03-01 TO *]'");
    ExpectSame(np, "--syntax lucene --query 'beta AND size:[10 TO 40}' --facet section --k 4");
    ExpectSame(np, "--query viewer --filter section:graphics --filter section:net --total --facet tag");
    // A text field with its own analyzer: Häuser finds Haus and Häuser, scored with global statistics.
    auto text = ExpectSame(np, "--syntax lucene --query 'notes:häuser' --total --k 20");
    EXPECT_GT(text["total"].get<int>(), 5);
  }
}

TEST_F(MpiStructuredTest, QueriesFileCountsEqualOneIndex) {
  SKIP_WITHOUT_MPI();
  testing::WriteText(Sub("q.jsonl"),
                     "{\"_id\":\"1\",\"text\":\"alpha\"}\n{\"_id\":\"2\",\"text\":\"image viewer\"}\n"
                     "{\"_id\":\"3\",\"text\":\"nothing\"}\n{\"_id\":\"4\",\"text\":\"mail editor delta\"}\n");
  const std::string args = " --queries " + Sub("q.jsonl") + " --k 7 --offset 3 --filter 'size:<=60' --facet section";
  Ran one = Shell(testing::BinDir() + "/hymir search --index " + Sub("single") + args + " --run " + Sub("one.run") +
                  " --counts " + Sub("one.counts"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  // (qid and rank, score) of every line: equal scores may hold other
  // documents, and BM25's pruned path sums in another order (scores to 1e-9).
  auto lines = [](const std::string& path) {
    std::ifstream in(path);
    std::vector<std::pair<std::string, double>> out;
    std::string qid, q0, doc, rank, tag;
    double score;
    while (in >> qid >> q0 >> doc >> rank >> score >> tag) out.push_back({qid + " " + rank, score});
    return out;
  };
  const std::string want_counts = testing::Slurp(Sub("one.counts"));
  EXPECT_EQ(std::count(want_counts.begin(), want_counts.end(), '\n'), 4);
  EXPECT_NE(want_counts.find("3\t0\n"), std::string::npos) << want_counts;
  const auto want_run = lines(Sub("one.run"));
  EXPECT_GT(want_run.size(), 10u);
  for (int np : {2, 3}) {
    const std::string run = Sub("mpi" + std::to_string(np) + ".run");
    const std::string counts = Sub("mpi" + std::to_string(np) + ".counts");
    Ran r = Shell(Mpi(np) + "search --index " + Sharded(np) + args + " --run " + run + " --counts " + counts);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(testing::Slurp(counts), want_counts) << np << " shards";
    const auto got_run = lines(run);
    ASSERT_EQ(got_run.size(), want_run.size()) << np << " shards";
    for (size_t i = 0; i < got_run.size(); ++i) {
      EXPECT_EQ(got_run[i].first, want_run[i].first) << np << " shards";
      EXPECT_NEAR(got_run[i].second, want_run[i].second, 1e-9) << np << " shards: " << got_run[i].first;
    }
  }
  // --counts needs --queries.
  EXPECT_EQ(Shell(Mpi(2) + "search --index " + Sharded(2) + " --query alpha --counts " + Sub("x")).exit_code, 2);
}

TEST_F(MpiStructuredTest, ShardsWithAnotherSchemaAreRefused) {
  SKIP_WITHOUT_MPI();
  // A 2-shard index whose second shard was built with another schema.
  Ran other = Shell(Mpi(2) + "index --skip-bad --corpus " + Sub("corpus.jsonl") + " --index " + Sub("other") +
                    " --schema " + Sub("other.json"));
  ASSERT_EQ(other.exit_code, 0) << other.err;
  std::filesystem::copy(Sharded(2), Sub("mixed"), std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(Sub("mixed/shard-0001"));
  std::filesystem::copy(Sub("other/shard-0001"), Sub("mixed/shard-0001"), std::filesystem::copy_options::recursive);
  Ran search = Shell(Mpi(2) + "search --index " + Sub("mixed") + " --query alpha");
  EXPECT_EQ(search.exit_code, 1);
  EXPECT_NE(search.err.find("shard-0001: its schema"), std::string::npos) << search.err;
  // Adding to it is refused as well, and nothing is written.
  Ran index = Shell(Mpi(2) + "index --corpus " + Sub("corpus.jsonl") + " --index " + Sub("mixed"));
  EXPECT_EQ(index.exit_code, 1);
  EXPECT_NE(index.err.find("shard-0001: its schema"), std::string::npos) << index.err;
  // A schema other than the recorded one is refused by every shard.
  Ran changed = Shell(Mpi(2) + "index --corpus " + Sub("corpus.jsonl") + " --index " + Sharded(2) + " --schema " +
                      Sub("other.json"));
  EXPECT_NE(changed.exit_code, 0);
  auto j = ExpectSame(2, "--sort size --k 3 --total");
  EXPECT_EQ(j["total"], 120);
  // Sorting on a field not declared sortable fails on every rank, as in hymir search.
  EXPECT_EQ(Shell(Mpi(2) + "search --index " + Sub("other") + " --query alpha --sort size").exit_code, 2);
}

}  // namespace
}  // namespace hymir
