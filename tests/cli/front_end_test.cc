// The front ends on the library's pipelines: `hymir-mpi index --kg`
// links entities as `hymir index --kg` does (both through
// KnowledgeContext::LinkDocument), so every document of a 2-shard index
// carries the kg_entities a single index gives it; and `hymir index --kg`
// records the KG, so that Pipeline::Open(index) opens it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "hymir/beir.h"
#include "hymir/engine.h"
#include "hymir/knowledge.h"
#include "hymir/pipeline.h"
#include "tests/testutil/testutil.h"

namespace hymir {
namespace {

using testing::TempDir;

int RunQuiet(const std::string& command) {
  const int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string Sample(const std::string& file) { return testing::SampleDir() + "/" + file; }

TEST(FrontEndTest, MpiIndexLinksEntitiesAsHymirIndex) {
#ifndef HYMIR_MPIEXEC
  GTEST_SKIP() << "built without MPI (HYMIR_WITH_MPI=OFF)";
#else
  TempDir tmp;
  testing::WriteText(tmp.Sub("kg.tsv"),
                     "ex:heart\thymir:alias\theart\nex:heart\thymir:alias\tcardiac\n"
                     "ex:lens\thymir:alias\tlens\nex:cancer\thymir:alias\tcancer\n"
                     "ex:cancer\thymir:alias\ttumor\n");
  const std::string hymir = testing::BinDir() + "/hymir ";
  ASSERT_EQ(RunQuiet(hymir + "kg load --kg " + tmp.Sub("kg") + " --tsv " + tmp.Sub("kg.tsv")), 0);
  ASSERT_EQ(RunQuiet(hymir + "index --corpus " + Sample("corpus.jsonl") + " --index " + tmp.Sub("single") + " --kg " +
                     tmp.Sub("kg")),
            0);
  const std::string mpi = std::string(HYMIR_MPIEXEC) +
                          " --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np 2 " +
                          testing::BinDir() + "/hymir-mpi ";
  ASSERT_EQ(RunQuiet(mpi + "index --corpus " + Sample("corpus.jsonl") + " --index " + tmp.Sub("sharded") + " --kg " +
                     tmp.Sub("kg")),
            0);
  // A missing KG is refused before anything is indexed, as in hymir index.
  EXPECT_EQ(RunQuiet(mpi + "index --corpus " + Sample("corpus.jsonl") + " --index " + tmp.Sub("other") + " --kg " +
                     tmp.Sub("kg.tsv")),
            2);

  ASSERT_OK_AND_ASSIGN(auto single, Engine::Open(tmp.Sub("single")));
  ASSERT_OK_AND_ASSIGN(auto shard0, Engine::Open(tmp.Sub("sharded/shard-0000")));
  ASSERT_OK_AND_ASSIGN(auto shard1, Engine::Open(tmp.Sub("sharded/shard-0001")));
  ASSERT_OK_AND_ASSIGN(auto reader, CorpusReader::Open(Sample("corpus.jsonl")));
  Document d;
  size_t docs = 0, linked = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(bool more, reader->Next(&d));
    if (!more) break;
    ++docs;
    ASSERT_OK_AND_ASSIGN(Document want, single->searcher().GetDocument(d.id));
    auto got = shard0->searcher().GetDocument(d.id);
    if (!got.ok()) got = shard1->searcher().GetDocument(d.id);
    ASSERT_TRUE(got.ok()) << d.id << " is in neither shard";
    EXPECT_EQ(got->fields[kKgEntitiesField], want.fields[kKgEntitiesField]) << d.id;
    if (!SplitEntities(want.fields[kKgEntitiesField]).empty()) ++linked;
  }
  EXPECT_EQ(docs, 1033u);
  EXPECT_GT(linked, 100u) << "the KG linked almost nothing";

  // The single index records its KG: the index directory alone opens both.
  ASSERT_OK_AND_ASSIGN(auto pipeline, Pipeline::Open(tmp.Sub("single")));
  ASSERT_NE(pipeline->kg(), nullptr);
  EXPECT_EQ(std::filesystem::path(pipeline->kg()->dir()), std::filesystem::absolute(tmp.Sub("kg")).lexically_normal());
  EXPECT_EQ(pipeline->reranker(), nullptr);
#endif
}

// The query language over shards: global document frequencies of the
// query's terms (a phrase's idf is the sum of its terms') give every match
// the single index's score.
TEST(FrontEndTest, MpiSearchRunsTheQueryLanguageAsOneIndex) {
#ifndef HYMIR_MPIEXEC
  GTEST_SKIP() << "built without MPI (HYMIR_WITH_MPI=OFF)";
#else
  TempDir tmp;
  const std::string hymir = testing::BinDir() + "/hymir ";
  const std::string mpi = std::string(HYMIR_MPIEXEC) +
                          " --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np 2 " +
                          testing::BinDir() + "/hymir-mpi ";
  ASSERT_EQ(RunQuiet(hymir + "index --corpus " + Sample("corpus.jsonl") + " --index " + tmp.Sub("single")), 0);
  ASSERT_EQ(RunQuiet(mpi + "index --corpus " + Sample("corpus.jsonl") + " --index " + tmp.Sub("sharded")), 0);
  testing::WriteText(tmp.Sub("q.jsonl"),
                     "{\"_id\":\"1\",\"text\":\"\\\"crystalline lens\\\" -human\"}\n"
                     "{\"_id\":\"2\",\"text\":\"lens AND (protein OR proteins) NOT bovine\"}\n"
                     "{\"_id\":\"3\",\"text\":\"\\\"blood flow\\\"~2 oxygen^2 title:lung\"}\n"
                     "{\"_id\":\"4\",\"text\":\"lens proteins\"}\n");
  ASSERT_EQ(RunQuiet(hymir + "search --index " + tmp.Sub("single") + " --syntax lucene --queries " +
                     tmp.Sub("q.jsonl") + " --run " + tmp.Sub("single.run")),
            0);
  ASSERT_EQ(RunQuiet(mpi + "search --index " + tmp.Sub("sharded") + " --syntax lucene --queries " + tmp.Sub("q.jsonl") +
                     " --run " + tmp.Sub("sharded.run")),
            0);
  // (qid, doc, score) of every line: equal scores may come in another order.
  auto lines = [](const std::string& path) {
    std::ifstream in(path);
    std::multiset<std::string> out;
    std::string qid, q0, doc, rank, score, tag;
    while (in >> qid >> q0 >> doc >> rank >> score >> tag) out.insert(qid + " " + doc + " " + score);
    return out;
  };
  const auto want = lines(tmp.Sub("single.run"));
  EXPECT_GT(want.size(), 20u);
  EXPECT_EQ(lines(tmp.Sub("sharded.run")), want);
  EXPECT_EQ(RunQuiet(mpi + "search --index " + tmp.Sub("sharded") + " --syntax lucene --query 'lens AND ('"), 1);
#endif
}

}  // namespace
}  // namespace hymir
