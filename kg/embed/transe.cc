// TransE training (Bordes et al. 2013, Algorithm 1) with mini-batches:
//   - entities and relations start uniform in [-6/sqrt(d), 6/sqrt(d)], then
//     relations are L2-normalised once and entities at every step;
//   - each true triple is paired with options.negatives corrupted ones (head
//     or tail replaced by a uniformly drawn entity) under the margin loss
//     max(0, margin + d(h + r, t) - d(h' + r, t'));
//   - a batch's gradients are summed (split over threads, each writing its own
//     buffer, then added in thread order) and applied once (SGD or Adagrad).
// All random draws happen on the calling thread before the parallel part, so a
// run is reproducible for a given (seed, threads); with threads = 1 it is
// reproducible bit for bit.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>
#include <thread>
#include <unordered_set>

#include "hymir/kg/kg_embeddings.h"
#include "kg/embed/link_prediction.h"
#include "kg/embed/transe_data.h"
#include "kg/embed/transe_format.h"
#include "src/core/file_util.h"

namespace hymir::kg {
namespace {

using internal::IdTriple;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Status CheckOptions(const TransEOptions& o) {
  auto bad = [](const std::string& field, const std::string& why) {
    return Status::InvalidArgument("TransEOptions." + field + ": " + why);
  };
  if (o.dim < 1 || o.dim > static_cast<int>(internal::kTransEMaxDim)) {
    return bad("dim", std::to_string(o.dim) + " not in 1..4096");
  }
  if (o.epochs < 0) return bad("epochs", std::to_string(o.epochs) + " < 0");
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) return bad("learning_rate", "must be > 0");
  if (!(o.margin > 0) || !std::isfinite(o.margin)) return bad("margin", "must be > 0");
  if (o.negatives < 1) return bad("negatives", std::to_string(o.negatives) + " < 1");
  if (o.batch_size < 1) return bad("batch_size", "must be >= 1");
  if (!(o.holdout_fraction >= 0 && o.holdout_fraction <= 0.5)) {
    return bad("holdout_fraction", std::to_string(o.holdout_fraction) + " not in [0, 0.5]");
  }
  if (o.threads < 1 || o.threads > 256) return bad("threads", std::to_string(o.threads) + " not in 1..256");
  return Status::OK();
}

// The trainable graph: string names -> dense ids.
struct IdGraph {
  std::vector<std::string> entity_names, relation_names;
  std::vector<IdTriple> triples;
};

Result<IdGraph> ReadGraph(const TripleStore& store, const TransEOptions& options) {
  HYMIR_ASSIGN_OR_RETURN(std::vector<Triple> all, store.Match(TriplePattern{}, 0));
  std::unordered_set<std::string> skip(options.skip_relations.begin(), options.skip_relations.end());
  IdGraph g;
  std::unordered_map<std::string, uint32_t> ent, rel;
  auto id_of = [](std::unordered_map<std::string, uint32_t>& map, std::vector<std::string>& names,
                  const std::string& s) {
    auto [it, fresh] = map.emplace(s, static_cast<uint32_t>(names.size()));
    if (fresh) names.push_back(s);
    return it->second;
  };
  g.triples.reserve(all.size());
  for (const Triple& t : all) {
    if (skip.count(t.relation)) continue;
    IdTriple x;
    x.h = id_of(ent, g.entity_names, t.subject);
    x.r = id_of(rel, g.relation_names, t.relation);
    x.t = id_of(ent, g.entity_names, t.object);
    g.triples.push_back(x);
  }
  return g;
}

// Holds out about `fraction` of the triples, keeping every entity and relation
// of a held-out triple in at least one training triple (else its vector would
// be random and the test would measure nothing). `triples` is shuffled.
void SplitHoldout(std::vector<IdTriple>* triples, size_t num_entities, size_t num_relations, double fraction,
                  std::mt19937_64* rng, std::vector<IdTriple>* train, std::vector<IdTriple>* test) {
  std::shuffle(triples->begin(), triples->end(), *rng);
  std::vector<uint32_t> edeg(num_entities, 0), rdeg(num_relations, 0);
  for (const IdTriple& t : *triples) {
    ++edeg[t.h];
    ++edeg[t.t];
    ++rdeg[t.r];
  }
  const size_t want = static_cast<size_t>(std::llround(fraction * static_cast<double>(triples->size())));
  train->clear();
  test->clear();
  for (const IdTriple& t : *triples) {
    const bool keep_ends = t.h == t.t ? edeg[t.h] > 2 : (edeg[t.h] > 1 && edeg[t.t] > 1);
    if (test->size() < want && keep_ends && rdeg[t.r] > 1) {
      --edeg[t.h];
      --edeg[t.t];
      --rdeg[t.r];
      test->push_back(t);
    } else {
      train->push_back(t);
    }
  }
}

void NormalizeRow(float* v, int dim) {
  const float n = cblas_snrm2(dim, v, 1);
  if (n > 0) cblas_sscal(dim, 1.0f / n, v, 1);
}

// A true triple and one corruption of it.
struct Sample {
  IdTriple pos;
  uint32_t neg_h, neg_t;
};

class Trainer {
 public:
  Trainer(const TransEOptions& o, size_t n, size_t m)
      : o_(o), d_(static_cast<size_t>(o.dim)), n_(n), m_(m), entities_(n * d_), relations_(m * d_) {}

