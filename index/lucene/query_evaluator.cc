#include "index/lucene/query_evaluator.h"

#include <lucene++/TermPositions.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <queue>
#include <span>

#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/phrase_freq.h"

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
  // p's dense index (DecodedPostings::Dense) when it has one and the
  // cursor's owner keeps it alive: far targets are then found in constant
  // time instead of by galloping.
  const DecodedPostings::DenseIndex* dense = nullptr;
  int32_t doc() const { return i < p->docs.size() ? p->docs[i] : kEnd; }
  uint32_t tf() const { return p->tfs[i]; }
  void Advance(int32_t target) {
    const auto& d = p->docs;
    if (i >= d.size() || d[i] >= target) return;
    // Near targets (the next few postings) without the galloping search.
    const size_t near = std::min(d.size(), i + 4);
    for (++i; i < near; ++i) {
      if (d[i] >= target) return;
    }
    if (i >= d.size()) return;
    if (dense) {
      i = dense->Next(target, d.size());
      return;
    }
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
  TermIt(std::shared_ptr<const DecodedPostings> p, double weight, Bm25Norm norm, int32_t max_doc)
      : c_{std::move(p)}, weight_(weight), norm_(norm) {
    dense_ = c_.p->Dense(max_doc);
    c_.dense = dense_.get();
  }
  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    c_.Advance(target);
    doc_ = c_.doc();
  }
  double Score() override { return norm_.Score(weight_, c_.tf(), doc_); }
  uint64_t Cost() const override { return c_.p->docs.size(); }
  // The cursor, for a conjunction that walks the postings itself; it calls
  // Sync() after moving it.
  Cursor& cursor() { return c_; }
  void Sync() { doc_ = c_.doc(); }
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
  std::shared_ptr<const DecodedPostings::DenseIndex> dense_;    // c_.dense's owner
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
  // Their mask (DecodedPositions::masks).
  uint64_t MaskAtPosting(size_t i) const { return decoded_->masks[i]; }

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

// What bounds a phrase's frequency in a document from its terms' tfs there
// (at the cursors): an exact phrase matches at most once per position of
// each term (ExactFreq); a sloppy phrase counts at most one match per move of
// a term to its next position, plus the last, each adding at most 1
// (SloppyFreq).
uint64_t PhraseFreqBound(const std::vector<Cursor>& cursors, int32_t slop) {
  if (slop == 0) {
    uint32_t f = UINT32_MAX;
    for (const Cursor& c : cursors) f = std::min(f, c.tf());
    return f;
  }
  uint64_t f = 1;
  for (const Cursor& c : cursors) f += c.tf() - 1;
  return f;
}

// A phrase's terms' positions in one Lucene++ field (PositionReaders opened
// on first use), and the phrase's frequency in a document from them.
class PhrasePositions {
 public:
  PhrasePositions(const Snapshot& snap, int field, const std::vector<Lucene::String>& terms,
                  const std::vector<int32_t>& offsets, int32_t slop, bool cached)
      : snap_(snap),
        field_(field),
        terms_(terms),
        offsets_(offsets),
        slop_(slop),
        cached_(cached),
        readers_(terms.size()),
        pos_(terms.size()),
        split_(field == kAllField && !snap.all_indexed()),
        head_(terms.size()),
        tail_(terms.size()) {
    const int32_t low = *std::min_element(offsets.begin(), offsets.end());
    for (int32_t o : offsets) shifts_.push_back(o - low);
  }

  // Whether every term's positions come decoded (then At reads them by
  // posting index).
  bool Decoded() {
    for (size_t t = 0; t < readers_.size(); ++t) {
      if (!Reader(t).decoded()) return false;
    }
    return true;
  }

