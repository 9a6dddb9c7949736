// Private: one point-in-time view of a Lucene++ index with what BM25 needs
// that Lucene++ does not keep exactly: document ids and exact field lengths
// by Lucene docid, and per-field document counts and length sums.
#ifndef HYMIR_INDEX_LUCENE_SNAPSHOT_H_
#define HYMIR_INDEX_LUCENE_SNAPSHOT_H_

#include <lucene++/LuceneHeaders.h>

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hymir/index/collection_statistics.h"
#include "hymir/result.h"
#include "index/lucene/doc_values.h"
#include "index/lucene/forward_index.h"
#include "index/lucene/index_layout.h"
#include "index/vector/vector_store.h"

namespace hymir::index::internal {

// A term's live postings decoded into arrays, with what bounds its BM25
// contribution for any k1, b and avgdl: for each distinct tf, the shortest
// document having it (the Pareto frontier of (tf up, dl down); the score
// tf / (tf + k1 (1 - b + b dl / avgdl)) is maximal on it).
struct DecodedPostings {
  std::vector<int32_t> docs;
  std::vector<uint32_t> tfs;
  std::vector<std::pair<uint32_t, uint32_t>> frontier;  // (tf, min dl with that tf)
  // Per block of kBlock postings (the last may be shorter), the largest
  // tf / (tf + k_base + k_slope dl) of its postings: what bounds a block's
  // BM25 scores (block-max skipping of top-k conjunctions). Computed once
  // per (k_base, k_slope) and kept for the last kBlockMaxSets of them.
  // Thread-safe.
  static constexpr size_t kBlock = 32;
  struct BlockMax {
    double k_base, k_slope;
    std::vector<double> max;
  };
  std::shared_ptr<const BlockMax> BlockMaxima(double k_base, double k_slope, const uint32_t* lengths) const;

  // For a term in at least 1/kDenseShare of `max_doc` documents, the index
  // of each document's posting in constant time (a bitset over the docids
  // with the postings before each word, at most half the size of docs and
  // tfs), built on first use; nullptr for rarer terms. Thread-safe.
  static constexpr uint64_t kDenseShare = 16;
  struct DenseIndex {
    struct Word {
      uint64_t bits;    // bit j: document 64 w + j has a posting
      uint64_t before;  // postings of documents below 64 w
    };
    std::vector<Word> words;
    // The index in docs of `doc`'s posting, or -1 when it has none.
    int64_t Find(int32_t doc) const {
      const Word& w = words[static_cast<size_t>(doc) >> 6];
      const uint64_t bit = uint64_t{1} << (doc & 63);
      if (!(w.bits & bit)) return -1;
      return static_cast<int64_t>(w.before + CountBits(w.bits & (bit - 1)));
    }
    // The index in docs of the first posting at or after `doc` (>= 0), or
    // docs.size() when there is none.
    size_t Next(int32_t doc, size_t size) const {
      size_t w = static_cast<size_t>(doc) >> 6;
      if (w >= words.size()) return size;
      uint64_t bits = words[w].bits & (~uint64_t{0} << (doc & 63));
      while (bits == 0) {
        if (++w == words.size()) return size;
        bits = words[w].bits;
      }
      const uint64_t below = (bits & (~bits + 1)) - 1;  // the bits under the lowest set one
      return static_cast<size_t>(words[w].before + CountBits(words[w].bits & below));
    }
    // Set bits (SWAR: no popcnt instruction is assumed).
    static uint64_t CountBits(uint64_t x) {
      x -= (x >> 1) & 0x5555555555555555ULL;
      x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
      x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
      return (x * 0x0101010101010101ULL) >> 56;
    }
  };
  std::shared_ptr<const DenseIndex> Dense(int32_t max_doc) const;

 private:
  mutable std::mutex block_mu_;
  // The last few parameter sets asked (local and global statistics differ).
  static constexpr size_t kBlockMaxSets = 4;
  mutable std::vector<std::shared_ptr<const BlockMax>> block_max_;  // GUARDED_BY(block_mu_)
  mutable std::shared_ptr<const DenseIndex> dense_;                 // GUARDED_BY(block_mu_)
};

// A term's live positions in one Lucene++ field (title, text, or "all"
// when indexed), decoded once: the positions of docs[i] are
// pos[starts[i] .. starts[i + 1]), ascending. What a phrase reads instead of
// opening Lucene++ TermPositions per query.
struct DecodedPositions {
  std::vector<int32_t> docs;
  std::vector<uint32_t> starts;  // docs.size() + 1 entries
  std::vector<int32_t> pos;
  // Per document, its positions modulo kMaskBits as a set (bit p: a
  // position p + j kMaskBits), with kInexact set unless the positions are
  // distinct and below kMaskBits (then the mask is exactly the positions):
  // what a phrase in a document is ruled out by, or, in a short document, an
  // exact phrase's frequency read from, without reading its positions.
  static constexpr int32_t kMaskBits = 63;
  static constexpr uint64_t kInexact = uint64_t{1} << kMaskBits;
  std::vector<uint64_t> masks;
};

class Snapshot {
 public:
  // Loads ids and lengths (of every text slot) for `reader` (which the snapshot then owns and
  // closes on destruction), and the vector stores of the generation its
  // commit names (reused from `previous` when unchanged).
  static Result<std::shared_ptr<Snapshot>> Load(Lucene::IndexReaderPtr reader, const std::string& dir,
                                                const IndexMeta& meta, const Snapshot* previous);
  ~Snapshot();

