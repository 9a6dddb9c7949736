// Tests of the trec_eval-compatible evaluation: qrels and run readers, the run
// writer, and every metric against values computed by hand.
#include "hymir/ranking/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>

#include "hymir/ranking/qrels.h"
#include "hymir/ranking/run.h"
#include "tests/testutil/testutil.h"

namespace hymir::ranking {
namespace {

using ::hymir::testing::TempDir;
using ::hymir::testing::WriteText;

constexpr double kEps = 1e-12;

Qrels MakeQrels(std::initializer_list<std::tuple<std::string, std::string, int>> rows) {
  Qrels q;
  for (const auto& [qid, doc, grade] : rows) q.Set(qid, doc, grade);
  return q;
}

// "<prefix><n>". (Not "d" + std::to_string(n): GCC 12 warns falsely on that,
// GCC bug 105651.)
std::string Id(const char* prefix, int n) {
  std::string id(prefix);
  id += std::to_string(n);
  return id;
}

QueryEvaluation EvalOne(const Qrels::Judgements& j, const ScoredDocs& docs) {
  auto r = EvaluateQuery(j, docs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value() : QueryEvaluation{};
}

// ---------------------------------------------------------------- metrics

TEST(MetricsTest, GradedNdcgMapRecallAndCountsByHand) {
  // Judged: d1=2, d2=1, d3=0 (non-relevant), d4=3 and d5=1 (never retrieved).
  Qrels::Judgements j{{"d1", 2}, {"d2", 1}, {"d3", 0}, {"d4", 3}, {"d5", 1}};
  // Ranking by score: d1 (2), d3 (0), d2 (1), x (unjudged).
  QueryEvaluation q = EvalOne(j, {{"d2", 1.0}, {"d1", 3.0}, {"x", 0.5}, {"d3", 2.0}});

  // DCG@10 = 2/log2(2) + 1/log2(4) = 2.5. IDCG@10 from grades 3, 2, 1, 1.
  const double idcg = 3.0 + 2.0 / std::log2(3.0) + 1.0 / std::log2(4.0) + 1.0 / std::log2(5.0);
  EXPECT_NEAR(q.values.ndcg_cut_10, 2.5 / idcg, kEps);
  EXPECT_NEAR(q.values.ndcg_cut_10, 0.4814603054, 1e-9);
  EXPECT_NEAR(q.values.ndcg_cut_100, 2.5 / idcg, kEps);
  // 2 of R = 4 relevant retrieved.
  EXPECT_DOUBLE_EQ(q.values.recall_100, 0.5);
  EXPECT_DOUBLE_EQ(q.values.recall_1000, 0.5);
  // AP = (1/1 + 2/3) / 4: d4 and d5 are never retrieved and add 0.
  EXPECT_NEAR(q.values.map, (1.0 + 2.0 / 3.0) / 4.0, kEps);
  EXPECT_DOUBLE_EQ(q.values.recip_rank_nocut, 1.0);
  EXPECT_DOUBLE_EQ(q.values.recip_rank, 1.0);
  EXPECT_DOUBLE_EQ(q.values.p_10, 0.2);  // P_10 divides by 10 even with 4 retrieved
  EXPECT_EQ(q.num_ret, 4u);
  EXPECT_EQ(q.num_rel, 4u);
  EXPECT_EQ(q.num_rel_ret, 2u);
}

TEST(MetricsTest, TiesBrokenByDocIdDescendingBytewise) {
  // "9" > "10" byte-wise, so among equal scores "9" ranks first and "10" second.
  Qrels::Judgements j{{"10", 1}};
  QueryEvaluation q = EvalOne(j, {{"10", 5.0}, {"9", 5.0}});
  EXPECT_DOUBLE_EQ(q.values.recip_rank_nocut, 0.5);
  EXPECT_DOUBLE_EQ(q.values.map, 0.5);
  EXPECT_NEAR(q.values.ndcg_cut_10, 1.0 / std::log2(3.0), kEps);

  // Three-way tie: c, b, a. The relevant "a" is third.
  Qrels::Judgements j2{{"a", 1}};
  QueryEvaluation q2 = EvalOne(j2, {{"a", 1.0}, {"b", 1.0}, {"c", 1.0}});
  EXPECT_NEAR(q2.values.recip_rank_nocut, 1.0 / 3.0, kEps);
  EXPECT_NEAR(q2.values.ndcg_cut_10, 0.5, kEps);  // 1/log2(4) over IDCG 1
}

TEST(MetricsTest, RankingIgnoresInputOrder) {
  Qrels::Judgements j{{"a", 1}, {"c", 2}, {"e", 1}, {"z", 3}};
  ScoredDocs docs{{"a", 0.3}, {"b", 0.9}, {"c", 0.3}, {"d", 0.1}, {"e", 0.7}, {"f", 0.3}};
  QueryEvaluation base = EvalOne(j, docs);
  // Ranking: b .9, e .7, f .3, c .3, a .3, d .1 -> relevant at 2, 4, 5.
  EXPECT_NEAR(base.values.map, (1.0 / 2 + 2.0 / 4 + 3.0 / 5) / 4.0, kEps);
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(docs.begin(), docs.end(), rng);
    QueryEvaluation q = EvalOne(j, docs);
    EXPECT_EQ(q.values.map, base.values.map);
    EXPECT_EQ(q.values.ndcg_cut_10, base.values.ndcg_cut_10);
    EXPECT_EQ(q.values.recip_rank_nocut, base.values.recip_rank_nocut);
  }
}

TEST(MetricsTest, RecallCountsOnlyTheTopK) {
  // 150 retrieved; relevant at ranks 50 and 120; a third relevant never retrieved.
  Qrels::Judgements j{{"d49", 1}, {"d119", 1}, {"missing", 1}};
  ScoredDocs docs;
  for (int i = 0; i < 150; ++i) docs.emplace_back(Id("d", i), 1000.0 - i);
  QueryEvaluation q = EvalOne(j, docs);
  EXPECT_NEAR(q.values.recall_100, 1.0 / 3.0, kEps);
  EXPECT_NEAR(q.values.recall_1000, 2.0 / 3.0, kEps);
  EXPECT_NEAR(q.values.map, (1.0 / 50 + 2.0 / 120) / 3.0, kEps);
  EXPECT_DOUBLE_EQ(q.values.p_10, 0.0);
  EXPECT_DOUBLE_EQ(q.values.ndcg_cut_10, 0.0);
  // DCG@100 = 1/log2(51); IDCG@100 = 1 + 1/log2(3) + 1/log2(4).
  EXPECT_NEAR(q.values.ndcg_cut_100, (1.0 / std::log2(51.0)) / (1.0 + 1.0 / std::log2(3.0) + 0.5), kEps);
}

TEST(MetricsTest, AveragePrecisionWithUnretrievedRelevant) {
  Qrels::Judgements j{{"r1", 1}, {"r2", 1}, {"r3", 1}, {"r4", 1}, {"n1", 0}};
  // Ranking n1, r1, x, r3: relevant at ranks 2 and 4; r2, r4 never retrieved.
  QueryEvaluation q = EvalOne(j, {{"n1", 4.0}, {"r1", 3.0}, {"x", 2.0}, {"r3", 1.0}});
  EXPECT_DOUBLE_EQ(q.values.map, (1.0 / 2 + 2.0 / 4) / 4.0);
  EXPECT_DOUBLE_EQ(q.values.recip_rank_nocut, 0.5);
}

TEST(MetricsTest, ReciprocalRankCut10IgnoresRank11) {
  Qrels::Judgements j{{"rel", 1}};
  ScoredDocs docs;
  for (int i = 1; i <= 10; ++i) docs.emplace_back(Id("n", i), 100.0 - i);
  docs.emplace_back("rel", 50.0);  // rank 11
  QueryEvaluation q = EvalOne(j, docs);
  EXPECT_DOUBLE_EQ(q.values.recip_rank, 0.0);                // MRR@10
  EXPECT_NEAR(q.values.recip_rank_nocut, 1.0 / 11.0, kEps);  // trec_eval recip_rank_nocut: no cutoff
  EXPECT_DOUBLE_EQ(q.values.ndcg_cut_10, 0.0);
  EXPECT_DOUBLE_EQ(q.values.p_10, 0.0);

  docs[9].second = 10.0;  // n10 drops below rel, which is now rank 10
  QueryEvaluation q10 = EvalOne(j, docs);
  EXPECT_DOUBLE_EQ(q10.values.recip_rank, 0.1);
  EXPECT_DOUBLE_EQ(q10.values.recip_rank_nocut, 0.1);
}

TEST(MetricsTest, IdealDcgIsCutAtK) {
  // 12 relevant docs of grade 1, all retrieved first: perfect at every cutoff.
  Qrels::Judgements j;
  ScoredDocs docs;
  for (int i = 0; i < 12; ++i) {
    j[Id("r", i)] = 1;
    docs.emplace_back(Id("r", i), 100.0 - i);
  }
  QueryEvaluation q = EvalOne(j, docs);
  EXPECT_DOUBLE_EQ(q.values.ndcg_cut_10, 1.0);
  EXPECT_DOUBLE_EQ(q.values.ndcg_cut_100, 1.0);
  EXPECT_DOUBLE_EQ(q.values.p_10, 1.0);
  EXPECT_DOUBLE_EQ(q.values.map, 1.0);

  // Swapping a grade-2 doc below a grade-1 doc costs nDCG.
  Qrels::Judgements g{{"hi", 2}, {"lo", 1}};
  QueryEvaluation swapped = EvalOne(g, {{"lo", 2.0}, {"hi", 1.0}});
  EXPECT_NEAR(swapped.values.ndcg_cut_10, (1.0 + 2.0 / std::log2(3.0)) / (2.0 + 1.0 / std::log2(3.0)), kEps);
}

TEST(MetricsTest, NegativeGradesAreNonRelevant) {
  Qrels::Judgements j{{"neg", -1}, {"zero", 0}, {"rel", 1}};
  QueryEvaluation q = EvalOne(j, {{"neg", 3.0}, {"zero", 2.0}, {"rel", 1.0}});
  EXPECT_EQ(q.num_rel, 1u);
  EXPECT_NEAR(q.values.recip_rank_nocut, 1.0 / 3.0, kEps);
  EXPECT_DOUBLE_EQ(q.values.ndcg_cut_10, 0.5);  // 1/log2(4), IDCG 1
}

TEST(MetricsTest, QueryWithoutRelevantScoresZero) {
  QueryEvaluation q = EvalOne({{"a", 0}}, {{"a", 1.0}});
  EXPECT_EQ(q.values.map, 0.0);
  EXPECT_EQ(q.values.ndcg_cut_10, 0.0);
  EXPECT_EQ(q.num_ret, 1u);
}

TEST(MetricsTest, RejectsRepeatedDocumentAndNaN) {
  auto dup = EvaluateQuery({{"a", 1}}, {{"a", 2.0}, {"b", 1.0}, {"a", 0.5}});
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.status().IsInvalidArgument());
  EXPECT_NE(dup.status().message().find("'a'"), std::string::npos) << dup.status().ToString();