  // The phrase's frequency in `d`, where term t (in the phrase's order) is
  // the posting at(t) of its decoded postings when they are decoded.
  template <class PostingOf>
  double At(int32_t d, const PostingOf& at) {
    if (decoded_) {
      const double f = MaskFreq(at);
      if (f >= 0) return f;
    }
    for (size_t t = 0; t < readers_.size(); ++t) {
      PositionReader& r = Reader(t);
      pos_[t] = r.decoded() ? r.AtPosting(at(t)) : r.At(d);
    }
    if (slop_ == 0) return ExactFreq(pos_, offsets_);
    if (!split_) return SloppyFreq(pos_, offsets_, slop_);
    // The derived "all": the title's frequency plus the text's, summed as
    // the two fields' phrases sum them (an exact phrase cannot span the two:
    // Snapshot::Positions).
    bool title = true, text = true;
    for (size_t t = 0; t < pos_.size(); ++t) {
      const PosList& p = pos_[t];
      const size_t mid =
          static_cast<size_t>(std::lower_bound(p.begin(), p.end(), Snapshot::kDerivedTextShift) - p.begin());
      head_[t] = p.first(mid);
      tail_[t] = p.subspan(mid);
      title &= mid > 0;
      text &= mid < p.size();
    }
    double f = 0;
    if (title) f += SloppyFreq(head_, offsets_, slop_);
    if (text) f += SloppyFreq(tail_, offsets_, slop_);
    return f;
  }

  // What the terms' masks (DecodedPositions::masks) tell of the phrase's
  // frequency in the document where term t is posting at(t): the frequency
  // itself (an exact phrase whose terms' positions all fit the masks), 0
  // when no match is possible, or -1 when the positions must be read.
  // Requires Decoded().
  template <class PostingOf>
  double MaskFreq(const PostingOf& at) const {
    constexpr int32_t kBits = DecodedPositions::kMaskBits;
    constexpr uint64_t kRing = DecodedPositions::kInexact - 1;  // the low kBits bits
    if (slop_ >= kBits - 1) return -1;                          // any window holds every term
    // Each term's positions less its offset, as residues modulo kBits: a
    // match puts every term at the same residue (exact phrases) or within
    // slop residues after some residue (sloppy ones).
    uint64_t ring = kRing, starts = kRing;
    bool exact = slop_ == 0;
    for (size_t t = 0; t < readers_.size(); ++t) {
      const uint64_t m = readers_[t]->MaskAtPosting(at(t));
      exact &= !(m & DecodedPositions::kInexact);
      const int32_t k = shifts_[t] % kBits;
      uint64_t r = k == 0 ? m & kRing : ((m & kRing) >> k | (m << (kBits - k))) & kRing;
      for (int32_t j = 1; j <= slop_; ++j) r |= (r << 1 | r >> (kBits - 1)) & kRing;
      ring &= r;
      starts &= shifts_[t] < kBits ? m >> shifts_[t] : 0;
    }
    if (ring == 0) return 0;
    if (!exact) return -1;
    // Positions below kBits: the shifted sets intersect in the matches' starts.
    double f = 0;
    for (; starts; starts &= starts - 1) f += 1;
    return f;
  }

 private:
  PositionReader& Reader(size_t t) {
    if (!readers_[t]) {
      readers_[t] = std::make_unique<PositionReader>(snap_, field_, terms_[t], cached_);
      opened_ += 1;
      if (opened_ == readers_.size()) {
        decoded_ = true;
        for (const auto& r : readers_) decoded_ &= r->decoded();
      }
    }
    return *readers_[t];
  }

  const Snapshot& snap_;
  int field_;
  const std::vector<Lucene::String>& terms_;  // the PhraseIt's
  const std::vector<int32_t>& offsets_;       // the PhraseIt's
  int32_t slop_;
  bool cached_;
  std::vector<std::unique_ptr<PositionReader>> readers_;  // per term, opened when first needed
  size_t opened_ = 0;
  bool decoded_ = false;         // every reader opened and decoded
  std::vector<int32_t> shifts_;  // offsets less the smallest
  std::vector<PosList> pos_;
  bool split_;                        // the derived "all": title positions, then moved text ones
  std::vector<PosList> head_, tail_;  // split_: pos_ in the title and in the text
};

