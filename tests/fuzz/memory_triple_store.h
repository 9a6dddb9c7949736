// Shared by the KG loader fuzz targets: a TripleStore kept in a std::set, so
// that a fuzzed file runs through the real loader (LoadLines: line splitting,
// batching, the skip/fatal policy) without a RocksDB write per input. It
// traps on what the real store refuses (an empty term), so a loader handing
// one over is a crash, not a silent pass. Links kg/store/alias.cc.
#ifndef HYMIR_TESTS_FUZZ_MEMORY_TRIPLE_STORE_H_
#define HYMIR_TESTS_FUZZ_MEMORY_TRIPLE_STORE_H_

#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "hymir/kg/triple_store.h"

namespace hymir::fuzz {

class MemoryTripleStore : public kg::TripleStore {
 public:
  Status Add(const kg::Triple& t) override { return AddBatch(std::span<const kg::Triple>(&t, 1)); }
  Status AddBatch(std::span<const kg::Triple> triples, size_t* added = nullptr) override {
    size_t n = 0;
    for (const auto& t : triples) {
      if (t.subject.empty() || t.relation.empty() || t.object.empty()) __builtin_trap();
      if (t.relation == kg::kAliasRelation && kg::NormalizeAlias(t.object).empty()) __builtin_trap();
      n += triples_.insert(std::make_tuple(t.subject, t.relation, t.object)).second;
    }
    if (added) *added = n;
    return Status::OK();
  }
  Status Delete(const kg::Triple&) override { return Status::NotSupported("fuzz store"); }
  Result<bool> Exists(const kg::Triple& t) const override {
    return triples_.count(std::make_tuple(t.subject, t.relation, t.object)) > 0;
  }
  Result<uint64_t> Count() const override { return static_cast<uint64_t>(triples_.size()); }
  Result<std::vector<kg::Triple>> Match(const kg::TriplePattern&, size_t) const override {
    return Status::NotSupported("fuzz store");
  }
  Result<std::vector<kg::Neighbor>> Neighbors(const std::string&, const std::optional<std::string>&, kg::Direction,
                                              size_t) const override {
    return Status::NotSupported("fuzz store");
  }
  Result<std::vector<kg::ReachedEntity>> Expand(const std::string&, const kg::ExpandOptions&) const override {
    return Status::NotSupported("fuzz store");
  }
  Status AddAlias(const std::string& entity, const std::string& alias) override {
    return Add(kg::Triple{entity, std::string(kg::kAliasRelation), alias});
  }
  Result<std::vector<std::string>> Aliases(const std::string&, size_t) const override {
    return Status::NotSupported("fuzz store");
  }
  Result<std::vector<std::string>> EntitiesForAlias(const std::string&, size_t) const override {
    return Status::NotSupported("fuzz store");
  }
  Result<kg::TripleStoreStats> Stats() const override { return Status::NotSupported("fuzz store"); }
  uint64_t Generation() const override { return triples_.size(); }
  // Everything stored, for comparing two loads.
  const std::set<std::tuple<std::string, std::string, std::string>>& triples() const { return triples_; }
  Status Close() override { return Status::OK(); }

 private:
  std::set<std::tuple<std::string, std::string, std::string>> triples_;
};

}  // namespace hymir::fuzz

#endif  // HYMIR_TESTS_FUZZ_MEMORY_TRIPLE_STORE_H_
