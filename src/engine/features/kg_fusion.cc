// KgFusionFeatures: the knowledge-fusion features of the candidates and the
// query's knowledge for the gate.
#include "src/engine/features/kg_fusion.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "hymir/kg/loader.h"

namespace hymir::internal {
namespace {

constexpr size_t kPairFixed = 2;  // kgf_shared, kgf_shared_rel precede the per-source columns

}  // namespace

size_t KgFusionFeatures::SourceBucket(std::string_view entity) {
  const std::string_view s = kg::SourceOf(entity);
  for (size_t k = 0; k + 1 < kSources.size(); ++k)
    if (s == kSources[k]) return k;
  return kSources.size() - 1;
}

const std::vector<std::string>& KgFusionFeatures::AllPairNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"kgf_shared", "kgf_shared_rel"};
    for (auto s : kSources) n.push_back("kgf_shared:" + std::string(s));
    for (const char* x : {"kgf_near", "kgf_def", "kgf_def_rel", "kgf_emb"}) n.emplace_back(x);
    return n;
  }();
  return names;
}

const std::vector<std::string>& KgFusionFeatures::AllQueryNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"kgf_q_entities", "kgf_q_linked"};
    for (auto s : kSources) n.push_back("kgf_q_source:" + std::string(s));
    for (const char* x : {"kgf_q_specific", "kgf_q_multiword", "kgf_q_defined"}) n.emplace_back(x);
    return n;
  }();
  return names;
}

std::vector<std::string> KgFusionFeatures::PairNames() const {
  return pair_ ? AllPairNames() : std::vector<std::string>{};
}
std::vector<std::string> KgFusionFeatures::QueryNames() const {
  return query_ ? AllQueryNames() : std::vector<std::string>{};
}