// The matches of a phrase within one Lucene++ field (title or text) and
// their phrase frequency: the terms' postings leapfrog (rarest first), then
// positions are read for the documents holding every term.
class FieldPhrase {
 public:
  FieldPhrase(const Snapshot& snap, int field, const std::vector<Lucene::String>& terms,
              const std::vector<int32_t>& offsets, int32_t slop, bool cached_positions)
      : field_(field), slop_(slop), positions_(snap, field, terms, offsets, slop, cached_positions) {
    for (const auto& t : terms) cursors_.push_back({snap.Postings(field, t)});
    order_.resize(cursors_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(),
              [&](size_t a, size_t b) { return cursors_[a].p->docs.size() < cursors_[b].p->docs.size(); });
    for (size_t k = 1; k < order_.size(); ++k) {  // the lead steps through its postings; the others jump
      Cursor& c = cursors_[order_[k]];
      dense_.push_back(c.p->Dense(snap.max_doc()));
      c.dense = dense_.back().get();
    }
  }
  int32_t doc() const { return doc_; }
  int field() const { return field_; }
  double freq() const { return freq_; }
  uint64_t Cost() const { return cursors_[order_[0]].p->docs.size(); }
  // What bounds the phrase's frequency at doc() (a candidate) from the
  // terms' tfs there (PhraseFreqBound).
  uint64_t FreqBound() const { return PhraseFreqBound(cursors_, slop_); }

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
      // Every cursor sits on d: its index is the posting's, no second search.
      freq_ = positions_.At(d, [this](size_t t) { return cursors_[t].i; });
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

  int field_;
  int32_t slop_;
  std::vector<Cursor> cursors_;
  std::vector<std::shared_ptr<const DecodedPostings::DenseIndex>> dense_;  // the cursors' dense indexes
  PhrasePositions positions_;
  std::vector<size_t> order_;
  int32_t doc_ = -1;
  bool verified_ = true;  // doc_ is a match (false: a candidate past the last limit)
  double freq_ = 0;
};

// Which frequencies can still score above the k-th best hit at a document:
// for each frequency f, the shortest document length at which a match of
// frequency at most f cannot (a BM25 score falls as the length grows), so
// that a posting is tested with one comparison. Computed on demand per f
// and threshold.
class CompetitiveLengths {
 public:
  CompetitiveLengths(double weight, Bm25Norm norm) : weight_(weight), norm_(norm) {}
  void SetThreshold(double min_competitive) {
    if (min_competitive == theta_) return;
    theta_ = min_competitive;
    ++generation_;
  }
  // Whether a match of frequency at most f at a document of length dl may
  // beat the threshold.
  bool Competitive(uint64_t f, uint32_t dl) {
    if (f >= kTable) return !Skip(static_cast<double>(f), dl);
    if (stamp_[f] != generation_) {
      limit_[f] = Limit(static_cast<double>(f));
      stamp_[f] = generation_;
    }
    return dl < limit_[f];
  }
  // Whether a score of at most `bound` cannot beat the threshold. The margin
  // covers rounding: bounds and scores are computed in different orders.
  bool Beaten(double bound) const { return bound * (1 + 1e-9) <= theta_; }

 private:
  static constexpr size_t kTable = 64;
  bool Skip(double f, double dl) const { return Beaten(weight_ * f / (f + norm_.k_base + norm_.k_slope * dl)); }
  // The smallest length at which frequency f is beaten (2^32: none). The
  // score is non-increasing in the length, in floating point too, so the
  // closed form's estimate only needs correcting for rounding.
  uint64_t Limit(double f) const {
    double lo = 0, hi = std::numeric_limits<uint32_t>::max();  // !Skip(f, lo), Skip(f, hi)
    if (Skip(f, lo)) return 0;
    if (!Skip(f, hi)) return uint64_t{1} << 32;
    if (norm_.k_slope > 0) {  // the closed form, off by rounding at most
      const double x = std::clamp(std::ceil((weight_ * f / theta_ - f - norm_.k_base) / norm_.k_slope), lo + 1, hi - 1);
      if (Skip(f, x)) {
        hi = x;
        if (!Skip(f, x - 1)) return static_cast<uint64_t>(hi);
      } else {
        lo = x;
        if (Skip(f, x + 1)) return static_cast<uint64_t>(x + 1);
      }
    }
    while (hi - lo > 1) {
      const double mid = std::floor((lo + hi) / 2);
      (Skip(f, mid) ? hi : lo) = mid;
    }
    return static_cast<uint64_t>(hi);
  }

  double weight_;
  Bm25Norm norm_;
  double theta_ = -std::numeric_limits<double>::infinity();
  uint64_t generation_ = 1;
  std::array<uint64_t, kTable> limit_{};
  std::array<uint64_t, kTable> stamp_{};
};