  void Init(std::mt19937_64* rng) {
    const float bound = 6.0f / std::sqrt(static_cast<float>(d_));
    std::uniform_real_distribution<float> u(-bound, bound);
    for (float& x : entities_) x = u(*rng);
    for (float& x : relations_) x = u(*rng);
    for (size_t r = 0; r < m_; ++r) NormalizeRow(&relations_[r * d_], o_.dim);
    for (size_t e = 0; e < n_; ++e) NormalizeRow(&entities_[e * d_], o_.dim);
    if (o_.optimizer == TransEOptimizer::kAdagrad) {
      ent_g2_.assign(entities_.size(), 0.0f);
      rel_g2_.assign(relations_.size(), 0.0f);
    }
    ent_slot_.assign(n_, -1);
    rel_slot_.assign(m_, -1);
  }

  // One epoch over `train` (shuffled in place); returns the mean hinge loss
  // per (true, corrupted) pair.
  double Epoch(std::vector<IdTriple>* train, std::mt19937_64* rng) {
    std::shuffle(train->begin(), train->end(), *rng);
    std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(n_ - 1));
    std::bernoulli_distribution coin(0.5);
    double loss = 0;
    size_t pairs = 0;
    std::vector<Sample> batch;
    for (size_t start = 0; start < train->size(); start += o_.batch_size) {
      const size_t end = std::min(train->size(), start + o_.batch_size);
      batch.clear();
      for (size_t i = start; i < end; ++i) {
        const IdTriple& t = (*train)[i];
        for (int k = 0; k < o_.negatives; ++k) {
          uint32_t e = pick(*rng);
          const bool head = coin(*rng);
          if (n_ > 1) {
            while (e == (head ? t.h : t.t)) e = pick(*rng);
          }
          batch.push_back({t, head ? e : t.h, head ? t.t : e});
        }
      }
      loss += Step(batch);
      pairs += batch.size();
    }
    return pairs ? loss / static_cast<double>(pairs) : 0.0;
  }

  std::vector<float>& entities() { return entities_; }
  std::vector<float>& relations() { return relations_; }

 private:
  int32_t Slot(std::vector<int32_t>& slot_of, std::vector<uint32_t>& touched, uint32_t id, int32_t* next) {
    if (slot_of[id] < 0) {
      slot_of[id] = (*next)++;
      touched.push_back(id);
    }
    return slot_of[id];
  }

  // Distance of v (d floats) and the loss gradient direction written to g.
  float DistAndGrad(const float* v, float* g) const {
    if (o_.norm == TransENorm::kL1) {
      float s = 0;
      for (size_t j = 0; j < d_; ++j) {
        s += std::fabs(v[j]);
        g[j] = v[j] > 0 ? 1.0f : (v[j] < 0 ? -1.0f : 0.0f);
      }
      return s;
    }
    float s = 0;
    for (size_t j = 0; j < d_; ++j) s += v[j] * v[j];
    s = std::sqrt(s);
    const float inv = s > 0 ? 1.0f / s : 0.0f;
    for (size_t j = 0; j < d_; ++j) g[j] = v[j] * inv;
    return s;
  }

