// A child process indexing with periodic commits is killed with SIGKILL; the
// reopened index must hold every committed document and open without error.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

using testing::TempDir;

[[noreturn]] void ChildIndexForever(const std::string& dir, int report_fd) {
  auto w = IndexWriter::Open(dir);
  if (!w.ok()) _exit(3);
  for (int i = 0;; ++i) {
    Document d = testing::Doc("doc" + std::to_string(i), "title " + std::to_string(i),
                              "body of document " + std::to_string(i) + " with some filler words");
    if (!(*w)->Upsert(d).ok()) _exit(4);
    if (i % 97 == 96) {
      if (!(*w)->Commit().ok()) _exit(5);
      int committed = i + 1;
      if (::write(report_fd, &committed, sizeof committed) != sizeof committed) _exit(6);
    }
  }
}

TEST(CrashTest, SigkillDuringIndexingKeepsEveryCommittedDocument) {
  for (int round = 0; round < 3; ++round) {
    TempDir dir;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      ChildIndexForever(dir.path(), fds[1]);
    }
    ::close(fds[1]);
    int committed = 0, value = 0;
    // Let it commit a few times (more each round), then kill it mid-batch.
    while (committed < 97 * (3 + 4 * round) && ::read(fds[0], &value, sizeof value) == sizeof value) {
      committed = value;
    }
    ::usleep(1000 * (1 + round * 7));
    ::kill(pid, SIGKILL);
    while (::read(fds[0], &value, sizeof value) == sizeof value) committed = value;  // drain
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    ASSERT_GT(committed, 0);

    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
    EXPECT_GE(s->NumDocs(), static_cast<uint64_t>(committed));
    EXPECT_EQ(s->NumDocs() % 97, 0u) << "only whole commits may survive";
    for (int i = 0; i < committed; i += 13) {
      EXPECT_OK(s->GetDocument("doc" + std::to_string(i)).status());
    }
    EXPECT_OK(s->GetDocument("doc" + std::to_string(committed - 1)).status());
    // The dead writer left no stale lock: a new writer opens and commits.
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
    ASSERT_OK(w->Upsert(testing::Doc("after", "", "recovered")));
    ASSERT_OK(w->Commit());
  }
}

}  // namespace
}  // namespace hymir::index
