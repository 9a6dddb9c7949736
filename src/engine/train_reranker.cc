// Supervised re-ranker training: judged queries -> expansion -> retrieval ->
// features -> labels (BuildTrainingSet), then the model from scratch, from
// an initial model, or fused with it, with optional per-query trust.
#include "hymir/train_reranker.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "hymir/index/analyzer.h"
#include "hymir/knowledge.h"

namespace hymir {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

bool Fusing(const TrainRerankerOptions& o) { return o.init != nullptr && o.init_use != InitUse::kFineTune; }

// The initial model's gate also reads this index's query features (so
// that fusion, among the choices, can train on them).
bool ExtendsGate(const TrainRerankerOptions& o) {
  return o.init != nullptr && (o.extend_gate || Fusing(o) || o.choose);
}

// Corpus domains are computed (FeatureExtractor::DomainsOf) for the features.
bool ComputesDomains(const TrainRerankerOptions& o) {
  return o.domain_features && (o.init == nullptr || ExtendsGate(o));
}

bool Distributed(const TrainRerankerOptions& o) { return o.part.second > 1; }

// The status every process shares after a local stage (options.agree).
Status Agreed(const TrainRerankerOptions& o, const Status& local) {
  return Distributed(o) && o.agree ? o.agree(local) : local;
}

void Say(const TrainRerankerOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

bool HasRelevant(const ranking::QueryGroup& g) {
  return std::any_of(g.labels.begin(), g.labels.end(), [](double l) { return l > 0; });
}

// This process's share of `queries`, expanded through `kg`.
struct Part {
  std::vector<HybridQuery> queries;
  std::vector<std::string> domains;
  std::vector<const std::vector<std::string>*> exclude;
};

Result<Part> ExpandPart(const std::vector<TrainingQuery>& queries, const TrainRerankerOptions& o,
                        const KnowledgeContext* kg) {
  Part part;
  const size_t parts = static_cast<size_t>(o.part.second);
  for (size_t i = static_cast<size_t>(o.part.first); i < queries.size(); i += parts) {
    HybridQuery q = queries[i].query;
    if (kg != nullptr && o.expand && o.kg_uses.expand) HYMIR_RETURN_IF_ERROR(kg->ExpandQuery(&q).status());
    part.queries.push_back(std::move(q));
    part.domains.push_back(queries[i].domain);
    part.exclude.push_back(&queries[i].exclude);
  }
  return part;
}

// The top `depth` candidates of each query, its excluded documents removed
// (retrieval goes deeper by the most any query excludes).
Result<std::vector<std::vector<SearchHit>>> Retrieve(const Engine& engine, const Part& part, size_t depth) {
  size_t extra = 0;
  for (const auto* e : part.exclude) extra = std::max(extra, e->size());
  HYMIR_ASSIGN_OR_RETURN(auto hits, RetrieveCandidates(engine, part.queries, depth + extra));
  if (extra == 0) return hits;
  for (size_t i = 0; i < hits.size(); ++i) {
    const std::vector<std::string>& out = *part.exclude[i];
    auto& list = hits[i];
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const SearchHit& h) { return std::find(out.begin(), out.end(), h.id) != out.end(); }),
               list.end());
    if (list.size() > depth) list.resize(depth);
  }
  return hits;
}

// The feature set before the corpus domains: the initial model's (its
// query-embedding components widened when the gate is extended) or the
// options'.
Result<FeatureConfig> BaseConfig(const TrainRerankerOptions& o, const KnowledgeContext* kg) {
  if (o.init == nullptr) {
    FeatureConfig c = o.features;
    ApplyKgUses(o.kg_uses, kg != nullptr, &c);
    return c;
  }
  auto c = FeatureExtractor::ConfigFromSchema(o.init->schema());
  if (!c.ok()) return Status::InvalidArgument("the initial model: " + c.status().message());
  if (c->UsesKg() && kg == nullptr)
    return Status::InvalidArgument("the initial model was trained with KG features: it needs the knowledge graph");
  if (!c->UsesKg() && kg != nullptr)
    Say(o, "warning: the initial model has no KG features: the KG only expands the queries");
  if (ExtendsGate(o)) c->query_embedding_dims = o.features.query_embedding_dims;
  return c;
}

// The corpus domains of every process's candidates, sorted.
Result<std::vector<std::string>> CorpusDomains(const Engine& engine, const std::vector<std::vector<SearchHit>>& hits,
                                               const TrainRerankerOptions& o) {
  auto domains = FeatureExtractor::DomainsOf(engine, hits);
  HYMIR_RETURN_IF_ERROR(Agreed(o, domains.status()));
  if (!Distributed(o)) return domains;
  return o.gather_domains(*domains);
}

