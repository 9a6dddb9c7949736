// Pipeline: one object runs expand -> retrieve -> fuse -> re-rank
// -> fetch, and gives what the parts give when called one after another (the
// sequence the front ends wrote out before); a parameter set becomes a query
// in one place (BuildQuery, ParseQueryParams).
#include "hymir/pipeline.h"
#include "hymir/snippet.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hymir/beir.h"
#include "hymir/features.h"
#include "hymir/ranking/moe_trainer.h"
#include "hymir/ranking/qrels.h"
#include "hymir/snippet.h"
#include "hymir/index/check_index.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::TempDir;

const std::string kSample = std::string(HYMIR_SOURCE_DIR) + "/data/sample";

std::vector<HybridQuery> SampleQueries(size_t n) {
  std::vector<HybridQuery> out;
  auto records = ReadQueries(kSample + "/queries.jsonl");
  EXPECT_TRUE(records.ok());
  if (!records.ok()) return out;
  for (const auto& r : *records) {
    if (out.size() == n) break;
    HybridQuery q;
    q.id = r.id;
    q.text = r.text;
    q.k = 20;
    out.push_back(q);
  }
  return out;
}

void ExpectSameHits(const std::vector<SearchHit>& want, const std::vector<PipelineHit>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].id, got[i].hit.id) << i;
    EXPECT_EQ(want[i].rank, got[i].hit.rank) << i;
    EXPECT_NEAR(want[i].score, got[i].hit.score, 1e-12) << i;
    EXPECT_EQ(want[i].fused.present, got[i].hit.fused.present) << i;
    EXPECT_NEAR(want[i].fused.score, got[i].hit.fused.score, 1e-12) << i;
    EXPECT_EQ(want[i].rerank.present, got[i].hit.rerank.present) << i;
    EXPECT_NEAR(want[i].rerank.score, got[i].hit.rerank.score, 1e-12) << i;
  }
}

// The bundled sample (MED) indexed, and a small MoE model trained on it.
class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto reader = CorpusReader::Open(kSample + "/corpus.jsonl");
    ASSERT_TRUE(reader.ok());
    std::vector<Document> docs;
    Document d;
    while (true) {
      auto more = (*reader)->Next(&d);
      ASSERT_TRUE(more.ok());
      if (!*more) break;
      docs.push_back(d);
    }
    ASSERT_OK(testing::BuildIndex(dir_->Sub("index"), docs));
    ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->Sub("index")));
    ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, {}));
    ASSERT_OK_AND_ASSIGN(auto qrels, ranking::Qrels::Read(kSample + "/qrels/test.tsv"));
    ASSERT_OK_AND_ASSIGN(auto groups, RetrieveAndExtract(*engine, *fx, SampleQueries(30), 30, 2));
    for (auto& g : groups) ranking::LabelGroup(g, qrels);
    ranking::MoeTrainOptions o;
    o.model = {.routed_experts = 3, .shared_experts = 1, .top_k = 2, .expert_hidden = 8};
    o.max_epochs = 3;
    ASSERT_OK_AND_ASSIGN(ranking::MoeModel model, ranking::TrainMoe(fx->schema(), groups, o));
    ASSERT_OK(model.Save(dir_->Sub("model.moe")));
  }
  static void TearDownTestSuite() { delete dir_; }
  static PipelineOptions Options(bool rerank) {
    PipelineOptions o;
    o.index_dir = dir_->Sub("index");
    if (rerank) o.rerank_model = dir_->Sub("model.moe");
    o.rerank_depth = 15;
    o.threads = 2;
    return o;
  }
  static TempDir* dir_;
};
TempDir* PipelineTest::dir_ = nullptr;

