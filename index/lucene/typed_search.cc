#include "index/lucene/typed_search.h"

#include <algorithm>
#include <bit>
#include <numeric>
#include <unordered_map>

#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"

namespace hymir::index::internal {
namespace {

size_t Words(const Snapshot& snap) { return (static_cast<size_t>(snap.max_doc()) + 63) / 64; }

void Set(DocFilter* f, int32_t d) { (*f)[static_cast<size_t>(d) >> 6] |= uint64_t{1} << (d & 63); }

// The typed field `field` of the schema, its column, or InvalidArgument.
Status TypedColumn(const Snapshot& snap, const std::string& field, const FieldSpec** spec, const ValueColumn** column) {
  *spec = snap.schema().Find(field);
  if (!*spec) {
    std::string known;
    for (const auto& [name, s] : snap.schema().fields) known += (known.empty() ? "" : ", ") + name;
    return Status::InvalidArgument("unknown typed field \"" + field + "\"" +
                                   (known.empty() ? " (the index has no schema)" : " (typed fields: " + known + ")"));
  }
  if ((*spec)->type == FieldType::kText) {
    return Status::InvalidArgument("field \"" + field + "\" is text: search it in the query (" + field +
                                   ":word, with --syntax lucene), not with a filter, a sort or a facet");
  }
  *column = snap.values() ? snap.values()->column(field) : nullptr;
  return Status::OK();
}

// Documents holding an untokenized term of f.<field> in [lo, hi] (byte
// order; UTF-32 order is the same), or equal to `lo` when `exact`.
void KeywordTerms(const Snapshot& snap, const std::string& field, const std::optional<std::string>& lo,
                  bool lo_inclusive, const std::optional<std::string>& hi, bool hi_inclusive, DocFilter* out) {
  const Lucene::String lname = Wide(kFilterPrefix + field);
  const Lucene::String wlo = lo ? Wide(*lo) : Lucene::String();
  const Lucene::String whi = hi ? Wide(*hi) : Lucene::String();
  Lucene::TermEnumPtr terms = snap.reader()->terms(Lucene::newLucene<Lucene::Term>(lname, wlo));
  Lucene::TermDocsPtr td = snap.reader()->termDocs();
  do {
    Lucene::TermPtr t = terms->term();
    if (!t || t->field() != lname) break;
    const Lucene::String text = t->text();
    if (lo && !lo_inclusive && text == wlo) continue;
    if (hi && (hi_inclusive ? text > whi : text >= whi)) break;
    td->seek(t);
    while (td->next()) Set(out, td->doc());
  } while (terms->next());
  td->close();
  terms->close();
}

}  // namespace

Result<DocFilter> MatchTypedValue(const Snapshot& snap, const std::string& field, const std::string& value) {
  return Guard("filter " + field + ":" + value, [&]() -> Result<DocFilter> {
    DocFilter out(Words(snap), 0);
    const FieldSpec* spec = snap.schema().Find(field);
    if (spec && spec->type != FieldType::kKeyword) {
      RangeFilter r{field, value, value, true, true};
      return MatchTypedRange(snap, r);
    }
    if (spec && !spec->indexed) return Status::InvalidArgument("field \"" + field + "\" is not indexed");
    if (!spec) {
      Lucene::HashSet<Lucene::String> known = snap.reader()->getFieldNames(Lucene::IndexReader::FIELD_OPTION_INDEXED);
      if (!known.contains(Wide(kFilterPrefix + field))) {
        return Status::InvalidArgument("unknown filter field \"" + field + "\"");
      }
    }
    Lucene::TermDocsPtr td =
        snap.reader()->termDocs(Lucene::newLucene<Lucene::Term>(Wide(kFilterPrefix + field), Wide(value)));
    while (td->next()) Set(&out, td->doc());
    td->close();
    return out;
  });
}

Result<DocFilter> MatchTypedRange(const Snapshot& snap, const RangeFilter& range) {
  const FieldSpec* spec;
  const ValueColumn* column;
  HYMIR_RETURN_IF_ERROR(TypedColumn(snap, range.field, &spec, &column));
  if (!spec->indexed) return Status::InvalidArgument("field \"" + range.field + "\" is not indexed");
  DocFilter out(Words(snap), 0);
  if (spec->type == FieldType::kKeyword) {
    HYMIR_RETURN_IF_ERROR(Guard("range on " + range.field, [&]() -> Status {
      KeywordTerms(snap, range.field, range.lo, range.lo_inclusive, range.hi, range.hi_inclusive, &out);
      return Status::OK();
    }));
    return out;
  }
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  if (range.lo) {
    HYMIR_ASSIGN_OR_RETURN(lo, TextKey(range.field, *spec, *range.lo));
    if (!range.lo_inclusive) {
      if (lo == INT64_MAX) return out;
      ++lo;  // keys are integers (doubles: adjacent keys are adjacent doubles)
    }
  }
  if (range.hi) {
    HYMIR_ASSIGN_OR_RETURN(hi, TextKey(range.field, *spec, *range.hi));
    if (!range.hi_inclusive) {
      if (hi == INT64_MIN) return out;
      --hi;
    }
  }
  if (!column || lo > hi) return out;
  uint64_t begin, end;
  column->PointRange(lo, hi, &begin, &end);
  const std::vector<int32_t>& doc_by_row = snap.DocByRow();
  for (uint64_t i = begin; i < end; ++i) {
    const int32_t d = doc_by_row[LoadU32(column->point_rows, i)];
    if (d >= 0) Set(&out, d);
  }
  return out;
}

Status BuildTypedFilter(const Snapshot& snap, const std::vector<FieldFilter>& filters,
                        const std::vector<RangeFilter>& ranges, const std::string& where, DocFilter* out) {
  out->clear();
  if (filters.empty() && ranges.empty()) return Status::OK();
  out->assign(Words(snap), ~uint64_t{0});
  auto intersect = [&](const DocFilter& f) {
    for (size_t w = 0; w < out->size(); ++w) (*out)[w] &= f[w];
  };
  for (const FieldFilter& f : filters) {
    DocFilter any(Words(snap), 0);
    if (f.values.empty()) {  // admits nothing, but the field must exist
      auto m = MatchTypedValue(snap, f.field, "");
      if (!m.ok()) return m.status().WithContext(where);
    }
    for (const std::string& v : f.values) {
      auto m = MatchTypedValue(snap, f.field, v);
      if (!m.ok()) return m.status().WithContext(where);
      for (size_t w = 0; w < any.size(); ++w) any[w] |= (*m)[w];
    }
    intersect(any);
  }
  for (const RangeFilter& r : ranges) {
    auto m = MatchTypedRange(snap, r);
    if (!m.ok()) return m.status().WithContext(where);
    intersect(*m);
  }
  return Status::OK();
}

std::vector<ScoredDoc> AllAdmitted(const Snapshot& snap, const DocFilter& filter, size_t limit, uint64_t* total) {
  std::vector<ScoredDoc> out;
  const Lucene::IndexReaderPtr& reader = snap.reader();
  // Without deletions every docid below max_doc is live: no per-document
  // isDeleted (a segment search and a lock in Lucene++), and past `limit`
  // a word's documents are counted at once.
  const bool deletions = reader->hasDeletions();
  const int32_t max_doc = snap.max_doc();
  uint64_t n = 0;
  if (filter.empty()) {
    for (int32_t d = 0; d < max_doc; ++d) {
      if (deletions && reader->isDeleted(d)) continue;
      if (out.size() < limit) {
        out.push_back({d, 0.0});
      } else if (!total) {
        break;
      } else if (!deletions) {
        n += static_cast<uint64_t>(max_doc - d);
        break;
      }
      ++n;
    }
  } else {
    for (size_t w = 0; w < filter.size(); ++w) {
      if (w * 64 >= static_cast<size_t>(max_doc)) break;
      uint64_t bits = filter[w];
      if (w * 64 + 64 > static_cast<size_t>(max_doc) && max_doc % 64 != 0) {
        bits &= (uint64_t{1} << (max_doc % 64)) - 1;  // no docid at or past max_doc
      }
      if (out.size() >= limit && !deletions) {
        if (!total) break;
        n += static_cast<uint64_t>(std::popcount(bits));
        continue;
      }
      for (; bits != 0; bits &= bits - 1) {
        const int32_t d = static_cast<int32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
        if (deletions && reader->isDeleted(d)) continue;
        if (out.size() < limit) out.push_back({d, 0.0});
        ++n;
      }
      if (out.size() >= limit && !total && !deletions) break;
    }
  }
  if (total) *total = n;
  return out;
}
Status SortMatches(const Snapshot& snap, const std::vector<SortField>& sort, size_t n,
                   std::vector<ScoredDoc>* matches) {
  const size_t keep = std::min(n, matches->size());
  if (sort.empty()) {
    std::partial_sort(
        matches->begin(), matches->begin() + keep, matches->end(),
        [](const ScoredDoc& a, const ScoredDoc& b) { return a.score != b.score ? a.score > b.score : a.doc < b.doc; });
    matches->resize(keep);
    return Status::OK();
  }
  // Per match and sort field: whether it has a value, and its key (numeric
  // key, or the smallest ordinal of a keyword field).
  const size_t nf = sort.size(), m = matches->size();
  std::vector<int64_t> keys(m * nf, 0);
  std::vector<char> has(m * nf, 0);
  const std::vector<int32_t>& row_by_doc = snap.RowByDoc();
  for (size_t j = 0; j < nf; ++j) {
    const FieldSpec* spec;
    const ValueColumn* column;
    HYMIR_RETURN_IF_ERROR(TypedColumn(snap, sort[j].field, &spec, &column));
    if (!spec->sortable) {
      return Status::InvalidArgument("field \"" + sort[j].field +
                                     "\" is not sortable (declare it with \"sort\": true)");
    }
    if (!column) continue;
    for (size_t i = 0; i < m; ++i) {
      const int32_t row = row_by_doc[(*matches)[i].doc];
      if (row < 0) continue;
      if (column->numeric()) {
        if (column->Has(row)) {
          has[i * nf + j] = 1;
          keys[i * nf + j] = column->Key(row);
        }
      } else if (column->OrdBegin(row) < column->OrdEnd(row)) {
        has[i * nf + j] = 1;
        keys[i * nf + j] = column->Ord(column->OrdBegin(row));
      }
    }
  }
  std::vector<uint32_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  auto less = [&](uint32_t a, uint32_t b) {
    for (size_t j = 0; j < nf; ++j) {
      const bool ha = has[a * nf + j], hb = has[b * nf + j];
      if (ha != hb) return ha;  // documents without a value last
      if (!ha) continue;
      const int64_t ka = keys[a * nf + j], kb = keys[b * nf + j];
      if (ka != kb) return sort[j].descending ? ka > kb : ka < kb;
    }
    const ScoredDoc& x = (*matches)[a];
    const ScoredDoc& y = (*matches)[b];
    if (x.score != y.score) return x.score > y.score;
    return snap.id(x.doc) < snap.id(y.doc);
  };
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), less);
  std::vector<ScoredDoc> out;
  out.reserve(keep);
  for (size_t i = 0; i < keep; ++i) out.push_back((*matches)[order[i]]);
  *matches = std::move(out);
  return Status::OK();
}

