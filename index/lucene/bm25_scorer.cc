#include "index/lucene/bm25_scorer.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <queue>

namespace hymir::index::internal {
namespace {

constexpr int32_t kNoMoreDocs = std::numeric_limits<int32_t>::max();

// Cursor over a term's decoded postings (see Snapshot::Postings).
class PostingCursor {
 public:
  explicit PostingCursor(std::shared_ptr<const DecodedPostings> p)
      : p_(std::move(p)), docs_(p_->docs.data()), tfs_(p_->tfs.data()), n_(p_->docs.size()) {
    doc_ = n_ ? docs_[0] : kNoMoreDocs;
  }

  int32_t doc() const { return doc_; }
  uint32_t freq() const { return tfs_[i_]; }
  size_t size() const { return n_; }

  void Next() { doc_ = ++i_ < n_ ? docs_[i_] : kNoMoreDocs; }

  // Moves to the first posting with doc >= target (galloping search).
  void Advance(int32_t target) {
    size_t lo = i_, step = 1;
    while (lo + step < n_ && docs_[lo + step] < target) {
      lo += step;
      step <<= 1;
    }
    const size_t hi = std::min(lo + step + 1, n_);
    i_ = static_cast<size_t>(std::lower_bound(docs_ + lo, docs_ + hi, target) - docs_);
    doc_ = i_ < n_ ? docs_[i_] : kNoMoreDocs;
  }

 private:
  std::shared_ptr<const DecodedPostings> p_;
  const int32_t* docs_;
  const uint32_t* tfs_;
  size_t n_;
  size_t i_ = 0;
  int32_t doc_;
};

struct TermState {
  const ScoredTerm* term;
  const uint32_t* lengths;
  double k_base;   // k1 * (1 - b)
  double k_slope;  // k1 * b / avgdl
  double upper;    // the largest contribution any posting of the term can make
  std::unique_ptr<PostingCursor> cursor;

  double Score(int32_t doc, uint32_t tf) const {
    const double t = tf;
    return term->weight * t / (t + k_base + k_slope * lengths[doc]);
  }
};

std::vector<TermState> MakeStates(const Snapshot& snap, const std::vector<ScoredTerm>& terms, const Bm25Params& p) {
  std::vector<TermState> states;
  states.reserve(terms.size());
  for (const auto& t : terms) {
    TermState s;
    s.term = &t;
    s.lengths = snap.lengths(t.field);
    s.k_base = p.k1 * (1.0 - p.b);
    s.k_slope = t.avgdl > 0 ? p.k1 * p.b / t.avgdl : 0.0;
    auto postings = snap.Postings(t.field, t.term);
    // The score is increasing in tf and decreasing in dl: its maximum over
    // the postings lies on the (tf, min dl) frontier.
    s.upper = 0;
    for (const auto& [tf, dl] : postings->frontier) {
      s.upper = std::max(s.upper, t.weight * tf / (tf + s.k_base + s.k_slope * dl));
    }
    s.upper = std::nextafter(s.upper, std::numeric_limits<double>::infinity());
    s.cursor = std::make_unique<PostingCursor>(std::move(postings));
    states.push_back(std::move(s));
  }
  return states;
}

// "a ranks before b": higher score, then lower docid.
inline bool Better(const ScoredDoc& a, const ScoredDoc& b) {
  return a.score > b.score || (a.score == b.score && a.doc < b.doc);
}

struct WorseOnTop {
  bool operator()(const ScoredDoc& a, const ScoredDoc& b) const { return Better(a, b); }
};

std::vector<ScoredDoc> Drain(std::priority_queue<ScoredDoc, std::vector<ScoredDoc>, WorseOnTop>& heap) {
  std::vector<ScoredDoc> out(heap.size());
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = heap.top();
    heap.pop();
  }
  return out;
}

}  // namespace

