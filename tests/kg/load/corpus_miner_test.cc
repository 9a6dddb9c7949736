// MineCorpusGraph on generated corpora whose phrases, co-occurrences and
// title mentions are planted: what is planted is found, chance word pairs
// are not phrases, and mining is deterministic.
#include "hymir/kg/corpus_miner.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "hymir/kg/triple_store.h"
#include "tests/testutil/testutil.h"

namespace hymir::kg {
namespace {

using hymir::testing::TempDir;

// 400 documents of random filler words; "myocardial infarction" in every
// 4th, "stent thrombosis" in every 8th (always with the former), "quantum
// annealing" in 1 of 5 others, "alpha particle" and "beta decay" together
// in every 10th; document 7 is titled "Graphene Membranes",
// and documents 100-102 cite it in their text.
std::vector<Document> PlantedCorpus(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> filler;
  for (int i = 0; i < 300; ++i) filler.push_back("word" + std::to_string(i) + "x");
  std::vector<Document> docs;
  for (int d = 0; d < 400; ++d) {
    Document doc;
    doc.id = "d" + std::to_string(d);
    doc.title = d == 7 ? "Graphene Membranes" : "Report " + filler[rng() % filler.size()];
    std::string text;
    for (int w = 0; w < 60; ++w) {
      text += filler[rng() % filler.size()] + " ";
      if (w == 20 && d % 4 == 0) text += "myocardial infarction ";
      if (w == 30 && d % 8 == 0) text += "stent thrombosis ";
      if (w == 40 && d % 4 == 1 && d % 5 == 0) text += "quantum annealing ";
      if (w == 50 && d >= 100 && d <= 102) text += "as graphene membranes show ";
      // Two phrases always together, in either order: equal in every score.
      if (w == 10 && d % 10 == 3) text += d % 20 == 3 ? "alpha particle " : "beta decay ";
      if (w == 15 && d % 10 == 3) text += d % 20 == 3 ? "beta decay " : "alpha particle ";
    }
    doc.text = text;
    docs.push_back(std::move(doc));
  }
  return docs;
}

std::function<Result<bool>(Document*)> Feed(const std::vector<Document>& docs) {
  auto next = std::make_shared<size_t>(0);
  return [&docs, next](Document* out) -> Result<bool> {
    if (*next == docs.size()) return false;
    *out = docs[(*next)++];
    return true;
  };
}

std::set<Triple> All(const TripleStore& store) {
  auto all = store.Match(TriplePattern{});
  EXPECT_TRUE(all.ok());
  return all.ok() ? std::set<Triple>(all->begin(), all->end()) : std::set<Triple>{};
}

TEST(CorpusMinerTest, FindsPlantedPhrasesRelationsAndTitleMentions) {
  const std::vector<Document> docs = PlantedCorpus(1);
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, TripleStore::Open(tmp.Sub("kg")));
  MineOptions options;
  options.source = "planted";
  ASSERT_OK_AND_ASSIGN(MineStats stats, MineCorpusGraph(*store, Feed(docs), options));
  EXPECT_EQ(stats.documents, 400u);
  const std::set<Triple> all = All(*store);
  const std::string mi = "mined:p:myocardial infarction", st = "mined:p:stent thrombosis",
                    qa = "mined:p:quantum annealing";
  for (const std::string& p : {mi, st, qa}) {
    EXPECT_TRUE(all.count({p, std::string(kAliasRelation), p.substr(8)})) << p;
  }
  EXPECT_TRUE(all.count({mi, "mined:document_frequency", "100"}));
  // Chance pairs of filler words (each pair in a handful of documents) are not phrases.
  for (const Triple& t : all) {
    if (t.relation == kAliasRelation && t.subject.rfind("mined:p:", 0) == 0) {
      EXPECT_EQ(t.object.find("word"), std::string::npos) << t.object;
    }
  }
  EXPECT_TRUE(all.count({"mined:d:d0", "mined:mentions", mi}));
  EXPECT_TRUE(all.count({"mined:d:d8", "mined:mentions", st}));
  EXPECT_FALSE(all.count({"mined:d:d1", "mined:mentions", mi}));
  // Always together: related; never together: not.
  EXPECT_TRUE(all.count({st, "mined:related_to", mi}));
  EXPECT_FALSE(all.count({qa, "mined:related_to", mi}));
  // The titled document and its three citations (but not itself).
  EXPECT_TRUE(all.count({"mined:d:d7", std::string(kAliasRelation), "graphene membranes"}));
  for (int d : {100, 101, 102}) {
    EXPECT_TRUE(all.count({"mined:d:d" + std::to_string(d), "mined:mentions", "mined:d:d7"})) << d;
  }
  EXPECT_FALSE(all.count({"mined:d:d7", "mined:mentions", "mined:d:d7"}));
  EXPECT_TRUE(all.count({"mined:source", "mined:from", "planted"}));
  EXPECT_TRUE(all.count({"mined:source", "mined:documents", "400"}));
  EXPECT_EQ(stats.triples, all.size());
}

TEST(CorpusMinerTest, SameDocumentsInAnyOrderGiveTheSameGraph) {
  const std::vector<Document> docs = PlantedCorpus(2);
  std::vector<Document> shuffled = docs;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto a, TripleStore::Open(tmp.Sub("a")));
  ASSERT_OK_AND_ASSIGN(auto b, TripleStore::Open(tmp.Sub("b")));
  MineOptions options;
  options.load.batch_size = 7;
  options.phrases_per_document = 1;  // a tie between alpha particle and beta decay decides
  ASSERT_OK_AND_ASSIGN(MineStats sa, MineCorpusGraph(*a, Feed(docs), options));
  ASSERT_OK_AND_ASSIGN(MineStats sb, MineCorpusGraph(*b, Feed(shuffled), options));
  EXPECT_EQ(All(*a), All(*b));
  EXPECT_EQ(sa.phrases, sb.phrases);
  // Mining again into the same store adds nothing.
  ASSERT_OK_AND_ASSIGN(MineStats again, MineCorpusGraph(*a, Feed(docs), options));
  EXPECT_EQ(again.added, 0u);
}

TEST(CorpusMinerTest, BadOptionsAndFeedErrorsAreReported) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, TripleStore::Open(tmp.Sub("kg")));
  const std::vector<Document> docs = PlantedCorpus(3);
  MineOptions bad;
  bad.phrases_per_document = 0;
  EXPECT_TRUE(MineCorpusGraph(*store, Feed(docs), bad).status().IsInvalidArgument());
  bad = MineOptions{};
  bad.min_npmi = 2;
  EXPECT_TRUE(MineCorpusGraph(*store, Feed(docs), bad).status().IsInvalidArgument());
  auto failing = [](Document*) -> Result<bool> { return Status::Corruption("doc 3: damaged"); };
  auto r = MineCorpusGraph(*store, failing);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
  EXPECT_EQ(count, 0u);
}

}  // namespace
}  // namespace hymir::kg
