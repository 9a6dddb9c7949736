// Pre-training without judgements (hymir/pretrain.h): the pseudo-query
// generators on hand-made documents, the training copy that hides the
// inverse-cloze sentence, joint and per-cluster pre-training on the bundled
// sample, the expert-parallel hooks, and fine-tuning from a model.
#include "hymir/pretrain.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "hymir/beir.h"
#include "hymir/index/analyzer.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/lsa_embedder.h"
#include "hymir/kg/triple_store.h"
#include "hymir/knowledge.h"
#include "hymir/reranker.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::TempDir;

const std::string kSample = std::string(HYMIR_SOURCE_DIR) + "/data/sample";

// Indexes `docs` with an LSA text embedding of `dim` dimensions (as `hymir
// index --embed lsa:dim`).
Status BuildWithLsa(const std::string& dir, const std::vector<Document>& docs, int dim) {
  index::IndexWriterOptions o;
  HYMIR_RETURN_IF_ERROR(testing::AddLsaField(dir, docs, dim, &o));
  HYMIR_ASSIGN_OR_RETURN(auto w, index::IndexWriter::Open(dir, o));
  for (const auto& d : docs) HYMIR_RETURN_IF_ERROR(w->Upsert(d));
  return w->Commit();
}

std::vector<Document> SampleDocs(size_t limit = 100000) {
  std::vector<Document> docs;
  auto reader = CorpusReader::Open(kSample + "/corpus.jsonl");
  EXPECT_TRUE(reader.ok());
  if (!reader.ok()) return docs;
  Document d;
  while (docs.size() < limit) {
    auto more = (*reader)->Next(&d);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    docs.push_back(d);
  }
  return docs;
}

std::string Words(const std::vector<std::string>& terms) {
  std::string out;
  for (const auto& t : terms) out += t + " ";
  return out;
}

TEST(PseudoQueryTest, GeneratorsFollowTheirRules) {
  TempDir dir;
  std::vector<Document> docs = {
      testing::Doc("full", "Wing flutter at transonic speed",
                   "Flutter of swept wings was measured in the tunnel. The amplitude grew with the Mach number. "
                   "Damping fell sharply near the critical speed of the model."),
      testing::Doc("untitled", "",
                   "Boundary layers thicken downstream of the shock. Separation follows at high incidence angles."),
      testing::Doc("one-sentence", "Heat transfer", "heat transfer rates in laminar hypersonic flow over cones"),
  };
  for (int i = 0; i < 20; ++i)
    docs.push_back(testing::Doc("filler" + std::to_string(i), "", "filler text " + std::to_string(i)));
  ASSERT_OK(testing::BuildIndex(dir.path(), docs));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  std::map<std::string, Document> by_id;
  for (const auto& d : docs) by_id[d.id] = d;

  GeneratorOptions o;
  o.queries = 1000;  // more than there are: every qualifying document is used once per kind
  ASSERT_OK_AND_ASSIGN(auto pqs, GeneratePseudoQueries(*engine, o));
  std::map<PseudoQueryKind, std::set<std::string>> sources;
  std::set<std::string> ids;
  for (const auto& q : pqs) {
    EXPECT_TRUE(ids.insert(q.id).second) << q.id;
    EXPECT_TRUE(sources[q.kind].insert(q.doc_id).second)
        << "two " << PseudoQueryKindName(q.kind) << " queries from " << q.doc_id;
    const Document& d = by_id.at(q.doc_id);
    switch (q.kind) {
      case PseudoQueryKind::kTitle:
        EXPECT_EQ(q.text, d.title);
        EXPECT_FALSE(q.rest_text.has_value());
        break;
      case PseudoQueryKind::kInverseCloze: {
        ASSERT_TRUE(q.rest_text.has_value());
        // The sentence is gone from the rest, and sentence + rest hold the text's words.
        EXPECT_EQ(q.rest_text->find(q.text), std::string::npos);
        auto all = index::Analyze(index::AnalyzerKind::kEnglish, d.text);
        auto parts = index::Analyze(index::AnalyzerKind::kEnglish, q.text + " " + *q.rest_text);
        std::sort(all.begin(), all.end());
        std::sort(parts.begin(), parts.end());
        EXPECT_EQ(all, parts) << q.text;
        EXPECT_GE(index::Analyze(index::AnalyzerKind::kEnglish, q.text).size(), o.ict_min_terms);
        break;
      }
      case PseudoQueryKind::kTerms: {
        EXPECT_FALSE(q.rest_text.has_value());
        auto qt = index::Analyze(index::AnalyzerKind::kEnglish, q.text);
        EXPECT_GE(qt.size(), o.terms_min);
        EXPECT_LE(qt.size(), o.terms_max);
        const auto dt = index::Analyze(index::AnalyzerKind::kEnglish, d.title + " " + d.text);
        for (const auto& t : qt) EXPECT_NE(std::find(dt.begin(), dt.end(), t), dt.end()) << t << " not in " << d.id;
        break;
      }
      case PseudoQueryKind::kKnowledge:  // only GenerateKgPseudoQueries makes them
        ADD_FAILURE() << "a knowledge pseudo-query without a KG: " << q.id;
        break;
    }
  }
  // Titles only where there is a title and text beyond it; ict only with two sentences.
  EXPECT_EQ(sources[PseudoQueryKind::kTitle], (std::set<std::string>{"full", "one-sentence"}));
  EXPECT_EQ(sources[PseudoQueryKind::kInverseCloze], (std::set<std::string>{"full", "untitled"}));
  EXPECT_EQ(sources[PseudoQueryKind::kTerms], (std::set<std::string>{"full", "untitled", "one-sentence"}));
}