// Features and labels of this process's candidates, then every process's groups.
Status ExtractAndLabel(const FeatureExtractor& extractor, const ranking::Qrels& qrels, const TrainRerankerOptions& o,
                       TrainingSet& set, size_t total) {
  auto groups = extractor.ExtractBatch(set.queries, set.hits, o.threads);
  HYMIR_RETURN_IF_ERROR(Agreed(o, groups.status()));
  set.groups = std::move(groups).value();
  LabelForTraining(set.groups, qrels, set.domains, extractor.config().domains);
  if (Distributed(o)) {
    HYMIR_ASSIGN_OR_RETURN(set.groups, o.gather_groups(set.groups));
    if (set.groups.size() != total)
      return Status::Internal("training: gathered " + std::to_string(set.groups.size()) + " groups for " +
                              std::to_string(total) + " queries");
  }
  set.with_relevant = static_cast<size_t>(std::count_if(set.groups.begin(), set.groups.end(), HasRelevant));
  return Status::OK();
}

// --- The model ---

// The initial model as training starts from it: its trust dropped (a
// model is fine-tuned from its own weights), its gate extended when asked.
struct Start {
  std::optional<ranking::MoeModel> pretrained;  // before extending (fusion weight 0 returns it)
  std::optional<ranking::MoeModel> init;
};

Result<Start> StartingPoint(const TrainingSet& set, const TrainRerankerOptions& o, TrainRerankerReport& rep) {
  Start s;
  if (o.init == nullptr) return s;
  s.pretrained = *o.init;
  s.pretrained->clear_trust();
  s.init = s.pretrained;
  if (ExtendsGate(o) && set.extractor->schema() != s.init->schema()) {
    HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel wider, ExtendGate(*s.pretrained, set));
    rep.gate_extension = wider.schema().query_dim() - s.init->schema().query_dim();
    Say(o, "the gate also reads " + std::to_string(rep.gate_extension) + " features of this index");
    s.init = std::move(wider);
  }
  return s;
}

// The fusion weight: the given one, or the cross-validated choice.
Result<double> FusionWeight(const TrainingSet& set, const ranking::MoeTrainOptions& train,
                            const ranking::MoeModel& init, const TrainRerankerOptions& o, TrainRerankerReport& rep) {
  if (o.init_use == InitUse::kFuseFixed) return o.fuse_weight;
  HYMIR_ASSIGN_OR_RETURN(
      rep.fusion, ranking::ChooseFusionWeight(set.extractor->schema(), set.groups, train, init, o.fuse_folds,
                                              o.fuse_grid, [&](const std::string& line) { Say(o, "fusion " + line); }));
  const ranking::FusionChoice& c = rep.fusion;
  for (size_t k = 0; k < c.grid.size(); ++k) {
    char line[128];
    std::snprintf(line, sizeof line, "fusion weight %.2f: cross-validated nDCG@10 %.4f%s", c.grid[k], c.ndcg[k],
                  c.grid[k] == c.weight ? "  *" : "");
    Say(o, line);
  }
  return c.weight;
}

// Per-query trust over the set's judged queries (their analysed text), with
// out-of-fold gains when trust_config.gain_scale > 0.
Result<ranking::QueryTrust> BuildTrust(const Engine& engine, const TrainingSet& set,
                                       const ranking::MoeTrainOptions& train, const ranking::MoeModel& init,
                                       const TrainRerankerOptions& o) {
  std::vector<double> gains;
  if (o.trust_config.gain_scale > 0) {
    HYMIR_ASSIGN_OR_RETURN(gains,
                           ranking::OutOfFoldGains(set.extractor->schema(), set.groups, train, init, o.trust_folds,
                                                   [&](const std::string& line) { Say(o, "trust " + line); }));
  }
  std::map<std::string, const HybridQuery*> by_id;
  for (const auto& q : set.queries) by_id[q.id] = &q;
  std::vector<std::vector<std::string>> judged;
  for (const auto& g : set.groups) {
    auto it = by_id.find(g.query_id);
    if (it == by_id.end()) return Status::InvalidArgument("trust: query '" + g.query_id + "' is not in the set");
    judged.push_back(index::Analyze(engine.searcher().analyzer(), it->second->text));
  }
  return ranking::QueryTrust::Build(judged, std::move(gains), o.trust_config);
}

