// A parameter set into a query: flags and HTTP parameters -> QuerySpec ->
// HybridQuery.
#include "hymir/query_spec.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <utility>

#include "hymir/beir.h"

namespace hymir {

Status ParseFilters(const std::vector<std::string>& specs, std::vector<index::FieldFilter>* out,
                    const std::string& what) {
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument(what + " \"" + spec + "\": expected FIELD:VALUE");
    }
    std::string field = spec.substr(0, colon), value = spec.substr(colon + 1);
    auto it = std::find_if(out->begin(), out->end(), [&](const index::FieldFilter& f) { return f.field == field; });
    if (it == out->end()) {
      out->push_back({field, {value}});
    } else {
      it->values.push_back(value);
    }
  }
  return Status::OK();
}

namespace {

std::string Trim(std::string s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A range value ("[a TO b]", "{a TO *]", ">=a", "<b") into *r; false when
// `value` is none of these (an exact value).
Result<bool> ParseRange(const std::string& value, index::RangeFilter* r, const std::string& at) {
  if (value.empty()) return false;
  const char c = value[0];
  if (c == '[' || c == '{') {
    const char e = value.back();
    if (value.size() < 2 || (e != ']' && e != '}')) return Status::InvalidArgument(at + ": a range ends with ] or }");
    const std::string inner = value.substr(1, value.size() - 2);
    const size_t to = inner.find(" TO ");
    if (to == std::string::npos) return Status::InvalidArgument(at + ": expected [LO TO HI]");
    const std::string lo = Trim(inner.substr(0, to)), hi = Trim(inner.substr(to + 4));
    if (lo.empty() || hi.empty())
      return Status::InvalidArgument(at + ": a range bound is empty (use * for an open end)");
    r->lo_inclusive = c == '[';
    r->hi_inclusive = e == ']';
    if (lo != "*") r->lo = lo;
    if (hi != "*") r->hi = hi;
    return true;
  }
  if (c == '>' || c == '<') {
    const bool eq = value.size() > 1 && value[1] == '=';
    const std::string bound = Trim(value.substr(eq ? 2 : 1));
    if (bound.empty()) return Status::InvalidArgument(at + ": a comparison needs a value");
    if (c == '>') {
      r->lo = bound;
      r->lo_inclusive = eq;
    } else {
      r->hi = bound;
      r->hi_inclusive = eq;
    }
    return true;
  }
  return false;
}

}  // namespace

Status ParseFilters(const std::vector<std::string>& specs, std::vector<index::FieldFilter>* out,
                    std::vector<index::RangeFilter>* ranges, const std::string& what) {
  std::vector<std::string> exact;
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument(what + " \"" + spec + "\": expected FIELD:VALUE or FIELD:[LO TO HI]");
    }
    index::RangeFilter r;
    r.field = spec.substr(0, colon);
    HYMIR_ASSIGN_OR_RETURN(bool is_range, ParseRange(spec.substr(colon + 1), &r, what + " \"" + spec + "\""));
    if (is_range) {
      ranges->push_back(std::move(r));
    } else {
      exact.push_back(spec);
    }
  }
  return ParseFilters(exact, out, what);
}

Status ParseSort(const std::vector<std::string>& specs, std::vector<index::SortField>* out, const std::string& what) {
  for (const std::string& spec : specs) {
    index::SortField f;
    const auto colon = spec.rfind(':');
    f.field = spec;
    if (colon != std::string::npos) {
      const std::string dir = spec.substr(colon + 1);
      if (dir != "asc" && dir != "desc") {
        return Status::InvalidArgument(what + " \"" + spec + "\": expected FIELD[:asc|desc]");
      }
      f.field = spec.substr(0, colon);
      f.descending = dir == "desc";
    }
    if (f.field.empty()) return Status::InvalidArgument(what + " \"" + spec + "\": empty field name");
    out->push_back(std::move(f));
  }
  return Status::OK();
}