TEST_F(PipelineTest, EqualsTheEngineAndRerankerCalledInTurn) {
  ASSERT_OK_AND_ASSIGN(auto pipeline, Pipeline::Open(Options(true)));
  ASSERT_NE(pipeline->reranker(), nullptr);
  EXPECT_EQ(pipeline->kg(), nullptr);
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->Sub("index")));
  ASSERT_OK_AND_ASSIGN(auto reranker, Reranker::Open(*engine, dir_->Sub("model.moe")));
  RerankOptions ro;
  ro.depth = 15;
  ro.keep_features = true;
  const auto queries = SampleQueries(6);
  StageOptions stages;
  stages.explain = true;
  stages.snippet_chars = 40;
  for (const HybridQuery& q : queries) {
    ASSERT_OK_AND_ASSIGN(RerankedResult want, reranker->Search(q, ro));
    ASSERT_OK_AND_ASSIGN(PipelineResult got, pipeline->Search(q, stages));
    EXPECT_TRUE(got.reranked);
    EXPECT_FALSE(got.expanded);
    EXPECT_EQ(got.retriever, Retriever::kBm25);  // no vector field
    EXPECT_EQ(got.routing.chosen, want.routing.chosen);
    ExpectSameHits(want.hits, got.hits);
    for (const PipelineHit& h : got.hits) {
      // The page's documents come with the hits.
      ASSERT_TRUE(h.document.has_value()) << h.hit.id;
      ASSERT_OK_AND_ASSIGN(Document stored, engine->searcher().GetDocument(h.hit.id));
      EXPECT_EQ(h.document->title, stored.title);
      EXPECT_EQ(h.document->text, stored.text);
      EXPECT_EQ(h.snippet, Snippet(stored.text, 40));
      EXPECT_LE(h.snippet.size(), 40u + 3);  // + the ellipsis
      // The explanation of each re-ranked hit scores it as the ranking did.
      EXPECT_EQ(h.moe.has_value(), h.hit.rerank.present) << h.hit.id;
      if (h.moe) EXPECT_NEAR(h.moe->score, h.hit.rerank.score, 1e-9) << h.hit.id;
    }
  }
  // Re-ranking switched off: the engine's hits.
  stages.rerank = false;
  ASSERT_OK_AND_ASSIGN(auto plain, engine->Search(queries[0]));
  ASSERT_OK_AND_ASSIGN(PipelineResult got, pipeline->Search(queries[0], stages));
  EXPECT_FALSE(got.reranked);
  ExpectSameHits(plain, got.hits);
  for (const PipelineHit& h : got.hits) EXPECT_FALSE(h.moe.has_value());
}

TEST_F(PipelineTest, BatchEqualsSingleAndSkipsDocumentsWhenAskedTo) {
  for (bool rerank : {false, true}) {
    ASSERT_OK_AND_ASSIGN(auto pipeline, Pipeline::Open(Options(rerank)));
    const auto queries = SampleQueries(8);
    StageOptions run;
    run.fetch_documents = false;
    ASSERT_OK_AND_ASSIGN(auto batch, pipeline->SearchBatch(queries, run));
    ASSERT_EQ(batch.size(), queries.size());
    for (size_t i = 0; i < queries.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(PipelineResult one, pipeline->Search(queries[i]));
      EXPECT_EQ(batch[i].query.id, queries[i].id);
      EXPECT_EQ(batch[i].reranked, rerank);
      std::vector<SearchHit> want;
      for (const auto& h : one.hits) want.push_back(h.hit);
      ExpectSameHits(want, batch[i].hits);
      for (const auto& h : batch[i].hits) EXPECT_FALSE(h.document.has_value());
    }
  }
}

TEST_F(PipelineTest, FromPartsServesTheCallersParts) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir_->Sub("index")));
  ASSERT_OK_AND_ASSIGN(auto reranker, Reranker::Open(*engine, dir_->Sub("model.moe")));
  PipelineOptions o;
  o.rerank_depth = 15;
  auto parts = Pipeline::FromParts(*engine, nullptr, reranker.get(), o);
  EXPECT_EQ(&parts->engine(), engine.get());
  EXPECT_EQ(parts->reranker(), reranker.get());
  ASSERT_OK_AND_ASSIGN(auto opened, Pipeline::Open(Options(true)));
  const HybridQuery q = SampleQueries(1)[0];
  ASSERT_OK_AND_ASSIGN(auto a, parts->Search(q));
  ASSERT_OK_AND_ASSIGN(auto b, opened->Search(q));
  std::vector<SearchHit> want;
  for (const auto& h : b.hits) want.push_back(h.hit);
  ExpectSameHits(want, a.hits);
}