// The trained model combined with the initial one: fused (weight > 0) or
// with trust, or the initial model alone (fusion weight 0).
Status CombineWithInit(const Engine& engine, const TrainingSet& set, const ranking::MoeTrainOptions& train,
                       const Start& start, const TrainRerankerOptions& o, TrainRerankerReport& rep,
                       ranking::MoeModel& model) {
  const bool fusing = Fusing(o);
  if (fusing) {
    HYMIR_ASSIGN_OR_RETURN(rep.fuse_weight, FusionWeight(set, train, *start.init, o, rep));
  }
  if (o.trust) {
    HYMIR_ASSIGN_OR_RETURN(ranking::QueryTrust trust, BuildTrust(engine, set, train, *start.init, o));
    if (!fusing) {
      HYMIR_RETURN_IF_ERROR(model.set_trust(*start.init, std::move(trust)));
    } else if (rep.fuse_weight > 0) {
      HYMIR_RETURN_IF_ERROR(model.set_fusion(*start.init, rep.fuse_weight, std::move(trust)));
    }
  } else if (fusing && rep.fuse_weight > 0) {
    HYMIR_RETURN_IF_ERROR(model.set_fusion(*start.init, rep.fuse_weight));
  }
  if (fusing && rep.fuse_weight == 0) model = *start.pretrained;
  return Status::OK();
}

// The model's scoring time per 100 candidates over (up to 500 of) the
// groups, after one warm-up pass: p50 and p99 in microseconds, as served
// (with its anchor's blend; trust read as for a query it covers fully).
void MeasureScoringCost(const ranking::MoeModel& model, const std::vector<ranking::QueryGroup>& groups,
                        TrainRerankerReport& rep) {
  const size_t n = std::min<size_t>(groups.size(), 500);
  std::vector<double> micros;
  for (int pass = 0; pass < 2; ++pass) {
    micros.clear();
    for (size_t i = 0; i < n; ++i) {
      if (groups[i].size() == 0) continue;
      const auto t0 = Clock::now();
      auto scores = model.Score(groups[i]);
      if (scores.ok() && model.has_trust() && !model.BlendTrusted(groups[i], model.BlendWeight({}), *scores).ok())
        return;
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      if (!scores.ok()) return;
      micros.push_back(us * 100.0 / static_cast<double>(groups[i].size()));
    }
  }
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  rep.score_micros_p50 = micros[micros.size() / 2];
  rep.score_micros_p99 = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
}

// --- Automatic choice (options.choose) ---

enum class Kind { kStart, kFineTune, kFuse, kScratch };
struct Option {
  Kind kind;
  double weight = 0.0;  // kFuse
  bool trees = false;   // kFuse, kScratch
  std::string Name(double alpha) const {
    char s[96];
    switch (kind) {
      case Kind::kStart:
        return "the initial model as it is";
      case Kind::kFineTune:
        std::snprintf(s, sizeof s, "fine-tuned (alpha %.2f)", alpha);
        return s;
      case Kind::kFuse:
        std::snprintf(s, sizeof s, "fused at %.2f, %s", weight, trees ? "with trees" : "networks only");
        return s;
      case Kind::kScratch:
        return trees ? "from scratch with trees" : "from scratch, networks only";
    }
    return "";
  }
};

// The candidates, cheapest first (ties go to the earlier one).
std::vector<Option> Options(const TrainRerankerOptions& o) {
  std::vector<Option> out;
  if (o.init == nullptr) return {{Kind::kScratch, 0.0, false}, {Kind::kScratch, 0.0, true}};
  out.push_back({Kind::kStart});
  out.push_back({Kind::kFineTune});
  for (bool trees : {false, true})
    for (double w : o.fuse_grid)
      if (w > 0) out.push_back({Kind::kFuse, w, trees});
  return out;
}