TEST(PseudoQueryTest, DeterministicInTheSeedAndShared) {
  TempDir dir;
  auto docs = SampleDocs(300);
  ASSERT_OK(testing::BuildIndex(dir.path(), docs));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  GeneratorOptions o;
  o.queries = 90;
  o.kinds = {PseudoQueryKind::kInverseCloze, PseudoQueryKind::kTerms};
  ASSERT_OK_AND_ASSIGN(auto a, GeneratePseudoQueries(*engine, o));
  ASSERT_OK_AND_ASSIGN(auto b, GeneratePseudoQueries(*engine, o));
  o.seed = 7;
  ASSERT_OK_AND_ASSIGN(auto c, GeneratePseudoQueries(*engine, o));
  ASSERT_EQ(a.size(), 90u);
  ASSERT_EQ(b.size(), a.size());
  size_t same_as_c = 0, ict = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text);
    EXPECT_EQ(a[i].doc_id, b[i].doc_id);
    same_as_c += i < c.size() && a[i].text == c[i].text;
    ict += a[i].kind == PseudoQueryKind::kInverseCloze;
  }
  EXPECT_LT(same_as_c, a.size() / 2);
  EXPECT_EQ(ict, 45u);  // an equal share each (MED has no titles: the title generator is not asked)
  // The same documents indexed in the reverse order (as another thread
  // count may order them) give the same pseudo-queries.
  TempDir reversed;
  ASSERT_OK(testing::BuildIndex(reversed.path(), std::vector<Document>(docs.rbegin(), docs.rend())));
  ASSERT_OK_AND_ASSIGN(auto engine_r, Engine::Open(reversed.path()));
  o.seed = GeneratorOptions{}.seed;
  ASSERT_OK_AND_ASSIGN(auto r, GeneratePseudoQueries(*engine_r, o));
  ASSERT_EQ(r.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(r[i].text, a[i].text);
    EXPECT_EQ(r[i].doc_id, a[i].doc_id);
  }
  // MED has no titles: asked for titles only, there is nothing to make.
  o.kinds = {PseudoQueryKind::kTitle};
  EXPECT_TRUE(GeneratePseudoQueries(*engine, o).status().IsInvalidArgument());
  EXPECT_TRUE(ParsePseudoQueryKind("nonsense").status().IsInvalidArgument());
}

class PretrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ASSERT_OK(BuildWithLsa(dir_->path(), SampleDocs(), 16));
  }
  static void TearDownTestSuite() { delete dir_; }
  static PretrainOptions Small() {
    PretrainOptions o;
    o.generate.queries = 160;
    o.generate.kinds = {PseudoQueryKind::kInverseCloze, PseudoQueryKind::kTerms};
    o.depth = 30;
    o.train.model.routed_experts = 2;
    o.train.model.top_k = 1;
    o.train.model.expert_hidden = 8;
    o.train.max_epochs = 4;
    o.train.patience = 4;
    o.threads = 2;
    o.cluster_experts = false;
    return o;
  }
  static TempDir* dir_;
};
TempDir* PretrainTest::dir_ = nullptr;

