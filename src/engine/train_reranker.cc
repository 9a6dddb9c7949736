// Supervised re-ranker training: judged queries -> expansion -> retrieval ->
// features -> labels (BuildTrainingSet), then the model from scratch, from
// an initial model, or fused with it, with optional per-query trust.
#include "hymir/train_reranker.h"

#include <algorithm>
#include <chrono>
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

// The initial model's gate also reads this index's query features.
bool ExtendsGate(const TrainRerankerOptions& o) { return o.init != nullptr && (o.extend_gate || Fusing(o)); }

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
    if (kg != nullptr && o.expand) HYMIR_RETURN_IF_ERROR(kg->ExpandQuery(&q).status());
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
    c.kg = kg != nullptr;
    return c;
  }
  auto c = FeatureExtractor::ConfigFromSchema(o.init->schema());
  if (!c.ok()) return Status::InvalidArgument("the initial model: " + c.status().message());
  if (c->kg && kg == nullptr)
    return Status::InvalidArgument("the initial model was trained with KG features: it needs the knowledge graph");
  if (!c->kg && kg != nullptr) Say(o, "warning: the initial model has no KG features: the KG only expands the queries");
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
// groups, after one warm-up pass: p50 and p99 in microseconds.
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