uint64_t FoldHash(const std::string& id, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Out-of-fold nDCG@10 of every candidate on every group with a relevant
// candidate (NaN for the others), and each group's fold.
struct OutOfFold {
  std::vector<int> fold;
  std::vector<std::vector<double>> ndcg;  // [candidate][group]
  std::vector<double> micros;             // [candidate]: scoring cost on the last trained fold
};

// `by_domain` (optional): the folds are given, one per domain (-1: a group
// that is never held out), instead of drawn from the query ids.
Result<OutOfFold> ScoreOutOfFold(const TrainingSet& set, const ranking::MoeTrainOptions& train, const Start& start,
                                 const std::vector<Option>& options, const TrainRerankerOptions& o,
                                 const std::vector<int>* by_domain = nullptr, int domain_folds = 0) {
  const std::vector<ranking::QueryGroup>& groups = set.groups;
  const ranking::FeatureSchema& schema = set.extractor->schema();
  OutOfFold out;
  const int folds = by_domain ? domain_folds : o.choose_folds;
  out.fold.resize(groups.size());
  for (size_t i = 0; i < groups.size(); ++i)
    out.fold[i] = by_domain ? (*by_domain)[i]
                            : static_cast<int>(FoldHash(groups[i].query_id, train.seed) % static_cast<uint64_t>(folds));
  out.ndcg.assign(options.size(), std::vector<double>(groups.size(), std::nan("")));
  out.micros.assign(options.size(), 0.0);
  auto needs = [&](Kind k, bool trees) {
    return std::any_of(options.begin(), options.end(),
                       [&](const Option& c) { return c.kind == k && (k == Kind::kFineTune || c.trees == trees); });
  };
  for (int f = 0; f < folds; ++f) {
    std::vector<ranking::QueryGroup> rest;
    for (size_t i = 0; i < groups.size(); ++i)
      if (out.fold[i] != f) rest.push_back(groups[i]);
    if (rest.empty() || rest.size() == groups.size()) continue;
    // A fold whose other folds cannot train a model (too few judged queries
    // with a relevant candidate) is left out: its queries score no candidate.
    std::optional<ranking::MoeModel> tuned, nets, trees;
    Status trained = Status::OK();
    if (start.init && needs(Kind::kFineTune, false)) {
      ranking::MoeTrainOptions t = train;
      t.init = &*start.init;
      t.model = start.init->config();
      auto m = ranking::TrainMoe(schema, rest, t);
      if (m.ok()) tuned = std::move(m).value();
      if (trained.ok() && !m.ok()) trained = m.status();
    }
    for (bool with_trees : {false, true}) {
      if (!trained.ok() || (!needs(Kind::kFuse, with_trees) && !needs(Kind::kScratch, with_trees))) continue;
      ranking::MoeTrainOptions t = train;
      t.init = nullptr;
      t.tree_expert = with_trees;
      auto m = ranking::TrainMoe(schema, rest, t);
      if (m.ok()) (with_trees ? trees : nets) = std::move(m).value();
      if (trained.ok() && !m.ok()) trained = m.status();
    }
    if (!trained.ok()) {
      if (!trained.IsInvalidArgument()) return trained;
      Say(o, "choice: fold " + std::to_string(f + 1) + " left out: " + trained.message());
      continue;
    }
    // The fused candidates as served (MoeModel::set_fusion, BlendTrusted at
    // the candidate's weight).
    std::optional<ranking::MoeModel> fused_nets, fused_trees;
    if (nets && start.init) {
      fused_nets = *nets;
      HYMIR_RETURN_IF_ERROR(fused_nets->set_fusion(*start.init, 1.0));
    }
    if (trees && start.init) {
      fused_trees = *trees;
      HYMIR_RETURN_IF_ERROR(fused_trees->set_fusion(*start.init, 1.0));
    }
    auto model_of = [&](size_t c) -> const ranking::MoeModel* {
      switch (options[c].kind) {
        case Kind::kStart:
          return &*start.init;
        case Kind::kFineTune:
          return &*tuned;
        case Kind::kFuse:
          return options[c].trees ? &*fused_trees : &*fused_nets;
        case Kind::kScratch:
          return options[c].trees ? &*trees : &*nets;
      }
      return nullptr;
    };
    for (size_t c = 0; c < options.size(); ++c) {
      TrainRerankerReport cost;
      MeasureScoringCost(*model_of(c), rest, cost);
      out.micros[c] = cost.score_micros_p50;
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      if (out.fold[i] != f || !HasRelevant(groups[i])) continue;
      for (size_t c = 0; c < options.size(); ++c) {
        const ranking::MoeModel* m = model_of(c);
        HYMIR_ASSIGN_OR_RETURN(std::vector<double> scores, m->Score(groups[i]));
        if (options[c].kind == Kind::kFuse)
          HYMIR_RETURN_IF_ERROR(m->BlendTrusted(groups[i], options[c].weight, scores));
        out.ndcg[c][i] = ranking::GroupNdcg(groups[i], scores);
      }
    }
    Say(o, std::string(by_domain ? "choice: domain fold " : "choice: fold ") + std::to_string(f + 1) + "/" +
               std::to_string(folds) + " trained on " + std::to_string(rest.size()) + " queries");
  }
  return out;
}

// The per-domain mean (the plain mean with fewer than two domains) of
// `ndcg` over the groups `take` admits.
template <typename Take>
double Macro(const std::vector<ranking::QueryGroup>& groups, const std::vector<double>& ndcg, Take take) {
  std::map<int, std::pair<double, size_t>> by;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (std::isnan(ndcg[i]) || !take(i)) continue;
    auto& [sum, n] = by[groups[i].domain];
    sum += ndcg[i];
    ++n;
  }
  double total = 0, all = 0;
  size_t count = 0;
  for (const auto& [d, v] : by) total += v.first / static_cast<double>(v.second), all += v.first, count += v.second;
  if (by.size() >= 2) return total / static_cast<double>(by.size());
  return count ? all / static_cast<double>(count) : 0.0;
}

