#include "index/lucene/query_evaluator.h"

#include <lucene++/TermPositions.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <queue>
#include <span>

#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"

namespace hymir::index::internal {
namespace {

constexpr int32_t kEnd = std::numeric_limits<int32_t>::max();

// A document-at-a-time iterator over the matches of a subquery.
// Advance(target) moves to the first match >= target (a no-op when already
// there); Score() is the subquery's score at doc().
class DocIt {
 public:
  virtual ~DocIt() = default;
  int32_t doc() const { return doc_; }
  virtual void Advance(int32_t target) = 0;
  virtual double Score() = 0;
  virtual uint64_t Cost() const = 0;
  // An upper bound of Score() over the matches in [target, *upto], where the
  // callee sets *upto >= target (kEnd: through the last document); may move
  // to target first. +infinity (the default) when unknown. `target` is
  // larger than doc().
  virtual double MaxScoreFrom(int32_t target, int32_t* upto) {
    (void)target;
    *upto = kEnd;
    return std::numeric_limits<double>::infinity();
  }
  // From now on, matches scoring <= `score` may be skipped (top-k collection
  // without an exact total, Lucene's setMinCompetitiveScore). No-op unless
  // the iterator can skip.
  virtual void SetMinCompetitive(double score) { (void)score; }

 protected:
  int32_t doc_ = -1;
};

using DocItPtr = std::unique_ptr<DocIt>;

class EmptyIt final : public DocIt {
 public:
  EmptyIt() { doc_ = kEnd; }
  void Advance(int32_t) override {}
  double Score() override { return 0; }
  uint64_t Cost() const override { return 0; }
};

// Cursor over decoded postings (docs ascending).
struct Cursor {
  std::shared_ptr<const DecodedPostings> p;
  size_t i = 0;
  int32_t doc() const { return i < p->docs.size() ? p->docs[i] : kEnd; }
  uint32_t tf() const { return p->tfs[i]; }
  void Advance(int32_t target) {
    const auto& d = p->docs;
    if (i >= d.size() || d[i] >= target) return;
    size_t lo = i, step = 1;
    while (lo + step < d.size() && d[lo + step] < target) {
      lo += step;
      step <<= 1;
    }
    const size_t hi = std::min(lo + step + 1, d.size());
    i = static_cast<size_t>(std::lower_bound(d.begin() + static_cast<std::ptrdiff_t>(lo),
                                             d.begin() + static_cast<std::ptrdiff_t>(hi), target) -
                            d.begin());
  }
};

// BM25 of a (field, term or phrase) with a given weight (boost * field
// weight * idf): weight * f / (f + k1 (1 - b + b dl / avgdl)).
struct Bm25Norm {
  const uint32_t* lengths = nullptr;
  double k_base = 0, k_slope = 0;
  double Score(double weight, double f, int32_t doc) const {
    return weight * f / (f + k_base + k_slope * lengths[doc]);
  }
};

class TermIt final : public DocIt {
 public:
  TermIt(std::shared_ptr<const DecodedPostings> p, double weight, Bm25Norm norm)
      : c_{std::move(p)}, weight_(weight), norm_(norm) {}
  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    c_.Advance(target);
    doc_ = c_.doc();
  }
  double Score() override { return norm_.Score(weight_, c_.tf(), doc_); }
  uint64_t Cost() const override { return c_.p->docs.size(); }
  double MaxScoreFrom(int32_t target, int32_t* upto) override {
    Advance(target);
    if (doc_ == kEnd) {
      *upto = kEnd;
      return 0;
    }
    const DecodedPostings& p = *c_.p;
    if (!block_max_) block_max_ = p.BlockMaxima(norm_.k_base, norm_.k_slope, norm_.lengths);
    const size_t b = c_.i / DecodedPostings::kBlock;
    *upto = p.docs[std::min(p.docs.size(), (b + 1) * DecodedPostings::kBlock) - 1];
    return weight_ * block_max_->max[b];
  }

