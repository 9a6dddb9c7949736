// Supervised re-ranker training (hymir/train_reranker.h) on the bundled
// sample: the model beats the retrieval order on the queries it was trained
// on, the two halves give the one call's model, distributed parts give one
// process's groups, excluded documents never become candidates, fine-tuning
// keeps the initial model's shape, and bad options are clear errors.
#include "hymir/train_reranker.h"

#include <gtest/gtest.h>

#include <barrier>
#include <cmath>
#include <set>
#include <thread>

#include "hymir/beir.h"
#include "hymir/index/index_writer.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::TempDir;

const std::string kSample = std::string(HYMIR_SOURCE_DIR) + "/data/sample";

// nDCG@10 of the retrieval order of `g` (the candidates as retrieved).
double RetrievalNdcg(const ranking::QueryGroup& g) {
  std::vector<double> scores(g.size());
  for (size_t i = 0; i < g.size(); ++i) scores[i] = -static_cast<double>(i);
  return ranking::GroupNdcg(g, scores, 10);
}

class TrainRerankerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::vector<Document> docs;
    auto reader = CorpusReader::Open(kSample + "/corpus.jsonl");
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    for (Document d;;) {
      auto more = (*reader)->Next(&d);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      docs.push_back(d);
    }
    index::IndexWriterOptions o;
    ASSERT_OK(testing::AddLsaField(dir_->path(), docs, 16, &o));
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(dir_->path(), o));
    for (const auto& d : docs) ASSERT_OK(w->Upsert(d));
    ASSERT_OK(w->Commit());
  }
  static void TearDownTestSuite() { delete dir_; }

  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(engine_, Engine::Open(dir_->path()));
    ASSERT_OK_AND_ASSIGN(auto records, ReadQueries(kSample + "/queries.jsonl"));
    ASSERT_OK_AND_ASSIGN(qrels_, ranking::Qrels::Read(kSample + "/qrels/test.tsv"));
    queries_ = JudgedQueries(records, qrels_, engine_.get());
  }

  // A small, quick configuration.
  static TrainRerankerOptions Small() {
    TrainRerankerOptions o;
    o.depth = 30;
    o.threads = 2;
    o.train.model.routed_experts = 2;
    o.train.model.top_k = 1;
    o.train.model.expert_hidden = 8;
    o.train.max_epochs = 4;
    o.train.patience = 4;
    o.train.trees.max_rounds = 20;
    return o;
  }

  static TempDir* dir_;
  std::unique_ptr<Engine> engine_;
  ranking::Qrels qrels_;
  std::vector<TrainingQuery> queries_;
};
TempDir* TrainRerankerTest::dir_ = nullptr;

TEST_F(TrainRerankerTest, JudgedQueriesAreTheJudgedRecordsInOrder) {
  ASSERT_EQ(queries_.size(), 30u);  // the sample judges 30 queries
  for (size_t i = 0; i < queries_.size(); ++i) {
    EXPECT_NE(qrels_.Find(queries_[i].query.id), nullptr);
    EXPECT_FALSE(queries_[i].query.text.empty());
    if (i > 0) {
      EXPECT_LT(std::stoi(queries_[i - 1].query.id), std::stoi(queries_[i].query.id));
    }
  }
}

TEST_F(TrainRerankerTest, ModelBeatsTheRetrievalOrderOnItsTrainingQueries) {
  TrainRerankerOptions o = Small();
  ASSERT_OK_AND_ASSIGN(TrainingSet set, BuildTrainingSet(*engine_, queries_, qrels_, o));
  ASSERT_EQ(set.groups.size(), queries_.size());
  EXPECT_GT(set.with_relevant, 0u);
  for (size_t i = 0; i < set.groups.size(); ++i) {
    EXPECT_EQ(set.groups[i].query_id, queries_[i].query.id);
    EXPECT_LE(set.groups[i].size(), o.depth);
    EXPECT_EQ(set.groups[i].labels.size(), set.groups[i].size());
  }
  TrainRerankerReport report;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel model, TrainReranker(*engine_, set, o, &report));
  EXPECT_EQ(report.queries, set.groups.size());
  EXPECT_EQ(report.with_relevant, set.with_relevant);
  EXPECT_EQ(report.model.routed_experts, 2);
  EXPECT_EQ(model.schema(), set.extractor->schema());
  EXPECT_GT(report.score_micros_p50, 0.0);  // the serving cost was measured
  EXPECT_GE(report.score_micros_p99, report.score_micros_p50);
  double retrieval = 0, reranked = 0;
  for (const auto& g : set.groups) {
    retrieval += RetrievalNdcg(g);
    ASSERT_OK_AND_ASSIGN(auto scores, model.Score(g));
    reranked += ranking::GroupNdcg(g, scores, 10);
  }
  EXPECT_GT(reranked, retrieval) << "mean nDCG@10 " << reranked / set.groups.size() << " vs retrieval "
                                 << retrieval / set.groups.size();
}