// The rule over the groups `take` admits: fills each candidate's macro,
// gain and standard error; returns the chosen index and why.
template <typename Take>
size_t Decide(const std::vector<ranking::QueryGroup>& groups, const OutOfFold& oof, bool has_start, Take take,
              std::vector<TrainRerankerReport::Candidate>& cands, std::string* why,
              const std::vector<bool>& barred = {}) {
  cands.resize(oof.ndcg.size());
  size_t best = 0;
  for (size_t c = 0; c < oof.ndcg.size(); ++c) {
    cands[c].macro = Macro(groups, oof.ndcg[c], take);
    double sum = 0, sq = 0;
    size_t n = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
      if (std::isnan(oof.ndcg[c][i]) || !take(i)) continue;
      const double d = oof.ndcg[c][i] - oof.ndcg[0][i];
      sum += d, sq += d * d, ++n;
    }
    cands[c].gain = n ? sum / static_cast<double>(n) : 0.0;
    cands[c].se = n > 1 ? std::sqrt(std::max(0.0, sq / n - cands[c].gain * cands[c].gain) / (n - 1)) : 0.0;
  }
  auto admitted = [&](size_t c) {
    return c == 0 || !has_start || (cands[c].gain > cands[c].se && (barred.empty() || !barred[c]));
  };
  for (size_t c = 1; c < cands.size(); ++c) {
    if (!admitted(c)) continue;
    if (cands[c].macro > cands[best].macro) best = c;
  }
  // The cost rule: the cheapest admitted candidate (earliest) within one
  // standard error of the best, on the paired out-of-fold shortfall.
  size_t pick = best;
  for (size_t c = 0; c < cands.size(); ++c) {
    double sum = 0, sq = 0;
    size_t n = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
      if (std::isnan(oof.ndcg[c][i]) || std::isnan(oof.ndcg[best][i]) || !take(i)) continue;
      const double d = oof.ndcg[best][i] - oof.ndcg[c][i];
      sum += d, sq += d * d, ++n;
    }
    cands[c].shortfall = n ? sum / static_cast<double>(n) : 0.0;
    cands[c].shortfall_se =
        n > 1 ? std::sqrt(std::max(0.0, sq / n - cands[c].shortfall * cands[c].shortfall) / (n - 1)) : 0.0;
    if (c < pick && (c > 0 || !has_start) && admitted(c) && cands[c].shortfall <= cands[c].shortfall_se) pick = c;
  }
  if (why) {
    char line[320];
    if (!has_start && pick == best)
      std::snprintf(line, sizeof line, "the best cross-validated macro nDCG@10");
    else if (best == 0)
      std::snprintf(line, sizeof line,
                    "no candidate gained more than one standard error over the initial model out of fold");
    else if (pick == best)
      std::snprintf(line, sizeof line,
                    "the best cross-validated macro nDCG@10 among the candidates whose gain over the initial model "
                    "(%+.4f) exceeds one standard error (%.4f), and no cheaper one within one standard error of it",
                    cands[best].gain, cands[best].se);
    else
      std::snprintf(line, sizeof line,
                    "the cheapest candidate within one standard error of the best (macro %.4f, ahead of it by "
                    "%.4f out of fold, standard error %.4f)%s",
                    cands[best].macro, cands[pick].shortfall, cands[pick].shortfall_se,
                    has_start ? ", itself more than one standard error above the initial model" : "");
    *why = line;
  }
  return pick;
}