TEST_F(PipelineTest, OpenAndStageErrorsAreValues) {
  PipelineOptions o = Options(false);
  o.index_dir = dir_->Sub("absent");
  EXPECT_FALSE(Pipeline::Open(o).ok());
  o = Options(false);
  o.rerank_model = dir_->Sub("absent.moe");
  EXPECT_TRUE(Pipeline::Open(o).status().IsNotFound());
  o = Options(false);
  o.kg_dir = dir_->Sub("no-kg");
  EXPECT_FALSE(Pipeline::Open(o).ok());
  o = Options(true);
  o.rerank_prior = 1.5;  // outside [0, 1]
  auto bad_prior = Pipeline::Open(o);
  ASSERT_FALSE(bad_prior.ok());
  EXPECT_TRUE(bad_prior.status().IsInvalidArgument());
  EXPECT_NE(bad_prior.status().message().find("rerank prior"), std::string::npos);
  // A prior of 1 keeps the retrieval order in the re-ranked head.
  o.rerank_prior = 1.0;
  ASSERT_OK_AND_ASSIGN(auto retrieval_order, Pipeline::Open(o));
  ASSERT_OK_AND_ASSIGN(auto r, retrieval_order->Search(SampleQueries(1)[0]));
  for (const auto& h : r.hits) EXPECT_EQ(h.hit.rank, h.hit.fused.rank) << h.hit.id;

  // Stages the pipeline lacks.
  ASSERT_OK_AND_ASSIGN(auto plain, Pipeline::Open(Options(false)));
  StageOptions s;
  s.expand = true;
  EXPECT_TRUE(plain->Search(SampleQueries(1)[0], s).status().IsInvalidArgument());
  s = {};
  s.rerank = true;
  EXPECT_TRUE(plain->SearchBatch(SampleQueries(2), s).status().IsInvalidArgument());
}

// A tiny KG ("dog" also called "canine") over a three-document index.
TEST(PipelineKgTest, ExpansionRunsInsideThePipeline) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto store, kg::TripleStore::Open(dir.Sub("kg")));
    ASSERT_OK(store->AddAlias("e:dog", "dog"));
    ASSERT_OK(store->AddAlias("e:dog", "canine"));
  }
  ASSERT_OK(testing::BuildIndex(dir.Sub("idx"),
                                {testing::Doc("a", "", "a canine story"), testing::Doc("b", "", "dogs everywhere"),
                                 testing::Doc("c", "", "nothing here")}));
  PipelineOptions o;
  o.index_dir = dir.Sub("idx");
  o.kg_dir = dir.Sub("kg");
  ASSERT_OK_AND_ASSIGN(auto pipeline, Pipeline::Open(o));
  ASSERT_NE(pipeline->kg(), nullptr);
  ASSERT_OK_AND_ASSIGN(HybridQuery q, pipeline->MakeQuery({.text = "dogs"}));
  ASSERT_OK_AND_ASSIGN(PipelineResult r, pipeline->Search(q));
  EXPECT_TRUE(r.expanded);
  ASSERT_EQ(r.expansions.size(), 1u);
  EXPECT_EQ(r.expansions[0].text, "canine");
  EXPECT_EQ(r.query.bm25.expansions.size(), 1u);  // the query as run
  std::vector<std::string> ids;
  for (const auto& h : r.hits) ids.push_back(h.hit.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"b", "a"}));
  ASSERT_TRUE(r.hits[1].document.has_value());
  EXPECT_EQ(r.hits[1].document->text, "a canine story");
  // Expansion off: only the literal match; the batch expands as Search does.
  StageOptions off;
  off.expand = false;
  ASSERT_OK_AND_ASSIGN(PipelineResult literal, pipeline->Search(q, off));
  ASSERT_EQ(literal.hits.size(), 1u);
  EXPECT_FALSE(literal.expanded);
  ASSERT_OK_AND_ASSIGN(auto batch, pipeline->SearchBatch({q, q}));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[1].hits.size(), 2u);
  EXPECT_EQ(batch[1].expansions.size(), 1u);
  // Expand() alone, as hymir-mpi's rank 0 uses it.
  HybridQuery again = q;
  ASSERT_OK_AND_ASSIGN(auto terms, pipeline->Expand(&again));
  EXPECT_EQ(terms.size(), 1u);
}