  // Gradients of samples [begin, end) into grad (slots * d), loss returned.
  double Gradients(const std::vector<Sample>& batch, size_t begin, size_t end, float* grad) const {
    std::vector<float> vp(d_), vn(d_), gp(d_), gn(d_);
    const float margin = static_cast<float>(o_.margin);
    double loss = 0;
    const size_t rel_base = ent_slots_ * d_;
    for (size_t i = begin; i < end; ++i) {
      const Sample& s = batch[i];
      const float* h = &entities_[s.pos.h * d_];
      const float* r = &relations_[s.pos.r * d_];
      const float* t = &entities_[s.pos.t * d_];
      const float* h2 = &entities_[s.neg_h * d_];
      const float* t2 = &entities_[s.neg_t * d_];
      for (size_t j = 0; j < d_; ++j) {
        vp[j] = h[j] + r[j] - t[j];
        vn[j] = h2[j] + r[j] - t2[j];
      }
      const float dp = DistAndGrad(vp.data(), gp.data());
      const float dn = DistAndGrad(vn.data(), gn.data());
      const float l = margin + dp - dn;
      if (l <= 0) continue;
      loss += l;
      float* gh = grad + ent_slot_[s.pos.h] * d_;
      float* gt = grad + ent_slot_[s.pos.t] * d_;
      float* gh2 = grad + ent_slot_[s.neg_h] * d_;
      float* gt2 = grad + ent_slot_[s.neg_t] * d_;
      float* gr = grad + rel_base + rel_slot_[s.pos.r] * d_;
      for (size_t j = 0; j < d_; ++j) {
        gh[j] += gp[j];
        gt[j] -= gp[j];
        gr[j] += gp[j] - gn[j];
        gh2[j] -= gn[j];
        gt2[j] += gn[j];
      }
    }
    return loss;
  }

  void Apply(float* param, float* g2, const float* g) const {
    const float lr = static_cast<float>(o_.learning_rate);
    if (o_.optimizer == TransEOptimizer::kSgd) {
      cblas_saxpy(static_cast<int>(d_), -lr, g, 1, param, 1);
      return;
    }
    for (size_t j = 0; j < d_; ++j) {
      g2[j] += g[j] * g[j];
      param[j] -= lr * g[j] / (std::sqrt(g2[j]) + 1e-8f);
    }
  }

  double Step(const std::vector<Sample>& batch) {
    // Rows touched by the batch get compact gradient slots, in first-use order.
    touched_e_.clear();
    touched_r_.clear();
    int32_t next_e = 0, next_r = 0;
    for (const Sample& s : batch) {
      Slot(ent_slot_, touched_e_, s.pos.h, &next_e);
      Slot(ent_slot_, touched_e_, s.pos.t, &next_e);
      Slot(ent_slot_, touched_e_, s.neg_h, &next_e);
      Slot(ent_slot_, touched_e_, s.neg_t, &next_e);
      Slot(rel_slot_, touched_r_, s.pos.r, &next_r);
    }
    ent_slots_ = static_cast<size_t>(next_e);
    const size_t floats = (ent_slots_ + static_cast<size_t>(next_r)) * d_;
    const size_t nt = std::min<size_t>(static_cast<size_t>(o_.threads), std::max<size_t>(1, batch.size() / 64));
    grads_.resize(std::max(grads_.size(), nt));
    for (size_t w = 0; w < nt; ++w) grads_[w].assign(floats, 0.0f);
    std::vector<double> losses(nt, 0.0);
    auto run = [&](size_t w) {
      const size_t begin = batch.size() * w / nt, end = batch.size() * (w + 1) / nt;
      losses[w] = Gradients(batch, begin, end, grads_[w].data());
    };
    if (nt == 1) {
      run(0);
    } else {
      std::vector<std::thread> pool;
      for (size_t w = 1; w < nt; ++w) pool.emplace_back(run, w);
      run(0);
      for (auto& th : pool) th.join();
    }
    float* g = grads_[0].data();
    for (size_t w = 1; w < nt; ++w) cblas_saxpy(static_cast<int>(floats), 1.0f, grads_[w].data(), 1, g, 1);
    const bool ada = o_.optimizer == TransEOptimizer::kAdagrad;
    for (uint32_t e : touched_e_) {
      float* p = &entities_[e * d_];
      Apply(p, ada ? &ent_g2_[e * d_] : nullptr, g + ent_slot_[e] * d_);
      NormalizeRow(p, o_.dim);  // the paper's constraint ||e|| = 1
      ent_slot_[e] = -1;
    }
    for (uint32_t r : touched_r_) {
      Apply(&relations_[r * d_], ada ? &rel_g2_[r * d_] : nullptr, g + (ent_slots_ + rel_slot_[r]) * d_);
      rel_slot_[r] = -1;
    }
    return std::accumulate(losses.begin(), losses.end(), 0.0);
  }