// A phrase in a text field. In "all" it matches within the title or within
// the text, never across: the union of the two fields' matches, its
// frequency the sum of theirs, scored with the length of "all".
//
// Without an exact total (SetMinCompetitive), candidates come from the
// phrase field's postings instead, rarest term first, and positions are read
// only where a match could enter the top k: a match's frequency is at most
// each term's tf there (exact phrases) or the sum of the terms' tfs less
// one per term after the first (sloppy phrases: each match but the last
// follows a move of one term to its next position), and within a field at
// most the same of that field's tfs.
class PhraseIt final : public DocIt {
 public:
  PhraseIt(const Snapshot& snap, int field, const std::vector<Lucene::String>& terms, std::vector<int32_t> offsets,
           int32_t slop, double weight, Bm25Norm norm, bool cached_positions)
      : snap_(snap),
        field_(field),
        slop_(slop),
        cached_positions_(cached_positions),
        terms_(terms),
        offsets_(std::move(offsets)),
        weight_(weight),
        norm_(norm),
        lengths_(weight, norm) {
    // The derived "all" reads its merged positions (Prepare): no per-field
    // phrases are needed unless they are not cached.
    if (field == kAllField && !snap.all_indexed() && cached_positions) {
      Prepare();
      if (direct_) {
        cost_ = terms_postings_[0].p->docs.size();
        return;
      }
      terms_postings_.clear();
      rank_.clear();
      dense_.clear();
      block_max_.clear();
      lead_extra_ = 0;
    }
    for (int f : field == kAllField ? std::vector<int>{kTitleField, kTextField} : std::vector<int>{field}) {
      auto sub = std::make_unique<FieldPhrase>(snap, f, terms_, offsets_, slop, cached_positions);
      if (sub->Cost() == 0) continue;  // a term absent from this field
      cost_ += sub->Cost();
      subs_.push_back(std::move(sub));
    }
  }

  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    if (pruning_) {
      AdvanceCompetitive(target);
      return;
    }
    if (direct_) {
      AdvanceDirect(target);
      return;
    }
    int32_t m = kEnd;
    for (auto& sub : subs_) {
      sub->Advance(target);
      m = std::min(m, sub->doc());
    }
    Settle(m);
  }
  double Score() override { return norm_.Score(weight_, freq_, doc_); }
  uint64_t Cost() const override { return cost_; }
  void SetMinCompetitive(double score) override {
    if (weight_ <= 0 || (subs_.empty() && !direct_)) return;  // bounds assume scores rise with the frequency
    pruning_ = true;
    lengths_.SetThreshold(score);
  }

 private:
  // doc_ = m, a match (or kEnd) of the subs, with the sum of their frequencies.
  void Settle(int32_t m) {
    doc_ = m;
    freq_ = 0;
    if (m == kEnd) return;
    for (auto& sub : subs_) {
      if (sub->doc() == m) freq_ += sub->freq();
    }
  }

  void AdvanceCompetitive(int32_t target) {
    if (terms_postings_.empty()) Prepare();
    const size_t n = terms_postings_.size();
    int32_t d = target;
    while (true) {
      d = NextLeadCandidate(d);
      if (d == kEnd) return Settle(kEnd);
      // Every other term at d, in a block that may score, or the next doc to try.
      int32_t next = d;
      for (size_t k = 1; k < n && next == d; ++k) {
        if (!OtherAt(k, d, &next) || dense_[k]) continue;
        Cursor& c = terms_postings_[k];
        if (slop_ == 0) {
          const size_t b = c.i / DecodedPostings::kBlock;
          if (lengths_.Beaten(weight_ * block_max_[k]->max[b])) {
            const int32_t last = c.p->docs[std::min(c.p->docs.size(), (b + 1) * DecodedPostings::kBlock) - 1];
            next = last == kEnd - 1 ? kEnd : last + 1;
          }
        }
      }
      if (next == kEnd) return Settle(kEnd);
      if (next != d) {
        d = next;
        continue;
      }
      auto posting = [this](size_t t) { return terms_postings_[rank_[t]].i; };
      if (direct_) {
        // The masks first (no tf read): most documents are settled by them.
        double f = direct_->MaskFreq(posting);
        if (f < 0) {
          f = lengths_.Competitive(FreqBound(terms_postings_), norm_.lengths[d]) ? direct_->At(d, posting) : 0;
        }
        if (f > 0) {
          doc_ = d;
          freq_ = f;
          return;
        }
        ++d;
        continue;
      }
      if (!lengths_.Competitive(FreqBound(terms_postings_), norm_.lengths[d])) {
        ++d;
        continue;
      }
      // Candidates of the subs (every term in one field), positions unread.
      int32_t m = kEnd;
      for (auto& sub : subs_) {
        sub->Advance(d, d - 1);
        m = std::min(m, sub->doc());
      }
      if (m == kEnd) return Settle(kEnd);
      if (m != d) {  // the terms are at d, but not in one field: the subs' next candidate
        d = m;
        continue;
      }
      uint64_t f = 0;
      for (const auto& sub : subs_) {
        if (sub->doc() == d) f += sub->FreqBound();
      }
      if (!lengths_.Competitive(f, norm_.lengths[d])) {
        ++d;
        continue;
      }
      m = kEnd;
      for (auto& sub : subs_) {
        sub->Advance(d, d);  // positions at d only
        m = std::min(m, sub->doc());
      }
      if (m == d) return Settle(d);
      if (m == kEnd) return Settle(kEnd);
      d = m;  // no match at d; m is the subs' next candidate
    }
  }

  // Moves the cursor of term k (not the lead) to its posting at d: true
  // when it has one, else false with *next the next document to try.
  bool OtherAt(size_t k, int32_t d, int32_t* next) {
    Cursor& c = terms_postings_[k];
    if (dense_[k]) {  // a frequent term: its posting at d looked up, not searched for
      const int64_t i = dense_[k]->Find(d);
      if (i < 0) {
        *next = d + 1;
        return false;
      }
      c.i = static_cast<size_t>(i);
      return true;
    }
    c.Advance(d);
    if (c.doc() == d) return true;
    *next = c.doc();
    return false;
  }

  // The next match >= target when one field holds the phrase's positions
  // (direct_): the terms' postings in the phrase field leapfrog, and the
  // masks, then the positions, settle each candidate.
  void AdvanceDirect(int32_t target) {
    const size_t n = terms_postings_.size();
    int32_t d = target;
    while (true) {
      Cursor& lead = terms_postings_[0];
      lead.Advance(d);
      d = lead.doc();
      if (d == kEnd) return Settle(kEnd);
      int32_t next = d;
      for (size_t k = 1; k < n && next == d; ++k) (void)OtherAt(k, d, &next);
      if (next == kEnd) return Settle(kEnd);
      if (next != d) {
        d = next;
        continue;
      }
      auto posting = [this](size_t t) { return terms_postings_[rank_[t]].i; };
      double f = direct_->MaskFreq(posting);
      if (f < 0) f = direct_->At(d, posting);
      if (f > 0) {
        doc_ = d;
        freq_ = f;
        return;
      }
      ++d;
    }
  }

  // The first posting >= d of the lead (rarest) term where a match may
  // score above the threshold: its tf bounds an exact phrase's frequency;
  // a sloppy phrase's is bounded with the other terms' largest tfs.
  int32_t NextLeadCandidate(int32_t d) {
    Cursor& lead = terms_postings_[0];
    lead.Advance(d);
    const std::vector<int32_t>& docs = lead.p->docs;
    const std::vector<uint32_t>& tfs = lead.p->tfs;
    const uint32_t* lengths = norm_.lengths;
    const size_t end = docs.size();
    size_t i = lead.i;
    while (i < end) {
      const size_t b = i / DecodedPostings::kBlock;
      const size_t block_end = std::min(end, (b + 1) * DecodedPostings::kBlock);
      if (slop_ == 0 && lengths_.Beaten(weight_ * block_max_[0]->max[b])) {
        i = block_end;
        continue;
      }
      for (; i < block_end; ++i) {
        if (lengths_.Competitive(uint64_t{tfs[i]} + lead_extra_, lengths[docs[i]])) {
          lead.i = i;
          return docs[i];
        }
      }
    }
    lead.i = end;
    return kEnd;
  }

  // The bound of the frequency from the terms' tfs at their cursors' doc.
  uint64_t FreqBound(const std::vector<Cursor>& cursors) const { return PhraseFreqBound(cursors, slop_); }

  // The terms' postings in the phrase's field, rarest first, with their
  // block maxima (exact phrases).
  void Prepare() {
    std::vector<Cursor> postings;
    for (const auto& t : terms_) postings.push_back({snap_.Postings(field_, t)});
    std::vector<size_t> order(postings.size());
    for (size_t t = 0; t < order.size(); ++t) order[t] = t;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return postings[a].p->docs.size() < postings[b].p->docs.size(); });
    rank_.resize(order.size());
    for (size_t k = 0; k < order.size(); ++k) {
      rank_[order[k]] = k;
      terms_postings_.push_back(postings[order[k]]);
      dense_.push_back(k == 0 ? nullptr : terms_postings_[k].p->Dense(snap_.max_doc()));
    }
    // When one field holds every posting of every term (the phrase's own
    // field, or "all" for terms absent from the title or from the text), its
    // positions are found by the phrase field's posting index: the subs'
    // leapfrog is not needed.
    if (subs_.size() == 1) {
      const int sub = subs_[0]->field();
      bool same = true;
      for (size_t t = 0; t < terms_.size() && same && sub != field_; ++t) {
        const int other = sub == kTitleField ? kTextField : kTitleField;
        same = snap_.Postings(other, terms_[t])->docs.empty() &&
               snap_.Postings(sub, terms_[t])->docs.size() == postings[t].p->docs.size();
      }
      if (same) {
        direct_ = std::make_unique<PhrasePositions>(snap_, sub, terms_, offsets_, slop_, cached_positions_);
        if (!direct_->Decoded()) direct_.reset();
      }
    }
    // A phrase in the derived "all" of format 2: its positions are the
    // title's, then the text's moved far enough that no exact match spans
    // the two (Snapshot::Positions; sloppy ones are counted per field), so
    // the phrase reads them directly too.
    if (!direct_ && field_ == kAllField && !snap_.all_indexed() && cached_positions_) {
      direct_ = std::make_unique<PhrasePositions>(snap_, field_, terms_, offsets_, slop_, cached_positions_);
      if (!direct_->Decoded()) direct_.reset();
    }
    if (slop_ == 0) {
      for (const Cursor& c : terms_postings_)
        block_max_.push_back(c.p->BlockMaxima(norm_.k_base, norm_.k_slope, norm_.lengths));
    } else {
      for (size_t k = 1; k < terms_postings_.size(); ++k) {
        const auto& frontier = terms_postings_[k].p->frontier;
        lead_extra_ += frontier.empty() ? 0 : frontier.front().first - 1;  // the largest tf, less one
      }
    }
  }

  const Snapshot& snap_;
  int field_;
  int32_t slop_;
  bool pruning_ = false;
  bool cached_positions_;
  std::vector<Cursor> terms_postings_;  // in the phrase's field, rarest first; on first use
  std::vector<size_t> rank_;            // of each term in terms_postings_
  std::vector<std::shared_ptr<const DecodedPostings::DenseIndex>> dense_;    // of terms_postings_ but the lead
  std::vector<std::shared_ptr<const DecodedPostings::BlockMax>> block_max_;  // of terms_postings_
  uint64_t lead_extra_ = 0;  // sloppy: what the other terms add to the lead's tf at most

  std::vector<Lucene::String> terms_;  // read by the subs: declared before them
  std::vector<int32_t> offsets_;
  std::vector<std::unique_ptr<FieldPhrase>> subs_;
  std::unique_ptr<PhrasePositions> direct_;  // the one field holding the terms' postings (see Prepare)
  double weight_;
  Bm25Norm norm_;
  CompetitiveLengths lengths_;
  uint64_t cost_ = 0;
  double freq_ = 0;
};