 private:
  Cursor c_;
  double weight_;
  Bm25Norm norm_;
  std::shared_ptr<const DecodedPostings::BlockMax> block_max_;  // on first MaxScoreFrom
};

// A sorted doc list scored with a constant (prefix, range, typed leaves).
class ConstIt final : public DocIt {
 public:
  ConstIt(std::vector<int32_t> docs, double score) : docs_(std::move(docs)), score_(score) {}
  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    i_ = static_cast<size_t>(std::lower_bound(docs_.begin() + static_cast<std::ptrdiff_t>(i_), docs_.end(), target) -
                             docs_.begin());
    doc_ = i_ < docs_.size() ? docs_[i_] : kEnd;
  }
  double Score() override { return score_; }
  uint64_t Cost() const override { return docs_.size(); }

 private:
  std::vector<int32_t> docs_;
  size_t i_ = 0;
  double score_;
};

// The positions of one term in one Lucene++ field, for increasing docs:
// from the snapshot's decoded positions (Snapshot::Positions), or, when those
// are not cached (the cache is full, or EvaluationOptions::cached_positions
// is off), through a Lucene++ TermPositions opened on first use.
class PositionReader {
 public:
  PositionReader(const Snapshot& snap, int field, const Lucene::String& term, bool cached)
      : snap_(snap), field_(field), term_(term) {
    if (cached) decoded_ = snap.Positions(field, term);
  }
  ~PositionReader() {
    if (!tp_) return;
    try {
      tp_->close();
    } catch (...) {
    }
  }
  PositionReader(const PositionReader&) = delete;
  PositionReader& operator=(const PositionReader&) = delete;

  // Whether positions come decoded: then they are aligned with the term's
  // decoded postings (Snapshot::Positions checks it), and AtPosting applies.
  bool decoded() const { return decoded_ != nullptr; }
  // Positions of the term in the i-th document of its decoded postings.
  std::span<const int32_t> AtPosting(size_t i) const {
    const uint32_t b = decoded_->starts[i], e = decoded_->starts[i + 1];
    return {decoded_->pos.data() + b, e - b};
  }

  // Positions of the term in `doc` (empty when absent). `doc` never decreases.
  std::span<const int32_t> At(int32_t doc) {
    if (decoded_) {
      const auto& d = decoded_->docs;
      if (i_ < d.size() && d[i_] < doc) {  // gallop, then binary search
        size_t lo = i_, step = 1;
        while (lo + step < d.size() && d[lo + step] < doc) {
          lo += step;
          step <<= 1;
        }
        const size_t hi = std::min(lo + step + 1, d.size());
        i_ = static_cast<size_t>(std::lower_bound(d.begin() + static_cast<std::ptrdiff_t>(lo),
                                                  d.begin() + static_cast<std::ptrdiff_t>(hi), doc) -
                                 d.begin());
      }
      if (i_ >= d.size() || d[i_] != doc) return {};
      const uint32_t b = decoded_->starts[i_], e = decoded_->starts[i_ + 1];
      return {decoded_->pos.data() + b, e - b};
    }
    if (doc != loaded_) {
      loaded_ = doc;
      pos_.clear();
      if (!tp_) tp_ = snap_.reader()->termPositions(Lucene::newLucene<Lucene::Term>(snap_.SlotField(field_), term_));
      if (cur_ < doc && !done_) {
        if (!tp_->skipTo(doc)) {
          done_ = true;
        } else {
          cur_ = tp_->doc();
        }
      }
      if (!done_ && cur_ == doc) {
        const int32_t f = tp_->freq();
        for (int32_t k = 0; k < f; ++k) pos_.push_back(tp_->nextPosition());
      }
    }
    return pos_;
  }

 private:
  const Snapshot& snap_;
  int field_;
  Lucene::String term_;
  std::shared_ptr<const DecodedPositions> decoded_;
  size_t i_ = 0;
  Lucene::TermPositionsPtr tp_;
  int32_t cur_ = -1;
  int32_t loaded_ = -1;
  bool done_ = false;
  std::vector<int32_t> pos_;
};

using PosList = std::span<const int32_t>;

// Lucene's ExactPhraseMatcher frequency: start positions where every term
// sits at its offset.
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