// Pipeline::Open(dir): the KG and re-ranker an index records open with it.
TEST_F(PipelineTest, OpensFromTheIndexDirectoryAlone) {
  TempDir dir;
  ASSERT_OK(testing::BuildIndex(dir.Sub("idx"), {testing::Doc("a", "", "a canine story")}));
  {
    ASSERT_OK_AND_ASSIGN(auto store, kg::TripleStore::Open(dir.Sub("kg")));
    ASSERT_OK(store->AddAlias("e:dog", "canine"));
  }
  // Nothing recorded: the index alone.
  ASSERT_OK_AND_ASSIGN(auto bare, Pipeline::Open(dir.Sub("idx")));
  EXPECT_EQ(bare->kg(), nullptr);
  EXPECT_EQ(bare->reranker(), nullptr);
  PipelineOptions o = Options(true);
  o.index_dir = dir_->Sub("index");
  o.kg_dir = dir.Sub("kg");
  o.rerank_prior = 0.25;
  o.threads = 3;  // not recorded
  ASSERT_OK(RecordPipelineOptions(dir_->Sub("index"), o));
  ASSERT_OK_AND_ASSIGN(PipelineOptions back, RecordedPipelineOptions(dir_->Sub("index")));
  EXPECT_EQ(back.index_dir, dir_->Sub("index"));
  EXPECT_EQ(back.kg_dir, std::filesystem::absolute(dir.Sub("kg")).lexically_normal().string());
  EXPECT_EQ(back.rerank_model, std::filesystem::absolute(dir_->Sub("model.moe")).lexically_normal().string());
  EXPECT_EQ(back.rerank_prior, std::optional<double>(0.25));
  EXPECT_EQ(back.rerank_depth, 15u);
  EXPECT_EQ(back.threads, 0);
  ASSERT_OK_AND_ASSIGN(auto recorded, Pipeline::Open(dir_->Sub("index")));
  ASSERT_OK_AND_ASSIGN(auto given, Pipeline::Open(o));
  ASSERT_NE(recorded->kg(), nullptr);
  ASSERT_NE(recorded->reranker(), nullptr);
  for (const HybridQuery& q : SampleQueries(3)) {
    ASSERT_OK_AND_ASSIGN(PipelineResult a, recorded->Search(q));
    ASSERT_OK_AND_ASSIGN(PipelineResult b, given->Search(q));
    ASSERT_EQ(a.hits.size(), b.hits.size());
    for (size_t i = 0; i < a.hits.size(); ++i) {
      EXPECT_EQ(a.hits[i].hit.id, b.hits[i].hit.id);
      EXPECT_EQ(a.hits[i].hit.score, b.hits[i].hit.score);
    }
  }
  // A damaged record names its file.
  testing::WriteText(dir_->Sub("index") + "/pipeline.json", "{\"format\": 1, \"kg_dir\": 3}");
  auto damaged = Pipeline::Open(dir_->Sub("index"));
  EXPECT_TRUE(damaged.status().IsCorruption()) << damaged.status().ToString();
  EXPECT_NE(damaged.status().message().find("pipeline.json"), std::string::npos);
  ASSERT_OK(index::WriteRecordedIndexFile(dir_->Sub("index"), "pipeline.json", nullptr));
  ASSERT_OK(Pipeline::Open(dir_->Sub("index")).status());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// pipeline.json and fusion.json change answers: the commit manifest records
// them, so a deleted or flipped one is Corruption naming it, as is a model
// other than the one recorded; CheckIndex names them too.
TEST_F(PipelineTest, RecordedFilesAndTheirModelAreVerified) {
  TempDir dir;
  const std::string idx = dir.Sub("idx");
  ASSERT_OK(testing::BuildIndex(idx, {testing::Doc("a", "", "a canine story"), testing::Doc("b", "", "a cat")}));
  std::filesystem::copy_file(dir_->Sub("model.moe"), dir.Sub("model.moe"));
  PipelineOptions o;
  o.index_dir = idx;
  o.rerank_model = dir.Sub("model.moe");
  o.rerank_depth = 15;
  ASSERT_OK(RecordPipelineOptions(idx, o));
  ranking::FusionOptions fusion;
  fusion.method = ranking::FusionMethod::kConvex;
  fusion.alpha = 0.25;
  ASSERT_OK(Engine::SaveDefaultFusion(idx, fusion));
  ASSERT_OK(Pipeline::Open(idx).status());
  ASSERT_OK(index::CheckIndex(idx).status());
  auto expect_named = [&](const std::string& what, const std::string& name) {
    SCOPED_TRACE(what);
    auto p = Pipeline::Open(idx);
    EXPECT_TRUE(p.status().IsCorruption()) << p.status().ToString();
    EXPECT_NE(p.status().message().find(name), std::string::npos) << p.status().ToString();
  };
  for (const std::string name : {"pipeline.json", "fusion.json"}) {
    const std::string path = idx + "/" + name;
    const std::string good = ReadAll(path);
    // A one-bit flip of a digit: the depth 15 becomes 14, the alpha 0.25 0.24.
    const std::string field = name == "pipeline.json" ? "\"rerank_depth\": 15" : "\"alpha\": 0.25";
    const size_t at = good.find(field);
    ASSERT_NE(at, std::string::npos) << good;
    std::string flipped = good;
    flipped[at + field.size() - 1] ^= 0x01;
    testing::WriteText(path, flipped);
    expect_named("flipped " + name, name);
    auto check = index::CheckIndex(idx);
    EXPECT_TRUE(check.status().IsCorruption()) << check.status().ToString();
    EXPECT_NE(check.status().message().find(name), std::string::npos) << check.status().ToString();
    std::filesystem::remove(path);
    expect_named("deleted " + name, name);
    testing::WriteText(path, good);
    ASSERT_OK(Pipeline::Open(idx).status());
  }
  // Another model at the recorded path.
  const std::string model = ReadAll(dir.Sub("model.moe"));
  std::string other = model;
  other[other.size() / 2] ^= 0x04;
  testing::WriteText(dir.Sub("model.moe"), other);
  expect_named("replaced model", "model.moe");
  testing::WriteText(dir.Sub("model.moe"), model);
  ASSERT_OK(Pipeline::Open(idx).status());
  // A writer keeps them recorded across its commits.
  {
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(idx));
    ASSERT_OK(w->Upsert(testing::Doc("c", "", "a canine")));
    ASSERT_OK(w->Commit());
    EXPECT_TRUE(index::WriteRecordedIndexFile(idx, "fusion.json", nullptr).IsBusy());
  }
  ASSERT_OK(Pipeline::Open(idx).status());
  std::filesystem::remove(idx + "/fusion.json");
  expect_named("deleted after a commit", "fusion.json");
}