TEST_F(PretrainTest, TrainingCopyHidesTheSentenceAndTheModelReranksTheIndex) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  TempDir work;
  PretrainOptions o = Small();
  o.work_dir = work.Sub("copy");
  o.keep_work_dir = true;
  PretrainReport report;
  ASSERT_OK_AND_ASSIGN(auto model, Pretrain(*engine, dir_->path(), o, nullptr, &report));
  EXPECT_EQ(report.train_queries + report.check_queries, 160u);
  EXPECT_GT(report.check_queries, 0u);
  EXPECT_GT(report.with_source, 80u);  // most sources are among the candidates
  ASSERT_EQ(report.checks.size(), 2u);
  // Corpus-independent inputs: no query-embedding components, no domains.
  for (const auto& n : model.schema().query_features) EXPECT_EQ(n.rfind("q_emb_", 0), std::string::npos) << n;
  // The copy holds every ict source without its sentence; the index itself is untouched.
  ASSERT_OK_AND_ASSIGN(auto copy, Engine::Open(o.work_dir));
  ASSERT_OK_AND_ASSIGN(auto pqs, GeneratePseudoQueries(*engine, o.generate));
  size_t checked = 0;
  for (const auto& q : pqs) {
    if (!q.rest_text) continue;
    ASSERT_OK_AND_ASSIGN(Document in_copy, copy->searcher().GetDocument(q.doc_id));
    ASSERT_OK_AND_ASSIGN(Document original, engine->searcher().GetDocument(q.doc_id));
    EXPECT_EQ(in_copy.text, *q.rest_text);
    EXPECT_NE(original.text.find(q.text), std::string::npos);
    // The copy's vector was recomputed from the shortened text.
    ASSERT_OK_AND_ASSIGN(auto v, copy->searcher().GetVector("emb", q.doc_id));
    ASSERT_OK_AND_ASSIGN(auto e, copy->searcher().EmbedText("emb", in_copy.title + "\n" + in_copy.text));
    for (size_t k = 0; k < v.size(); ++k) EXPECT_NEAR(v[k], e[k], 1e-4);
    ++checked;
  }
  EXPECT_EQ(checked, 80u);
  EXPECT_EQ(copy->searcher().NumDocs(), engine->searcher().NumDocs());
  // The pre-trained model re-ranks the original index.
  ASSERT_OK_AND_ASSIGN(auto reranker, Reranker::Create(*engine, model));
  HybridQuery q;
  q.text = "cancer of the lung in children";
  RerankOptions ro;
  ro.depth = 30;
  ASSERT_OK_AND_ASSIGN(auto r, reranker->Search(q, ro));
  ASSERT_FALSE(r.hits.empty());
  EXPECT_TRUE(r.hits[0].rerank.present);
}

// The retrieval-prior weight: the worst generator or the mean over them.
// With a KG, the entities stored at index time include those of the
// sentence an inverse-cloze query takes out: the training copy drops them
// for the ict sources (the features then link the rest of the text), so the
// KG features cannot see the removed sentence; other documents keep theirs.
TEST(PretrainKgTest, TrainingCopyDropsTheIctSourcesStoredEntities) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto store, kg::TripleStore::Open(dir.Sub("kg")));
    ASSERT_OK(store->AddAlias("GO:0001", "lung"));
    ASSERT_OK(store->Close());
  }
  std::vector<Document> docs = SampleDocs(300);
  for (auto& d : docs) d.fields[kKgEntitiesField] = "GO:0001";  // stored for every document
  ASSERT_OK(BuildWithLsa(dir.Sub("idx"), docs, 16));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.Sub("idx")));
  ASSERT_OK_AND_ASSIGN(auto kg, KnowledgeContext::Open(dir.Sub("kg"), engine->searcher().analyzer()));
  PretrainOptions o;
  o.generate.queries = 60;
  o.generate.kinds = {PseudoQueryKind::kInverseCloze, PseudoQueryKind::kTerms};
  o.depth = 20;
  o.train.model.routed_experts = 2;
  o.train.model.top_k = 1;
  o.train.model.expert_hidden = 8;
  o.train.max_epochs = 2;
  o.threads = 2;
  o.cluster_experts = false;
  o.work_dir = dir.Sub("copy");
  o.keep_work_dir = true;
  ASSERT_OK_AND_ASSIGN(auto model, Pretrain(*engine, dir.Sub("idx"), o, kg.get()));
  const auto& pair = model.schema().pair_features;
  EXPECT_NE(std::find(pair.begin(), pair.end(), "kgf_shared"), pair.end());  // the default KG uses
  ASSERT_OK_AND_ASSIGN(auto copy, Engine::Open(o.work_dir));
  ASSERT_OK_AND_ASSIGN(auto pqs, GeneratePseudoQueries(*engine, o.generate));
  std::set<std::string> sources;
  for (const auto& q : pqs)
    if (q.rest_text) sources.insert(q.doc_id);
  ASSERT_FALSE(sources.empty());
  for (const auto& d : docs) {
    ASSERT_OK_AND_ASSIGN(Document in_copy, copy->searcher().GetDocument(d.id));
    EXPECT_EQ(in_copy.fields.count(kKgEntitiesField), sources.count(d.id) ? 0u : 1u) << d.id;
  }
}