int32_t NextAdmitted(const DocFilter& filter, int32_t from, int32_t max_doc) {
  if (filter.empty()) return from < max_doc ? from : kNoMoreDocs;
  if (from >= max_doc) return kNoMoreDocs;
  size_t w = static_cast<size_t>(from) >> 6;
  if (w >= filter.size()) return kNoMoreDocs;
  uint64_t bits = filter[w] & (~uint64_t{0} << (from & 63));
  while (bits == 0) {
    if (++w >= filter.size()) return kNoMoreDocs;
    bits = filter[w];
  }
  const int64_t d = static_cast<int64_t>(w * 64) + std::countr_zero(bits);
  return d < max_doc ? static_cast<int32_t>(d) : kNoMoreDocs;
}

uint64_t CountAdmitted(const std::vector<std::shared_ptr<const DecodedPostings>>& lists, const DocFilter& filter,
                       int32_t max_doc) {
  const size_t words = (static_cast<size_t>(std::max(max_doc, 0)) + 63) / 64;
  uint64_t postings = 0;
  for (const auto& p : lists) postings += p->docs.size();
  uint64_t admitted = 0;
  for (uint64_t w : filter) admitted += static_cast<uint64_t>(std::popcount(w));
  if (filter.empty() || admitted * 8 > postings) {  // mark every posting, then count the admitted marks
    DocFilter any(words, 0);
    for (const auto& p : lists) {
      for (int32_t d : p->docs) any[static_cast<size_t>(d) >> 6] |= uint64_t{1} << (d & 63);
    }
    uint64_t n = 0;
    for (size_t w = 0; w < any.size(); ++w)
      n += static_cast<uint64_t>(std::popcount(filter.empty() ? any[w] : any[w] & filter[w]));
    return n;
  }
  // A selective filter: look its documents up in each list (galloping).
  std::vector<size_t> at(lists.size(), 0);
  uint64_t n = 0;
  for (int32_t d = NextAdmitted(filter, 0, max_doc); d != kNoMoreDocs; d = NextAdmitted(filter, d + 1, max_doc)) {
    for (size_t l = 0; l < lists.size(); ++l) {
      const std::vector<int32_t>& docs = lists[l]->docs;
      size_t lo = at[l], step = 1;
      while (lo + step < docs.size() && docs[lo + step] < d) {
        lo += step;
        step <<= 1;
      }
      const size_t hi = std::min(lo + step + 1, docs.size());
      at[l] = static_cast<size_t>(std::lower_bound(docs.begin() + static_cast<std::ptrdiff_t>(lo),
                                                   docs.begin() + static_cast<std::ptrdiff_t>(hi), d) -
                                  docs.begin());
      if (at[l] < docs.size() && docs[at[l]] == d) {
        ++n;
        break;
      }
    }
  }
  return n;
}

