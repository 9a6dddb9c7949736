// KnowledgeContext: linking with the index's analyzer, expansion into weighted
// BM25 terms, KG features, and clear errors for an absent or foreign KG.
#include "hymir/knowledge.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::TempDir;

Status BuildKg(const std::string& dir) {
  HYMIR_ASSIGN_OR_RETURN(auto store, kg::TripleStore::Open(dir));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("e:dog", "dog"));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("e:dog", "canine"));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("e:cat", "cat"));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("e:animal", "animal"));
  HYMIR_RETURN_IF_ERROR(store->Add({"e:dog", "wn:hypernym", "e:animal"}));
  return store->Add({"e:cat", "wn:hypernym", "e:animal"});
}

TEST(KnowledgeContextTest, LinksExpandsAndScoresFeatures) {
  TempDir dir;
  ASSERT_OK(BuildKg(dir.Sub("kg")));
  ASSERT_OK_AND_ASSIGN(auto k, KnowledgeContext::Open(dir.Sub("kg"), index::AnalyzerKind::kEnglish));
  // The English analyzer stems both sides: "dogs" links to the alias "dog".
  EXPECT_EQ(k->LinkEntities("two dogs and a cat"), (std::vector<std::string>{"e:dog", "e:cat"}));

  HybridQuery q;
  q.text = "dogs";
  ASSERT_OK_AND_ASSIGN(auto added, k->ExpandQuery(&q));
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].text, "canine");
  ASSERT_EQ(q.bm25.expansions.size(), 1u);
  EXPECT_EQ(q.bm25.expansions[0].text, "canine");
  EXPECT_GT(q.bm25.expansions[0].weight, 0.0);

  // The expansion reaches a document that only says "canine".
  ASSERT_OK(testing::BuildIndex(dir.Sub("idx"),
                                {testing::Doc("a", "", "a canine story"), testing::Doc("b", "", "dogs everywhere"),
                                 testing::Doc("c", "", "nothing here")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.Sub("idx")));
  q.k = 10;
  ASSERT_OK_AND_ASSIGN(auto hits, engine->Search(q));
  std::vector<std::string> ids;
  for (const auto& h : hits) ids.push_back(h.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"b", "a"}));  // the original term outweighs the expansion

  // Features: the query entity is in the first document, a 1-hop neighbour of the second's.
  std::vector<std::vector<std::string>> docs = {{"e:dog"}, {"e:animal"}, {}};
  ASSERT_OK_AND_ASSIGN(auto f, k->Features("dog", docs));
  const size_t w = KnowledgeContext::PairFeatureNames().size();
  ASSERT_EQ(f.pair.size(), 3 * w);
  ASSERT_EQ(f.query.size(), KnowledgeContext::QueryFeatureNames().size());
  EXPECT_EQ(f.query[0], 1.0);         // one linked query entity
  EXPECT_EQ(f.pair[0 * w + 1], 1.0);  // kg_matched
  EXPECT_EQ(f.pair[1 * w + 1], 0.0);
  EXPECT_EQ(f.pair[1 * w + 3], 1.0);                                        // kg_one_hop_entities
  EXPECT_EQ(KnowledgeContext::PairFeatureNames()[0], "kg_query_entities");  // the same for every document
  for (size_t i = 1; i < w; ++i) EXPECT_EQ(f.pair[2 * w + i], 0.0) << KnowledgeContext::PairFeatureNames()[i];
}

TEST(KnowledgeContextTest, EachEnglishAnalyzerHasItsOwnLinkerCache) {
  // english-lucenepp30 keeps the id of the caches written when it was the
  // only "english", so an old index goes on using its cache; english, whose
  // stems differ, must never load one of them.
  using index::AnalyzerKind;
  EXPECT_EQ(KnowledgeContext::LinkerTokenizerId(AnalyzerKind::kEnglishLegacy), "analyzer:english");
  std::set<std::string> ids;
  for (AnalyzerKind kind : index::kAllAnalyzerKinds) ids.insert(KnowledgeContext::LinkerTokenizerId(kind));
  EXPECT_EQ(ids.size(), std::size(index::kAllAnalyzerKinds));
  TempDir dir;
  ASSERT_OK(BuildKg(dir.Sub("kg")));
  ASSERT_OK_AND_ASSIGN(auto legacy, KnowledgeContext::Open(dir.Sub("kg"), AnalyzerKind::kEnglishLegacy));
  ASSERT_OK_AND_ASSIGN(auto english, KnowledgeContext::Open(dir.Sub("kg"), AnalyzerKind::kEnglish));
  EXPECT_FALSE(english->linker().stats().from_cache);
  EXPECT_EQ(english->LinkEntities("dogs"), (std::vector<std::string>{"e:dog"}));
}

TEST(KnowledgeContextTest, AbsentOrForeignKgIsAClearError) {
  TempDir dir;
  auto absent = KnowledgeContext::Open(dir.Sub("nope"), index::AnalyzerKind::kEnglish);
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find(dir.Sub("nope")), std::string::npos);
  std::filesystem::create_directories(dir.Sub("junk"));
  std::ofstream(dir.Sub("junk") + "/CURRENT") << "not rocksdb\n";
  auto junk = KnowledgeContext::Open(dir.Sub("junk"), index::AnalyzerKind::kEnglish);
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find(dir.Sub("junk")), std::string::npos);
}

}  // namespace
}  // namespace hymir