TEST(RetrievalPriorTest, ObjectiveIsTheWorstOrTheMeanBound) {
  PriorTrial t;
  t.weight = 0.2;
  t.kinds = {{PseudoQueryKind::kTitle, 0.05, 0.01},
             {PseudoQueryKind::kInverseCloze, 0.03, 0.02},
             {PseudoQueryKind::kTerms, -0.02, 0.01}};
  EXPECT_NEAR(PriorObjectiveValue(t, PriorObjective::kWorstKind, 0.0), -0.02, 1e-12);
  EXPECT_NEAR(PriorObjectiveValue(t, PriorObjective::kMeanKind, 0.0), 0.02, 1e-12);
  // One standard error off each: (0.04, 0.01, -0.03).
  EXPECT_NEAR(PriorObjectiveValue(t, PriorObjective::kWorstKind, 1.0), -0.03, 1e-12);
  EXPECT_NEAR(PriorObjectiveValue(t, PriorObjective::kMeanKind, 1.0), 0.02 / 3.0, 1e-12);
  EXPECT_EQ(PriorObjectiveValue(PriorTrial{}, PriorObjective::kMeanKind, 0.0), 0.0);
}

// Pretrain reports every weight it tried and keeps the one its objective
// prefers; the objective changes only the weight, not the network.
TEST_F(PretrainTest, PriorWeightMaximisesTheChosenObjective) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  std::vector<ranking::MoeModel> models;
  const PriorObjective objectives[2] = {PriorObjective::kWorstKind, PriorObjective::kMeanKind};
  for (int i = 0; i < 2; ++i) {
    PretrainOptions o = Small();
    o.prior_objective = objectives[i];
    PretrainReport report;
    ASSERT_OK_AND_ASSIGN(auto model, Pretrain(*engine, dir_->path(), o, nullptr, &report));
    models.push_back(std::move(model));
    ASSERT_EQ(report.prior_trials.size(), 9u);  // 0.2, 0.3, ..., 1
    EXPECT_NEAR(report.prior_trials.front().weight, 0.2, 1e-12);
    EXPECT_NEAR(report.prior_trials.back().weight, 1.0, 1e-12);
    for (const auto& k : report.prior_trials.back().kinds) EXPECT_NEAR(k.mean_gain, 0.0, 1e-12);  // the retrieval order
    double best = -1e9;
    for (const auto& t : report.prior_trials) {
      ASSERT_EQ(t.kinds.size(), 2u);
      best = std::max(best, PriorObjectiveValue(t, objectives[i], o.prior_confidence));
    }
    bool found = false;
    for (const auto& t : report.prior_trials)
      if (std::abs(t.weight - report.prior_weight) < 1e-12) {
        found = true;
        EXPECT_NEAR(PriorObjectiveValue(t, objectives[i], o.prior_confidence), best, 1e-12);
      }
    EXPECT_TRUE(found);
    EXPECT_DOUBLE_EQ(models[i].prior_weight(), report.prior_weight);
  }
  EXPECT_EQ(models[0].parameters(), models[1].parameters());
}