// Lucene's SloppyPhraseMatcher frequency (without its special handling of
// repeated terms): the sum over matches of 1 / (1 + match length).
double SloppyFreq(const std::vector<PosList>& pos, const std::vector<int32_t>& offsets, int32_t slop) {
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

// The matches of a phrase within one Lucene++ field (title or text) and
// their phrase frequency: the terms' postings leapfrog (rarest first), then
// positions are read for the documents holding every term.
class FieldPhrase {
 public:
  FieldPhrase(const Snapshot& snap, int field, const std::vector<Lucene::String>& terms,
              const std::vector<int32_t>& offsets, int32_t slop, bool cached_positions)
      : snap_(snap),
        field_(field),
        terms_(terms),
        offsets_(offsets),
        slop_(slop),
        cached_positions_(cached_positions),
        readers_(terms.size()),
        pos_(terms.size()) {
    for (const auto& t : terms) cursors_.push_back({snap.Postings(field, t)});
    order_.resize(cursors_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(),
              [&](size_t a, size_t b) { return cursors_[a].p->docs.size() < cursors_[b].p->docs.size(); });
  }
  int32_t doc() const { return doc_; }
  double freq() const { return freq_; }
  uint64_t Cost() const { return cursors_[order_[0]].p->docs.size(); }
  // The smallest tf of the terms at doc() (a candidate): what bounds the
  // phrase's frequency there.
  uint32_t MinTf() const {
    uint32_t tf = UINT32_MAX;
    for (const Cursor& c : cursors_) tf = std::min(tf, c.tf());
    return tf;
  }

  // Moves to the first match >= target (a no-op when already there). Past
  // `limit` it stops at the first candidate (every term there) without
  // reading positions: doc() is then that candidate, not known to match, and
  // a later Advance resumes there.
  void Advance(int32_t target, int32_t limit = kEnd) {
    if (doc_ >= target && verified_) return;
    if (!verified_ && doc_ > target) target = doc_;
    verified_ = true;
    while (true) {
      const int32_t d = Conjoin(target);
      if (d == kEnd) {
        doc_ = kEnd;
        return;
      }
      if (d > limit) {
        doc_ = d;
        verified_ = false;
        return;
      }
      for (size_t t = 0; t < pos_.size(); ++t) {
        if (!readers_[t]) readers_[t] = std::make_unique<PositionReader>(snap_, field_, terms_[t], cached_positions_);
        // Every cursor sits on d: its index is the posting's, no second search.
        pos_[t] = readers_[t]->decoded() ? readers_[t]->AtPosting(cursors_[t].i) : readers_[t]->At(d);
      }
      freq_ = slop_ == 0 ? ExactFreq(pos_, offsets_) : SloppyFreq(pos_, offsets_, slop_);
      if (freq_ > 0) {
        doc_ = d;
        return;
      }
      target = d + 1;
    }
  }

 private:
  int32_t Conjoin(int32_t target) {
    int32_t d = target;
    while (true) {
      Cursor& lead = cursors_[order_[0]];
      lead.Advance(d);
      d = lead.doc();
      if (d == kEnd) return kEnd;
      bool agree = true;
      for (size_t k = 1; k < order_.size(); ++k) {
        Cursor& c = cursors_[order_[k]];
        c.Advance(d);
        if (c.doc() != d) {
          d = c.doc();
          agree = false;
          break;
        }
      }
      if (agree) return d;
      if (d == kEnd) return kEnd;
    }
  }

  const Snapshot& snap_;
  int field_;
  const std::vector<Lucene::String>& terms_;  // the PhraseIt's
  const std::vector<int32_t>& offsets_;       // the PhraseIt's
  int32_t slop_;
  bool cached_positions_;
  std::vector<Cursor> cursors_;
  std::vector<std::unique_ptr<PositionReader>> readers_;  // per term, opened when first needed
  std::vector<size_t> order_;
  std::vector<PosList> pos_;
  int32_t doc_ = -1;
  bool verified_ = true;  // doc_ is a match (false: a candidate past the last limit)
  double freq_ = 0;
};

// A phrase in a text field. In "all" it matches within the title or within
// the text, never across: the union of the two fields' matches, its
// frequency the sum of theirs, scored with the length of "all".
class PhraseIt final : public DocIt {
 public:
  PhraseIt(const Snapshot& snap, int field, const std::vector<Lucene::String>& terms, std::vector<int32_t> offsets,
           int32_t slop, double weight, Bm25Norm norm, bool cached_positions)
      : snap_(snap),
        field_(field),
        slop_(slop),
        terms_(terms),
        offsets_(std::move(offsets)),
        weight_(weight),
        norm_(norm) {
    for (int f : field == kAllField ? std::vector<int>{kTitleField, kTextField} : std::vector<int>{field}) {
      auto sub = std::make_unique<FieldPhrase>(snap, f, terms_, offsets_, slop, cached_positions);
      if (sub->Cost() == 0) continue;  // a term absent from this field
      cost_ += sub->Cost();
      subs_.push_back(std::move(sub));
    }
  }

  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    int32_t d = target;
    while (true) {
      int32_t limit = kEnd;
      if (min_competitive_ > -std::numeric_limits<double>::infinity()) {
        if (d > upto_) {
          const double bound = Bound(d, &upto_);
          if (bound < 0) {  // a term has no posting left in the field
            doc_ = kEnd;
            return;
          }
          // The margin covers rounding: the bound is computed another way.
          if (bound * (1 + 1e-9) <= min_competitive_) {
            if (upto_ >= kEnd - 1) {
              doc_ = kEnd;
              return;
            }
            d = upto_ + 1;
            continue;
          }
        }
        // The next candidate (every term in a field), its positions not read yet.
        int32_t m = kEnd;
        for (auto& sub : subs_) {
          sub->Advance(d, d - 1);
          m = std::min(m, sub->doc());
        }
        if (m == kEnd) {
          doc_ = kEnd;
          return;
        }
        if (m > upto_) {  // past the block bound: check it again there
          d = m;
          continue;
        }
        // The frequency is at most the smallest of the terms' tfs at m.
        if (CandidateBound(m) * (1 + 1e-9) <= min_competitive_) {
          d = m + 1;
          continue;
        }
        d = m;
        limit = m;  // read positions at m only
      }
      int32_t m = kEnd;
      for (auto& sub : subs_) {
        sub->Advance(d, limit);
        m = std::min(m, sub->doc());
      }
      if (m == kEnd) {
        doc_ = kEnd;
        return;
      }
      if (m > limit) {  // no match up to the limit
        d = limit + 1;
        continue;
      }
      doc_ = m;
      freq_ = 0;
      for (auto& sub : subs_) {
        if (sub->doc() == m) freq_ += sub->freq();
      }
      return;
    }
  }
  double Score() override { return norm_.Score(weight_, freq_, doc_); }
  uint64_t Cost() const override { return cost_; }
  // Exact phrases only: a phrase's frequency is at most each of its terms'
  // tf in the field, which bounds its score by each term's block maximum. A
  // sloppy phrase's frequency has no such simple bound.
  void SetMinCompetitive(double score) override {
    if (slop_ == 0) min_competitive_ = score;
  }

 private:
  // The smallest of the terms' block maxima (times the phrase's weight) over
  // [d, *upto], the range where every term stays in its current block; -1
  // when a term has no posting >= d.
  double Bound(int32_t d, int32_t* upto) {
    if (bound_cursors_.empty()) {
      for (const auto& t : terms_) {
        bound_cursors_.push_back({snap_.Postings(field_, t)});
        block_max_.push_back(bound_cursors_.back().p->BlockMaxima(norm_.k_base, norm_.k_slope, norm_.lengths));
      }
    }
    double bound = std::numeric_limits<double>::infinity();
    *upto = kEnd;
    for (size_t t = 0; t < bound_cursors_.size(); ++t) {
      Cursor& c = bound_cursors_[t];
      c.Advance(d);
      if (c.doc() == kEnd) return -1;
      const size_t b = c.i / DecodedPostings::kBlock;
      *upto = std::min(*upto, c.p->docs[std::min(c.p->docs.size(), (b + 1) * DecodedPostings::kBlock) - 1]);
      bound = std::min(bound, weight_ * block_max_[t]->max[b]);
    }
    return bound;
  }

  // The score a phrase match at candidate `d` can reach at most: in each
  // field, its frequency is at most each term's tf at d.
  double CandidateBound(int32_t d) {
    double f = 0;
    for (const auto& sub : subs_) {
      if (sub->doc() == d) f += sub->MinTf();
    }
    return norm_.Score(weight_, f, d);
  }

  const Snapshot& snap_;
  int field_;
  int32_t slop_;
  std::vector<Cursor> bound_cursors_;  // per term, in the phrase's field (block maxima), on first use
  std::vector<std::shared_ptr<const DecodedPostings::BlockMax>> block_max_;
  double min_competitive_ = -std::numeric_limits<double>::infinity();
  int32_t upto_ = -1;  // Bound() holds through here

  std::vector<Lucene::String> terms_;  // read by the subs: declared before them
  std::vector<int32_t> offsets_;
  std::vector<std::unique_ptr<FieldPhrase>> subs_;
  double weight_;
  Bm25Norm norm_;
  uint64_t cost_ = 0;
  double freq_ = 0;
};

