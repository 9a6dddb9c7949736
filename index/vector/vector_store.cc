#include "index/vector/vector_store.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cstring>
#include <queue>

#include "src/core/crc32.h"
#include "src/core/file_util.h"
#include "index/vector/one_thread.h"

namespace hymir::index::internal {
namespace {

using hymir::internal::Crc32;

constexpr char kVecMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'V', 'E', 'C'};
constexpr char kFaissMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'F', 'A', 'I'};
constexpr uint32_t kVecVersion = 1;

#pragma pack(push, 1)
struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t dimension;
  uint64_t slots;
  uint64_t payload_size;
  uint32_t payload_crc;
};
#pragma pack(pop)

faiss::MetricType FaissMetric(VectorMetric m) {
  return m == VectorMetric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

template <typename T>
void Append(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string WithHeader(const char (&magic)[8], uint32_t dim, uint64_t slots, const std::string& payload) {
  FileHeader h;
  std::memcpy(h.magic, magic, 8);
  h.version = kVecVersion;
  h.dimension = dim;
  h.slots = slots;
  h.payload_size = payload.size();
  h.payload_crc = Crc32(0, payload.data(), payload.size());
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  out += payload;
  return out;
}

// Reads and validates a file written by WithHeader; returns the payload.
Result<std::string> ReadChecked(const std::string& path, const char (&magic)[8], const VectorFieldSpec& spec,
                                const FileInfo& expected, FileHeader* header) {
  auto bytes = hymir::internal::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& b = *bytes;
  if (b.size() != expected.size) {
    return Status::Corruption(path + ": size " + std::to_string(b.size()) + " bytes, manifest says " +
                              std::to_string(expected.size));
  }
  if (Crc32(0, b.data(), b.size()) != expected.crc32) return Status::Corruption(path + ": checksum mismatch");
  if (b.size() < sizeof(FileHeader)) return Status::Corruption(path + ": truncated header");
  std::memcpy(header, b.data(), sizeof(FileHeader));
  if (std::memcmp(header->magic, magic, 8) != 0) return Status::Corruption(path + ": bad magic");
  if (header->version != kVecVersion) {
    return Status::NotSupported(path + ": format version " + std::to_string(header->version) + ", expected " +
                                std::to_string(kVecVersion));
  }
  if (header->dimension != spec.dimension) {
    return Status::Corruption(path + ": dimension " + std::to_string(header->dimension) + ", schema says " +
                              std::to_string(spec.dimension));
  }
  if (header->payload_size != b.size() - sizeof(FileHeader))
    return Status::Corruption(path + ": payload size mismatch");
  std::string payload = b.substr(sizeof(FileHeader));
  if (Crc32(0, payload.data(), payload.size()) != header->payload_crc) {
    return Status::Corruption(path + ": payload checksum mismatch");
  }
  return payload;
}

Status WriteAndDescribe(const std::string& dir, const std::string& name, const std::string& bytes, FileInfo* info) {
  HYMIR_RETURN_IF_ERROR(hymir::internal::WriteFileAtomic(dir + "/" + name, bytes));
  info->name = name;
  info->size = bytes.size();
  info->crc32 = Crc32(0, bytes.data(), bytes.size());
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<VectorStore>> VectorStore::Create(const VectorFieldSpec& spec) {
  HYMIR_RETURN_IF_ERROR(ValidateVectorFieldSpec(spec));
  std::unique_ptr<VectorStore> s(new VectorStore(spec));
  HYMIR_RETURN_IF_ERROR(s->MakeEmptyIndex());
  return s;
}

Status VectorStore::MakeEmptyIndex() {
  return FaissGuard("vector field \"" + spec_.name + "\": index \"" + spec_.index + "\"", [&]() -> Status {
    const int d = static_cast<int>(spec_.dimension);
    const std::string& kind = spec_.index;
    if (kind == "flat") {
      if (spec_.metric == VectorMetric::kL2) {
        index_ = std::make_unique<faiss::IndexFlatL2>(d);
      } else {
        index_ = std::make_unique<faiss::IndexFlatIP>(d);
      }
    } else if (kind.rfind("hnsw", 0) == 0) {
      int m = 32;
      if (kind.size() > 4) {
        try {
          m = std::stoi(kind.substr(4));
        } catch (...) {
          return Status::InvalidArgument("bad HNSW kind \"" + kind + "\" (expected hnsw or hnswM, e.g. hnsw32)");
        }
      }
      if (m < 2 || m > 256) return Status::InvalidArgument("HNSW M must be in 2..256");
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(d, m, FaissMetric(spec_.metric));
      hnsw->hnsw.efConstruction = spec_.ef_construction;
      hnsw->hnsw.efSearch = spec_.ef_search;
      index_ = std::move(hnsw);
    } else {
      index_.reset(faiss::index_factory(d, kind.c_str(), FaissMetric(spec_.metric)));
    }
    indexed_ = 0;
    return Status::OK();
  });
}

void VectorStore::SetLive(int64_t slot, bool live) {
  if (live) {
    live_[slot >> 3] |= static_cast<uint8_t>(1u << (slot & 7));
  } else {
    live_[slot >> 3] &= static_cast<uint8_t>(~(1u << (slot & 7)));
  }
}

int64_t VectorStore::SlotOf(const std::string& id) const {
  auto it = slot_of_.find(id);
  return it == slot_of_.end() ? -1 : it->second;
}

Status VectorStore::Upsert(const std::string& id, const float* v) {
  Delete(id);
  const int64_t slot = static_cast<int64_t>(ids_.size());
  ids_.push_back(id);
  if (live_.size() * 8 < ids_.size()) live_.push_back(0);
  SetLive(slot, true);
  data_.insert(data_.end(), v, v + spec_.dimension);
  if (spec_.metric == VectorMetric::kCosine)
    faiss::fvec_renorm_L2(spec_.dimension, 1, data_.data() + slot * spec_.dimension);
  slot_of_[id] = slot;
  ++live_count_;
  return Status::OK();
}

void VectorStore::Delete(const std::string& id) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end()) return;
  SetLive(it->second, false);
  slot_of_.erase(it);
  --live_count_;
}

Status VectorStore::TrainIfNeeded() {
  return FaissGuard("vector field \"" + spec_.name + "\": train/add", [&]() -> Status {
    if (!index_->is_trained) {
      size_t need = 1000;
      if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get())) need = std::max<size_t>(need, 39 * ivf->nlist);
      if (live_count_ < need) return Status::OK();  // searches stay exact until then
      std::vector<float> train;
      train.reserve(live_count_ * spec_.dimension);
      for (size_t s = 0; s < ids_.size(); ++s) {
        if (is_live(static_cast<int64_t>(s))) train.insert(train.end(), vector(s), vector(s) + spec_.dimension);
      }
      index_->train(static_cast<faiss::Index::idx_t>(live_count_), train.data());
    }
    if (indexed_ < ids_.size()) {
      index_->add(static_cast<faiss::Index::idx_t>(ids_.size() - indexed_), vector(static_cast<int64_t>(indexed_)));
      indexed_ = ids_.size();
    }
    return Status::OK();
  });
}