TEST_F(PretrainTest, DeterministicAndTheWorkDirIsRemoved) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  TempDir work;
  PretrainOptions o = Small();
  o.work_dir = work.Sub("copy");
  ASSERT_OK_AND_ASSIGN(auto a, Pretrain(*engine, dir_->path(), o));
  EXPECT_FALSE(std::filesystem::exists(o.work_dir));
  ASSERT_OK_AND_ASSIGN(auto b, Pretrain(*engine, dir_->path(), o));
  EXPECT_EQ(a.parameters(), b.parameters());
  // The fine-tuning settings do not reach pre-training's own stages (which
  // start from a model too): the same model with any of them.
  PretrainOptions tuned = o;
  tuned.train.finetune_alpha = 0.3;
  tuned.train.finetune_routed_only = true;
  ASSERT_OK_AND_ASSIGN(auto c, Pretrain(*engine, dir_->path(), tuned));
  EXPECT_EQ(a.parameters(), c.parameters());
  // An occupied work dir is refused, and its contents kept.
  std::filesystem::create_directories(o.work_dir);
  { std::ofstream(o.work_dir + "/mine") << "x"; }
  EXPECT_TRUE(Pretrain(*engine, dir_->path(), o).status().IsInvalidArgument());
  EXPECT_TRUE(std::filesystem::exists(o.work_dir + "/mine"));
}

// A process id that is not running: a child that has exited and been reaped.
pid_t DeadPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

// A work directory left by a killed run (its owner process is gone) is
// replaced, and so is a temporary copy a killed run left; one whose owner
// runs is refused.
TEST_F(PretrainTest, StaleWorkDirsOfKilledRunsAreReplaced) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  TempDir work;
  PretrainOptions o = Small();
  o.work_dir = work.Sub("copy");
  std::filesystem::create_directories(o.work_dir + "/text");
  { std::ofstream(o.work_dir + "/.hymir-pretrain-owner") << DeadPid() << "\n"; }
  { std::ofstream(o.work_dir + "/text/_0.frq") << "half a copy"; }
  ASSERT_OK(Pretrain(*engine, dir_->path(), o).status());
  EXPECT_FALSE(std::filesystem::exists(o.work_dir));

  std::filesystem::create_directories(o.work_dir);
  { std::ofstream(o.work_dir + "/.hymir-pretrain-owner") << 1 << "\n"; }  // init: always running
  EXPECT_TRUE(Pretrain(*engine, dir_->path(), o).status().IsBusy());
  EXPECT_TRUE(std::filesystem::exists(o.work_dir + "/.hymir-pretrain-owner"));

  const std::string stale =
      (std::filesystem::temp_directory_path() / ("hymir-pretrain-" + std::to_string(DeadPid()) + "-1")).string();
  std::filesystem::create_directories(stale);
  { std::ofstream(stale + "/.hymir-pretrain-owner") << DeadPid() << "\n"; }
  o.work_dir.clear();
  ASSERT_OK(Pretrain(*engine, dir_->path(), o).status());
  EXPECT_FALSE(std::filesystem::exists(stale));
}

// Per-cluster expert pre-training, and the expert-parallel hooks: experts
// trained in two "places" (even and odd) and gathered give the same model
// as all of them trained here.
TEST_F(PretrainTest, ClusterExpertsAndExpertParallelHooks) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->path()));
  PretrainOptions o = Small();
  o.cluster_experts = true;
  o.generate.kinds = {PseudoQueryKind::kTerms};  // no training copy needed
  PretrainReport report;
  ASSERT_OK_AND_ASSIGN(auto whole, Pretrain(*engine, dir_->path(), o, nullptr, &report));
  ASSERT_EQ(report.cluster_sizes.size(), 2u);
  EXPECT_EQ(report.cluster_sizes[0] + report.cluster_sizes[1], engine->searcher().NumDocs());

  // Stage-one weights trained where expert_filter says, captured at the gather.
  const int experts = o.train.model.routed_experts + o.train.model.shared_experts;
  auto stage_one = [&](int parity) {
    std::vector<double> captured;
    PretrainOptions p = o;
    p.expert_filter = [parity](int x) { return x % 2 == parity; };
    p.expert_gather = [&captured](std::vector<double>& params, size_t) {
      captured = params;
      return Status::Internal("stop after stage one");
    };
    EXPECT_FALSE(Pretrain(*engine, dir_->path(), p).ok());
    return captured;
  };
  const std::vector<double> even = stage_one(0), odd = stage_one(1);
  ASSERT_FALSE(even.empty());
  const size_t block = whole.expert_parameters();
  PretrainOptions merged = o;
  merged.expert_filter = [](int) { return false; };                  // nothing trained here...
  merged.expert_gather = [&](std::vector<double>& params, size_t) {  // ...every block gathered
    for (int x = 0; x < experts; ++x) {
      const auto& from = x % 2 == 0 ? even : odd;
      std::copy(from.begin() + x * block, from.begin() + (x + 1) * block, params.begin() + x * block);
    }
    return Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(auto gathered, Pretrain(*engine, dir_->path(), merged));
  EXPECT_EQ(gathered.parameters(), whole.parameters());
  // A failed gather fails the pre-training.
  EXPECT_FALSE(Pretrain(*engine, dir_->path(),
                        [&] {
                          PretrainOptions f = o;
                          f.expert_gather = [](std::vector<double>&, size_t) { return Status::IOError("lost a rank"); };
                          return f;
                        }())
                   .ok());
}