TEST(BuildQueryTest, OnePlaceForEveryFrontEndsParameters) {
  TempDir dir;
  ASSERT_OK(testing::BuildIndex(dir.path(), {testing::Doc("a", "", "apple")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  QuerySpec spec;
  spec.id = "q1";
  spec.text = "apple pie";
  spec.k = 7;
  spec.offset = 3;
  spec.k1 = 1.2;
  spec.filters = {"domain:med", "lang:en", "domain:bio"};
  spec.fields = {"title:2", "text"};
  spec.retriever = "bm25";
  ASSERT_OK_AND_ASSIGN(HybridQuery q, BuildQuery(spec, *engine));
  EXPECT_EQ(q.id, "q1");
  EXPECT_EQ(q.k, 7u);
  EXPECT_EQ(q.offset, 3u);
  EXPECT_EQ(q.bm25.bm25.k1, 1.2);
  EXPECT_EQ(q.retriever, Retriever::kBm25);
  ASSERT_EQ(q.filters.size(), 2u);  // the same field twice admits either value
  EXPECT_EQ(q.filters[0].values, (std::vector<std::string>{"med", "bio"}));
  ASSERT_EQ(q.bm25.fields.size(), 2u);
  EXPECT_EQ(q.bm25.fields[0].weight, 2.0);
  EXPECT_EQ(q.bm25.fields[1].weight, 1.0);
  EXPECT_FALSE(q.fusion.has_value());  // the index's default

  // Fusion: alpha alone changes the default; a method starts from its own defaults.
  spec.alpha = 0.3;
  ASSERT_OK_AND_ASSIGN(q, BuildQuery(spec, *engine));
  ASSERT_TRUE(q.fusion.has_value());
  EXPECT_EQ(q.fusion->method, engine->default_fusion().method);
  EXPECT_EQ(q.fusion->alpha, 0.3);
  spec.alpha = -1;
  spec.fusion = "convex";
  ASSERT_OK_AND_ASSIGN(q, BuildQuery(spec, *engine));
  EXPECT_EQ(q.fusion->alpha, Engine::kDefaultAlpha);
  spec.fusion = "rrf";
  spec.rrf_k = 10;
  ASSERT_OK_AND_ASSIGN(q, BuildQuery(spec, *engine));
  EXPECT_EQ(q.fusion->method, ranking::FusionMethod::kRrf);
  EXPECT_EQ(q.fusion->rrf_k, 10);

  // Bad parameters are named.
  QuerySpec bad;
  bad.filters = {"nocolon"};
  auto r = BuildQuery(bad, *engine);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("\"nocolon\": expected FIELD:VALUE"), std::string::npos);
  bad = {};
  bad.fields = {"title:heavy"};
  EXPECT_NE(BuildQuery(bad, *engine).status().message().find("title:heavy"), std::string::npos);
  bad = {};
  bad.retriever = "sparse";
  EXPECT_TRUE(BuildQuery(bad, *engine).status().IsInvalidArgument());
  bad = {};
  bad.fusion = "borda";
  EXPECT_TRUE(BuildQuery(bad, *engine).status().IsInvalidArgument());
}

// Found by tests/fuzz/params_fuzz.cc): std::stod alone read a field
// weight "infarctit..." as inf, "nan" as NaN and "2x" as 2.
TEST(ParseFieldsTest, WeightsAreWholeFiniteNumbers) {
  std::vector<index::FieldWeight> w;
  ASSERT_OK(ParseFields({"title:2.5", "text", "abstract:1e-3", "body:-1"}, &w));
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].field, "title");
  EXPECT_EQ(w[0].weight, 2.5);
  EXPECT_EQ(w[1].weight, 1.0);
  EXPECT_EQ(w[2].weight, 1e-3);
  EXPECT_EQ(w[3].weight, -1.0);  // a number; its meaning is the scorer's business
  for (const std::string bad : {"title:infarction", "title:inf", "title:nan", "title:2x", "title:", "title:1e999"}) {
    std::vector<index::FieldWeight> out;
    Status s = ParseFields({bad}, &out, "--field");
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
    EXPECT_EQ(s.message(), "--field \"" + bad + "\": weight is not a number");
  }
}