TEST_F(TrainRerankerTest, TheTwoHalvesGiveTheOneCallsModelAndRunsRepeat) {
  TrainRerankerOptions o = Small();
  o.train.tree_expert = false;  // the networks alone: every parameter trained
  std::vector<std::string> lines;
  o.progress = [&](const std::string& line) { lines.push_back(line); };
  int epochs = 0;
  o.epoch_progress = [&](const ranking::EpochReport&) { ++epochs; };
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel one, TrainReranker(*engine_, queries_, qrels_, o));
  EXPECT_GT(epochs, 0);
  EXPECT_FALSE(lines.empty());
  ASSERT_OK_AND_ASSIGN(TrainingSet set, BuildTrainingSet(*engine_, queries_, qrels_, o));
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel two, TrainReranker(*engine_, set, o));
  EXPECT_EQ(one.Serialize(), two.Serialize());
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel again, TrainReranker(*engine_, queries_, qrels_, o));
  EXPECT_EQ(one.Serialize(), again.Serialize());
  o.train.seed = 7;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel other, TrainReranker(*engine_, queries_, qrels_, o));
  EXPECT_NE(one.Serialize(), other.Serialize());
}

// Two parts of one process, on two threads, exchanging through the hooks as
// MPI ranks do (hymir::dist::DataParallelRerankerTraining): each part
// featurises every other query; the gathered groups are one process's (to
// rounding).
TEST_F(TrainRerankerTest, DistributedPartsGatherOneProcesssGroups) {
  const TrainRerankerOptions o = Small();
  ASSERT_OK_AND_ASSIGN(TrainingSet whole, BuildTrainingSet(*engine_, queries_, qrels_, o));
  std::barrier sync(2);
  std::vector<ranking::QueryGroup> shared_groups[2];
  std::vector<std::string> shared_domains[2];
  Result<TrainingSet> parts[2] = {Status::Internal("not run"), Status::Internal("not run")};
  size_t agreed[2] = {0, 0};
  auto run = [&](int me) {
    TrainRerankerOptions p = o;
    p.part = {me, 2};
    p.gather_groups = [&,
                       me](const std::vector<ranking::QueryGroup>& mine) -> Result<std::vector<ranking::QueryGroup>> {
      shared_groups[me] = mine;
      sync.arrive_and_wait();
      std::vector<ranking::QueryGroup> all;  // round robin: item i from part i % 2
      for (size_t i = 0; i < shared_groups[0].size() + shared_groups[1].size(); ++i)
        all.push_back(shared_groups[i % 2][i / 2]);
      sync.arrive_and_wait();
      return all;
    };
    p.gather_domains = [&, me](const std::vector<std::string>& mine) -> Result<std::vector<std::string>> {
      shared_domains[me] = mine;
      sync.arrive_and_wait();
      std::set<std::string> all(shared_domains[0].begin(), shared_domains[0].end());
      all.insert(shared_domains[1].begin(), shared_domains[1].end());
      sync.arrive_and_wait();
      return std::vector<std::string>(all.begin(), all.end());
    };
    p.agree = [&, me](const Status& local) {
      ++agreed[me];
      return local;
    };
    parts[me] = BuildTrainingSet(*engine_, queries_, qrels_, p);
  };
  std::thread other(run, 1);
  run(0);
  other.join();
  for (int me = 0; me < 2; ++me) {
    ASSERT_TRUE(parts[me].ok()) << parts[me].status().ToString();
    EXPECT_GT(agreed[me], 0u);
    EXPECT_EQ(parts[me]->queries.size(), queries_.size() / 2);  // its own share
    EXPECT_EQ(parts[me]->extractor->schema(), whole.extractor->schema());
    ASSERT_EQ(parts[me]->groups.size(), whole.groups.size());
    for (size_t i = 0; i < whole.groups.size(); ++i) {
      EXPECT_EQ(parts[me]->groups[i].query_id, whole.groups[i].query_id);
      EXPECT_EQ(parts[me]->groups[i].doc_ids, whole.groups[i].doc_ids);
      // Equal up to rounding: the query embeddings of a batch are computed together.
      const auto& x = parts[me]->groups[i].pair_features;
      const auto& y = whole.groups[i].pair_features;
      ASSERT_EQ(x.size(), y.size());
      for (size_t j = 0; j < x.size(); ++j) EXPECT_NEAR(x[j], y[j], 1e-6 * (1 + std::abs(y[j]))) << i << " " << j;
      EXPECT_EQ(parts[me]->groups[i].labels, whole.groups[i].labels);
    }
  }
}