class ConjunctionIt final : public DocIt {
 public:
  explicit ConjunctionIt(std::vector<DocItPtr> children) : c_(std::move(children)) {
    std::sort(c_.begin(), c_.end(), [](const DocItPtr& a, const DocItPtr& b) { return a->Cost() < b->Cost(); });
  }
  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    int32_t d = target;
    int32_t upto = -1;  // the children's block bound holds through here
    while (true) {
      if (d > upto && min_competitive_ > -std::numeric_limits<double>::infinity()) {
        // Block-max skipping: the sum of the children's bounds over
        // [d, upto]; when it cannot beat the k-th best score, skip the range.
        double bound = 0;
        upto = kEnd;
        for (auto& c : c_) {
          int32_t u;
          bound += c->MaxScoreFrom(d, &u);
          upto = std::min(upto, u);
        }
        // The margin covers rounding: the bound sums in another order.
        if (bound * (1 + 1e-9) <= min_competitive_) {
          if (upto >= kEnd - 1) {
            d = kEnd;
            break;
          }
          d = upto + 1;
          continue;
        }
      }
      c_[0]->Advance(d);
      d = c_[0]->doc();
      if (d == kEnd) break;
      bool agree = true;
      for (size_t k = 1; k < c_.size(); ++k) {
        c_[k]->Advance(d);
        if (c_[k]->doc() != d) {
          d = c_[k]->doc();
          agree = false;
          break;
        }
      }
      if (agree || d == kEnd) break;
    }
    doc_ = d;
  }
  double MaxScoreFrom(int32_t target, int32_t* upto) override {
    double bound = 0;
    *upto = kEnd;
    for (auto& c : c_) {
      int32_t u;
      bound += c->MaxScoreFrom(target, &u);
      *upto = std::min(*upto, u);
    }
    return bound;
  }
  void SetMinCompetitive(double score) override { min_competitive_ = score; }
  double Score() override {
    double s = 0;
    for (auto& c : c_) s += c->Score();
    return s;
  }
  uint64_t Cost() const override { return c_[0]->Cost(); }

 private:
  std::vector<DocItPtr> c_;
  double min_competitive_ = -std::numeric_limits<double>::infinity();
};