TEST_F(PretrainTest, WithoutVectorsPretrainingIsJoint) {
  TempDir dir;
  ASSERT_OK(testing::BuildIndex(dir.path(), SampleDocs(200)));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  PretrainOptions o = Small();
  o.cluster_experts = true;
  o.generate.kinds = {PseudoQueryKind::kTerms};
  PretrainReport report;
  ASSERT_OK(Pretrain(*engine, dir.path(), o, nullptr, &report).status());
  EXPECT_TRUE(report.cluster_sizes.empty());
  o.cluster_experts = false;
  ASSERT_OK_AND_ASSIGN(auto joint, Pretrain(*engine, dir.path(), o));
  ASSERT_OK_AND_ASSIGN(auto again, Pretrain(*engine, dir.path(), [&] {
                         PretrainOptions c = o;
                         c.cluster_experts = true;
                         return c;
                       }()));
  EXPECT_EQ(joint.parameters(), again.parameters());
}

// Fine-tuning starts from the given model: its weights, normalisation and
// shape, whatever MoeTrainOptions::model says.
// 40 judged queries of five candidates over features {"a", "b"} (query
// feature {"q"}): the relevant candidate is the one whose "a" stands out.
std::vector<ranking::QueryGroup> MarkedCandidateGroups() {
  std::vector<ranking::QueryGroup> groups;
  for (int q = 0; q < 40; ++q) {
    ranking::QueryGroup g;
    g.query_id = std::to_string(q);
    g.query_features = {static_cast<double>(q % 3)};
    for (int i = 0; i < 5; ++i) {
      g.doc_ids.push_back(std::to_string(i));
      g.pair_features.push_back(i == q % 5 ? 2.0 : 0.1 * i);
      g.pair_features.push_back(static_cast<double>(i));
      g.labels.push_back(i == q % 5 ? 1.0 : 0.0);
    }
    groups.push_back(g);
  }
  return groups;
}