  const Lucene::IndexReaderPtr& reader() const { return reader_; }
  int32_t max_doc() const { return max_doc_; }
  uint64_t num_docs() const { return num_docs_; }
  const std::string& id(int32_t doc) const { return ids_[doc]; }
  // Text fields by slot: 0 title, 1 text, 2 all (kTextField...), then the
  // text fields of the schema in name order. Every per-field accessor and
  // the postings take a slot.
  int num_text_slots() const { return static_cast<int>(slot_names_.size()); }
  // The slot of the text field `name` (title, text, all or a text field of
  // the schema), or -1.
  int TextSlot(std::string_view name) const;
  const std::string& SlotName(int slot) const { return slot_names_[slot]; }
  // The Lucene++ field holding a slot's postings ("title", "t.<name>", ...).
  const Lucene::String& SlotField(int slot) const { return slot_fields_[slot]; }
  uint32_t length(int field, int32_t doc) const { return lengths_[field][doc]; }
  const uint32_t* lengths(int field) const { return lengths_[field].data(); }
  uint64_t doc_count(int field) const { return doc_count_[field]; }
  uint64_t sum_length(int field) const { return sum_length_[field]; }
  // Live docs containing `term` in text field `field` (exact even with
  // deletions not yet merged away; cached per snapshot).
  uint64_t DocFreq(int field, const Lucene::String& term) const;
  // The same for a UTF-8 term, cached under its UTF-8 spelling too, so that a
  // repeated term costs one hash lookup and no conversion (the re-ranking
  // features ask for about a thousand feedback terms per query).
  uint64_t DocFreqUtf8(int field, std::string_view term) const;

  // The decoded postings of `term` in text field `field`, cached per snapshot
  // until kMaxCachedPostings postings are cached (later terms are decoded
  // for the caller only). Thread-safe.
  std::shared_ptr<const DecodedPostings> Postings(int field, const Lucene::String& term) const;
  static constexpr uint64_t kMaxCachedPostings = uint64_t{64} << 20;
  // Fills this snapshot's postings cache from `from`'s, the snapshot this
  // one reopens: a reopened snapshot then answers its first queries as warm
  // as the one it replaces, and the work runs where the reopen runs, not in a
  // query. Where Load found `from`'s segments unchanged but for deletions
  // (the usual commit: new segments at the end, deletions of replaced
  // documents), each cached list is carried over: its postings in those
  // segments less the documents deleted since, then the new segments'
  // postings (read through Lucene++, small). Otherwise (a merge rewrote the
  // first segment), the kWarmTerms longest lists are decoded again.
  // Requires `from` to be the `previous` this snapshot was loaded with.
  // Thread-safe.
  void CarryPostings(const Snapshot& from) const;
  static constexpr size_t kWarmTerms = 64;
  // Documents [0, carried_docs()) lie in segments of the previous snapshot
  // (see CarryPostings); 0 without one.
  int32_t carried_docs() const { return carried_docs_; }
  // The decoded positions of `term` in the Lucene++ field `field` (in the
  // derived "all" of format 2: its title positions, then its text positions
  // moved by kDerivedTextShift, so an exact phrase matches within one of the
  // two), cached per snapshot; nullptr once caching
  // them would pass kMaxCachedPositions positions (the caller then reads
  // positions through Lucene++ for the documents it needs). A cached term
  // costs 4 bytes a position and 16 a document (docs, starts, masks).
  // Thread-safe.
  std::shared_ptr<const DecodedPositions> Positions(int field, const Lucene::String& term) const;
  static constexpr uint64_t kMaxCachedPositions = uint64_t{64} << 20;
  // How far text positions are moved in the derived "all" (Positions).
  static constexpr int32_t kDerivedTextShift = int32_t{1} << 30;
  // Whether "all" has its own Lucene++ postings (format 1) or is derived
  // from "title" and "text" (format 2; the same values either way).
  bool all_indexed() const { return all_indexed_; }

  // The vector store of `field`, or nullptr.
  const VectorStore* vectors(const std::string& field) const {
    auto it = vectors_.find(field);
    return it == vectors_.end() ? nullptr : it->second.get();
  }
  // Slot of Lucene doc `doc` in `field`'s store, or -1.
  const std::vector<int64_t>& slots_by_doc(const std::string& field) const { return slot_by_doc_.at(field); }
  uint64_t vector_generation() const { return vector_generation_; }
  // The forward index of this commit, or nullptr (an index written before
  // forward indexes existed).
  const ForwardIndexReader* forward() const { return forward_.get(); }