TEST(ParseQueryParamsTest, ReadsAndNamesParameters) {
  QuerySpec spec;
  StageOptions stages;
  ASSERT_OK(ParseQueryParams({{"q", "apple"},
                              {"k", "5"},
                              {"offset", "2"},
                              {"filter", "domain:x"},
                              {"filter", "domain:y"},
                              {"retriever", "bm25"},
                              {"rerank", "0"},
                              {"explain", ""}},
                             {10, 50}, &spec, &stages));
  EXPECT_EQ(spec.text, "apple");
  EXPECT_EQ(spec.k, 5u);
  EXPECT_EQ(spec.offset, 2u);
  EXPECT_EQ(spec.filters, (std::vector<std::string>{"domain:x", "domain:y"}));
  EXPECT_EQ(spec.retriever, "bm25");
  EXPECT_EQ(stages.rerank, std::optional<bool>(false));
  EXPECT_FALSE(stages.expand.has_value());  // absent: the pipeline decides
  EXPECT_TRUE(stages.explain);

  spec = {};
  ASSERT_OK(ParseQueryParams({{"q", "x"}}, {7, 50}, &spec, &stages));
  EXPECT_EQ(spec.k, 7u);  // the default k

  struct Case {
    QueryParams params;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{}, "parameter q"},
      {{{"q", "  "}}, "parameter q"},
      {{{"q", "a"}, {"k", "0"}}, "k=0 is outside [1, 50]"},
      {{{"q", "a"}, {"k", "-3"}}, "k=\"-3\""},
      {{{"q", "a"}, {"k", "10"}, {"offset", "45"}}, "exceeds"},
      {{{"q", "a"}, {"k", "1"}, {"k", "2"}}, "more than once"},
      {{{"q", "a"}, {"retriever", "bogus"}}, "parameter retriever"},
      {{{"q", "a"}, {"filter", "nocolon"}}, "parameter filter \"nocolon\""},
      {{{"q", "a"}, {"explain", "maybe"}}, "explain=\"maybe\""},
      {{{"q", std::string("blood\0oxygen", 12)}}, "parameter q has a NUL byte at byte 5"},
      {{{"q", std::string(kMaxQueryBytes + 1, 'a')}}, "parameter q is"},
  };
  for (const Case& c : cases) {
    QuerySpec s;
    StageOptions st;
    Status status = ParseQueryParams(c.params, {10, 50}, &s, &st);
    EXPECT_TRUE(status.IsInvalidArgument()) << c.mentions;
    EXPECT_NE(status.message().find(c.mentions), std::string::npos) << status.message();
  }
}