std::vector<ScoredDoc> TopKMaxScore(const Snapshot& snap, const std::vector<ScoredTerm>& terms,
                                    const Bm25Params& params, const DocFilter& filter, size_t n, SearchStats* stats) {
  std::vector<ScoredDoc> empty;
  if (n == 0 || terms.empty() || snap.max_doc() == 0) return empty;
  std::vector<TermState> st = MakeStates(snap, terms, params);
  // Ascending upper bounds; prefix[i] = sum of bounds of terms 0..i.
  std::sort(st.begin(), st.end(), [](const TermState& a, const TermState& b) { return a.upper < b.upper; });
  const size_t m = st.size();
  std::vector<double> prefix(m);
  double acc = 0;
  for (size_t i = 0; i < m; ++i) prefix[i] = (acc += st[i].upper);

  std::priority_queue<ScoredDoc, std::vector<ScoredDoc>, WorseOnTop> heap;
  double theta = -std::numeric_limits<double>::infinity();  // score to beat once the heap is full
  size_t first_essential = 0;                               // terms [0, first_essential) cannot alone beat theta
  uint64_t postings = 0, docs = 0;

  while (first_essential < m) {
    int32_t d = kNoMoreDocs;
    for (size_t i = first_essential; i < m; ++i) d = std::min(d, st[i].cursor->doc());
    if (d == kNoMoreDocs) break;
    if (!Admits(filter, d)) {
      // Straight to the next admitted document: a selective filter costs
      // its own documents, not the terms' postings.
      const int32_t next = NextAdmitted(filter, d + 1, snap.max_doc());
      for (size_t i = first_essential; i < m; ++i) {
        if (st[i].cursor->doc() < next) st[i].cursor->Advance(next);
      }
      continue;
    }
    double score = 0;
    for (size_t i = first_essential; i < m; ++i) {
      PostingCursor& c = *st[i].cursor;
      if (c.doc() == d) {
        score += st[i].Score(d, c.freq());
        ++postings;
        c.Next();
      }
    }
    ++docs;
    const bool full = heap.size() >= n;
    bool pruned = false;
    for (size_t i = first_essential; i-- > 0;) {
      if (full && score + prefix[i] <= theta) {
        pruned = true;
        break;
      }
      PostingCursor& c = *st[i].cursor;
      if (c.doc() < d) c.Advance(d);
      if (c.doc() == d) {
        score += st[i].Score(d, c.freq());
        ++postings;
      }
    }
    if (pruned) continue;
    ScoredDoc cand{d, score};
    if (!full) {
      heap.push(cand);
    } else if (Better(cand, heap.top())) {
      heap.pop();
      heap.push(cand);
    } else {
      continue;
    }
    if (heap.size() >= n) {
      theta = heap.top().score;
      while (first_essential < m && prefix[first_essential] <= theta) ++first_essential;
    }
  }
  if (stats) {
    stats->postings_scored += postings;
    stats->docs_scored += docs;
  }
  return Drain(heap);
}

std::vector<ScoredDoc> AllMatches(const Snapshot& snap, const std::vector<ScoredTerm>& terms, const Bm25Params& params,
                                  const DocFilter& filter, size_t max_merged_terms) {
  std::vector<ScoredDoc> out;
  if (terms.empty() || snap.max_doc() == 0) return out;
  std::vector<TermState> st = MakeStates(snap, terms, params);
  // A few terms: merge their postings by docid (no arrays over every
  // document to allocate and scan). A document's score sums its terms in
  // query order either way, so the scores are the same to the bit.
  if (st.size() <= max_merged_terms) {
    size_t postings = 0;
    for (const auto& s : st) postings += s.cursor->size();
    out.reserve(std::min(postings, static_cast<size_t>(snap.max_doc())));
    while (true) {
      int32_t d = kNoMoreDocs;
      for (const auto& s : st) d = std::min(d, s.cursor->doc());
      if (d == kNoMoreDocs) break;
      double score = 0.0;
      for (auto& s : st) {
        if (s.cursor->doc() != d) continue;
        score += s.Score(d, s.cursor->freq());
        s.cursor->Next();
      }
      if (Admits(filter, d)) out.push_back({d, score});
    }
    return out;
  }
  std::vector<double> scores(static_cast<size_t>(snap.max_doc()), 0.0);
  std::vector<char> hit(static_cast<size_t>(snap.max_doc()), 0);
  for (auto& s : st) {
    for (PostingCursor& c = *s.cursor; c.doc() != kNoMoreDocs; c.Next()) {
      scores[c.doc()] += s.Score(c.doc(), c.freq());
      hit[c.doc()] = 1;
    }
  }
  for (int32_t d = 0; d < snap.max_doc(); ++d) {
    if (hit[d] && Admits(filter, d)) out.push_back({d, scores[d]});
  }
  return out;
}

std::vector<ScoredDoc> TopKExhaustive(const Snapshot& snap, const std::vector<ScoredTerm>& terms,
                                      const Bm25Params& params, const DocFilter& filter, size_t n) {
  if (n == 0) return {};
  std::vector<ScoredDoc> out = AllMatches(snap, terms, params, filter);
  size_t keep = std::min(n, out.size());
  std::partial_sort(out.begin(), out.begin() + keep, out.end(), Better);
  out.resize(keep);
  return out;
}

}  // namespace hymir::index::internal