  const TransEOptions& o_;
  const size_t d_, n_, m_;
  std::vector<float> entities_, relations_;
  std::vector<float> ent_g2_, rel_g2_;  // Adagrad sums of squared gradients
  std::vector<int32_t> ent_slot_, rel_slot_;
  std::vector<uint32_t> touched_e_, touched_r_;
  size_t ent_slots_ = 0;
  std::vector<std::vector<float>> grads_;  // one buffer per thread
};

double Cosine(std::span<const float> a, std::span<const float> b) {
  const int d = static_cast<int>(a.size());
  const float na = cblas_snrm2(d, a.data(), 1), nb = cblas_snrm2(d, b.data(), 1);
  if (na == 0 || nb == 0) return 0;
  return static_cast<double>(cblas_sdot(d, a.data(), 1, b.data(), 1)) / (static_cast<double>(na) * nb);
}

}  // namespace

Result<KgEmbeddings> KgEmbeddings::Train(const TripleStore& store, const TransEOptions& options,
                                         LinkPredictionReport* report) {
  HYMIR_RETURN_IF_ERROR(CheckOptions(options));
  const auto read_start = Clock::now();
  HYMIR_ASSIGN_OR_RETURN(IdGraph graph, ReadGraph(store, options));
  const double read_seconds = Since(read_start);
  if (graph.triples.empty()) {
    return Status::InvalidArgument("TransE: the store holds no triple to train on (all relations skipped?)");
  }
  const auto train_start = Clock::now();
  const size_t n = graph.entity_names.size(), m = graph.relation_names.size();
  std::mt19937_64 rng(options.seed);
  std::vector<IdTriple> train, test;
  SplitHoldout(&graph.triples, n, m, options.holdout_fraction, &rng, &train, &test);

  Trainer trainer(options, n, m);
  trainer.Init(&rng);
  // The untrained vectors are the random baseline of the report.
  const bool evaluate = report != nullptr && !test.empty();
  std::vector<float> random_entities, random_relations;
  if (evaluate) {
    random_entities = trainer.entities();
    random_relations = trainer.relations();
  }
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const double loss = trainer.Epoch(&train, &rng);
    if (options.progress) options.progress(epoch, loss);
  }
  const double train_seconds = Since(train_start);

  auto data = std::make_shared<Data>();
  data->dim = options.dim;
  data->norm = options.norm;
  data->entity_names = std::move(graph.entity_names);
  data->relation_names = std::move(graph.relation_names);
  data->entities = std::move(trainer.entities());
  data->relations = std::move(trainer.relations());
  if (!data->BuildIndex()) return Status::Internal("TransE: duplicate names in the graph");

  if (report != nullptr) {
    *report = LinkPredictionReport{};
    report->entities = n;
    report->relations = m;
    report->train_triples = train.size();
    report->test_triples = test.size();
    report->seconds = train_seconds;
    report->read_seconds = read_seconds;
  }
  if (evaluate) {
    const auto eval_start = Clock::now();
    const size_t k = options.eval_max_triples == 0 ? test.size() : std::min(test.size(), options.eval_max_triples);
    std::span<const IdTriple> eval(test.data(), k);
    internal::KnownTails known;
    for (const IdTriple& t : eval) known.emplace(internal::HeadRelationKey(t.h, t.r), std::vector<uint32_t>{});
    for (const auto* list : {&train, &test}) {
      for (const IdTriple& t : *list) {
        if (auto it = known.find(internal::HeadRelationKey(t.h, t.r)); it != known.end()) it->second.push_back(t.t);
      }
    }
    const internal::RankFigures trained =
        internal::RankTails(data->entities, data->relations, options.dim, options.norm, eval, known, options.threads);
    const internal::RankFigures random =
        internal::RankTails(random_entities, random_relations, options.dim, options.norm, eval, known, options.threads);
    report->evaluated_triples = k;
    report->mrr = trained.mrr;
    report->hits_at_10 = trained.hits_at_10;
    report->filtered_mrr = trained.filtered_mrr;
    report->filtered_hits_at_10 = trained.filtered_hits_at_10;
    report->random_mrr = random.mrr;
    report->random_hits_at_10 = random.hits_at_10;
    report->eval_seconds = Since(eval_start);
  }
  return KgEmbeddings(std::move(data));
}

