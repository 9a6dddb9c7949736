// Features and the MoE re-ranking stage on the bundled sample (MED): the
// features agree with the retriever's own scores, a trained model re-orders
// exactly the top `depth` candidates and keeps every stage's score, and a
// model that needs what the engine cannot give is refused.
#include "hymir/reranker.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "hymir/beir.h"
#include "hymir/features.h"
#include "hymir/index/analyzer.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/lsa_embedder.h"
#include "hymir/ranking/moe_trainer.h"
#include "hymir/ranking/qrels.h"
#include "hymir/ranking/query_trust.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::TempDir;

const std::string kSample = std::string(HYMIR_SOURCE_DIR) + "/data/sample";

Status BuildSample(const std::string& dir) {
  HYMIR_ASSIGN_OR_RETURN(auto reader, CorpusReader::Open(kSample + "/corpus.jsonl"));
  std::vector<Document> docs;
  Document d;
  while (true) {
    HYMIR_ASSIGN_OR_RETURN(bool more, reader->Next(&d));
    if (!more) break;
    d.domain = docs.size() % 2 ? "odd" : "even";  // a domain field for the per-domain gate features
    docs.push_back(d);
  }
  return testing::BuildIndex(dir, docs);
}

class RerankerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ASSERT_OK(BuildSample(dir_->path()));
  }
  static void TearDownTestSuite() { delete dir_; }
  static TempDir* dir_;
};
TempDir* RerankerTest::dir_ = nullptr;

std::vector<HybridQuery> SampleQueries() {
  std::vector<HybridQuery> out;
  auto records = ReadQueries(kSample + "/queries.jsonl");
  EXPECT_TRUE(records.ok());
  if (!records.ok()) return out;
  for (const auto& r : *records) {
    HybridQuery q;
    q.id = r.id;
    q.text = r.text;
    out.push_back(q);
  }
  return out;
}

TEST_F(RerankerTest, Bm25FeaturesEqualTheRetrieverScores) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, {}));
  const auto& names = fx->schema().pair_features;
  const size_t col = std::find(names.begin(), names.end(), "bm25_all") - names.begin();
  const size_t cov = std::find(names.begin(), names.end(), "coverage") - names.begin();
  ASSERT_LT(col, names.size());
  auto queries = SampleQueries();
  queries.resize(5);
  std::vector<std::vector<SearchHit>> hits;
  ASSERT_OK_AND_ASSIGN(auto groups, RetrieveAndExtract(*engine, *fx, queries, 50, 2, &hits));
  ASSERT_EQ(groups.size(), 5u);
  for (size_t q = 0; q < groups.size(); ++q) {
    const auto& g = groups[q];
    ASSERT_OK(ranking::ValidateGroup(g, fx->schema()));
    ASSERT_EQ(g.size(), hits[q].size());
    for (size_t i = 0; i < g.size(); ++i) {
      ASSERT_TRUE(hits[q][i].bm25.present);
      EXPECT_NEAR(g.row(i, names.size())[col], hits[q][i].bm25.score, 1e-6 * (1 + hits[q][i].bm25.score))
          << "query " << g.query_id << " doc " << g.doc_ids[i];
      EXPECT_GT(g.row(i, names.size())[cov], 0.0);  // every BM25 hit matches a query term
      EXPECT_LE(g.row(i, names.size())[cov], 1.0);
    }
  }
}

TEST_F(RerankerTest, SchemaRoundTripsThroughTheConfig) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  FeatureConfig c;
  c.domains = {"even", "odd"};
  ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, c));
  ASSERT_OK_AND_ASSIGN(FeatureConfig back, FeatureExtractor::ConfigFromSchema(fx->schema()));
  EXPECT_EQ(back.domains, c.domains);
  EXPECT_FALSE(back.kg);
  ASSERT_OK_AND_ASSIGN(auto fx2, FeatureExtractor::Create(*engine, back));
  EXPECT_EQ(fx2->schema(), fx->schema());
  ranking::FeatureSchema odd = fx->schema();
  odd.pair_features.push_back("made_up_feature");
  auto bad = FeatureExtractor::ConfigFromSchema(odd);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("made_up_feature"), std::string::npos);
  // Query features copied into the pair rows: named x_<query feature>, equal to it in every row.
  c.pair_query_features = true;
  ASSERT_OK_AND_ASSIGN(auto fx3, FeatureExtractor::Create(*engine, c));
  ASSERT_OK_AND_ASSIGN(FeatureConfig back3, FeatureExtractor::ConfigFromSchema(fx3->schema()));
  EXPECT_TRUE(back3.pair_query_features);
  const auto& pn = fx3->schema().pair_features;
  const size_t xcol = std::find(pn.begin(), pn.end(), "x_q_len") - pn.begin();
  ASSERT_LT(xcol, pn.size());
  const auto& qn = fx3->schema().query_features;
  const size_t qcol = std::find(qn.begin(), qn.end(), "q_len") - qn.begin();
  auto queries = SampleQueries();
  queries.resize(2);
  ASSERT_OK_AND_ASSIGN(auto groups, RetrieveAndExtract(*engine, *fx3, queries, 10, 1));
  for (const auto& g : groups)
    for (size_t i = 0; i < g.size(); ++i) EXPECT_EQ(g.row(i, pn.size())[xcol], g.query_features[qcol]);
  c.pair_query_features = false;
  // KG features without a knowledge graph.
  c.kg = true;
  EXPECT_TRUE(FeatureExtractor::Create(*engine, c).status().IsInvalidArgument());
}