Status VectorStore::CompactIfNeeded(double max_dead_fraction) {
  const size_t dead = ids_.size() - live_count_;
  if (ids_.empty() || static_cast<double>(dead) <= max_dead_fraction * static_cast<double>(ids_.size())) {
    return Status::OK();
  }
  std::vector<std::string> ids;
  std::vector<float> data;
  ids.reserve(live_count_);
  data.reserve(live_count_ * spec_.dimension);
  for (size_t s = 0; s < ids_.size(); ++s) {
    if (!is_live(static_cast<int64_t>(s))) continue;
    ids.push_back(ids_[s]);
    data.insert(data.end(), vector(s), vector(s) + spec_.dimension);
  }
  ids_ = std::move(ids);
  data_ = std::move(data);
  live_.assign((ids_.size() + 7) / 8, 0);
  slot_of_.clear();
  for (size_t s = 0; s < ids_.size(); ++s) {
    SetLive(static_cast<int64_t>(s), true);
    slot_of_[ids_[s]] = static_cast<int64_t>(s);
  }
  live_count_ = ids_.size();
  HYMIR_RETURN_IF_ERROR(MakeEmptyIndex());
  return TrainIfNeeded();
}

Status VectorStore::Save(const std::string& dir, uint64_t generation, FileInfo* raw, FileInfo* faiss_file) const {
  std::string payload;
  for (const std::string& id : ids_) {
    Append(&payload, static_cast<uint32_t>(id.size()));
    payload += id;
  }
  payload.append(reinterpret_cast<const char*>(live_.data()), live_.size());
  payload.append(reinterpret_cast<const char*>(data_.data()), data_.size() * sizeof(float));
  const std::string base = spec_.name + ".g" + std::to_string(generation);
  HYMIR_RETURN_IF_ERROR(WriteAndDescribe(
      dir, base + ".vec", WithHeader(kVecMagic, static_cast<uint32_t>(spec_.dimension), ids_.size(), payload), raw));
  std::string index_bytes;
  HYMIR_RETURN_IF_ERROR(FaissGuard(dir + "/" + base + ".faiss", [&]() -> Status {
    faiss::VectorIOWriter w;
    faiss::write_index(index_.get(), &w);
    index_bytes.assign(reinterpret_cast<const char*>(w.data.data()), w.data.size());
    return Status::OK();
  }));
  return WriteAndDescribe(dir, base + ".faiss",
                          WithHeader(kFaissMagic, static_cast<uint32_t>(spec_.dimension), indexed_, index_bytes),
                          faiss_file);
}