class DisjunctionIt final : public DocIt {
 public:
  explicit DisjunctionIt(std::vector<DocItPtr> children) : c_(std::move(children)) {
    for (auto& c : c_) cost_ += c->Cost();
  }
  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    int32_t d = kEnd;
    for (auto& c : c_) {
      c->Advance(target);
      d = std::min(d, c->doc());
    }
    doc_ = d;
  }
  double Score() override {
    double s = 0;
    for (auto& c : c_) {
      if (c->doc() == doc_) s += c->Score();
    }
    return s;
  }
  uint64_t Cost() const override { return cost_; }

 private:
  std::vector<DocItPtr> c_;
  uint64_t cost_ = 0;
};

// Required matches, optional scores (Lucene's ReqOptSumScorer).
class ReqOptIt final : public DocIt {
 public:
  ReqOptIt(DocItPtr req, DocItPtr opt) : req_(std::move(req)), opt_(std::move(opt)) {}
  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    req_->Advance(target);
    doc_ = req_->doc();
  }
  double Score() override {
    double s = req_->Score();
    opt_->Advance(doc_);
    if (opt_->doc() == doc_) s += opt_->Score();
    return s;
  }
  uint64_t Cost() const override { return req_->Cost(); }

 private:
  DocItPtr req_, opt_;
};

