// A parameter set into a query: flags and HTTP parameters -> QuerySpec ->
// HybridQuery.
#include "hymir/query_spec.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <utility>

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
  std::vector<index::FieldWeight> fields;
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec.filters, &filters, filter_name));
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
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec.filters, &q.filters));
  HYMIR_RETURN_IF_ERROR(ParseFields(spec.fields, &q.bm25.fields));
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
  std::vector<index::FieldFilter> checked;  // named as a parameter here; BuildQuery parses them again
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec->filters, &checked, "parameter filter"));
  HYMIR_ASSIGN_OR_RETURN(stages->rerank, Flag(params, "rerank"));
  HYMIR_ASSIGN_OR_RETURN(stages->expand, Flag(params, "expand"));
  HYMIR_ASSIGN_OR_RETURN(std::optional<bool> explain, Flag(params, "explain"));
  stages->explain = explain.value_or(false);
  return Status::OK();
}

}  // namespace hymir