class ConjunctionIt final : public DocIt {
 public:
  explicit ConjunctionIt(std::vector<DocItPtr> children) : c_(std::move(children)) {
    std::sort(c_.begin(), c_.end(), [](const DocItPtr& a, const DocItPtr& b) { return a->Cost() < b->Cost(); });
    bound_.assign(c_.size(), 0.0);
    upto_.assign(c_.size(), -1);
    // Terms only (the usual "+a +b"): their calls are not virtual.
    for (const auto& c : c_) {
      auto* t = dynamic_cast<TermIt*>(c.get());
      if (t == nullptr) {
        terms_.clear();
        break;
      }
      terms_.push_back(t);
    }
  }
  void Advance(int32_t target) override {
    if (doc_ >= target) return;
    if (terms_.size() == 2 && min_competitive_ == -std::numeric_limits<double>::infinity()) {
      doc_ = NextPair(target);
    } else {
      doc_ = terms_.empty() ? Next(c_, target) : Next(terms_, target);
    }
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
  void SetMinCompetitive(double score) override {
    // Block bounds cost a few calls per block of each child; over a short
    // lead list they skip too little to pay for themselves.
    if (c_[0]->Cost() >= kMinSkippingCost) min_competitive_ = score;
  }
  double Score() override {
    double s = 0;
    if (!terms_.empty()) {
      for (TermIt* t : terms_) s += t->Score();
      return s;
    }
    for (auto& c : c_) s += c->Score();
    return s;
  }
  uint64_t Cost() const override { return c_[0]->Cost(); }

 private:
  // Next() for two terms and no block skipping: a walk of the rarer term's
  // postings, each looked up in the other's (by its bitset when dense).
  int32_t NextPair(int32_t target) {
    Cursor& a = terms_[0]->cursor();
    Cursor& b = terms_[1]->cursor();
    const std::vector<int32_t>& docs = a.p->docs;
    a.Advance(target);
    int32_t found = kEnd;
    while (a.i < docs.size()) {
      const int32_t d = docs[a.i];
      if (b.dense) {
        const int64_t j = b.dense->Find(d);
        if (j >= 0) {
          b.i = static_cast<size_t>(j);
          found = d;
          break;
        }
        ++a.i;
        continue;
      }
      b.Advance(d);
      const int32_t e = b.doc();
      if (e == d) {
        found = d;
        break;
      }
      if (e == kEnd) {
        a.i = docs.size();
        break;
      }
      a.Advance(e);
    }
    terms_[0]->Sync();
    terms_[1]->Sync();
    return found;
  }

  // The first document >= target every child matches, or kEnd. `Children`
  // holds DocItPtr or TermIt* (then the calls are resolved statically).
  template <class Children>
  int32_t Next(Children& c, int32_t target) {
    int32_t d = target;
    int32_t upto = -1;  // the children's block bounds hold through here
    while (true) {
      if (d > upto && min_competitive_ > -std::numeric_limits<double>::infinity()) {
        // Block-max skipping: the sum of the children's bounds over
        // [d, upto]; when it cannot beat the k-th best score, skip the range.
        // A child's bound over a range it still covers is kept (a bound
        // from an earlier target holds for later ones).
        double bound = 0;
        upto = kEnd;
        for (size_t k = 0; k < c.size(); ++k) {
          if (upto_[k] < d) bound_[k] = c[k]->MaxScoreFrom(d, &upto_[k]);
          bound += bound_[k];
          upto = std::min(upto, upto_[k]);
        }
        // The margin covers rounding: the bound sums in another order.
        if (bound * (1 + 1e-9) <= min_competitive_) {
          if (upto >= kEnd - 1) return kEnd;
          d = upto + 1;
          continue;
        }
      }
      c[0]->Advance(d);
      d = c[0]->doc();
      if (d == kEnd) return kEnd;
      bool agree = true;
      for (size_t k = 1; k < c.size(); ++k) {
        c[k]->Advance(d);
        if (c[k]->doc() != d) {
          d = c[k]->doc();
          agree = false;
          break;
        }
      }
      if (agree || d == kEnd) return d;
    }
  }

  static constexpr uint64_t kMinSkippingCost = 1024;
  std::vector<DocItPtr> c_;
  std::vector<TermIt*> terms_;  // c_ when every child is a TermIt, else empty
  std::vector<double> bound_;   // per child: its last block bound, holding through upto_
  std::vector<int32_t> upto_;
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
        return DocItPtr(new TermIt(snap_.Postings(f, Wide(n.text)), weight * idf, Norm(f), snap_.max_doc()));
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