std::vector<SortValue> SortValuesOf(const Snapshot& snap, const std::vector<SortField>& sort, int32_t doc) {
  std::vector<SortValue> out(sort.size());
  const int32_t row = snap.RowByDoc()[doc];
  for (size_t j = 0; j < sort.size(); ++j) {
    const FieldSpec* spec;
    const ValueColumn* column;
    if (row < 0 || !TypedColumn(snap, sort[j].field, &spec, &column).ok() || !column) continue;
    if (column->numeric()) {
      if (column->Has(row)) out[j] = {true, column->Key(row), {}};
    } else if (column->OrdBegin(row) < column->OrdEnd(row)) {
      out[j] = {true, 0, std::string(column->Value(column->Ord(column->OrdBegin(row))))};
    }
  }
  return out;
}

Result<FacetResult> CountFacet(const Snapshot& snap, const FacetRequest& request,
                               const std::vector<ScoredDoc>& matches) {
  const FieldSpec* spec;
  const ValueColumn* column;
  HYMIR_RETURN_IF_ERROR(TypedColumn(snap, request.field, &spec, &column));
  if (!spec->facetable) {
    return Status::InvalidArgument("field \"" + request.field +
                                   "\" is not facetable (declare it with \"facet\": true)");
  }
  FacetResult result;
  result.field = request.field;
  const std::vector<int32_t>& row_by_doc = snap.RowByDoc();
  if (!request.buckets.empty()) {
    if (spec->type == FieldType::kKeyword) {
      return Status::InvalidArgument("facet on \"" + request.field + "\": buckets need a numeric or date field");
    }
    if (request.buckets.size() < 2) {
      return Status::InvalidArgument("facet on \"" + request.field + "\": buckets need at least two bounds");
    }
    std::vector<int64_t> bounds;
    for (const std::string& b : request.buckets) {
      HYMIR_ASSIGN_OR_RETURN(int64_t k, TextKey(request.field, *spec, b));
      if (!bounds.empty() && k <= bounds.back()) {
        return Status::InvalidArgument("facet on \"" + request.field + "\": bucket bounds must ascend (at \"" + b +
                                       "\")");
      }
      bounds.push_back(k);
    }
    std::vector<uint64_t> counts(bounds.size() - 1, 0);
    if (column) {
      for (const ScoredDoc& m : matches) {
        const int32_t row = row_by_doc[m.doc];
        if (row < 0 || !column->Has(row)) continue;
        const int64_t k = column->Key(row);
        auto it = std::upper_bound(bounds.begin(), bounds.end(), k);
        if (it == bounds.begin() || it == bounds.end()) continue;  // outside [b0, bn)
        ++counts[static_cast<size_t>(it - bounds.begin()) - 1];
      }
    }
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
      result.counts.push_back({"[" + request.buckets[i] + "," + request.buckets[i + 1] + ")", counts[i]});
    }
    return result;
  }
  if (!column || request.top_n == 0) return result;
  if (column->numeric()) {
    std::unordered_map<int64_t, uint64_t> counts;
    for (const ScoredDoc& m : matches) {
      const int32_t row = row_by_doc[m.doc];
      if (row >= 0 && column->Has(row)) ++counts[column->Key(row)];
    }
    std::vector<std::pair<int64_t, uint64_t>> v(counts.begin(), counts.end());
    const size_t keep = std::min(request.top_n, v.size());
    std::partial_sort(v.begin(), v.begin() + keep, v.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (size_t i = 0; i < keep; ++i) result.counts.push_back({KeyText(spec->type, v[i].first), v[i].second});
    return result;
  }
  std::vector<uint64_t> counts(column->values, 0);
  for (const ScoredDoc& m : matches) {
    const int32_t row = row_by_doc[m.doc];
    if (row < 0) continue;
    for (uint64_t i = column->OrdBegin(row), e = column->OrdEnd(row); i < e; ++i) ++counts[column->Ord(i)];
  }
  std::vector<uint32_t> ords;
  for (uint32_t o = 0; o < counts.size(); ++o) {
    if (counts[o] > 0) ords.push_back(o);
  }
  const size_t keep = std::min(request.top_n, ords.size());
  std::partial_sort(ords.begin(), ords.begin() + keep, ords.end(),
                    [&](uint32_t a, uint32_t b) { return counts[a] != counts[b] ? counts[a] > counts[b] : a < b; });
  for (size_t i = 0; i < keep; ++i) result.counts.push_back({std::string(column->Value(ords[i])), counts[ords[i]]});
  return result;
}

}  // namespace hymir::index::internal