TEST(FineTuneTest, TrainingStartsFromTheInitialModel) {
  ranking::FeatureSchema schema{{"a", "b"}, {"q"}};
  const std::vector<ranking::QueryGroup> groups = MarkedCandidateGroups();
  ranking::MoeConfig c;
  c.routed_experts = 3;
  c.top_k = 1;
  c.expert_hidden = 4;
  ASSERT_OK_AND_ASSIGN(auto init, ranking::MoeModel::Create(c, schema, 5));
  ranking::Normalization norm;
  norm.pair_mean = {1, 2};
  norm.pair_scale = {3, 4};
  norm.query_mean = {0.5};
  norm.query_scale = {2};
  init.set_normalization(norm);
  ranking::MoeTrainOptions o;
  o.model.routed_experts = 7;  // ignored: the initial model's shape is kept
  o.init = &init;
  o.learning_rate = 1e-12;
  o.max_epochs = 1;
  o.refit = false;
  ASSERT_OK_AND_ASSIGN(auto tuned, ranking::TrainMoe(schema, groups, o));
  EXPECT_EQ(tuned.config(), init.config());
  EXPECT_EQ(tuned.normalization().pair_mean, norm.pair_mean);
  ASSERT_EQ(tuned.parameters().size(), init.parameters().size());
  for (size_t i = 0; i < init.parameters().size(); ++i) EXPECT_NEAR(tuned.parameters()[i], init.parameters()[i], 1e-9);
  // With a real learning rate it moves away from the start, and a model of
  // other features is refused.
  o.learning_rate = 1e-2;
  o.max_epochs = 3;
  o.validation_fraction = 0;  // no held-out slice: the first epoch is taken
  ASSERT_OK_AND_ASSIGN(auto moved, ranking::TrainMoe(schema, groups, o));
  EXPECT_NE(moved.parameters(), init.parameters());
  // A model no epoch beats on validation (this one ranks every query
  // perfectly) comes back unchanged, as epoch 0.
  ranking::MoeTrainOptions scratch;
  scratch.model = c;
  scratch.max_epochs = 30;
  scratch.learning_rate = 1e-2;
  ranking::TrainReport first;
  ASSERT_OK_AND_ASSIGN(auto good, ranking::TrainMoe(schema, groups, scratch, &first));
  ASSERT_DOUBLE_EQ(first.best_validation_ndcg, 1.0);
  ranking::MoeTrainOptions wild;
  wild.init = &good;
  wild.learning_rate = 50;  // steps that wreck the ranking
  wild.max_epochs = 3;
  ranking::TrainReport report;
  ASSERT_OK_AND_ASSIGN(auto kept, ranking::TrainMoe(schema, groups, wild, &report));
  EXPECT_EQ(report.best_epoch, 0);
  EXPECT_EQ(kept.parameters(), good.parameters());
  ranking::FeatureSchema other{{"a", "c"}, {"q"}};
  ASSERT_OK_AND_ASSIGN(auto foreign, ranking::MoeModel::Create(c, other, 5));
  o.init = &foreign;
  EXPECT_TRUE(ranking::TrainMoe(schema, groups, o).status().IsInvalidArgument());
}

// WiSE-FT: fine-tuning with finetune_alpha a returns (1 - a) init + a the
// plainly fine-tuned weights, and models of two lineages do not interpolate.
TEST(FineTuneTest, InterpolatesBetweenTheInitialAndTheFineTunedWeights) {
  ranking::FeatureSchema schema{{"a", "b"}, {"q"}};
  const std::vector<ranking::QueryGroup> groups = MarkedCandidateGroups();
  ranking::MoeConfig c;
  c.routed_experts = 2;
  c.top_k = 1;
  c.expert_hidden = 4;
  ASSERT_OK_AND_ASSIGN(auto init, ranking::MoeModel::Create(c, schema, 3));
  ranking::MoeTrainOptions o;
  o.init = &init;
  o.learning_rate = 1e-2;
  o.max_epochs = 4;
  o.validation_fraction = 0;
  o.finetune_alpha = 1.0;  // plain fine-tuning
  ASSERT_OK_AND_ASSIGN(auto full, ranking::TrainMoe(schema, groups, o));
  ASSERT_NE(full.parameters(), init.parameters());
  o.finetune_alpha = 0.25;
  ASSERT_OK_AND_ASSIGN(auto quarter, ranking::TrainMoe(schema, groups, o));
  ASSERT_EQ(quarter.parameters().size(), init.parameters().size());
  for (size_t i = 0; i < init.parameters().size(); ++i)
    EXPECT_NEAR(quarter.parameters()[i], 0.75 * init.parameters()[i] + 0.25 * full.parameters()[i], 1e-12);
  EXPECT_EQ(quarter.selection_bias(), full.selection_bias());
  o.finetune_alpha = 0;
  ASSERT_OK_AND_ASSIGN(auto none, ranking::TrainMoe(schema, groups, o));
  EXPECT_EQ(none.parameters(), init.parameters());
  o.finetune_alpha = 1.5;
  EXPECT_TRUE(ranking::TrainMoe(schema, groups, o).status().IsInvalidArgument());
  // Interpolate directly: its ends, and other lineages refused.
  ASSERT_OK_AND_ASSIGN(auto one, ranking::MoeModel::Interpolate(init, full, 1.0));
  EXPECT_EQ(one.parameters(), full.parameters());
  ASSERT_OK_AND_ASSIGN(auto stranger, ranking::MoeModel::Create(c, schema, 4));
  ranking::Normalization other_norm;
  other_norm.pair_mean = {1, 1};
  other_norm.pair_scale = {2, 2};
  other_norm.query_mean = {0};
  other_norm.query_scale = {1};
  stranger.set_normalization(other_norm);
  EXPECT_TRUE(ranking::MoeModel::Interpolate(init, stranger, 0.5).status().IsInvalidArgument());
  ranking::MoeConfig wider = c;
  wider.expert_hidden = 5;
  ASSERT_OK_AND_ASSIGN(auto other_shape, ranking::MoeModel::Create(wider, schema, 3));
  EXPECT_TRUE(ranking::MoeModel::Interpolate(init, other_shape, 0.5).status().IsInvalidArgument());
  EXPECT_TRUE(ranking::MoeModel::Interpolate(init, full, -0.1).status().IsInvalidArgument());
}

