#include "index/lucene/phrase_freq.h"

#include <algorithm>
#include <limits>
#include <queue>

namespace hymir::index::internal {

double ExactFreq(const std::vector<PosList>& pos, const std::vector<int32_t>& offsets) {
  double freq = 0;
  size_t idx[64] = {};
  std::vector<size_t> idx_heap;
  size_t* ix = idx;
  if (pos.size() > 64) {
    idx_heap.assign(pos.size(), 0);
    ix = idx_heap.data();
  }
  for (int32_t p0 : pos[0]) {
    const int32_t start = p0 - offsets[0];
    bool all = true;
    for (size_t t = 1; t < pos.size(); ++t) {
      const PosList& v = pos[t];
      const int32_t want = start + offsets[t];
      while (ix[t] < v.size() && v[ix[t]] < want) ++ix[t];
      if (ix[t] >= v.size()) return freq;
      if (v[ix[t]] != want) all = false;
    }
    if (all) freq += 1;
  }
  return freq;
}

double SloppyFreqByQueue(const std::vector<PosList>& pos, const std::vector<int32_t>& offsets, int32_t slop) {
  struct PP {
    PosList v;
    size_t i;
    int32_t offset;
    int32_t position;
    size_t ord;
  };
  std::vector<PP> pps;
  int32_t end = std::numeric_limits<int32_t>::min();
  for (size_t t = 0; t < pos.size(); ++t) {
    if (pos[t].empty()) return 0;
    PP pp{pos[t], 0, offsets[t], pos[t][0] - offsets[t], t};
    end = std::max(end, pp.position);
    pps.push_back(pp);
  }
  // Lucene's PhraseQueue order: position, then offset, then term order.
  auto later = [](const PP& a, const PP& b) {
    if (a.position != b.position) return a.position > b.position;
    if (a.offset != b.offset) return a.offset > b.offset;
    return a.ord > b.ord;
  };
  std::priority_queue<PP, std::vector<PP>, decltype(later)> pq(later, pps);
  auto advance = [&end](PP& pp) {
    if (++pp.i >= pp.v.size()) return false;
    pp.position = pp.v[pp.i] - pp.offset;
    end = std::max(end, pp.position);
    return true;
  };
  double freq = 0;
  PP pp = pq.top();
  pq.pop();
  int64_t match = static_cast<int64_t>(end) - pp.position;
  int32_t next = pq.top().position;
  while (advance(pp)) {
    if (pp.position > next) {
      if (match <= slop) freq += 1.0 / (1.0 + static_cast<double>(match));
      pq.push(pp);
      pp = pq.top();
      pq.pop();
      next = pq.top().position;
      match = static_cast<int64_t>(end) - pp.position;
    } else {
      match = std::min<int64_t>(match, static_cast<int64_t>(end) - pp.position);
    }
  }
  if (match <= slop) freq += 1.0 / (1.0 + static_cast<double>(match));
  return freq;
}

double SloppyFreq(const std::vector<PosList>& pos, const std::vector<int32_t>& offsets, int32_t slop) {
  struct PP {
    const int32_t* at;
    const int32_t* end;
    int32_t offset;
    int32_t position;
  };
  constexpr size_t kMaxTerms = 16;
  const size_t n = pos.size();
  if (n > kMaxTerms || n < 2) return SloppyFreqByQueue(pos, offsets, slop);
  PP pps[kMaxTerms];
  int32_t end = std::numeric_limits<int32_t>::min();
  for (size_t t = 0; t < n; ++t) {
    if (pos[t].empty()) return 0;
    pps[t] = {pos[t].data(), pos[t].data() + pos[t].size(), offsets[t], pos[t][0] - offsets[t]};
    end = std::max(end, pps[t].position);
  }
  auto before = [&](size_t a, size_t b) {  // PhraseQueue order; a term's index breaks ties
    if (pps[a].position != pps[b].position) return pps[a].position < pps[b].position;
    if (pps[a].offset != pps[b].offset) return pps[a].offset < pps[b].offset;
    return a < b;
  };
  // The term behind (h), and the smallest position of the others (next).
  size_t h = 0;
  int32_t next = 0;
  auto settle = [&] {
    h = 0;
    for (size_t t = 1; t < n; ++t) h = before(t, h) ? t : h;
    next = std::numeric_limits<int32_t>::max();
    for (size_t t = 0; t < n; ++t) next = t == h ? next : std::min(next, pps[t].position);
  };
  settle();
  double freq = 0;
  int64_t match = static_cast<int64_t>(end) - pps[h].position;
  while (++pps[h].at < pps[h].end) {
    PP& pp = pps[h];
    pp.position = *pp.at - pp.offset;
    end = std::max(end, pp.position);
    if (pp.position > next) {
      if (match <= slop) freq += 1.0 / (1.0 + static_cast<double>(match));
      settle();
      match = static_cast<int64_t>(end) - pps[h].position;
    } else {
      match = std::min<int64_t>(match, static_cast<int64_t>(end) - pp.position);
    }
  }
  if (match <= slop) freq += 1.0 / (1.0 + static_cast<double>(match));
  return freq;
}

}  // namespace hymir::index::internal