Result<std::unique_ptr<VectorStore>> VectorStore::Load(const VectorFieldSpec& spec, const std::string& dir,
                                                       const FileInfo& raw, const FileInfo& faiss_file) {
  std::unique_ptr<VectorStore> s(new VectorStore(spec));
  const std::string raw_path = dir + "/" + raw.name;
  FileHeader h;
  auto payload = ReadChecked(raw_path, kVecMagic, spec, raw, &h);
  if (!payload.ok()) return payload.status();
  const std::string& p = *payload;
  size_t off = 0;
  auto need = [&](size_t n) { return off + n <= p.size(); };
  // Every id takes at least its 4-byte length: bound the count before reserving for it.
  if (h.slots > p.size() / sizeof(uint32_t)) {
    return Status::Corruption(raw_path + ": " + std::to_string(h.slots) + " slots do not fit in a payload of " +
                              std::to_string(p.size()) + " bytes");
  }
  s->ids_.reserve(h.slots);
  for (uint64_t i = 0; i < h.slots; ++i) {
    uint32_t len;
    if (!need(sizeof len)) return Status::Corruption(raw_path + ": truncated id table");
    std::memcpy(&len, p.data() + off, sizeof len);
    off += sizeof len;
    if (!need(len)) return Status::Corruption(raw_path + ": truncated id table");
    s->ids_.emplace_back(p.data() + off, len);
    off += len;
  }
  const size_t bitmap = (h.slots + 7) / 8;
  const size_t floats = h.slots * spec.dimension;
  if (p.size() - off != bitmap + floats * sizeof(float)) {
    return Status::Corruption(raw_path + ": payload holds " + std::to_string(p.size() - off) +
                              " bytes after the ids, expected " + std::to_string(bitmap + floats * sizeof(float)));
  }
  s->live_.assign(p.begin() + static_cast<ptrdiff_t>(off), p.begin() + static_cast<ptrdiff_t>(off + bitmap));
  off += bitmap;
  s->data_.resize(floats);
  if (floats > 0) std::memcpy(s->data_.data(), p.data() + off, floats * sizeof(float));  // no slots: data() may be null
  for (size_t i = 0; i < s->ids_.size(); ++i) {
    if (s->is_live(static_cast<int64_t>(i))) {
      s->slot_of_[s->ids_[i]] = static_cast<int64_t>(i);
      ++s->live_count_;
    }
  }

  const std::string faiss_path = dir + "/" + faiss_file.name;
  FileHeader fh;
  auto fpayload = ReadChecked(faiss_path, kFaissMagic, spec, faiss_file, &fh);
  if (!fpayload.ok()) return fpayload.status();
  Status st = FaissGuard(faiss_path, [&]() -> Status {
    faiss::VectorIOReader r;
    r.data.assign(fpayload->begin(), fpayload->end());
    s->index_.reset(faiss::read_index(&r));
    return Status::OK();
  });
  if (!st.ok()) return Status::Corruption(st.message());
  if (s->index_->d != static_cast<int>(spec.dimension) || static_cast<uint64_t>(s->index_->ntotal) != fh.slots ||
      fh.slots > h.slots) {
    return Status::Corruption(faiss_path + ": FAISS index does not match the stored vectors");
  }
  s->indexed_ = static_cast<size_t>(fh.slots);
  return s;
}