// Sentence features on a hand-made index with an LSA embedder: "sa" holds
// both query terms in one sentence, "sb" in two; both contain both terms.
TEST(SentenceFeaturesTest, BestSentenceCoverageAndCosine) {
  TempDir dir;
  index::IndexWriterOptions o;
  std::vector<Document> docs = {testing::Doc("sa", "", "Insulin lowers glucose in mice. Weather was cold."),
                                testing::Doc("sb", "", "Insulin was measured! Later, glucose rose.\nNo effect.")};
  for (int i = 0; i < 12; ++i)
    docs.push_back(testing::Doc("f" + std::to_string(i), "", i % 2 ? "cold weather report" : "mice and rats"));
  {
    // The embedder is trained on the corpus first, as `hymir index --embed` does.
    ASSERT_OK(testing::AddLsaField(dir.path(), docs, 4, &o));
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir.path(), o));
    for (const auto& d : docs) ASSERT_OK(w->Upsert(d));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  FeatureConfig c;
  c.sentence_features = true;
  ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, c));
  const auto& names = fx->schema().pair_features;
  const size_t cover = std::find(names.begin(), names.end(), "sent_idf_coverage") - names.begin();
  const size_t cosine = std::find(names.begin(), names.end(), "sent_dense") - names.begin();
  const size_t whole = std::find(names.begin(), names.end(), "coverage") - names.begin();
  ASSERT_LT(cover, names.size());
  ASSERT_LT(cosine, names.size());
  ASSERT_OK_AND_ASSIGN(FeatureConfig back, FeatureExtractor::ConfigFromSchema(fx->schema()));
  EXPECT_TRUE(back.sentence_features);

  HybridQuery q;
  q.id = "q";
  q.text = "insulin glucose";
  ASSERT_OK_AND_ASSIGN(auto groups, RetrieveAndExtract(*engine, *fx, {q}, 10, 1));
  ASSERT_EQ(groups.size(), 1u);
  const auto& g = groups[0];
  std::map<std::string, const double*> row;
  for (size_t i = 0; i < g.size(); ++i) row[g.doc_ids[i]] = g.row(i, names.size());
  ASSERT_TRUE(row.count("sa") && row.count("sb"));
  EXPECT_DOUBLE_EQ(row["sa"][whole], 1.0);  // both documents hold both terms...
  EXPECT_DOUBLE_EQ(row["sb"][whole], 1.0);
  EXPECT_NEAR(row["sa"][cover], 1.0, 1e-12);  // ...but only sa in one sentence
  EXPECT_GT(row["sb"][cover], 0.0);
  EXPECT_LT(row["sb"][cover], 1.0);
  // sent_dense is the best cosine between the query and a sentence, each embedded alone.
  const index::Searcher& s = engine->searcher();
  ASSERT_OK_AND_ASSIGN(auto qv, s.EmbedText("emb", q.text));
  double best = 0;
  for (const char* sentence : {"Insulin lowers glucose in mice.", "Weather was cold."}) {
    ASSERT_OK_AND_ASSIGN(auto v, s.EmbedText("emb", sentence));
    double ab = 0, aa = 0, bb = 0;
    for (size_t k = 0; k < v.size(); ++k) ab += qv[k] * v[k], aa += qv[k] * qv[k], bb += v[k] * v[k];
    if (aa > 0 && bb > 0) best = std::max(best, ab / std::sqrt(aa * bb));
  }
  EXPECT_NEAR(row["sa"][cosine], best, 1e-6);
  // Off by default: no sentence columns.
  ASSERT_OK_AND_ASSIGN(auto plain, FeatureExtractor::Create(*engine, {}));
  const auto& pn = plain->schema().pair_features;
  EXPECT_EQ(std::find(pn.begin(), pn.end(), "sent_idf_coverage"), pn.end());
}