  auto nan = EvaluateQuery({{"a", 1}}, {{"a", std::nan("")}});
  ASSERT_FALSE(nan.ok());
  EXPECT_TRUE(nan.status().IsInvalidArgument());
}

// ------------------------------------------------------------- evaluation

TEST(EvaluateTest, AveragesOverJudgedQueriesOnly) {
  Qrels qrels = MakeQrels({
      {"q1", "a", 1},  // q1: answered perfectly
      {"q2", "b", 1},  // q2: judged, absent from the run -> 0 everywhere
      {"q3", "c", 0},  // q3: no relevant doc -> not a judged query
  });
  ranking::Run run;
  run["q1"] = {{"a", 1.0}, {"x", 0.5}};
  run["q3"] = {{"c", 1.0}};
  run["q9"] = {{"zz", 1.0}};  // not in the qrels: ignored
  ASSERT_OK_AND_ASSIGN(Evaluation eval, Evaluate(qrels, run));
  ASSERT_EQ(eval.num_queries(), 2u);
  EXPECT_EQ(eval.per_query.count("q1"), 1u);
  EXPECT_EQ(eval.per_query.count("q2"), 1u);
  EXPECT_EQ(eval.per_query.count("q3"), 0u);
  EXPECT_EQ(eval.num_unjudged_run_queries, 2u);  // q3 and q9

  const QueryEvaluation& q2 = eval.per_query.at("q2");
  EXPECT_EQ(q2.values.ndcg_cut_10, 0.0);
  EXPECT_EQ(q2.values.map, 0.0);
  EXPECT_EQ(q2.values.recall_100, 0.0);
  EXPECT_EQ(q2.num_ret, 0u);
  EXPECT_EQ(q2.num_rel, 1u);

  EXPECT_DOUBLE_EQ(eval.per_query.at("q1").values.ndcg_cut_10, 1.0);
  EXPECT_DOUBLE_EQ(eval.mean.ndcg_cut_10, 0.5);
  EXPECT_DOUBLE_EQ(eval.mean.map, 0.5);
  EXPECT_DOUBLE_EQ(eval.mean.recall_1000, 0.5);
  EXPECT_DOUBLE_EQ(eval.mean.recip_rank_nocut, 0.5);
  EXPECT_DOUBLE_EQ(eval.mean.p_10, 0.05);
  EXPECT_EQ(eval.num_ret, 2u);  // only judged queries count
  EXPECT_EQ(eval.num_rel, 2u);
  EXPECT_EQ(eval.num_rel_ret, 1u);
}

TEST(EvaluateTest, EmptyQrelsGiveNoQueries) {
  ranking::Run run;
  run["q1"] = {{"a", 1.0}};
  ASSERT_OK_AND_ASSIGN(Evaluation eval, Evaluate(Qrels(), run));
  EXPECT_EQ(eval.num_queries(), 0u);
  EXPECT_EQ(eval.mean.map, 0.0);
}

TEST(EvaluateTest, ErrorNamesTheQuery) {
  Qrels qrels = MakeQrels({{"q7", "a", 1}});
  ranking::Run run;
  run["q7"] = {{"a", 1.0}, {"a", 0.5}};
  auto eval = Evaluate(qrels, run);
  ASSERT_FALSE(eval.ok());
  EXPECT_NE(eval.status().message().find("q7"), std::string::npos) << eval.status().ToString();
}

TEST(EvaluateTest, NamedValuesUseTrecEvalNames) {
  MetricValues v;
  v.ndcg_cut_10 = 1;
  v.recall_100 = 2;
  v.recall_1000 = 3;
  v.map = 4;
  v.recip_rank_nocut = 5;
  v.p_10 = 6;
  auto named = NamedValues(v);
  auto get = [&](std::string_view name) {
    for (const auto& [n, value] : named) {
      if (n == name) return value;
    }
    return -1.0;
  };
  EXPECT_EQ(get("ndcg_cut_10"), 1);
  EXPECT_EQ(get("recall_100"), 2);
  EXPECT_EQ(get("recall_1000"), 3);
  EXPECT_EQ(get("map"), 4);
  EXPECT_EQ(get("recip_rank_nocut"), 5);
  EXPECT_EQ(get("P_10"), 6);
  EXPECT_EQ(named.size(), 8u);
}

// ------------------------------------------------------------------ qrels

TEST(QrelsTest, ReadsBeirWithHeader) {
  ASSERT_OK_AND_ASSIGN(Qrels q, Qrels::Parse("query-id\tcorpus-id\tscore\n"
                                             "1\t1410\t1\n"
                                             "1\t1572\t2\n"
                                             "\n"
                                             "2\t7\t0\n",
                                             "test.tsv"));
  EXPECT_EQ(q.num_queries(), 2u);
  EXPECT_EQ(q.num_judgements(), 3u);
  EXPECT_EQ(q.Grade("1", "1572"), 2);
  EXPECT_EQ(q.Grade("2", "7"), 0);
  EXPECT_EQ(q.Grade("2", "8"), std::nullopt);
  EXPECT_EQ(q.NumRelevant("1"), 2u);
  EXPECT_EQ(q.NumRelevant("2"), 0u);
}

TEST(QrelsTest, ReadsBeirWithoutHeaderAndCrlf) {
  ASSERT_OK_AND_ASSIGN(Qrels q, Qrels::Parse("q1\td1\t1\r\nq1\td2\t3\r\n", "x.tsv"));
  EXPECT_EQ(q.Grade("q1", "d2"), 3);
  EXPECT_EQ(q.num_judgements(), 2u);
}

TEST(QrelsTest, ReadsTrecFourColumns) {
  ASSERT_OK_AND_ASSIGN(Qrels q, Qrels::Parse("# comment\n"
                                             "301 0 FBIS3-10082 1\n"
                                             "301  0\tFBIS3-10169   0\n"
                                             "302 Q0 LA010189-0018 -1\n"
                                             "302 0 LA010189-0019 +2\n",
                                             "qrels.txt"));
  EXPECT_EQ(q.num_queries(), 2u);
  EXPECT_EQ(q.Grade("301", "FBIS3-10082"), 1);
  EXPECT_EQ(q.Grade("301", "FBIS3-10169"), 0);
  EXPECT_EQ(q.Grade("302", "LA010189-0018"), -1);
  EXPECT_EQ(q.Grade("302", "LA010189-0019"), 2);
  EXPECT_EQ(q.Grade("302", "0"), std::nullopt);  // the iter column is not an id
  EXPECT_EQ(q.NumRelevant("302"), 1u);
}

TEST(QrelsTest, DuplicateJudgementKeepsTheLast) {
  ASSERT_OK_AND_ASSIGN(Qrels q, Qrels::Parse("q\td\t2\nq\te\t1\nq\td\t0\n", "dup.tsv"));
  EXPECT_EQ(q.Grade("q", "d"), 0);
  EXPECT_EQ(q.num_judgements(), 2u);
  EXPECT_EQ(q.NumRelevant("q"), 1u);
}

TEST(QrelsTest, MalformedLinesNameFileAndLine) {
  struct Case {
    std::string text;
    std::string where;
    std::string fault;
  };
  const Case cases[] = {
      {"q 0 d 1\nq 0 e\n", "f:2:", "4 columns"},             // TREC line lost a column
      {"q\td\t1\n\nq\td\t1\textra\n", "f:3:", "3 columns"},  // BEIR line grew one
      {"q\td\tyes\n", "f:1:", "'yes' is not an integer"},
      {"q 0 d 1.5\n", "f:1:", "'1.5' is not an integer"},
      {"q d\n", "f:1:", "got 2"},  // neither format
      {"query-id\tcorpus-id\tscore\nq 0 d 1\n", "f:2:", "3 columns"},
      {"q\td\t99999999999\n", "f:1:", "not an integer"},  // beyond 32 bits
  };
  for (const Case& c : cases) {
    auto q = Qrels::Parse(c.text, "f");
    ASSERT_FALSE(q.ok()) << c.text;
    EXPECT_TRUE(q.status().IsInvalidArgument()) << q.status().ToString();
    EXPECT_EQ(q.status().message().rfind(c.where, 0), 0u) << q.status().ToString();
    EXPECT_NE(q.status().message().find(c.fault), std::string::npos) << q.status().ToString();
  }
}

TEST(QrelsTest, ReadFromFile) {
  TempDir dir;
  const std::string path = dir.Sub("qrels.tsv");
  WriteText(path, "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\tbad\n");
  auto bad = Qrels::Read(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(path + ":3: ", 0), 0u) << bad.status().ToString();

  WriteText(path, "q1 0 d1 1\n");
  ASSERT_OK_AND_ASSIGN(Qrels q, Qrels::Read(path));
  EXPECT_EQ(q.Grade("q1", "d1"), 1);

  auto missing = Qrels::Read(dir.Sub("absent.tsv"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
}

// -------------------------------------------------------------------- run

TEST(RunTest, ParsesSixColumnsAndIgnoresRank) {
  ASSERT_OK_AND_ASSIGN(ranking::Run run, ParseRun("q1 Q0 d1 1 2.5 tag\n"
                                                  "# comment\n"
                                                  "\n"
                                                  "q1\tQ0\td2\t2\t-1e-3\ttag\n"
                                                  "q2 Q0 d1 7 3 other\n",
                                                  "run.txt"));
  ASSERT_EQ(run.size(), 2u);
  ASSERT_EQ(run["q1"].size(), 2u);
  EXPECT_EQ(run["q1"][1].first, "d2");
  EXPECT_DOUBLE_EQ(run["q1"][1].second, -0.001);
  EXPECT_DOUBLE_EQ(run["q2"][0].second, 3.0);

  // The rank column says d1 first, but scores rank the relevant d2 first.
  Qrels qrels = MakeQrels({{"q", "d2", 1}});
  ASSERT_OK_AND_ASSIGN(ranking::Run r2, ParseRun("q Q0 d1 1 0.1 t\nq Q0 d2 2 0.9 t\n", "r"));
  ASSERT_OK_AND_ASSIGN(Evaluation eval, Evaluate(qrels, r2));
  EXPECT_DOUBLE_EQ(eval.mean.recip_rank_nocut, 1.0);
}

TEST(RunTest, MalformedLinesNameFileAndLine) {
  struct Case {
    std::string text;
    std::string where;
    std::string fault;
  };
  const Case cases[] = {
      {"q Q0 d 1 0.5 t\nq Q0 e 2 0.4\n", "r:2:", "got 5"},
      {"q Q0 d 1 0.5 t x\n", "r:1:", "got 7"},
      {"q Q0 d 1 high t\n", "r:1:", "score 'high' is not a number"},
      {"q Q0 d 1 nan t\n", "r:1:", "score 'nan'"},
      {"q Q0 d one 0.5 t\n", "r:1:", "rank 'one' is not an integer"},
      {"q Q0 d 1 0.5 t\n\nq Q0 e 2 0.4 t\nq Q0 d 3 0.3 t\n",
       "r:4:", "document 'd' repeated for query 'q' (first at line 1)"},
  };
  for (const Case& c : cases) {
    auto run = ParseRun(c.text, "r");
    ASSERT_FALSE(run.ok()) << c.text;
    EXPECT_TRUE(run.status().IsInvalidArgument()) << run.status().ToString();
    EXPECT_EQ(run.status().message().rfind(c.where, 0), 0u) << run.status().ToString();
    EXPECT_NE(run.status().message().find(c.fault), std::string::npos) << run.status().ToString();
  }
}

TEST(RunTest, SameDocumentInTwoQueriesIsFine) {
  ASSERT_OK_AND_ASSIGN(ranking::Run run, ParseRun("q1 Q0 d 1 1 t\nq2 Q0 d 1 1 t\nq1 Q0 e 2 0 t\n", "r"));
  EXPECT_EQ(run["q1"].size(), 2u);  // q1's lines need not be contiguous
  EXPECT_EQ(run["q2"].size(), 1u);
}

TEST(RunTest, WriteRunRoundTripsScoresExactly) {
  ScoredDocs ranked{{"d3", 0.1 + 0.2}, {"d1", 1.0 / 3.0}, {"d2", 1.0 / 3.0}, {"d9", -2.5e-17}};
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::ostringstream out;
  ASSERT_OK(WriteRun(out, "q1", ranked, "hymir"));
  ASSERT_OK(WriteRun(out, "q2", {}, "hymir"));  // no documents: no lines
  const std::string text = out.str();
  EXPECT_EQ(text.substr(0, text.find('\n')), "q1 Q0 d1 1 0.3333333333333333 hymir");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);

  ASSERT_OK_AND_ASSIGN(ranking::Run run, ParseRun(text, "written"));
  ASSERT_EQ(run.size(), 1u);
  EXPECT_EQ(run["q1"], ranked);  // bit-identical scores, same order
}

TEST(RunTest, WriteRunRejectsBadInputAndWritesNothing) {
  std::ostringstream out;
  EXPECT_TRUE(WriteRun(out, "q 1", {{"d", 1.0}}, "t").IsInvalidArgument());
  EXPECT_TRUE(WriteRun(out, "q", {{"d", 1.0}}, "").IsInvalidArgument());
  EXPECT_TRUE(WriteRun(out, "q", {{"", 1.0}}, "t").IsInvalidArgument());
  EXPECT_TRUE(WriteRun(out, "q", {{"d\te", 1.0}}, "t").IsInvalidArgument());
  EXPECT_TRUE(WriteRun(out, "q", {{"d", std::nan("")}}, "t").IsInvalidArgument());
  EXPECT_TRUE(WriteRun(out, "q", {{"d", 1.0}, {"e", 2.0}}, "t").IsInvalidArgument());  // ascending
  EXPECT_TRUE(WriteRun(out, "q", {{"d", 2.0}, {"d", 1.0}}, "t").IsInvalidArgument());  // repeat
  EXPECT_TRUE(out.str().empty()) << out.str();
}

TEST(RunTest, ReadRunFromFile) {
  TempDir dir;
  const std::string path = dir.Sub("run.trec");
  WriteText(path, "q Q0 d 1 1 t\nq Q0 e 2\n");
  auto bad = ReadRun(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(path + ":2: ", 0), 0u) << bad.status().ToString();

  auto missing = ReadRun(dir.Sub("absent.trec"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST(EvaluateFilesTest, MatchesInMemoryEvaluation) {
  TempDir dir;
  const std::string qrels_path = dir.Sub("qrels.tsv"), run_path = dir.Sub("run.trec");
  WriteText(qrels_path, "query-id\tcorpus-id\tscore\nq1\ta\t2\nq1\tb\t1\nq2\tc\t1\n");
  ranking::Run run;
  run["q1"] = {{"b", 0.75}, {"x", 0.5}, {"a", 0.25}};
  run["q2"] = {{"y", 2.0}, {"c", 1.0}};
  {
    std::ostringstream out;
    for (const auto& [qid, docs] : run) ASSERT_OK(WriteRun(out, qid, docs, "t"));
    WriteText(run_path, out.str());
  }
  ASSERT_OK_AND_ASSIGN(Qrels qrels, Qrels::Read(qrels_path));
  ASSERT_OK_AND_ASSIGN(Evaluation mem, Evaluate(qrels, run));
  ASSERT_OK_AND_ASSIGN(Evaluation files, EvaluateFiles(qrels_path, run_path));
  EXPECT_EQ(files.num_queries(), 2u);
  EXPECT_EQ(files.mean.ndcg_cut_10, mem.mean.ndcg_cut_10);
  EXPECT_EQ(files.mean.map, mem.mean.map);
  // q1: b (1) at 1, a (2) at 3. q2: c at 2.
  const double q1_ndcg = (1.0 + 2.0 / 2.0) / (2.0 + 1.0 / std::log2(3.0));
  const double q2_ndcg = 1.0 / std::log2(3.0);
  EXPECT_NEAR(files.mean.ndcg_cut_10, (q1_ndcg + q2_ndcg) / 2, kEps);
  EXPECT_NEAR(files.mean.map, ((1.0 + 2.0 / 3) / 2 + 0.5) / 2, kEps);
  EXPECT_NEAR(files.mean.recip_rank_nocut, (1.0 + 0.5) / 2, kEps);

  auto missing = EvaluateFiles(dir.Sub("nope"), run_path);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
}

}  // namespace
}  // namespace hymir::ranking