// A hit whose stored text is damaged fails the search (Corruption naming the
// .fdt file), never a hit with an empty title and snippet. The index has no
// manifest, so that the damage gets past the checks at open to the document's
// own checksum.
TEST(PipelineDamageTest, DamagedStoredTextOfAHitIsAnError) {
  TempDir dir;
  const std::string idx = dir.Sub("idx");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i * 7919 % 1000) + " ";
  ASSERT_OK(testing::BuildIndex(idx, {testing::Doc("a", "first", "canine " + text), testing::Doc("b", "", "a cat")}));
  std::filesystem::remove(idx + "/MANIFEST");
  std::string fdt, fdx;
  for (const auto& e : std::filesystem::directory_iterator(idx + "/text")) {
    const std::string n = e.path().string();
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".fdt") == 0) fdt = n;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".fdx") == 0) fdx = n;
  }
  ASSERT_FALSE(fdt.empty());
  // Doc 0's stored fields lie in .fdt from the first pointer of .fdx (a
  // 4-byte header, then big-endian u64 per document) to the second.
  const std::string index = ReadAll(fdx);
  ASSERT_GE(index.size(), 20u);
  auto pointer = [&](size_t at) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(index[at + i]);
    return v;
  };
  const uint64_t begin = pointer(4), end = pointer(12);
  ASSERT_LT(begin + 100, end);
  std::string stored = ReadAll(fdt);
  stored[(begin + end) / 2 + 20] ^= 0x02;  // inside the `_src` frame, the record's largest field
  testing::WriteText(fdt, stored);
  ASSERT_OK_AND_ASSIGN(auto pipeline, Pipeline::Open(idx));
  HybridQuery q;
  q.text = "canine";
  StageOptions stages;
  stages.snippet_chars = 40;
  auto r = pipeline->Search(q, stages);
  ASSERT_FALSE(r.ok()) << "a damaged hit must not be shown with an empty title";
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(".fdt"), std::string::npos) << r.status().ToString();
  ASSERT_FALSE(pipeline->SearchBatch({q}, stages).ok());
  // Without fetching documents the hit list is still answered.
  stages.fetch_documents = false;
  ASSERT_OK_AND_ASSIGN(auto ids, pipeline->Search(q, stages));
  EXPECT_EQ(ids.hits.size(), 1u);
}

}  // namespace
}  // namespace hymir