// `queries` retrieved to depth 30 as candidate groups, labelled by the
// sample's test judgements (training data for the tests' models).
Result<std::vector<ranking::QueryGroup>> LabelledGroups(const Engine& engine, const FeatureExtractor& fx,
                                                        const std::vector<HybridQuery>& queries) {
  HYMIR_ASSIGN_OR_RETURN(auto qrels, ranking::Qrels::Read(kSample + "/qrels/test.tsv"));
  HYMIR_ASSIGN_OR_RETURN(auto groups, RetrieveAndExtract(engine, fx, queries, 30, 2));
  for (auto& g : groups) ranking::LabelGroup(g, qrels);
  return groups;
}

TEST_F(RerankerTest, TrainedModelReordersTheTopDepthAndKeepsStages) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  FeatureConfig c;
  c.domains = {"even", "odd"};
  ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, c));
  auto queries = SampleQueries();
  ASSERT_OK_AND_ASSIGN(auto groups, LabelledGroups(*engine, *fx, queries));
  ranking::MoeTrainOptions o;
  o.model = {.routed_experts = 3, .shared_experts = 1, .top_k = 2, .expert_hidden = 8};
  o.max_epochs = 5;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel model, ranking::TrainMoe(fx->schema(), groups, o));
  TempDir out;
  ASSERT_OK(model.Save(out.Sub("model.moe")));
  ASSERT_OK_AND_ASSIGN(auto reranker, Reranker::Open(*engine, out.Sub("model.moe")));

  HybridQuery q = queries[0];
  q.k = 40;
  RerankOptions ro;
  ro.depth = 30;
  ro.keep_features = true;
  ASSERT_OK_AND_ASSIGN(auto plain, engine->Search(q));
  ASSERT_OK_AND_ASSIGN(RerankedResult r, reranker->Search(q, ro));
  ASSERT_EQ(r.hits.size(), plain.size());
  std::set<std::string> head_plain, head_reranked;
  for (size_t i = 0; i < 30; ++i) {
    head_plain.insert(plain[i].id);
    head_reranked.insert(r.hits[i].id);
    EXPECT_TRUE(r.hits[i].rerank.present);
    EXPECT_EQ(r.hits[i].rank, i + 1);
    EXPECT_TRUE(r.hits[i].bm25.present);
    EXPECT_TRUE(r.hits[i].fused.present);
    if (i > 0) {
      EXPECT_GE(r.hits[i - 1].score, r.hits[i].score);
    }
  }
  EXPECT_EQ(head_plain, head_reranked);  // the same candidates, re-ordered
  for (size_t i = 30; i < 40; ++i) {
    EXPECT_EQ(r.hits[i].id, plain[i].id);  // below the depth: retrieval order
    EXPECT_FALSE(r.hits[i].rerank.present);
    EXPECT_LT(r.hits[i].score, r.hits[29].score);
  }
  ASSERT_EQ(r.routing.chosen.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto ex, reranker->Explain(r, r.hits[0].id));
  EXPECT_NEAR(ex.score, r.hits[0].score, 1e-9);
  // Pagination re-ranks the same window and slices it.
  q.offset = 5;
  q.k = 5;
  ASSERT_OK_AND_ASSIGN(RerankedResult page, reranker->Search(q, ro));
  ASSERT_EQ(page.hits.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(page.hits[i].id, r.hits[5 + i].id);
  // Batch equals single.
  ASSERT_OK_AND_ASSIGN(auto batch, reranker->SearchBatch({queries[0], queries[1]}, ro, 2));
  q.offset = 0;
  q.k = 10;
  ASSERT_OK_AND_ASSIGN(RerankedResult single, reranker->Search(q, ro));
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(batch[0].hits[i].id, single.hits[i].id);
}

// Tied model scores (here a model whose networks are all zeros) keep the
// retrieval order, and the served scores still strictly decrease with the
// rank, so a consumer that re-sorts by score (trec_eval) sees that order.
TEST_F(RerankerTest, TiedScoresKeepTheRetrievalOrderAndStillDecrease) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, {}));
  ASSERT_OK_AND_ASSIGN(
      ranking::MoeModel flat,
      ranking::MoeModel::Create({.routed_experts = 2, .shared_experts = 1, .top_k = 1}, fx->schema(), 1));
  std::fill(flat.parameters().begin(), flat.parameters().end(), 0.0);
  ASSERT_OK_AND_ASSIGN(auto reranker, Reranker::Create(*engine, flat));
  HybridQuery q = SampleQueries()[0];
  q.k = 20;
  RerankOptions ro;
  ro.depth = 20;
  ASSERT_OK_AND_ASSIGN(auto plain, engine->Search(q));
  ASSERT_OK_AND_ASSIGN(RerankedResult r, reranker->Search(q, ro));
  ASSERT_EQ(r.hits.size(), 20u);
  for (size_t i = 0; i < r.hits.size(); ++i) {
    EXPECT_EQ(r.hits[i].id, plain[i].id) << i;
    if (i > 0) {
      EXPECT_LT(r.hits[i].score, r.hits[i - 1].score) << i;
    }
  }
}

