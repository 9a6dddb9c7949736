// Private: the vectors of one vector field, keyed by document id, with a FAISS
// index over them.
//
// Slots: every stored vector has a slot number; FAISS's internal id of a
// vector equals its slot because vectors are only ever appended (FAISS HNSW
// cannot remove). An upsert appends a new slot and tombstones the old one; a
// delete tombstones. Tombstones are applied at search time through an
// IDSelector bitmap on the inner index (never through IndexIDMap, whose search
// rejects parameters in FAISS 1.7.3). Compact() rebuilds without dead slots.
//
// Files (written by Save, validated by Load before anything is trusted):
//   <field>.g<N>.vec    header | ids | live bitmap | raw vectors      (crc32)
//   <field>.g<N>.faiss  header | faiss::write_index bytes              (crc32)
// Header: magic "HYMIRVEC"/"HYMIRFAI", format version, dimension, slot
// count, payload byte size, payload crc32.
//
// Thread-safety: mutations (Upsert, Delete, Compact, TrainIfNeeded) need
// external synchronisation; const methods may run concurrently with each
// other but not with mutations.
#ifndef HYMIR_INDEX_VECTOR_VECTOR_STORE_H_
#define HYMIR_INDEX_VECTOR_VECTOR_STORE_H_

#include <faiss/Index.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hymir/index/vector_field.h"
#include "hymir/result.h"

namespace hymir::index::internal {

struct FileInfo {
  std::string name;  // relative to the vectors directory
  uint64_t size = 0;
  uint32_t crc32 = 0;
};

struct SlotScore {
  int64_t slot;
  float score;  // higher is better (L2: negated squared distance)
};

class VectorStore {
 public:
  static Result<std::unique_ptr<VectorStore>> Create(const VectorFieldSpec& spec);
  // Loads <dir>/<raw.name> and <dir>/<faiss.name>, checking sizes and checksums
  // against the manifest entries and the file headers first.
  static Result<std::unique_ptr<VectorStore>> Load(const VectorFieldSpec& spec, const std::string& dir,
                                                   const FileInfo& raw, const FileInfo& faiss);

  // `v` has spec.dimension floats (checked by the caller).
  Status Upsert(const std::string& id, const float* v);
  void Delete(const std::string& id);
  // Trains an untrained FAISS index (IVF, PQ) once enough vectors exist and
  // adds every stored vector to it.
  Status TrainIfNeeded();
  // Rebuilds without dead slots when they exceed `max_dead_fraction`.
  Status CompactIfNeeded(double max_dead_fraction);
  Status Save(const std::string& dir, uint64_t generation, FileInfo* raw, FileInfo* faiss) const;

  // Top `k` slots for each of `nq` queries (nq*d floats, already normalised
  // for cosine). `admitted` (by slot, 1 bit each; nullptr = every live slot)
  // must exclude dead slots. Exact search is used when `exact`, when the index
  // is untrained, or when few slots are admitted (see kExactFraction).
  Status Search(const float* queries, size_t nq, size_t k, const std::vector<uint8_t>* admitted, size_t admitted_count,
                int ef_search, int nprobe, bool exact, std::vector<std::vector<SlotScore>>* out) const;

  const VectorFieldSpec& spec() const { return spec_; }
  size_t slots() const { return ids_.size(); }
  size_t live_count() const { return live_count_; }
  bool is_live(int64_t slot) const { return (live_[slot >> 3] >> (slot & 7)) & 1; }
  const std::string& id(int64_t slot) const { return ids_[slot]; }
  // Slot of `id`, or -1.
  int64_t SlotOf(const std::string& id) const;
  const std::vector<uint8_t>& live_bitmap() const { return live_; }
  const float* vector(int64_t slot) const { return data_.data() + slot * spec_.dimension; }

  // Below this share of live slots admitted by a filter, search is exact over
  // the admitted slots (HNSW recall collapses at low selectivity: STACK.md §4).
  static constexpr double kExactFraction = 0.05;

 private:
  explicit VectorStore(VectorFieldSpec spec) : spec_(std::move(spec)) {}
  Status MakeEmptyIndex();
  void SetLive(int64_t slot, bool live);

  VectorFieldSpec spec_;
  std::vector<std::string> ids_;                      // by slot
  std::vector<uint8_t> live_;                         // bitmap by slot
  std::vector<float> data_;                           // slots * dimension
  std::unordered_map<std::string, int64_t> slot_of_;  // live ids only
  size_t live_count_ = 0;
  std::unique_ptr<faiss::Index> index_;
  size_t indexed_ = 0;  // slots added to index_ (all once trained)
};

// Maps exceptions from FAISS to a Status.
template <typename Fn>
Status FaissGuard(const std::string& where, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::Internal(where + ": " + e.what());
  }
}

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_VECTOR_VECTOR_STORE_H_