TEST_F(TrainRerankerTest, ExcludedDocumentsAreNeverCandidates) {
  TrainRerankerOptions o = Small();
  o.depth = 10;
  std::vector<TrainingQuery> first(queries_.begin(), queries_.begin() + 3);
  ASSERT_OK_AND_ASSIGN(TrainingSet plain, BuildTrainingSet(*engine_, first, qrels_, o));
  for (size_t i = 0; i < first.size(); ++i) first[i].exclude = {plain.hits[i][0].id, plain.hits[i][2].id};
  ASSERT_OK_AND_ASSIGN(TrainingSet without, BuildTrainingSet(*engine_, first, qrels_, o));
  for (size_t i = 0; i < first.size(); ++i) {
    ASSERT_EQ(without.hits[i].size(), o.depth);  // retrieval went deeper
    for (const SearchHit& h : without.hits[i]) {
      EXPECT_NE(h.id, first[i].exclude[0]);
      EXPECT_NE(h.id, first[i].exclude[1]);
    }
    // The rest keep their order.
    EXPECT_EQ(without.hits[i][0].id, plain.hits[i][1].id);
    EXPECT_EQ(without.hits[i][1].id, plain.hits[i][3].id);
    EXPECT_EQ(without.groups[i].doc_ids.size(), o.depth);
  }
}

TEST_F(TrainRerankerTest, FineTuningKeepsTheInitialModelsShapeAndFusionZeroKeepsIt) {
  TrainRerankerOptions o = Small();
  o.features.query_embedding_dims = 0;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel init, TrainReranker(*engine_, queries_, qrels_, o));
  TrainRerankerOptions ft = Small();
  ft.init = &init;
  ft.train.model.routed_experts = 5;  // ignored: the initial model's shape is kept
  TrainRerankerReport report;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel tuned, TrainReranker(*engine_, queries_, qrels_, ft, nullptr, &report));
  EXPECT_EQ(tuned.config().routed_experts, 2);
  EXPECT_EQ(report.model.routed_experts, 2);
  EXPECT_EQ(tuned.schema(), init.schema());
  EXPECT_EQ(report.gate_extension, 0u);

  // The gate extended by this index's query-embedding components.
  ft.extend_gate = true;
  ft.features.query_embedding_dims = 4;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel wider, TrainReranker(*engine_, queries_, qrels_, ft, nullptr, &report));
  EXPECT_EQ(wider.schema().pair_features, init.schema().pair_features);
  EXPECT_EQ(wider.schema().query_dim(), init.schema().query_dim() + report.gate_extension);
  EXPECT_GE(report.gate_extension, 4u);

  // Fusion at weight 0 keeps the initial model alone.
  ft.extend_gate = false;
  ft.init_use = InitUse::kFuseFixed;
  ft.fuse_weight = 0.0;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel kept, TrainReranker(*engine_, queries_, qrels_, ft, nullptr, &report));
  EXPECT_EQ(kept.Serialize(), init.Serialize());
  EXPECT_EQ(report.fuse_weight, 0.0);
}

