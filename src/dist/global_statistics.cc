// GlobalStatistics: collection statistics summed over shards.
#include "hymir/dist/global_statistics.h"

namespace hymir::dist {

const std::array<std::string_view, 3>& GlobalStatistics::Fields() {
  static const std::array<std::string_view, 3> fields = {"all", "title", "text"};
  return fields;
}

int GlobalStatistics::FieldIndex(std::string_view field) {
  const auto& f = Fields();
  for (int i = 0; i < 3; ++i)
    if (f[i] == field) return i;
  return -1;
}

std::vector<uint64_t> GlobalStatistics::ToVector(const index::CollectionStatistics& shard,
                                                 const std::vector<std::string>& terms) {
  std::vector<uint64_t> v;
  v.reserve(6 + 3 * terms.size());
  for (auto f : Fields()) {
    v.push_back(shard.DocCount(f));
    v.push_back(shard.SumTotalTermFreq(f));
  }
  for (const auto& t : terms)
    for (auto f : Fields()) v.push_back(shard.DocFreq(f, t));
  return v;
}

GlobalStatistics GlobalStatistics::FromVector(const std::vector<std::string>& terms,
                                              const std::vector<uint64_t>& values) {
  GlobalStatistics g;
  if (values.size() != 6 + 3 * terms.size()) return g;  // callers build both from the same terms
  for (int f = 0; f < 3; ++f) {
    g.doc_count_[f] = values[2 * f];
    g.sum_ttf_[f] = values[2 * f + 1];
  }
  for (size_t i = 0; i < terms.size(); ++i)
    g.df_[terms[i]] = {values[6 + 3 * i], values[6 + 3 * i + 1], values[6 + 3 * i + 2]};
  return g;
}

GlobalStatistics GlobalStatistics::Sum(const std::vector<const index::CollectionStatistics*>& shards,
                                       const std::vector<std::string>& terms) {
  std::vector<uint64_t> total(6 + 3 * terms.size(), 0);
  for (const auto* s : shards) {
    auto v = ToVector(*s, terms);
    for (size_t i = 0; i < v.size(); ++i) total[i] += v[i];
  }
  return FromVector(terms, total);
}

GlobalStatistics::GlobalStatistics(const GlobalStatistics& o)
    : doc_count_(o.doc_count_), sum_ttf_(o.sum_ttf_), df_(o.df_), misses_(o.misses()) {}

GlobalStatistics& GlobalStatistics::operator=(const GlobalStatistics& o) {
  doc_count_ = o.doc_count_;
  sum_ttf_ = o.sum_ttf_;
  df_ = o.df_;
  misses_.store(o.misses());
  return *this;
}

uint64_t GlobalStatistics::DocCount(std::string_view field) const {
  const int f = FieldIndex(field);
  return f < 0 ? 0 : doc_count_[f];
}

uint64_t GlobalStatistics::SumTotalTermFreq(std::string_view field) const {
  const int f = FieldIndex(field);
  return f < 0 ? 0 : sum_ttf_[f];
}

uint64_t GlobalStatistics::DocFreq(std::string_view field, std::string_view term) const {
  const int f = FieldIndex(field);
  auto it = df_.find(term);
  if (f < 0 || it == df_.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  return it->second[f];
}

}  // namespace hymir::dist