  // The index's schema and this commit's typed values (nullptr without a
  // schema or before the first commit with documents).
  const Schema& schema() const { return schema_; }
  const DocValuesReader* values() const { return values_.get(); }
  // Row of Lucene doc `doc` in values() (-1: deleted or no row), and the
  // live doc of each row (-1: none), built on first use. Thread-safe.
  const std::vector<int32_t>& RowByDoc() const;
  const std::vector<int32_t>& DocByRow() const;

 private:
  Snapshot() = default;
  // Appends the live postings of `term` in slot `field` of `reader` (this
  // snapshot's reader, or one of its segments starting at doc `base`),
  // checking each doc id and tf against the index (CorruptIndexException).
  void ReadPostings(const Lucene::IndexReaderPtr& reader, int32_t base, int field, const Lucene::String& term,
                    std::vector<int32_t>* docs, std::vector<uint32_t>* tfs) const;
  // The same through the derived "all" of format 2 when `field` is it: the
  // title and text lists merged by docid, a document's tf the sum of its two.
  void ReadSlotPostings(const Lucene::IndexReaderPtr& reader, int32_t base, int field, const Lucene::String& term,
                        std::vector<int32_t>* docs, std::vector<uint32_t>* tfs) const;
  // Sets p->frontier from its docs and tfs.
  void SetFrontier(DecodedPostings* p, int field) const;
  // Caches `p` as the postings of (field, term) unless the cache is full;
  // returns the cached list (an earlier one when present) or `p`.
  std::shared_ptr<const DecodedPostings> CachePostings(int field, const Lucene::String& term,
                                                       std::shared_ptr<DecodedPostings> p) const;
  // Document frequency of `term` in the derived "all" field (format 2).
  uint64_t DerivedAllDocFreq(const Lucene::String& term) const;
  // Positions of `term` in the derived "all" of format 2: a document's title
  // positions, then its text positions plus kDerivedTextShift, so that no
  // phrase of fewer than 2^29 positions spans both; nullptr when a position
  // does not fit that layout or the cache is full.
  std::shared_ptr<const DecodedPositions> DerivedAllPositions(const Lucene::String& term) const;

  Lucene::IndexReaderPtr reader_;
  int32_t max_doc_ = 0;
  uint64_t num_docs_ = 0;
  bool has_deletions_ = false;
  bool all_indexed_ = true;
  std::vector<std::string> ids_;
  std::vector<std::string> slot_names_;
  std::vector<Lucene::String> slot_fields_;
  std::vector<std::vector<uint32_t>> lengths_;  // by slot
  std::vector<uint64_t> doc_count_;             // by slot
  std::vector<uint64_t> sum_length_;            // by slot
  uint64_t vector_generation_ = 0;
  std::map<std::string, std::shared_ptr<const VectorStore>> vectors_;
  std::map<std::string, std::vector<int64_t>> slot_by_doc_;
  std::shared_ptr<const ForwardIndexReader> forward_;
  Schema schema_;
  std::shared_ptr<const DocValuesReader> values_;
  // The full values file values_ merged a delta into (kept for the next
  // commit's delta over the same base), and its manifest entry.
  std::shared_ptr<const DocValuesReader> values_base_;
  FileInfo values_base_info_;
  // What Load found of the previous snapshot (CarryPostings): documents
  // [0, carried_docs_) in its segments, and those of them deleted since
  // (ascending).
  int32_t carried_docs_ = 0;
  std::vector<int32_t> deleted_since_;
  void MapRows() const;
  mutable std::once_flag rows_once_;
  mutable std::vector<int32_t> row_by_doc_, doc_by_row_;  // written once under rows_once_
  mutable std::mutex postings_mu_;
  mutable std::vector<std::unordered_map<std::wstring, std::shared_ptr<const DecodedPostings>>>
      postings_;                          // by slot; GUARDED_BY(postings_mu_)
  mutable uint64_t cached_postings_ = 0;  // GUARDED_BY(postings_mu_)
  mutable std::mutex positions_mu_;
  mutable std::vector<std::unordered_map<std::wstring, std::shared_ptr<const DecodedPositions>>>
      positions_;                          // by slot; GUARDED_BY(positions_mu_)
  mutable uint64_t cached_positions_ = 0;  // GUARDED_BY(positions_mu_)
  mutable std::mutex df_mu_;
  mutable std::vector<std::unordered_map<std::wstring, uint64_t>> df_cache_;      // by slot; GUARDED_BY(df_mu_)
  mutable std::vector<std::unordered_map<std::string, uint64_t>> df_utf8_cache_;  // by slot; GUARDED_BY(df_mu_)
};

// CollectionStatistics of one snapshot (keeps it alive).
class SnapshotStatistics final : public CollectionStatistics {
 public:
  explicit SnapshotStatistics(std::shared_ptr<const Snapshot> s) : s_(std::move(s)) {}
  uint64_t DocCount(std::string_view field) const override;
  uint64_t SumTotalTermFreq(std::string_view field) const override;
  uint64_t DocFreq(std::string_view field, std::string_view term) const override;
  Status status() const override;

 private:
  std::shared_ptr<const Snapshot> s_;
  mutable std::mutex mu_;
  mutable Status error_;  // GUARDED_BY(mu_): the first failed read
};

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_SNAPSHOT_H_
