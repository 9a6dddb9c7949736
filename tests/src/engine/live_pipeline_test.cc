// LivePipeline: a service's view of an index follows its commits, and a view
// held by a search in flight never changes under it.
#include "hymir/live_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "hymir/index/index_writer.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::Doc;
using testing::TempDir;

std::vector<std::string> Ids(const Pipeline& p, const std::string& text) {
  QuerySpec spec;
  spec.text = text;
  spec.k = 10;
  auto q = p.MakeQuery(spec);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  if (!q.ok()) return {};
  StageOptions stages;
  stages.fetch_documents = false;
  auto r = p.Search(*q, stages);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> ids;
  if (r.ok()) {
    for (const auto& h : r->hits) ids.push_back(h.hit.id);
  }
  return ids;
}

std::unique_ptr<index::IndexWriter> NewIndex(const std::string& dir) {
  auto w = index::IndexWriter::Open(dir);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE((*w)->Upsert(Doc("a", "Heart attack", "cardiac arrest")).ok());
  EXPECT_TRUE((*w)->Upsert(Doc("b", "Kidney", "renal failure")).ok());
  EXPECT_TRUE((*w)->Commit().ok());
  return std::move(w).value();
}

TEST(LivePipelineTest, ReloadSwitchesToTheNewCommitAndHeldViewsStayAsTheyWere) {
  TempDir dir;
  auto writer = NewIndex(dir.path());
  PipelineOptions o;
  o.index_dir = dir.path();
  LiveOptions live;
  live.poll_interval = std::chrono::milliseconds(0);  // reloads by hand only
  ASSERT_OK_AND_ASSIGN(auto p, LivePipeline::Open(o, live));
  const uint64_t g0 = p->generation();
  std::shared_ptr<const Pipeline> before = p->Current();
  EXPECT_EQ(Ids(*before, "cardiac"), std::vector<std::string>{"a"});

  ASSERT_OK(writer->Upsert(Doc("c", "Cardiac surgery", "bypass")));
  ASSERT_OK(writer->Delete("a"));
  ASSERT_OK(writer->Commit());
  // Nothing moves until a reload.
  EXPECT_EQ(Ids(*p->Current(), "cardiac"), std::vector<std::string>{"a"});
  ASSERT_OK(p->Reload());
  EXPECT_GT(p->generation(), g0);
  EXPECT_EQ(p->reloads(), 1u);
  EXPECT_EQ(Ids(*p->Current(), "cardiac"), std::vector<std::string>{"c"});
  // The view held across the commit still answers from its own commit.
  EXPECT_EQ(Ids(*before, "cardiac"), std::vector<std::string>{"a"});
  // Nothing new: no switch.
  ASSERT_OK(p->Reload());
  EXPECT_EQ(p->reloads(), 1u);
}

TEST(LivePipelineTest, WatcherShowsACommitWithinItsInterval) {
  TempDir dir;
  auto writer = NewIndex(dir.path());
  PipelineOptions o;
  o.index_dir = dir.path();
  LiveOptions live;
  live.poll_interval = std::chrono::milliseconds(20);
  std::atomic<int> switches{0};
  live.on_reload = [&](uint64_t, const Status& s) {
    if (s.ok()) ++switches;
  };
  ASSERT_OK_AND_ASSIGN(auto p, LivePipeline::Open(o, live));
  ASSERT_OK(writer->Upsert(Doc("c", "Lung", "pulmonary embolism")));
  ASSERT_OK(writer->Commit());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Ids(*p->Current(), "pulmonary").empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(Ids(*p->Current(), "pulmonary"), std::vector<std::string>{"c"});
  EXPECT_GE(switches.load(), 1);
}

TEST(LivePipelineTest, SearchesDuringCommitsNeverFail) {
  TempDir dir;
  auto writer = NewIndex(dir.path());
  PipelineOptions o;
  o.index_dir = dir.path();
  LiveOptions live;
  live.poll_interval = std::chrono::milliseconds(1);
  ASSERT_OK_AND_ASSIGN(auto p, LivePipeline::Open(o, live));
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        std::shared_ptr<const Pipeline> view = p->Current();
        QuerySpec spec;
        spec.text = "cardiac renal update";
        auto q = view->MakeQuery(spec);
        if (!q.ok() || !view->Search(*q).ok()) ++failures;
        ++searches;
      }
    });
  }
  for (int i = 0; i < 15; ++i) {
    ASSERT_OK(writer->Upsert(Doc("u" + std::to_string(i), "update", "cardiac update " + std::to_string(i))));
    if (i % 3 == 0) ASSERT_OK(writer->Delete("u" + std::to_string(i / 2)));
    ASSERT_OK(writer->Commit());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  ASSERT_OK_AND_ASSIGN(const uint64_t last, index::LastCommitGeneration(dir.path()));
  while (p->generation() != last && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(p->generation(), last);
  EXPECT_EQ(Ids(*p->Current(), "14"), std::vector<std::string>{"u14"});
}

}  // namespace
}  // namespace hymir