Status KgFusionFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  const size_t n = ctx.size();
  const auto& linker = kg_->linker();
  const auto mentions = linker.Link(ctx.query->text);
  std::vector<std::string> qents;
  std::unordered_set<std::string> seen;
  for (const auto& m : mentions)
    if (seen.insert(m.entity).second) qents.push_back(m.entity);
  if (qents.empty()) return Status::OK();  // no knowledge: every feature stays 0
  const double nq = static_cast<double>(qents.size());
  constexpr size_t S = kSources.size();
  std::vector<size_t> bucket(qents.size());
  std::array<double, S> per_source{};
  for (size_t k = 0; k < qents.size(); ++k) per_source[bucket[k] = SourceBucket(qents[k])] += 1;

  // Definitions: each query entity's distinct analysed definition terms that
  // are not query terms.
  std::unordered_set<std::string> query_terms(ctx.terms.begin(), ctx.terms.end());
  std::vector<std::vector<std::string>> def_terms(qents.size());
  size_t defined = 0;
  for (size_t k = 0; k < qents.size(); ++k) {
    HYMIR_ASSIGN_OR_RETURN(auto defs,
                           kg_->store().Match({qents[k], std::string(kg::kDefinitionRelation), std::nullopt}, 1));
    if (defs.empty()) continue;
    ++defined;
    std::unordered_set<std::string> own;
    for (auto& t : linker.Tokenize(defs[0].object)) {
      if (def_terms[k].size() >= kMaxDefinitionTerms) break;
      if (query_terms.count(t) || !own.insert(t).second) continue;
      def_terms[k].push_back(std::move(t));
    }
  }

  if (query_) {
    std::vector<double> q(AllQueryNames().size(), 0.0);
    size_t c = 0;
    q[c++] = std::min(1.0, std::log1p(nq) / std::log1p(8.0));
    double linked = 0, specific = 0, multi = 0;
    for (const auto& m : mentions) {
      linked += static_cast<double>(m.end - m.begin);
      specific += 1.0 / static_cast<double>(std::max<size_t>(m.num_candidates, 1));
      multi += m.end - m.begin >= 2 ? 1.0 : 0.0;
    }
    const double ntok = static_cast<double>(std::max<size_t>(linker.Tokenize(ctx.query->text).size(), 1));
    q[c++] = std::min(1.0, linked / ntok);
    for (size_t s = 0; s < S; ++s) q[c++] = per_source[s] / nq;
    const double nm = static_cast<double>(mentions.size());
    q[c++] = specific / nm;
    q[c++] = multi / nm;
    q[c++] = static_cast<double>(defined) / nq;
    for (size_t k = 0; k < q.size() && k < cols.query.size(); ++k) out.query[cols.query[k]] = q[k];
  }
  if (!pair_) return Status::OK();

  HYMIR_ASSIGN_OR_RETURN(kg::QueryKgContext graph, kg::QueryKgContext::Build(kg_->store(), qents));
  std::unordered_map<std::string_view, size_t> qindex;
  for (size_t k = 0; k < qents.size(); ++k) qindex.emplace(qents[k], k);
  // definition term -> the query entities whose definition holds it
  std::unordered_map<std::string_view, std::vector<size_t>> def_index;
  for (size_t k = 0; k < qents.size(); ++k)
    for (const auto& t : def_terms[k]) def_index[t].push_back(k);
  const kg::KgEmbeddings* emb = kg_->embeddings();

  const size_t width = AllPairNames().size();
  std::vector<double> rows(n * width, 0.0);
  std::vector<char> hit(qents.size());
  std::vector<size_t> def_found(qents.size());
  for (size_t i = 0; i < n; ++i) {
    const AnalysedDoc& d = ctx.doc(i);
    if (d.entities.empty() && d.title.empty() && d.text.empty()) continue;
    double* r = rows.data() + i * width;
    std::fill(hit.begin(), hit.end(), 0);
    for (const auto& e : d.entities) {
      auto it = qindex.find(e);
      if (it != qindex.end()) hit[it->second] = 1;
    }
    std::array<double, S> shared_src{};
    double shared = 0;
    for (size_t k = 0; k < qents.size(); ++k)
      if (hit[k]) {
        shared += 1;
        shared_src[bucket[k]] += 1;
      }
    r[0] = shared / nq;
    for (size_t s = 0; s < S; ++s) r[kPairFixed + s] = per_source[s] > 0 ? shared_src[s] / per_source[s] : 0.0;
    size_t c = kPairFixed + S;
    if (!d.entities.empty()) {
      const kg::KgFeatures f = graph.ComputeFeatures(d.entities);
      r[c] = (f.matched + f.one_hop_entities + f.two_hop_entities) / (3.0 * nq);
    }
    ++c;
    if (!def_index.empty()) {
      std::fill(def_found.begin(), def_found.end(), 0);
      std::unordered_set<std::string_view> doc_seen;
      auto scan = [&](const std::vector<std::string>& terms) {
        for (const auto& t : terms) {
          auto it = def_index.find(t);
          if (it == def_index.end() || !doc_seen.insert(it->first).second) continue;
          for (size_t k : it->second) ++def_found[k];
        }
      };
      scan(d.title);
      scan(d.text);
      double sum = 0;
      size_t with = 0;
      for (size_t k = 0; k < qents.size(); ++k) {
        if (def_terms[k].empty()) continue;
        ++with;
        sum += static_cast<double>(def_found[k]) / static_cast<double>(def_terms[k].size());
      }
      r[c] = with ? sum / static_cast<double>(with) : 0.0;
    }
    c += 2;  // kgf_def, kgf_def_rel
    if (emb && !d.entities.empty()) {
      double sim = 0;
      for (const auto& q : qents) {
        double best = 0;
        for (const auto& e : d.entities) best = std::max(best, emb->Similarity(q, e));
        sim += best;
      }
      r[c] = sim / nq;
    }
  }
  // Per-query normalisation of the shared and definition columns.
  const size_t def_col = kPairFixed + S + 1;
  double max_shared = 0, max_def = 0;
  for (size_t i = 0; i < n; ++i) {
    max_shared = std::max(max_shared, rows[i * width]);
    max_def = std::max(max_def, rows[i * width + def_col]);
  }
  for (size_t i = 0; i < n; ++i) {
    double* r = rows.data() + i * width;
    r[1] = max_shared > 0 ? r[0] / max_shared : 0.0;
    r[def_col + 1] = max_def > 0 ? r[def_col] / max_def : 0.0;
    for (size_t k = 0; k < width && k < cols.pair.size(); ++k) out.Pair(i, cols.pair[k]) = r[k];
  }
  return Status::OK();
}

}  // namespace hymir::internal
