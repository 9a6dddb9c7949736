// The front ends on the library's pipelines: `hymir-mpi index --kg`
// links entities as `hymir index --kg` does (both through
// KnowledgeContext::LinkDocument), so every document of a 2-shard index
// carries the kg_entities a single index gives it; and `hymir index --kg`
// records the KG, so that Pipeline::Open(index) opens it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

}  // namespace
}  // namespace hymir