// The retrieval prior: mu = 1 gives the retrieval order, 0 the model's, it
// survives a save and load and fine-tuning, and bad settings are refused.
TEST(RetrievalPriorTest, BlendsWithTheRetrievalOrder) {
  ranking::FeatureSchema schema{{"fused_rrank", "x"}, {"q"}};
  ranking::QueryGroup g;
  g.query_id = "q";
  g.query_features = {1.0};
  for (int i = 0; i < 6; ++i) {
    g.doc_ids.push_back(std::to_string(i));
    g.pair_features.push_back(1.0 / (i + 1));      // retrieval rank i + 1
    g.pair_features.push_back(std::sin(3.0 * i));  // something for the model to read
  }
  ranking::MoeConfig c;
  c.routed_experts = 2;
  c.top_k = 1;
  ASSERT_OK_AND_ASSIGN(auto m, ranking::MoeModel::Create(c, schema, 11));
  ASSERT_OK_AND_ASSIGN(auto raw, m.Score(g));
  ASSERT_OK(m.set_retrieval_prior("fused_rrank", 1.0));
  ASSERT_OK_AND_ASSIGN(auto prior_only, m.Score(g));
  for (size_t i = 1; i < prior_only.size(); ++i) EXPECT_GT(prior_only[i - 1], prior_only[i]);
  ASSERT_OK(m.set_retrieval_prior("fused_rrank", 0.3));
  ASSERT_OK_AND_ASSIGN(auto blend, m.Score(g));
  // (1 - mu) z(raw) + mu z(log rrank), by hand.
  auto z = [](std::vector<double> v) {
    double mean = 0, sq = 0;
    for (double x : v) mean += x / v.size();
    for (double x : v) sq += (x - mean) * (x - mean) / v.size();
    for (double& x : v) x = (x - mean) / std::sqrt(sq);
    return v;
  };
  std::vector<double> logs;
  for (int i = 0; i < 6; ++i) logs.push_back(std::log(1.0 / (i + 1)));
  const auto zr = z(raw), zp = z(logs);
  for (size_t i = 0; i < blend.size(); ++i) EXPECT_NEAR(blend[i], 0.7 * zr[i] + 0.3 * zp[i], 1e-9);
  TempDir dir;
  ASSERT_OK(m.Save(dir.Sub("m")));
  ASSERT_OK_AND_ASSIGN(auto back, ranking::MoeModel::Load(dir.Sub("m")));
  EXPECT_EQ(back.prior_feature(), "fused_rrank");
  EXPECT_DOUBLE_EQ(back.prior_weight(), 0.3);
  ASSERT_OK_AND_ASSIGN(auto again, back.Score(g));
  EXPECT_EQ(again, blend);
  EXPECT_TRUE(m.set_retrieval_prior("absent", 0.5).IsInvalidArgument());
  EXPECT_TRUE(m.set_retrieval_prior("fused_rrank", 1.5).IsInvalidArgument());
  // Fine-tuning keeps the prior.
  g.labels = {0, 0, 1, 0, 0, 0};
  std::vector<ranking::QueryGroup> groups(12, g);
  ranking::MoeTrainOptions o;
  o.init = &back;
  o.max_epochs = 1;
  ASSERT_OK_AND_ASSIGN(auto tuned, ranking::TrainMoe(schema, groups, o));
  EXPECT_DOUBLE_EQ(tuned.prior_weight(), 0.3);
}

}  // namespace
}  // namespace hymir