// Required minus excluded (Lucene's ReqExclScorer).
class ReqExclIt final : public DocIt {
 public:
  ReqExclIt(DocItPtr req, DocItPtr excl) : req_(std::move(req)), excl_(std::move(excl)) {}
  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    req_->Advance(target);
    while (req_->doc() != kEnd) {
      excl_->Advance(req_->doc());
      if (excl_->doc() != req_->doc()) break;
      req_->Advance(req_->doc() + 1);
    }
    doc_ = req_->doc();
  }
  double Score() override { return req_->Score(); }
  uint64_t Cost() const override { return req_->Cost(); }

 private:
  DocItPtr req_, excl_;
};

std::vector<int32_t> BitsToDocs(const DocFilter& bits) {
  std::vector<int32_t> docs;
  for (size_t w = 0; w < bits.size(); ++w) {
    for (uint64_t x = bits[w]; x; x &= x - 1) docs.push_back(static_cast<int32_t>(w * 64 + __builtin_ctzll(x)));
  }
  return docs;
}

class Builder {
 public:
  Builder(const Snapshot& snap, const EvaluationOptions& o) : snap_(snap), o_(o) {}

  Result<DocItPtr> Build(const QueryNode& n, double boost) {
    const double b = boost * n.boost;
    if (n.kind == QueryNode::Kind::kBoolean) return BuildBoolean(n, b);
    if (n.field.empty()) {
      std::vector<DocItPtr> per_field;
      for (const auto& [f, w] : o_.default_fields) {
        HYMIR_ASSIGN_OR_RETURN(
            DocItPtr it,
            Leaf(n, f, n.kind == QueryNode::Kind::kPrefix || n.kind == QueryNode::Kind::kRange ? b : b * w));
        per_field.push_back(std::move(it));
      }
      if (per_field.size() == 1) return std::move(per_field[0]);
      return DocItPtr(new DisjunctionIt(std::move(per_field)));
    }
    const int f = snap_.TextSlot(n.field);  // title, text, all or a text field of the schema
    if (f >= 0) return Leaf(n, f, b);
    if (o_.field_hook) {
      HYMIR_ASSIGN_OR_RETURN(std::optional<DocFilter> admitted, o_.field_hook(n));
      if (admitted) return DocItPtr(new ConstIt(BitsToDocs(*admitted), b));
    }
    return Status::InvalidArgument("unknown field \"" + n.field + "\" in query (text fields: title, text, all)");
  }

 private:
  Result<DocItPtr> BuildBoolean(const QueryNode& n, double boost) {
    std::vector<DocItPtr> must, should, must_not;
    for (const QueryClause& c : n.clauses) {
      HYMIR_ASSIGN_OR_RETURN(DocItPtr it, Build(c.node, boost));
      (c.occur == Occur::kMust ? must : c.occur == Occur::kShould ? should : must_not).push_back(std::move(it));
    }
    DocItPtr req;
    if (!must.empty()) {
      req = must.size() == 1 ? std::move(must[0]) : DocItPtr(new ConjunctionIt(std::move(must)));
      if (!should.empty()) {
        DocItPtr opt = should.size() == 1 ? std::move(should[0]) : DocItPtr(new DisjunctionIt(std::move(should)));
        req = DocItPtr(new ReqOptIt(std::move(req), std::move(opt)));
      }
    } else if (!should.empty()) {
      req = should.size() == 1 ? std::move(should[0]) : DocItPtr(new DisjunctionIt(std::move(should)));
    } else {
      return DocItPtr(new EmptyIt());  // nothing but exclusions matches nothing
    }
    if (!must_not.empty()) {
      DocItPtr excl = must_not.size() == 1 ? std::move(must_not[0]) : DocItPtr(new DisjunctionIt(std::move(must_not)));
      req = DocItPtr(new ReqExclIt(std::move(req), std::move(excl)));
    }
    return req;
  }