// The automatic choice: the same seed gives the same choice and model,
// another seed other folds; the initial model is kept unless a candidate's
// out-of-fold gain over it is above one standard error, so the chosen
// estimate is never below the initial model's, with all or few judged
// queries; the kept initial model is returned unchanged.
TEST_F(TrainRerankerTest, AutomaticChoiceIsSeededAndNeverBelowTheInitialModelsEstimate) {
  TrainRerankerOptions o = Small();
  o.features.query_embedding_dims = 0;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel init, TrainReranker(*engine_, queries_, qrels_, o));
  TrainRerankerOptions c = Small();
  c.init = &init;
  c.choose = true;
  c.features.query_embedding_dims = 4;
  auto check = [&](const TrainRerankerReport& r, const ranking::MoeModel& m) {
    ASSERT_EQ(r.candidates.size(), 2u + 2 * 3);  // as it is, fine-tuned, fused at 3 weights with and without trees
    EXPECT_EQ(r.candidates[0].name, "the initial model as it is");
    ASSERT_LT(r.chosen, r.candidates.size());
    EXPECT_GE(r.candidates[r.chosen].macro, r.candidates[0].macro);
    if (r.chosen > 0) {
      EXPECT_GT(r.candidates[r.chosen].gain, r.candidates[r.chosen].se);
    }
    if (r.chosen == 0) {
      EXPECT_EQ(m.Serialize(), init.Serialize());
    }
    // The cost rule: no cheaper admitted candidate is within one standard
    // error of the best, and the chosen one is (the best itself has no
    // shortfall).
    if (r.chosen > 0) {
      EXPECT_LE(r.candidates[r.chosen].shortfall, r.candidates[r.chosen].shortfall_se);
      for (size_t k = 1; k < r.chosen; ++k) {
        if (r.candidates[k].gain > r.candidates[k].se) {
          EXPECT_GT(r.candidates[k].shortfall, r.candidates[k].shortfall_se) << r.candidates[k].name;
        }
      }
    }
    for (const auto& k : r.candidates) EXPECT_EQ(k.folds.size(), 3u);
    EXPECT_EQ(r.nested.size(), 3u);
    EXPECT_FALSE(r.why.empty());
  };
  TrainRerankerReport a, b, other, few;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel ma, TrainReranker(*engine_, queries_, qrels_, c, nullptr, &a));
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel mb, TrainReranker(*engine_, queries_, qrels_, c, nullptr, &b));
  check(a, ma);
  for (const auto& k : a.candidates) EXPECT_GT(k.score_micros, 0.0) << k.name;  // each candidate's cost measured
  EXPECT_EQ(ma.Serialize(), mb.Serialize());
  EXPECT_EQ(a.chosen, b.chosen);
  for (size_t k = 0; k < a.candidates.size(); ++k) EXPECT_EQ(a.candidates[k].folds, b.candidates[k].folds);
  c.train.seed = 7;  // other folds
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel mo, TrainReranker(*engine_, queries_, qrels_, c, nullptr, &other));
  check(other, mo);
  EXPECT_NE(other.candidates[0].folds, a.candidates[0].folds);
  const std::vector<TrainingQuery> nine(queries_.begin(), queries_.begin() + 9);
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel mf, TrainReranker(*engine_, nine, qrels_, c, nullptr, &few));
  check(few, mf);
  // Two judged queries: folds that cannot train are left out, and the
  // initial model is kept.
  TrainRerankerReport two;
  const std::vector<TrainingQuery> pair(queries_.begin(), queries_.begin() + 2);
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel m2, TrainReranker(*engine_, pair, qrels_, c, nullptr, &two));
  check(two, m2);
  // Without an initial model: from scratch with and without the boosted expert.
  TrainRerankerOptions s = Small();
  s.choose = true;
  TrainRerankerReport scratch;
  ASSERT_OK(TrainReranker(*engine_, queries_, qrels_, s, nullptr, &scratch).status());
  ASSERT_EQ(scratch.candidates.size(), 2u);
  EXPECT_EQ(scratch.candidates[1].name, "from scratch with trees");
}

