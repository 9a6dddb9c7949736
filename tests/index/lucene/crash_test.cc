// A writer process indexing with periodic commits is killed with SIGKILL; the
// reopened index must hold every committed document and open without error.
#include <gtest/gtest.h>

#include "tests/index/lucene/index_fixture.h"
#include "tests/testutil/crash_util.h"

namespace hymir::index {
namespace {

using testing::TempDir;

TEST(CrashTest, SigkillDuringIndexingKeepsEveryCommittedDocument) {
  for (int round = 0; round < 3; ++round) {
    TempDir dir;
    auto r = testing::RunAndKillWriter(dir.path(), 97, /*vectors=*/false, 97 * (3 + 4 * round), 1000 * (1 + round * 7));
    ASSERT_TRUE(r.killed) << "writer exited early with " << r.exit_code;
    ASSERT_GT(r.committed, 0);

    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
    EXPECT_GE(s->NumDocs(), static_cast<uint64_t>(r.committed));
    EXPECT_EQ(s->NumDocs() % 97, 0u) << "only whole commits may survive";
    for (int i = 0; i < r.committed; i += 13) {
      EXPECT_OK(s->GetDocument("doc" + std::to_string(i)).status());
    }
    EXPECT_OK(s->GetDocument("doc" + std::to_string(r.committed - 1)).status());
    // The dead writer left no stale lock: a new writer opens and commits.
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
    ASSERT_OK(w->Upsert(testing::Doc("after", "", "recovered")));
    ASSERT_OK(w->Commit());
  }
}

}  // namespace
}  // namespace hymir::index