Status VectorStore::Search(const float* queries, size_t nq, size_t k, const std::vector<uint8_t>* admitted,
                           size_t admitted_count, int ef_search, int nprobe, bool exact,
                           std::vector<std::vector<SlotScore>>* out) const {
  out->assign(nq, {});
  if (k == 0 || live_count_ == 0) return Status::OK();
  const std::vector<uint8_t>* allowed = admitted;
  size_t allowed_count = admitted ? admitted_count : live_count_;
  if (!allowed && live_count_ < ids_.size()) allowed = &live_;  // tombstones
  if (allowed_count == 0) return Status::OK();
  const bool few = allowed && static_cast<double>(allowed_count) < kExactFraction * static_cast<double>(live_count_);
  const bool untrained = !index_->is_trained || indexed_ < ids_.size();
  const bool is_flat = dynamic_cast<const faiss::IndexFlat*>(index_.get()) != nullptr;
  const size_t d = spec_.dimension;
  const bool l2 = spec_.metric == VectorMetric::kL2;

  if ((exact && !is_flat) || few || untrained) {
    // Brute force over allowed slots.
    for (size_t q = 0; q < nq; ++q) {
      const float* qv = queries + q * d;
      auto worse = [](const SlotScore& a, const SlotScore& b) {
        return a.score > b.score || (a.score == b.score && a.slot < b.slot);
      };
      std::priority_queue<SlotScore, std::vector<SlotScore>, decltype(worse)> heap(worse);
      for (size_t s = 0; s < ids_.size(); ++s) {
        if (allowed ? !(((*allowed)[s >> 3] >> (s & 7)) & 1) : !is_live(static_cast<int64_t>(s))) continue;
        const float* v = vector(static_cast<int64_t>(s));
        const float score = l2 ? -faiss::fvec_L2sqr(qv, v, d) : faiss::fvec_inner_product(qv, v, d);
        SlotScore cand{static_cast<int64_t>(s), score};
        if (heap.size() < k) {
          heap.push(cand);
        } else if (worse(cand, heap.top())) {
          heap.pop();
          heap.push(cand);
        }
      }
      auto& res = (*out)[q];
      res.resize(heap.size());
      for (size_t i = res.size(); i-- > 0;) {
        res[i] = heap.top();
        heap.pop();
      }
    }
    return Status::OK();
  }

  return FaissGuard("vector field \"" + spec_.name + "\": search", [&]() -> Status {
    std::unique_ptr<faiss::IDSelectorBitmap> sel;
    if (allowed) sel = std::make_unique<faiss::IDSelectorBitmap>(allowed->size(), allowed->data());
    faiss::SearchParametersHNSW hnsw_params;
    faiss::SearchParametersIVF ivf_params;
    faiss::SearchParameters plain;
    faiss::SearchParameters* params = nullptr;
    if (dynamic_cast<const faiss::IndexHNSW*>(index_.get())) {
      hnsw_params.efSearch = std::max<int>(ef_search > 0 ? ef_search : spec_.ef_search, static_cast<int>(k));
      hnsw_params.sel = sel.get();
      params = &hnsw_params;
    } else if (dynamic_cast<const faiss::IndexIVF*>(index_.get())) {
      ivf_params.nprobe = static_cast<size_t>(nprobe > 0 ? nprobe : spec_.nprobe);
      ivf_params.sel = sel.get();
      params = &ivf_params;
    } else if (sel) {
      plain.sel = sel.get();
      params = &plain;
    }
    const size_t kk = std::min(k, allowed_count);
    std::vector<float> dist(nq * kk);
    std::vector<faiss::Index::idx_t> labels(nq * kk);
    {
      const OneThreadForOneQuery one(nq == 1 && (params == &hnsw_params || params == &ivf_params));
      index_->search(static_cast<faiss::Index::idx_t>(nq), queries, static_cast<faiss::Index::idx_t>(kk), dist.data(),
                     labels.data(), params);
    }
    for (size_t q = 0; q < nq; ++q) {
      auto& res = (*out)[q];
      for (size_t i = 0; i < kk; ++i) {
        const auto label = labels[q * kk + i];
        if (label < 0) continue;
        res.push_back({label, l2 ? -dist[q * kk + i] : dist[q * kk + i]});
      }
    }
    return Status::OK();
  });
}

}  // namespace hymir::index::internal
