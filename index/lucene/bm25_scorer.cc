#include "index/lucene/bm25_scorer.h"

#include <algorithm>
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
      for (size_t i = first_essential; i < m; ++i) {
        if (st[i].cursor->doc() == d) st[i].cursor->Next();
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