// Each candidate's paired gain over the initial model on each held-out
// domain (models trained on the other domains): the worst domain, and
// whether the candidate loses there by more than one standard error.
struct DomainCheck {
  std::string worst;
  double gain = 0.0, se = 0.0;
  bool barred = false;
};
std::vector<DomainCheck> CheckDomains(const OutOfFold& held, const std::vector<std::string>& names) {
  std::vector<DomainCheck> out(held.ndcg.size());
  for (size_t c = 0; c < held.ndcg.size(); ++c) {
    bool first = true, barred = false;
    for (size_t d = 0; d < names.size(); ++d) {
      double sum = 0, sq = 0;
      size_t n = 0;
      for (size_t i = 0; i < held.fold.size(); ++i) {
        if (held.fold[i] != static_cast<int>(d) || std::isnan(held.ndcg[c][i]) || std::isnan(held.ndcg[0][i])) continue;
        const double g = held.ndcg[c][i] - held.ndcg[0][i];
        sum += g, sq += g * g, ++n;
      }
      if (n == 0) continue;
      const double mean = sum / static_cast<double>(n);
      const double se = n > 1 ? std::sqrt(std::max(0.0, sq / n - mean * mean) / (n - 1)) : 0.0;
      if (first || mean < out[c].gain) out[c] = {names[d], mean, se, false};
      first = false;
      barred = barred || mean < -se;
    }
    out[c].barred = barred;
  }
  return out;
}

// The choice (options.choose) and the chosen configuration trained on
// every judged group.
Result<ranking::MoeModel> ChooseAndTrain(const TrainingSet& set, const ranking::MoeTrainOptions& train,
                                         const Start& start, const TrainRerankerOptions& o, TrainRerankerReport& rep) {
  const std::vector<Option> options = Options(o);
  HYMIR_ASSIGN_OR_RETURN(OutOfFold oof, ScoreOutOfFold(set, train, start, options, o));
  const bool has_start = o.init != nullptr;
  const auto& groups = set.groups;
  // The domain check: each judged domain held out in turn.
  std::vector<bool> barred;
  std::vector<DomainCheck> checks;
  if (has_start && o.choose_domain_check) {
    // The queries' own domain labels (TrainingQuery::domain), whether or
    // not the corpus has documents of that domain.
    std::map<std::string, int> fold_of;
    for (size_t i = 0; i < groups.size() && i < set.domains.size(); ++i)
      if (!set.domains[i].empty() && HasRelevant(groups[i])) fold_of.emplace(set.domains[i], 0);
    if (fold_of.size() >= 3 && set.domains.size() == groups.size()) {
      int n = 0;
      std::vector<std::string> names;
      for (auto& [d, f] : fold_of) f = n++, names.push_back(d);
      std::vector<int> by_domain(groups.size(), -1);
      for (size_t i = 0; i < groups.size(); ++i) {
        auto it = fold_of.find(set.domains[i]);
        if (it != fold_of.end()) by_domain[i] = it->second;
      }
      HYMIR_ASSIGN_OR_RETURN(OutOfFold held, ScoreOutOfFold(set, train, start, options, o, &by_domain, n));
      checks = CheckDomains(held, names);
      barred.resize(options.size(), false);
      for (size_t c = 0; c < options.size(); ++c) barred[c] = checks[c].barred;
    }
  }
  rep.chosen = Decide(
      groups, oof, has_start, [](size_t) { return true; }, rep.candidates, &rep.why, barred);
  const size_t n_barred = static_cast<size_t>(std::count(barred.begin(), barred.end(), true));
  if (n_barred > 0)
    rep.why += "; " + std::to_string(n_barred) +
               " candidate(s) barred for losing more than one standard error on a held-out judged domain";
  for (size_t c = 0; c < checks.size(); ++c) {
    rep.candidates[c].worst_domain = checks[c].worst;
    rep.candidates[c].worst_domain_gain = checks[c].gain;
    rep.candidates[c].worst_domain_se = checks[c].se;
    rep.candidates[c].barred_by_domain = checks[c].barred;
  }
  for (size_t c = 0; c < options.size(); ++c) {
    rep.candidates[c].name = options[c].Name(train.finetune_alpha);
    rep.candidates[c].score_micros = oof.micros[c];
    for (int f = 0; f < o.choose_folds; ++f)
      rep.candidates[c].folds.push_back(Macro(groups, oof.ndcg[c], [&](size_t i) { return oof.fold[i] == f; }));
  }
  // Nested: fold f scored by the choice made on the other folds.
  double chosen_sum = 0, start_sum = 0;
  for (int f = 0; f < o.choose_folds; ++f) {
    std::vector<TrainRerankerReport::Candidate> inner;
    const size_t c = Decide(
        groups, oof, has_start, [&](size_t i) { return oof.fold[i] != f; }, inner, nullptr, barred);
    const auto here = [&](size_t i) { return oof.fold[i] == f; };
    const double got = Macro(groups, oof.ndcg[c], here), first = Macro(groups, oof.ndcg[0], here);
    chosen_sum += got, start_sum += first;
    char line[200];
    std::snprintf(line, sizeof line, "fold %d: chosen on the other folds: %s, %.4f here (%s %.4f)", f + 1,
                  options[c].Name(train.finetune_alpha).c_str(), got, options[0].Name(train.finetune_alpha).c_str(),
                  first);
    rep.nested.push_back(line);
  }
  rep.nested_chosen = chosen_sum / o.choose_folds;
  rep.nested_start = start_sum / o.choose_folds;
  // The chosen configuration on every judged group.
  const Option& pick = options[rep.chosen];
  ranking::MoeTrainOptions t = train;
  t.init = nullptr;
  switch (pick.kind) {
    case Kind::kStart:  // measured as its gate-extended copy, which scores the same and reads the set
      rep.model = start.pretrained->config();
      MeasureScoringCost(*start.init, groups, rep);
      return *start.pretrained;
    case Kind::kFineTune:
      t.init = &*start.init;
      t.model = start.init->config();
      break;
    case Kind::kFuse:
    case Kind::kScratch:
      t.tree_expert = pick.trees;
      break;
  }
  rep.model = t.model;
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel model,
                         ranking::TrainMoe(set.extractor->schema(), groups, t, &rep.train, o.epoch_progress));
  if (pick.kind == Kind::kFuse) {
    rep.fuse_weight = pick.weight;
    HYMIR_RETURN_IF_ERROR(model.set_fusion(*start.init, pick.weight));
  }
  MeasureScoringCost(model, groups, rep);
  return model;
}

}  // namespace