Result<KgEmbeddings> KgEmbeddings::Load(const std::string& kg_dir) {
  const std::string path = kg_dir + "/" + std::string(kTransEFileName);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::NotFound(path + ": no TransE embeddings (run kg embed)");
  HYMIR_ASSIGN_OR_RETURN(std::string bytes, hymir::internal::ReadFile(path));
  HYMIR_ASSIGN_OR_RETURN(std::shared_ptr<Data> data, internal::DecodeTransE(bytes, path));
  return KgEmbeddings(std::move(data));
}

KgEmbeddings::KgEmbeddings() : data_(std::make_shared<Data>()) {}
KgEmbeddings::KgEmbeddings(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

Status KgEmbeddings::Save(const std::string& kg_dir) const {
  std::error_code ec;
  if (!std::filesystem::is_directory(kg_dir, ec)) return Status::NotFound(kg_dir + ": not a directory");
  const std::string path = kg_dir + "/" + std::string(kTransEFileName);
  if (data_->dim == 0) return Status::InvalidArgument(path + ": nothing to save (empty embeddings)");
  return hymir::internal::WriteFileAtomic(path, internal::EncodeTransE(*data_));
}

int KgEmbeddings::dim() const { return data_->dim; }
TransENorm KgEmbeddings::norm() const { return data_->norm; }
size_t KgEmbeddings::num_entities() const { return data_->entity_names.size(); }
size_t KgEmbeddings::num_relations() const { return data_->relation_names.size(); }
std::span<const std::string> KgEmbeddings::EntityNames() const { return data_->entity_names; }
std::span<const std::string> KgEmbeddings::RelationNames() const { return data_->relation_names; }

std::optional<std::span<const float>> KgEmbeddings::Entity(std::string_view name) const {
  auto it = data_->entity_index.find(name);
  if (it == data_->entity_index.end()) return std::nullopt;
  const size_t d = static_cast<size_t>(data_->dim);
  return std::span<const float>(data_->entities.data() + it->second * d, d);
}

std::optional<std::span<const float>> KgEmbeddings::Relation(std::string_view name) const {
  auto it = data_->relation_index.find(name);
  if (it == data_->relation_index.end()) return std::nullopt;
  const size_t d = static_cast<size_t>(data_->dim);
  return std::span<const float>(data_->relations.data() + it->second * d, d);
}

double KgEmbeddings::Similarity(std::string_view a, std::string_view b) const {
  auto va = Entity(a), vb = Entity(b);
  if (!va || !vb) return 0;
  return Cosine(*va, *vb);
}

std::optional<double> KgEmbeddings::Distance(std::string_view head, std::string_view relation,
                                             std::string_view tail) const {
  auto h = Entity(head), r = Relation(relation), t = Entity(tail);
  if (!h || !r || !t) return std::nullopt;
  double s = 0;
  for (size_t j = 0; j < h->size(); ++j) {
    const double v = static_cast<double>((*h)[j]) + (*r)[j] - (*t)[j];
    s += data_->norm == TransENorm::kL1 ? std::fabs(v) : v * v;
  }
  return data_->norm == TransENorm::kL1 ? s : std::sqrt(s);
}

}  // namespace hymir::kg
