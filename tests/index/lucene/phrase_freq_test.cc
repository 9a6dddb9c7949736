// Phrase frequencies from positions: the exact count against a brute-force
// count of start positions, and the sloppy sum with an array for the queue
// against the priority-queue reference, bit for bit, on random positions.
#include "index/lucene/phrase_freq.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace hymir::index::internal {
namespace {

struct Case {
  std::vector<std::vector<int32_t>> pos;  // per term, ascending
  std::vector<int32_t> offsets;
  std::vector<PosList> Lists() const { return {pos.begin(), pos.end()}; }
};

// Terms over a short document: dense and sparse lists, offsets with gaps or
// repeated (two terms at one position), sometimes a repeated position.
Case RandomCase(std::mt19937& rng) {
  Case c;
  const size_t n = 2 + rng() % 4;
  const int32_t len = 2 + static_cast<int32_t>(rng() % 40);
  int32_t off = static_cast<int32_t>(rng() % 2);
  for (size_t t = 0; t < n; ++t) {
    std::vector<int32_t> p;
    const uint32_t density = 1 + rng() % 6;
    for (int32_t x = 0; x < len; ++x) {
      if (rng() % density == 0) p.push_back(x);
    }
    if (p.empty()) p.push_back(static_cast<int32_t>(rng() % len));
    if (rng() % 10 == 0) p.insert(p.begin() + static_cast<std::ptrdiff_t>(rng() % p.size()), p[0]);
    std::sort(p.begin(), p.end());
    c.pos.push_back(std::move(p));
    c.offsets.push_back(off);
    off += static_cast<int32_t>(rng() % 3);
  }
  return c;
}

TEST(PhraseFreqTest, ExactFreqCountsTheStartsWhereEveryTermSits) {
  std::mt19937 rng(5);
  size_t matched = 0;
  for (int i = 0; i < 3000; ++i) {
    Case c = RandomCase(rng);
    for (auto& p : c.pos) p.erase(std::unique(p.begin(), p.end()), p.end());  // distinct positions
    std::set<int32_t> starts;
    for (int32_t p0 : c.pos[0]) {
      const int32_t s = p0 - c.offsets[0];
      bool all = true;
      for (size_t t = 1; t < c.pos.size(); ++t)
        all &= std::binary_search(c.pos[t].begin(), c.pos[t].end(), s + c.offsets[t]);
      if (all) starts.insert(s);
    }
    EXPECT_EQ(ExactFreq(c.Lists(), c.offsets), static_cast<double>(starts.size())) << i;
    matched += !starts.empty();
  }
  EXPECT_GT(matched, 300u);
}

TEST(PhraseFreqTest, SloppyFreqEqualsThePriorityQueueReference) {
  std::mt19937 rng(7);
  size_t nonzero = 0;
  for (int i = 0; i < 5000; ++i) {
    const Case c = RandomCase(rng);
    const int32_t slop = static_cast<int32_t>(rng() % 7);
    const double want = SloppyFreqByQueue(c.Lists(), c.offsets, slop);
    EXPECT_EQ(SloppyFreq(c.Lists(), c.offsets, slop), want) << i << " slop " << slop;
    nonzero += want > 0;
  }
  EXPECT_GT(nonzero, 1000u);
}

}  // namespace
}  // namespace hymir::index::internal