// The domain check: with judged queries of three domains or more, every
// candidate is also scored with each domain held out in turn, and one that
// loses there by more than a standard error is never chosen over the
// initial model; with two domains, or switched off (the default), there
// is no check.
TEST_F(TrainRerankerTest, AutomaticChoiceHoldsOutEachJudgedDomainAndBarsALoser) {
  TrainRerankerOptions o = Small();
  o.features.query_embedding_dims = 0;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel init, TrainReranker(*engine_, queries_, qrels_, o));
  TrainRerankerOptions c = Small();
  c.init = &init;
  c.choose = true;
  c.choose_domain_check = true;
  std::vector<TrainingQuery> three = queries_, two = queries_;
  const char* names[3] = {"a", "b", "c"};
  for (size_t i = 0; i < three.size(); ++i) three[i].domain = names[i % 3], two[i].domain = names[i % 2];
  TrainRerankerReport checked, pair, off;
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel m, TrainReranker(*engine_, three, qrels_, c, nullptr, &checked));
  ASSERT_FALSE(checked.candidates.empty());
  for (const auto& k : checked.candidates) {
    EXPECT_TRUE(k.worst_domain == "a" || k.worst_domain == "b" || k.worst_domain == "c") << k.name;
    if (k.worst_domain_gain < -k.worst_domain_se) {
      EXPECT_TRUE(k.barred_by_domain) << k.name;
    }
  }
  EXPECT_EQ(checked.candidates[0].worst_domain_gain, 0.0);  // the initial model against itself
  if (checked.chosen > 0) {
    EXPECT_FALSE(checked.candidates[checked.chosen].barred_by_domain);
  }
  if (checked.chosen == 0) {
    EXPECT_EQ(m.Serialize(), init.Serialize());
  }
  ASSERT_OK(TrainReranker(*engine_, two, qrels_, c, nullptr, &pair).status());
  for (const auto& k : pair.candidates) EXPECT_TRUE(k.worst_domain.empty()) << k.name;
  c.choose_domain_check = TrainRerankerOptions{}.choose_domain_check;
  ASSERT_OK(TrainReranker(*engine_, three, qrels_, c, nullptr, &off).status());
  for (const auto& k : off.candidates) EXPECT_TRUE(k.worst_domain.empty()) << k.name;
}

TEST_F(TrainRerankerTest, BadOptionsAreInvalidArguments) {
  ranking::MoeModel* none = nullptr;
  TrainRerankerOptions o = Small();
  o.init = none;
  o.trust = true;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
  EXPECT_TRUE(TrainReranker(*engine_, queries_, qrels_, o).status().IsInvalidArgument());
  o = Small();
  o.init_use = InitUse::kFuseAuto;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());  // fusion needs init
  ASSERT_OK_AND_ASSIGN(ranking::MoeModel init,
                       ranking::MoeModel::Create(ranking::MoeConfig{}, ranking::FeatureSchema{{"a"}, {"b"}}, 1));
  o.init = &init;
  o.init_use = InitUse::kFuseFixed;
  o.fuse_weight = 1.5;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
  o.fuse_weight = 0.5;
  EXPECT_OK(o.Validate());
  o.trust = true;
  o.trust_config.gain_scale = 0.1;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());  // fusion with trust: coverage only
  o.trust_config.gain_scale = 0;
  o.choose = true;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());  // the automatic choice does not take trust
  o = Small();
  o.part = {0, 2};
  EXPECT_TRUE(o.Validate().IsInvalidArgument());  // no gather
  o = Small();
  EXPECT_TRUE(TrainReranker(*engine_, std::vector<TrainingQuery>{}, qrels_, o).status().IsInvalidArgument());
  // A model whose features this index cannot give (an unknown feature name).
  o.init = &init;
  EXPECT_TRUE(TrainReranker(*engine_, queries_, qrels_, o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace hymir