Status ParseFacets(const std::vector<std::string>& specs, std::vector<index::FacetRequest>* out,
                   const std::string& what) {
  for (const std::string& spec : specs) {
    index::FacetRequest f;
    const auto colon = spec.find(':');
    f.field = spec.substr(0, colon);
    if (f.field.empty()) return Status::InvalidArgument(what + " \"" + spec + "\": empty field name");
    if (colon != std::string::npos) {
      const std::string arg = spec.substr(colon + 1);
      if (arg.rfind("buckets=", 0) == 0) {
        std::string rest = arg.substr(8);
        size_t b = 0;
        while (b <= rest.size()) {
          size_t e = rest.find(',', b);
          if (e == std::string::npos) e = rest.size();
          const std::string bound = Trim(rest.substr(b, e - b));
          if (bound.empty()) return Status::InvalidArgument(what + " \"" + spec + "\": an empty bucket bound");
          f.buckets.push_back(bound);
          b = e + 1;
        }
        if (f.buckets.size() < 2) {
          return Status::InvalidArgument(what + " \"" + spec + "\": buckets= needs at least two bounds");
        }
      } else {
        size_t used = 0;
        unsigned long long n = 0;
        try {
          if (!arg.empty() && arg[0] != '-' && arg[0] != '+') n = std::stoull(arg, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != arg.size() || n == 0 || n > 10000) {
          return Status::InvalidArgument(what + " \"" + spec +
                                         "\": expected FIELD[:N] with N in [1, 10000] or "
                                         "FIELD:buckets=B0,B1,...");
        }
        f.top_n = static_cast<size_t>(n);
      }
    }
    out->push_back(std::move(f));
  }
  return Status::OK();
}

Status ParseFields(const std::vector<std::string>& specs, std::vector<index::FieldWeight>* out,
                   const std::string& what) {
  if (specs.empty()) return Status::OK();
  out->clear();
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    index::FieldWeight fw{spec.substr(0, colon), 1.0};
    if (colon != std::string::npos) {
      // The whole rest must be a finite number: std::stod alone reads "2x" as 2 and "info" as inf.
      const std::string text = spec.substr(colon + 1);
      size_t used = 0;
      try {
        fw.weight = std::stod(text, &used);
      } catch (...) {
        used = 0;
      }
      if (used == 0 || used != text.size() || !std::isfinite(fw.weight)) {
        return Status::InvalidArgument(what + " \"" + spec + "\": weight is not a number");
      }
    }
    out->push_back(fw);
  }
  return Status::OK();
}

Status CheckQuerySpec(const QuerySpec& spec, const std::string& filter_name, const std::string& field_name) {
  std::vector<index::FieldFilter> filters;
  std::vector<index::RangeFilter> ranges;
  std::vector<index::FieldWeight> fields;
  std::vector<index::SortField> sort;
  std::vector<index::FacetRequest> facets;
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec.filters, &filters, &ranges, filter_name));
  HYMIR_RETURN_IF_ERROR(ParseSort(spec.sort, &sort));
  HYMIR_RETURN_IF_ERROR(ParseFacets(spec.facets, &facets));
  return ParseFields(spec.fields, &fields, field_name);
}

Result<HybridQuery> BuildQuery(const QuerySpec& spec, const Engine& engine) {
  HybridQuery q;
  q.id = spec.id;
  q.text = spec.text;
  q.vector = spec.vector;
  q.vector_field = spec.vector_field;
  q.bm25.bm25.k1 = spec.k1;
  q.bm25.bm25.b = spec.b;
  q.k = spec.k;
  q.offset = spec.offset;
  q.bm25_depth = spec.bm25_depth;
  q.vector_depth = spec.vector_depth;
  q.ef_search = spec.ef_search;
  q.nprobe = spec.nprobe;
  HYMIR_ASSIGN_OR_RETURN(q.syntax, ParseQuerySyntax(spec.syntax));
  if (q.syntax == QuerySyntax::kLucene && !IsBareTerms(q.text)) {
    auto parsed = ParseQuery(q.text);
    if (!parsed.ok()) return parsed.status();
  }
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec.filters, &q.filters, &q.ranges));
  HYMIR_RETURN_IF_ERROR(ParseSort(spec.sort, &q.sort));
  HYMIR_RETURN_IF_ERROR(ParseFacets(spec.facets, &q.facets));
  HYMIR_RETURN_IF_ERROR(ParseFields(spec.fields, &q.bm25.fields));
  // Typed parts name fields of the schema: check them now, naming the spec.
  const index::Schema& schema = engine.searcher().schema();
  for (const auto& r : q.ranges) {
    if (!schema.Find(r.field)) {
      return Status::InvalidArgument("filter on \"" + r.field +
                                     "\": unknown typed field (ranges need a field of the "
                                     "index's schema)");
    }
  }
  for (const auto& f : q.sort) {
    if (!schema.Find(f.field)) return Status::InvalidArgument("sort on \"" + f.field + "\": unknown typed field");
  }
  for (const auto& f : q.facets) {
    if (!schema.Find(f.field)) return Status::InvalidArgument("facet on \"" + f.field + "\": unknown typed field");
  }
  HYMIR_ASSIGN_OR_RETURN(q.retriever, ParseRetriever(spec.retriever));
  // The fusion stays the index's default unless the spec changes it.
  if (!spec.fusion.empty() || spec.alpha >= 0 || !spec.weights.empty()) {
    ranking::FusionOptions o = engine.default_fusion();
    if (!spec.fusion.empty()) {
      HYMIR_ASSIGN_OR_RETURN(ranking::FusionMethod method, ranking::ParseFusionMethod(spec.fusion));
      o = ranking::FusionOptions();
      o.method = method;
      if (o.method == ranking::FusionMethod::kConvex) o.alpha = Engine::kDefaultAlpha;
    }
    o.rrf_k = spec.rrf_k;
    if (spec.alpha >= 0) o.alpha = spec.alpha;
    if (!spec.weights.empty()) o.weights = spec.weights;
    q.fusion = o;
  }
  return q;
}