// Per-query trust (ranking::QueryTrust): a query sharing no term with any
// judged query is served the pre-trained model's ranking exactly; a query
// identical to a judged one whose out-of-fold gain was positive, the
// fine-tuned model's.
TEST_F(RerankerTest, QueryTrustServesPretrainedFarFromTheJudgementsAndFineTunedOnThem) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  FeatureConfig c;
  ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, c));
  auto queries = SampleQueries();
  ASSERT_OK_AND_ASSIGN(auto groups, LabelledGroups(*engine, *fx, queries));
  ranking::MoeTrainOptions o;
  o.model = {.routed_experts = 3, .shared_experts = 1, .top_k = 2, .expert_hidden = 8};
  o.max_epochs = 3;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel pre, ranking::TrainMoe(fx->schema(), groups, o));
  ranking::MoeModel tuned = pre;  // "fine-tuned": the same lineage, other weights
  for (size_t i = 0; i < tuned.parameters().size(); ++i) tuned.parameters()[i] += 0.3 * std::sin(1.0 + i);

  const auto terms = [&](const std::string& text) { return index::Analyze(engine->searcher().analyzer(), text); };
  const HybridQuery q = queries[0];
  TempDir out;
  auto reranker_with = [&](const std::vector<std::vector<std::string>>& judged,
                           const std::string& name) -> Result<std::unique_ptr<Reranker>> {
    ranking::MoeModel m = tuned;
    HYMIR_ASSIGN_OR_RETURN(
        auto trust, ranking::QueryTrust::Build(judged, std::vector<double>(judged.size(), 0.05),
                                               {.neighbours = 1, .floor = 0.0, .width = 0.5, .gain_scale = 0.02}));
    HYMIR_RETURN_IF_ERROR(m.set_trust(pre, std::move(trust)));
    HYMIR_RETURN_IF_ERROR(m.Save(out.Sub(name)));  // through the model file, as hymir search reads it
    return Reranker::Open(*engine, out.Sub(name));
  };
  ASSERT_OK_AND_ASSIGN(auto far, reranker_with({{"xyzzi", "plugh"}}, "far.moe"));
  ASSERT_OK_AND_ASSIGN(auto near, reranker_with({terms(queries[1].text), terms(q.text)}, "near.moe"));
  ASSERT_OK_AND_ASSIGN(auto only_pre, Reranker::Create(*engine, pre));
  ASSERT_OK_AND_ASSIGN(auto only_tuned, Reranker::Create(*engine, tuned));
  RerankOptions ro;
  ro.depth = 30;
  HybridQuery page = q;
  page.k = 30;
  auto ids = [](const RerankedResult& r) {
    std::vector<std::string> v;
    for (const auto& h : r.hits) v.push_back(h.id);
    return v;
  };
  ASSERT_OK_AND_ASSIGN(auto rp, only_pre->Search(page, ro));
  ASSERT_OK_AND_ASSIGN(auto rt, only_tuned->Search(page, ro));
  ASSERT_NE(ids(rp), ids(rt));  // the test needs the two models to disagree
  EXPECT_EQ(rp.trust, 1.0);     // a model without trust data
  ASSERT_OK_AND_ASSIGN(auto rf, far->Search(page, ro));
  EXPECT_EQ(rf.trust, 0.0);
  EXPECT_EQ(ids(rf), ids(rp));
  ASSERT_OK_AND_ASSIGN(auto rn, near->Search(page, ro));
  EXPECT_EQ(rn.trust, 1.0);
  EXPECT_EQ(ids(rn), ids(rt));
  // Batch equals single.
  ASSERT_OK_AND_ASSIGN(auto batch, far->SearchBatch({page}, ro, 2));
  EXPECT_EQ(ids(batch[0]), ids(rf));
}

TEST_F(RerankerTest, ModelsNeedingOtherFeaturesAreRefused) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  ranking::FeatureSchema s;
  s.pair_features = {"bm25_all", "kg_matched"};
  s.query_features = {"q_len"};
  ASSERT_OK_AND_ASSIGN(auto model, ranking::MoeModel::Create({}, s, 1));
  auto r = Reranker::Create(*engine, model);  // KG features, no KG
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  TempDir out;
  EXPECT_TRUE(Reranker::Open(*engine, out.Sub("absent.moe")).status().IsNotFound());
}

}  // namespace
}  // namespace hymir