  Bm25Norm Norm(int f) const {
    Bm25Norm norm;
    norm.lengths = snap_.lengths(f);
    const double avgdl = o_.statistics->AverageFieldLength(snap_.SlotName(f));
    norm.k_base = o_.bm25.k1 * (1.0 - o_.bm25.b);
    norm.k_slope = avgdl > 0 ? o_.bm25.k1 * o_.bm25.b / avgdl : 0.0;
    return norm;
  }

  double Idf(int f, const std::string& term, uint64_t* df) const {
    const std::string_view fname = snap_.SlotName(f);
    *df = o_.statistics->DocFreq(fname, term);
    return Bm25Idf(o_.statistics->DocCount(fname), *df);
  }

  Result<DocItPtr> Leaf(const QueryNode& n, int f, double weight) {
    switch (n.kind) {
      case QueryNode::Kind::kTerm: {
        uint64_t df = 0;
        const double idf = Idf(f, n.text, &df);
        if (df == 0) return DocItPtr(new EmptyIt());
        return DocItPtr(new TermIt(snap_.Postings(f, Wide(n.text)), weight * idf, Norm(f)));
      }
      case QueryNode::Kind::kPhrase: {
        double idf = 0;
        std::vector<Lucene::String> terms;
        for (const std::string& t : n.terms) {
          uint64_t df = 0;
          idf += Idf(f, t, &df);
          if (df == 0) return DocItPtr(new EmptyIt());
          terms.push_back(Wide(t));
        }
        return DocItPtr(new PhraseIt(snap_, f, terms, n.positions, n.slop, weight * idf, Norm(f), o_.cached_positions));
      }
      case QueryNode::Kind::kPrefix:
      case QueryNode::Kind::kRange: {
        HYMIR_ASSIGN_OR_RETURN(DocFilter bits, Expand(n, f));
        return DocItPtr(new ConstIt(BitsToDocs(bits), weight));
      }
      case QueryNode::Kind::kBoolean:
        break;
    }
    return Status::Internal("query leaf of an unexpected kind");
  }

  // The documents having a term of `n`'s prefix or range in field `f` (for
  // "all": in title or text).
  Result<DocFilter> Expand(const QueryNode& n, int f) {
    DocFilter bits((static_cast<size_t>(snap_.max_doc()) + 63) / 64, 0);
    const std::vector<int> subfields = f == kAllField ? std::vector<int>{kTitleField, kTextField} : std::vector<int>{f};
    const bool prefix = n.kind == QueryNode::Kind::kPrefix;
    const Lucene::String start = prefix ? Wide(n.text) : n.lower ? Wide(*n.lower) : Lucene::String();
    const std::optional<Lucene::String> upper =
        !prefix && n.upper ? std::optional<Lucene::String>(Wide(*n.upper)) : std::nullopt;
    size_t expanded = 0;
    for (int sub : subfields) {
      const Lucene::String field = snap_.SlotField(sub);
      Lucene::TermEnumPtr te = snap_.reader()->terms(Lucene::newLucene<Lucene::Term>(field, start));
      Lucene::TermDocsPtr td = snap_.reader()->termDocs();
      do {
        Lucene::TermPtr t = te->term();
        if (!t || t->field() != field) break;
        const Lucene::String& text = t->text();
        if (prefix) {
          if (text.compare(0, start.size(), start) != 0) break;
        } else {
          if (n.lower && !n.include_lower && text == start) continue;
          if (upper) {
            const int c = text.compare(*upper);
            if (c > 0 || (c == 0 && !n.include_upper)) break;
          }
        }
        if (++expanded > o_.max_expansions) {
          te->close();
          td->close();
          return Status::InvalidArgument("query " + QueryToString(n) + " expands to more than " +
                                         std::to_string(o_.max_expansions) + " terms");
        }
        td->seek(t);
        while (td->next()) {
          const int32_t d = td->doc();
          if (d >= 0 && d < snap_.max_doc()) bits[static_cast<size_t>(d) >> 6] |= uint64_t{1} << (d & 63);
        }
      } while (te->next());
      te->close();
      td->close();
    }
    return bits;
  }