namespace {

// The value of a parameter given at most once (nullopt when absent).
Result<std::optional<std::string>> One(const QueryParams& params, const std::string& name) {
  if (params.count(name) > 1) return Status::InvalidArgument("parameter " + name + " is given more than once");
  auto it = params.find(name);
  if (it == params.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<size_t> Size(const QueryParams& params, const std::string& name, size_t fallback, size_t lo, size_t hi) {
  HYMIR_ASSIGN_OR_RETURN(auto v, One(params, name));
  if (!v) return fallback;
  size_t used = 0;
  unsigned long long n = 0;
  try {
    if (v->empty() || (*v)[0] == '-' || (*v)[0] == '+') throw std::invalid_argument(*v);
    n = std::stoull(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v->size())
    return Status::InvalidArgument("parameter " + name + "=\"" + *v + "\" is not a whole number");
  if (n < lo || n > hi)
    return Status::InvalidArgument("parameter " + name + "=" + *v + " is outside [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + "]");
  return static_cast<size_t>(n);
}

Result<std::optional<bool>> Flag(const QueryParams& params, const std::string& name) {
  HYMIR_ASSIGN_OR_RETURN(auto v, One(params, name));
  if (!v) return std::optional<bool>();
  if (*v == "1" || *v == "true" || *v == "on" || v->empty()) return std::optional<bool>(true);
  if (*v == "0" || *v == "false" || *v == "off") return std::optional<bool>(false);
  return Status::InvalidArgument("parameter " + name + "=\"" + *v + "\" is not 0 or 1");
}

std::vector<std::string> All(const QueryParams& params, const std::string& name) {
  std::vector<std::string> out;
  auto [b, e] = params.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

}  // namespace

Status ParseQueryParams(const QueryParams& params, const ParamLimits& limits, QuerySpec* spec, StageOptions* stages) {
  HYMIR_ASSIGN_OR_RETURN(auto text, One(params, "q"));
  if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos)
    return Status::InvalidArgument("missing parameter q (the query text)");
  if (auto nul = text->find('\0'); nul != std::string::npos) {
    return Status::InvalidArgument("parameter q has a NUL byte at byte " + std::to_string(nul));
  }
  if (text->size() > kMaxQueryBytes) {
    return Status::InvalidArgument("parameter q is " + std::to_string(text->size()) + " bytes, over the limit of " +
                                   std::to_string(kMaxQueryBytes));
  }
  spec->text = *text;
  HYMIR_ASSIGN_OR_RETURN(auto syntax, One(params, "syntax"));
  if (syntax) {
    auto s = ParseQuerySyntax(*syntax);
    if (!s.ok()) return Status::InvalidArgument("parameter syntax: " + s.status().message());
    spec->syntax = *syntax;
    if (*s == QuerySyntax::kLucene && !IsBareTerms(spec->text)) {
      auto parsed = ParseQuery(spec->text);
      if (!parsed.ok()) return Status::InvalidArgument("parameter q: " + parsed.status().message());
    }
  }
  HYMIR_ASSIGN_OR_RETURN(spec->k, Size(params, "k", limits.default_k, 1, limits.max_k));
  HYMIR_ASSIGN_OR_RETURN(spec->offset, Size(params, "offset", 0, 0, limits.max_k));
  if (spec->offset + spec->k > limits.max_k)
    return Status::InvalidArgument("offset + k = " + std::to_string(spec->offset + spec->k) +
                                   " exceeds the service's limit of " + std::to_string(limits.max_k));
  HYMIR_ASSIGN_OR_RETURN(auto retriever, One(params, "retriever"));
  if (retriever) {
    auto r = ParseRetriever(*retriever);
    if (!r.ok()) return Status::InvalidArgument("parameter retriever: " + r.status().message());
    spec->retriever = *retriever;
  }
  spec->filters = All(params, "filter");
  spec->sort = All(params, "sort");
  spec->facets = All(params, "facet");
  // Named as parameters here; BuildQuery parses them again.
  std::vector<index::FieldFilter> checked;
  std::vector<index::RangeFilter> ranges;
  std::vector<index::SortField> sort;
  std::vector<index::FacetRequest> facets;
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec->filters, &checked, &ranges, "parameter filter"));
  HYMIR_RETURN_IF_ERROR(ParseSort(spec->sort, &sort, "parameter sort"));
  HYMIR_RETURN_IF_ERROR(ParseFacets(spec->facets, &facets, "parameter facet"));
  HYMIR_ASSIGN_OR_RETURN(stages->rerank, Flag(params, "rerank"));
  HYMIR_ASSIGN_OR_RETURN(stages->expand, Flag(params, "expand"));
  HYMIR_ASSIGN_OR_RETURN(std::optional<bool> explain, Flag(params, "explain"));
  stages->explain = explain.value_or(false);
  HYMIR_ASSIGN_OR_RETURN(std::optional<bool> total, Flag(params, "total"));
  // A structured query (sort, facets, ranges) reports its total too.
  stages->count = total.value_or(!sort.empty() || !facets.empty() || !ranges.empty());
  return Status::OK();
}

}  // namespace hymir
