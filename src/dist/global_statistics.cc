// GlobalStatistics: collection statistics summed over shards.
#include "hymir/dist/global_statistics.h"

namespace hymir::dist {
namespace {

std::vector<std::string> DefaultFields() {
  const auto& f = GlobalStatistics::Fields();
  return std::vector<std::string>(f.begin(), f.end());
}

}  // namespace

const std::array<std::string_view, 3>& GlobalStatistics::Fields() {
  static const std::array<std::string_view, 3> fields = {"all", "title", "text"};
  return fields;
}

std::vector<std::string> GlobalStatistics::FieldsOf(const index::Schema& schema) {
  std::vector<std::string> fields = DefaultFields();
  for (const auto& [name, spec] : schema.fields)
    if (spec.type == index::FieldType::kText) fields.push_back(name);
  return fields;
}

GlobalStatistics::GlobalStatistics()
    : fields_(DefaultFields()), doc_count_(fields_.size(), 0), sum_ttf_(fields_.size(), 0) {}

int GlobalStatistics::FieldIndex(std::string_view field) const {
  for (size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i] == field) return static_cast<int>(i);
  return -1;
}

std::vector<uint64_t> GlobalStatistics::ToVector(const index::CollectionStatistics& shard,
                                                 const std::vector<std::string>& terms) {
  return ToVector(shard, terms, DefaultFields());
}

std::vector<uint64_t> GlobalStatistics::ToVector(const index::CollectionStatistics& shard,
                                                 const std::vector<std::string>& terms,
                                                 const std::vector<std::string>& fields) {
  std::vector<uint64_t> v;
  v.reserve(fields.size() * (2 + terms.size()));
  for (const auto& f : fields) {
    v.push_back(shard.DocCount(f));
    v.push_back(shard.SumTotalTermFreq(f));
  }
  for (const auto& t : terms)
    for (const auto& f : fields) v.push_back(shard.DocFreq(f, t));
  return v;
}

GlobalStatistics GlobalStatistics::FromVector(const std::vector<std::string>& terms,
                                              const std::vector<uint64_t>& values) {
  return FromVector(terms, values, DefaultFields());
}

GlobalStatistics GlobalStatistics::FromVector(const std::vector<std::string>& terms,
                                              const std::vector<uint64_t>& values,
                                              const std::vector<std::string>& fields) {
  GlobalStatistics g;
  const size_t nf = fields.size();
  g.fields_ = fields;
  g.doc_count_.assign(nf, 0);
  g.sum_ttf_.assign(nf, 0);
  if (values.size() != nf * (2 + terms.size())) return g;  // callers build both from the same terms
  for (size_t f = 0; f < nf; ++f) {
    g.doc_count_[f] = values[2 * f];
    g.sum_ttf_[f] = values[2 * f + 1];
  }
  for (size_t i = 0; i < terms.size(); ++i) {
    const auto first = values.begin() + static_cast<std::ptrdiff_t>(2 * nf + nf * i);
    g.df_[terms[i]] = std::vector<uint64_t>(first, first + static_cast<std::ptrdiff_t>(nf));
  }
  return g;
}

GlobalStatistics GlobalStatistics::Sum(const std::vector<const index::CollectionStatistics*>& shards,
                                       const std::vector<std::string>& terms) {
  return Sum(shards, terms, DefaultFields());
}

GlobalStatistics GlobalStatistics::Sum(const std::vector<const index::CollectionStatistics*>& shards,
                                       const std::vector<std::string>& terms, const std::vector<std::string>& fields) {
  std::vector<uint64_t> total(fields.size() * (2 + terms.size()), 0);
  for (const auto* s : shards) {
    auto v = ToVector(*s, terms, fields);
    for (size_t i = 0; i < v.size(); ++i) total[i] += v[i];
  }
  return FromVector(terms, total, fields);
}

GlobalStatistics::GlobalStatistics(const GlobalStatistics& o)
    : fields_(o.fields_), doc_count_(o.doc_count_), sum_ttf_(o.sum_ttf_), df_(o.df_), misses_(o.misses()) {}

GlobalStatistics& GlobalStatistics::operator=(const GlobalStatistics& o) {
  fields_ = o.fields_;
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