  const Snapshot& snap_;
  const EvaluationOptions& o_;
};

inline bool Better(const ScoredDoc& a, const ScoredDoc& b) {
  return a.score > b.score || (a.score == b.score && a.doc < b.doc);
}

}  // namespace

Result<Evaluation> Evaluate(const Snapshot& snap, const QueryNode& query, const EvaluationOptions& options, size_t n) {
  if (!options.statistics) return Status::Internal("query evaluation without statistics");
  Builder builder(snap, options);
  HYMIR_ASSIGN_OR_RETURN(DocItPtr root, builder.Build(query, 1.0));
  Evaluation out;
  auto worse_on_top = [](const ScoredDoc& a, const ScoredDoc& b) { return Better(a, b); };
  std::priority_queue<ScoredDoc, std::vector<ScoredDoc>, decltype(worse_on_top)> heap(worse_on_top);
  const DocFilter empty;
  const DocFilter& filter = options.filter ? *options.filter : empty;
  for (root->Advance(0); root->doc() != kEnd; root->Advance(root->doc() + 1)) {
    const int32_t d = root->doc();
    if (!Admits(filter, d)) continue;
    ++out.total;
    if (n == 0) continue;
    ScoredDoc cand{d, root->Score()};
    if (heap.size() < n) {
      heap.push(cand);
    } else if (Better(cand, heap.top())) {
      heap.pop();
      heap.push(cand);
    } else {
      continue;
    }
    // Later documents (larger docids) enter only by beating the k-th score.
    if (!options.exact_total && heap.size() == n) root->SetMinCompetitive(heap.top().score);
  }
  out.top.resize(heap.size());
  for (size_t i = out.top.size(); i-- > 0;) {
    out.top[i] = heap.top();
    heap.pop();
  }
  return out;
}

Result<std::optional<DocFilter>> Constraints(const Snapshot& snap, const QueryNode& query,
                                             const EvaluationOptions& options) {
  if (query.kind != QueryNode::Kind::kBoolean) return std::optional<DocFilter>();
  QueryNode required;
  required.kind = QueryNode::Kind::kBoolean;
  bool has_must = false, has_must_not = false;
  for (const QueryClause& c : query.clauses) {
    if (c.occur == Occur::kShould) continue;
    has_must |= c.occur == Occur::kMust;
    has_must_not |= c.occur == Occur::kMustNot;
    required.clauses.push_back(c);
  }
  if (!has_must && !has_must_not) return std::optional<DocFilter>();
  Builder builder(snap, options);
  DocItPtr it;
  if (has_must) {
    HYMIR_ASSIGN_OR_RETURN(it, builder.Build(required, 1.0));
  } else {
    // Exclusions alone: every live document but the excluded ones.
    std::vector<int32_t> live;
    for (int32_t d = 0; d < snap.max_doc(); ++d) {
      if (!snap.reader()->isDeleted(d)) live.push_back(d);
    }
    QueryNode excluded = required;
    for (QueryClause& c : excluded.clauses) c.occur = Occur::kShould;
    HYMIR_ASSIGN_OR_RETURN(DocItPtr excl, builder.Build(excluded, 1.0));
    it = DocItPtr(new ReqExclIt(DocItPtr(new ConstIt(std::move(live), 0.0)), std::move(excl)));
  }
  DocFilter bits((static_cast<size_t>(snap.max_doc()) + 63) / 64, 0);
  for (it->Advance(0); it->doc() != kEnd; it->Advance(it->doc() + 1)) {
    const int32_t d = it->doc();
    bits[static_cast<size_t>(d) >> 6] |= uint64_t{1} << (d & 63);
  }
  return std::optional<DocFilter>(std::move(bits));
}

}  // namespace hymir::index::internal