std::vector<TrainingQuery> JudgedQueries(const std::vector<QueryRecord>& records, const ranking::Qrels& qrels,
                                         const Engine* engine) {
  std::vector<TrainingQuery> out;
  std::string field;  // the index's first vector field
  if (engine != nullptr && !engine->searcher().vector_fields().empty())
    field = engine->searcher().vector_fields().front().name;
  for (const QueryRecord& r : records) {
    if (!qrels.Find(r.id)) continue;
    TrainingQuery t;
    t.query.id = r.id;
    t.query.text = r.text;
    t.domain = r.domain.value_or("");
    if (engine != nullptr) {
      auto it = r.vectors.find(field);
      if (it != r.vectors.end()) {
        t.query.vector = it->second;
        t.query.vector_field = field;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

Status TrainRerankerOptions::Validate() const {
  auto bad = [](const std::string& why) { return Status::InvalidArgument("training: " + why); };
  if (depth == 0) return bad("the depth must be at least 1");
  if (init == nullptr && (init_use != InitUse::kFineTune || extend_gate || trust))
    return bad("fusion, extending the gate and per-query trust need an initial model (init)");
  const bool fusing = init_use != InitUse::kFineTune;
  if (fusing && init_use == InitUse::kFuseFixed && !(fuse_weight >= 0.0 && fuse_weight <= 1.0))
    return bad("the fusion weight must be in [0, 1]");
  if (fusing && init_use == InitUse::kFuseAuto) {
    if (fuse_folds < 2) return bad("choosing the fusion weight needs at least 2 folds");
    if (fuse_grid.empty()) return bad("choosing the fusion weight needs at least one weight");
    for (double w : fuse_grid)
      if (!(w >= 0.0 && w <= 1.0)) return bad("fusion weights must be in [0, 1]");
  }
  if (trust && fusing && trust_config.gain_scale > 0)
    return bad("fusion with per-query trust takes coverage only (trust_config.gain_scale 0)");
  if (trust && trust_config.gain_scale > 0 && trust_folds < 2) return bad("trust needs at least 2 folds");
  if (choose && (trust || part.second > 1))
    return bad("the automatic choice is not combined with trust or distributed");
  if (choose && choose_folds < 2) return bad("the automatic choice needs at least 2 folds");
  if (part.second < 1 || part.first < 0 || part.first >= part.second)
    return bad("feature part " + std::to_string(part.first) + " of " + std::to_string(part.second));
  if (part.second > 1) {
    if (!gather_groups) return bad("distributed features without gather_groups");
    if (ComputesDomains(*this) && !gather_domains) return bad("distributed domain features without gather_domains");
    if (fusing || trust) return bad("fusion and per-query trust are not supported distributed");
  }
  return Status::OK();
}

Result<TrainingSet> BuildTrainingSet(const Engine& engine, const std::vector<TrainingQuery>& queries,
                                     const ranking::Qrels& qrels, const TrainRerankerOptions& options,
                                     const KnowledgeContext* kg, std::shared_ptr<const FeatureExtractor> extractor) {
  HYMIR_RETURN_IF_ERROR(options.Validate());
  if (queries.empty()) return Status::InvalidArgument("training: no judged query");
  const auto t0 = Clock::now();
  std::optional<FeatureConfig> config;
  if (!extractor) {
    HYMIR_ASSIGN_OR_RETURN(config, BaseConfig(options, kg));
  }
  Say(options,
      "retrieving top " + std::to_string(options.depth) + " for " + std::to_string(queries.size()) + " judged queries");
  auto part = ExpandPart(queries, options, kg);
  Result<std::vector<std::vector<SearchHit>>> hits = part.status();
  if (part.ok()) hits = Retrieve(engine, *part, options.depth);
  HYMIR_RETURN_IF_ERROR(Agreed(options, hits.status()));
  TrainingSet set;
  set.queries = std::move(part->queries);
  set.domains = std::move(part->domains);
  set.hits = std::move(hits).value();
  if (!extractor) {
    if (ComputesDomains(options)) {
      HYMIR_ASSIGN_OR_RETURN(config->domains, CorpusDomains(engine, set.hits, options));
    }
    auto created = FeatureExtractor::Create(engine, *config, kg);
    HYMIR_RETURN_IF_ERROR(Agreed(options, created.status()));
    extractor = std::move(created).value();
  }
  set.extractor = std::move(extractor);
  HYMIR_RETURN_IF_ERROR(ExtractAndLabel(*set.extractor, qrels, options, set, queries.size()));
  set.seconds = Seconds(t0);
  char line[200];
  std::snprintf(line, sizeof line,
                "%zu queries (%zu with a relevant candidate in the top %zu), %zu pair + %zu query features, %.1f s",
                set.groups.size(), set.with_relevant, options.depth, set.extractor->schema().pair_dim(),
                set.extractor->schema().query_dim(), set.seconds);
  Say(options, line);
  return set;
}

Result<ranking::MoeModel> ExtendGate(const ranking::MoeModel& init, const TrainingSet& set) {
  const ranking::FeatureSchema& schema = set.extractor->schema();
  if (init.schema() == schema) return init;
  const ranking::MoeConfig& c = init.config();
  auto wider = init.WithQueryFeatures(schema, ranking::FitNormalization(schema, set.groups, c.log_inputs, c.ple_bins));
  if (!wider.ok()) return Status::InvalidArgument("the initial model: " + wider.status().message());
  return wider;
}

Result<ranking::MoeModel> TrainReranker(const Engine& engine, const TrainingSet& set,
                                        const TrainRerankerOptions& options, TrainRerankerReport* report) {
  HYMIR_RETURN_IF_ERROR(options.Validate());
  TrainRerankerReport local;
  TrainRerankerReport& rep = report ? *report : local;
  rep = TrainRerankerReport{};
  rep.queries = set.groups.size();
  rep.with_relevant = static_cast<size_t>(std::count_if(set.groups.begin(), set.groups.end(), HasRelevant));
  rep.pair_features = set.extractor->schema().pair_dim();
  rep.query_features = set.extractor->schema().query_dim();
  rep.feature_seconds = set.seconds;
  const auto t0 = Clock::now();
  HYMIR_ASSIGN_OR_RETURN(Start start, StartingPoint(set, options, rep));
  ranking::MoeTrainOptions train = options.train;
  train.init = nullptr;
  if (options.choose) {
    HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel chosen, ChooseAndTrain(set, train, start, options, rep));
    rep.train_seconds = Seconds(t0);
    return chosen;
  }
  if (start.init && !Fusing(options)) {  // fine-tuning: the initial model's shape and weights
    train.init = &*start.init;
    train.model = start.init->config();
  }
  rep.model = train.model;
  auto model = ranking::TrainMoe(set.extractor->schema(), set.groups, train, &rep.train, options.epoch_progress);
  HYMIR_RETURN_IF_ERROR(Agreed(options, model.status()));
  if (start.init) HYMIR_RETURN_IF_ERROR(CombineWithInit(engine, set, train, start, options, rep, *model));
  rep.trust_queries = model->trust().size();
  rep.train_seconds = Seconds(t0);
  MeasureScoringCost(*model, set.groups, rep);
  return model;
}

Result<ranking::MoeModel> TrainReranker(const Engine& engine, const std::vector<TrainingQuery>& queries,
                                        const ranking::Qrels& qrels, const TrainRerankerOptions& options,
                                        const KnowledgeContext* kg, TrainRerankerReport* report) {
  HYMIR_ASSIGN_OR_RETURN(TrainingSet set, BuildTrainingSet(engine, queries, qrels, options, kg));
  return TrainReranker(engine, set, options, report);
}

}  // namespace hymir
