// The hybrid pipeline through the library: stage scores kept, pagination
// covered by the fusion window, filters on both retrievers, stored fusion.
#include "hymir/engine.h"

#include <gtest/gtest.h>

#include "hymir/index/index_writer.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::TempDir;

Status BuildHybrid(const std::string& dir) {
  index::IndexWriterOptions o;
  index::VectorFieldSpec spec;
  spec.name = "img";
  spec.dimension = 3;
  o.vector_fields = {spec};
  auto w = index::IndexWriter::Open(dir, o);
  if (!w.ok()) return w.status();
  for (int i = 0; i < 30; ++i) {
    Document d =
        testing::Doc("d" + std::to_string(i), "", i % 2 ? "apple pie" : "apple tart and more words", i % 3 ? "x" : "y");
    d.vectors["img"] = {1.0f, static_cast<float>(i) / 10, 0.0f};
    HYMIR_RETURN_IF_ERROR((*w)->Upsert(d));
  }
  return (*w)->Commit();
}

TEST(EngineTest, HybridKeepsStagesAndPaginates) {
  TempDir dir;
  ASSERT_OK(BuildHybrid(dir.path()));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  EXPECT_FALSE(engine->has_tuned_fusion());
  HybridQuery q;
  q.text = "apple";
  q.vector = {1.0f, 0.0f, 0.0f};
  q.k = 30;
  EXPECT_EQ(engine->ResolveRetriever(q), Retriever::kHybrid);
  ASSERT_OK_AND_ASSIGN(auto all, engine->Search(q));
  ASSERT_EQ(all.size(), 30u);
  for (const auto& h : all) {
    EXPECT_TRUE(h.bm25.present);
    EXPECT_GT(h.bm25.rank, 0u);
  }
  EXPECT_EQ(all[0].id, "d1");  // shortest BM25 doc with the nearest vector of the odd ones
  EXPECT_TRUE(all[0].vector.present);
  // A page deeper than the vector depth still comes out of the same ranking.
  q.vector_depth = 5;
  q.bm25_depth = 5;
  q.k = 4;
  q.offset = 20;
  ASSERT_OK_AND_ASSIGN(auto page, engine->Search(q));
  ASSERT_EQ(page.size(), 4u);
  EXPECT_EQ(page[0].rank, 21u);
  // Filters apply to both retrievers.
  q.offset = 0;
  q.k = 30;
  q.filters = {{"domain", {"y"}}};
  ASSERT_OK_AND_ASSIGN(auto filtered, engine->Search(q));
  EXPECT_EQ(filtered.size(), 10u);
  for (const auto& h : filtered) EXPECT_EQ(std::stoi(h.id.substr(1)) % 3, 0) << h.id;
}

TEST(EngineTest, StoredFusionIsTheDefault) {
  TempDir dir;
  ASSERT_OK(BuildHybrid(dir.path()));
  ranking::FusionOptions rrf;
  rrf.method = ranking::FusionMethod::kRrf;
  rrf.rrf_k = 10;
  ASSERT_OK(Engine::SaveDefaultFusion(dir.path(), rrf));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  EXPECT_TRUE(engine->has_tuned_fusion());
  EXPECT_EQ(engine->default_fusion().method, ranking::FusionMethod::kRrf);
  HybridQuery q;
  q.text = "apple";
  q.vector = {1.0f, 0.0f, 0.0f};
  ASSERT_OK_AND_ASSIGN(auto hits, engine->Search(q));
  ASSERT_FALSE(hits.empty());
  const auto& h = hits[0];
  double expect = 0;
  if (h.bm25.present) expect += 1.0 / (10 + h.bm25.rank);
  if (h.vector.present) expect += 1.0 / (10 + h.vector.rank);
  EXPECT_NEAR(h.score, expect, 1e-12);
  testing::WriteText(dir.path() + "/fusion.json", "{broken");
  EXPECT_TRUE(Engine::Open(dir.path()).status().IsCorruption());
}

TEST(EngineTest, BatchEqualsSingleQueries) {
  TempDir dir;
  ASSERT_OK(BuildHybrid(dir.path()));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  std::vector<HybridQuery> qs;
  for (int i = 0; i < 5; ++i) {
    HybridQuery q;
    q.text = i % 2 ? "tart" : "pie";
    q.vector = {1.0f, i * 0.5f, 0.1f};
    qs.push_back(q);
  }
  ASSERT_OK_AND_ASSIGN(auto batch, engine->SearchBatch(qs));
  for (size_t i = 0; i < qs.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(auto one, engine->Search(qs[i]));
    ASSERT_EQ(one.size(), batch[i].size());
    for (size_t j = 0; j < one.size(); ++j) {
      EXPECT_EQ(one[j].id, batch[i][j].id);
      EXPECT_DOUBLE_EQ(one[j].score, batch[i][j].score);
    }
  }
}

}  // namespace
}  // namespace hymir

namespace hymir {
namespace {

// Query vector dimensions are checked per query (before, a batch
// of a 2- and a 4-float vector on a 3-d field passed the total % 3 check).
TEST(EngineTest, QueryVectorDimensionIsCheckedPerQuery) {
  TempDir dir;
  ASSERT_OK(BuildHybrid(dir.path()));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.path()));
  HybridQuery a, b;
  a.id = "short";
  a.vector = {1.0f, 0.0f};
  b.id = "long";
  b.vector = {1.0f, 0.0f, 0.0f, 0.0f};
  auto batch = engine->SearchBatch({a, b});
  ASSERT_FALSE(batch.ok());
  EXPECT_TRUE(batch.status().IsInvalidArgument());
  EXPECT_NE(batch.status().message().find("query \"short\": vector field \"img\" expects 3 floats, got 2"),
            std::string::npos)
      << batch.status().ToString();
  HybridQuery twice;  // two vectors' worth in one query
  twice.vector = {1, 0, 0, 1, 0, 0};
  auto single = engine->Search(twice);
  ASSERT_FALSE(single.ok());
  EXPECT_NE(single.status().message().find("expects 3 floats, got 6"), std::string::npos) << single.status().ToString();
  index::VectorQuery vq;
  vq.field = "img";
  vq.vector = {1, 0, 0, 1, 0, 0};
  auto direct = engine->searcher().SearchVector(vq);
  ASSERT_FALSE(direct.ok());
  EXPECT_TRUE(direct.status().IsInvalidArgument());
}

}  // namespace
}  // namespace hymir
