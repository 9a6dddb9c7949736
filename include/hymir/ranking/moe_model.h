// MoeModel: a mixture-of-experts re-ranker over (query, document) features.
//
//   score(q, d) = sum_{s in shared} f_s(x) + sum_{e in TopK(q)} w_e(q) f_e(x)
//
// (with MoeConfig::linear_skip each f also has a linear term v . x; with a
// boosted shared expert, set_trees, the score also adds T(x, q), a
// gradient-boosted tree ensemble over the experts' inputs and the
// normalised query features: an always-on expert of another model class)
// x is the pair's feature vector (optionally log-transformed, z-scored with
// statistics learned on the training data, optionally piecewise-linear
// encoded over quantile bins, optionally with a copy standardised within
// the candidate list), each expert f is a
// one-hidden-layer ReLU MLP, and the gate
// reads only the query's features q (never a domain label): affinities
// s_e = sigmoid(u_e(q)) from a linear or one-hidden-layer gate, TopK chosen
// by s_e + b_e where b_e is a per-expert selection bias set by the trainer
// from expert load (DeepSeek-V3's auxiliary-loss-free balancing: the bias
// only steers selection, it never enters w), and the chosen experts' weights
// normalised over the chosen: w_e = s_e / sum_{c in TopK} s_c (with top_k = 1
// the weight is s_e itself, so the gate still learns). Shared experts are
// always on (DeepSeekMoE). Every candidate of a query goes to the same
// experts, so each chosen expert scores the whole list with one GEMM
// (OpenBLAS); experts that are not chosen cost nothing.
//
// Special cases: routed_experts = 1, shared_experts = 0 is a single MLP;
// top_k = routed_experts is a dense MoE.
//
// Files (Save/Load): a versioned binary with a CRC-32 over everything, the
// config, the feature schema and the normalisation; Load refuses a damaged
// file or another version with Corruption naming the path.
//
// Thread-safety: a const MoeModel may be used from many threads at once
// (Score, Route, Explain allocate their own scratch space). Mutating calls
// (parameters(), set_selection_bias(), set_normalization()) must not run
// concurrently with anything else on the same model.
#ifndef HYMIR_RANKING_MOE_MODEL_H_
#define HYMIR_RANKING_MOE_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/ranking/boosted_trees.h"
#include "hymir/ranking/query_trust.h"
#include "hymir/ranking/ranking_data.h"
#include "hymir/result.h"

namespace hymir::ranking {

struct MoeConfig {
  int routed_experts = 8;  // E >= 1
  int shared_experts = 1;  // S >= 0
  int top_k = 2;           // 1 <= K <= E
  int expert_hidden = 32;  // hidden units per expert
  int gate_hidden = 0;     // 0 = linear gate, else a ReLU hidden layer of this size
  // Input transforms (part of the model; saved with it). Both on by default:
  // together they raised three-fold cross-validated macro nDCG@10 on mixed's
  // train split from 0.4791 to 0.4855 (scripts/select_moe.sh).
  // log_inputs: every pair and query feature goes through sign(x) log(1 + |x|)
  // before the affine normalisation, which tames heavy-tailed raw scores
  // (BM25, lengths) for the MLPs.
  bool log_inputs = true;
  // list_inputs: the experts also read each pair feature standardised within
  // its candidate list ((v - list mean) / list std, 0 for a constant list), a
  // query-relative view that a global normalisation cannot give; doubles the
  // expert input width.
  bool list_inputs = true;
  // ple_bins: 0 = the experts read each globally normalised pair feature as
  // one number; B > 0 = as a piecewise-linear encoding over B quantile bins
  // learned on the training data (Gorishniy et al. 2022, "On Embeddings for
  // Numerical Features in Tabular Deep Learning"): component t is 0 below
  // bin t, 1 above it and linear inside it (the first bin is open below, the
  // last open above), so an MLP gets the thresholds a tree would split on.
  // Multiplies the width of that block by B; list inputs stay one number.
  // Off by default: three-fold cross-validated macro nDCG@10 on mixed's
  // train split 0.4895 / 0.4926 / 0.4909 with 4 / 8 / 16 bins vs 0.4906.
  int ple_bins = 0;
  // linear_skip: every expert adds a linear term over its inputs, v . x, to
  // its MLP output (a wide-and-deep expert; v starts at 0), so linear
  // effects need not be learnt through the ReLU layer. Off by default
  // (cross-validation as above: 0.4928 vs 0.4906, inside the noise).
  bool linear_skip = false;
  // list_context: a latent cross with the candidate list. Each expert's
  // output layer is modulated by the mean hidden activation m over the list:
  // f(x_i) = (w2 * (1 + U m)) . h_i + b2, U (hidden x hidden) starting at 0,
  // so how much a hidden unit counts depends on the rest of the list.
  // Off by default (cross-validation as above: 0.4842 vs 0.4906).
  bool list_context = false;

  friend bool operator==(const MoeConfig&, const MoeConfig&) = default;
};

// Feature-wise affine normalisation: x' = (x - mean) / scale (after the
// log transform when MoeConfig::log_inputs).
struct Normalization {
  std::vector<double> pair_mean, pair_scale;
  std::vector<double> query_mean, query_scale;
  // With MoeConfig::ple_bins = B > 0: for every pair feature, B + 1
  // non-decreasing bin edges in the normalised space (pair_dim x (B + 1),
  // row-major); empty otherwise.
  std::vector<double> pair_edges;
};

// The log_inputs transform: sign(x) log(1 + |x|).
double SignedLog1p(double x);

// One query's routing decision.
struct Routing {
  std::vector<double> affinity;  // s_e for every routed expert
  std::vector<int> chosen;       // the TopK experts, best first
  std::vector<double> weights;   // w_e of each chosen expert
};

struct FeatureContribution {
  std::string feature;  // a pair feature, its "@list" copy, or "query:" a query feature the trees split on
  double value = 0.0;   // the raw feature value
  // Its share of the score: gradient x normalised input through the
  // networks, plus the boosted expert's path attribution
  // (BoostedTrees::Attribute) when there is one.
  double contribution = 0.0;
};

struct MoeExplanation {
  Routing routing;
  double score = 0.0;
  std::vector<double> routed_scores;              // f_e(x) of each chosen expert (same order)
  std::vector<double> shared_scores;              // f_s(x) of each shared expert
  size_t trees = 0;                               // trees of the boosted shared expert (0: none)
  double tree_score = 0.0;                        // its T(x, q) (0 without one)
  std::vector<FeatureContribution> top_features;  // largest |contribution| first
};

class MoeModel {
 public:
  // A model with small random weights (deterministic in `seed`) and identity
  // normalisation. InvalidArgument for an inconsistent config or empty schema.
  static Result<MoeModel> Create(const MoeConfig& config, const FeatureSchema& schema, uint64_t seed);
  static Result<MoeModel> Load(const std::string& path);
  // Weight-space interpolation of two models of one lineage (WiSE-FT,
  // Wortsman et al. 2022, "Robust fine-tuning of zero-shot models"):
  // parameters (1 - alpha) from + alpha to; normalisation, selection bias and
  // retrieval prior of `to`. `to` must have been trained from `from`
  // (MoeTrainOptions::init): same config, schema and normalisation, so the
  // weights live in one input space; InvalidArgument otherwise, or for alpha
  // outside [0, 1]. alpha = 1 returns `to`, alpha = 0 `from`'s weights.
  // Trees `to` grew on top of `from`'s (MoeTrainOptions::tree_expert with
  // init) are absent in `from`, so their leaf values are scaled by alpha.
  static Result<MoeModel> Interpolate(const MoeModel& from, const MoeModel& to, double alpha);
  Status Save(const std::string& path) const;
  // The model file's bytes (what Save writes).
  std::string Serialize() const;
  // Fine-tuning with the corpus's own gate inputs: a copy of this model
  // whose query features are `schema.query_features` (pair features must be
  // equal, and every query feature of this model must be among the new ones,
  // in any order). The gate's weights of the added features start at 0, so
  // the copy routes and scores exactly as this model; their normalisation is
  // taken from `fitted` (e.g. FitNormalization on the judged queries), that
  // of the kept features is this model's. A pre-trained model reads only
  // inputs that mean the same on every corpus; judgements come from one
  // corpus, so fine-tuning may also route on its query-embedding components
  // and domain features. Trust data is dropped. InvalidArgument otherwise.
  Result<MoeModel> WithQueryFeatures(const FeatureSchema& schema, const Normalization& fitted) const;

  // One score per candidate of `group` (its labels are ignored).
  // InvalidArgument when the group does not match the schema.
  Result<std::vector<double>> Score(const QueryGroup& group) const;
  // The gate's decision for a query feature vector (query_dim raw values).
  Result<Routing> Route(std::span<const double> query_features) const;
  // Routing, every expert's score and the `top_features` largest feature
  // contributions for candidate `index` of `group`.
  Result<MoeExplanation> Explain(const QueryGroup& group, size_t index, size_t top_features = 5) const;

  const MoeConfig& config() const { return config_; }
  const FeatureSchema& schema() const { return schema_; }
  const Normalization& normalization() const { return norm_; }
  // Width of an expert's input: pair_dim x max(1, ple_bins), plus pair_dim
  // with list_inputs.
  size_t input_dim() const;
  // Parameters of one expert, routed or shared: the block size of the
  // parameters() layout below (expert x starts at x * expert_parameters(),
  // routed 0..E-1 then shared E..E+S-1).
  size_t expert_parameters() const { return ExpertSize(); }
  // Replaces the normalisation; with ple_bins > 0 and edges of the wrong
  // size, the edges default to B + 1 even steps over [-2, 2].
  void set_normalization(Normalization norm);
  // Retrieval prior, a safety blend set by pre-training (hymir/pretrain.h):
  // with weight mu in (0, 1], Score() returns per candidate
  // (1 - mu) z(model score) + mu z(log x), z standardising within the
  // candidate list and x the pair feature `feature` (fused_rrank: 1 / the
  // retrieval rank), so mu = 1 keeps the retrieval order. Training
  // (RunForward) never applies it. InvalidArgument for a feature not in the
  // schema or mu outside [0, 1]. Default: mu = 0 (off). Saved with the model.
  Status set_retrieval_prior(const std::string& feature, double mu);
  // Applies the prior to `scores` (RunForward's scores of `group`); no-op
  // when it is off. Score() does this itself.
  void ApplyRetrievalPrior(const QueryGroup& group, std::vector<double>& scores) const;
  const std::string& prior_feature() const { return prior_feature_; }
  double prior_weight() const { return prior_mu_; }
  // Per-query trust (model format 5, hymir/ranking/query_trust.h): `anchor`
  // is the model this one was fine-tuned from (one lineage, as for
  // Interpolate; its weights are saved with this model) and `trust` the
  // judged queries. BlendTrusted then serves, per query,
  // z(anchor) + t (z(this) - z(anchor)) with t = trust.Trust(query terms),
  // each model's scores with its retrieval prior and z standardising within
  // the candidate list: t = 0 is the anchor's ranking, t = 1 this model's.
  // InvalidArgument when the models are not of one lineage.
  Status set_trust(const MoeModel& anchor, QueryTrust trust);
  // Fusion (model format 6): this model, trained from scratch on judgements,
  // served together with `anchor`, a pre-trained model of any shape reading
  // the same features (MoeModel::WithQueryFeatures widens one), with its own
  // normalisation and retrieval prior; the whole anchor is saved with this
  // model. BlendTrusted then serves z(anchor) + t (z(this) - z(anchor)) with
  // t = BlendWeight(query terms) = weight x (trust.empty() ? 1 :
  // trust.Trust(terms)). InvalidArgument for other features, a weight
  // outside (0, 1] or an anchor with an anchor of its own.
  Status set_fusion(const MoeModel& anchor, double weight, QueryTrust trust = {});
  double fusion_weight() const { return fusion_weight_; }  // 0: not fused
  // The blend weight t for a query's analysed terms: 1 without an anchor;
  // trust.Trust(terms) for a trusted model; as above for a fused one.
  double BlendWeight(const std::vector<std::string>& query_terms) const;
  // Drops the anchor, trust data and fusion.
  void clear_trust();
  bool has_trust() const { return anchor_ != nullptr; }
  const QueryTrust& trust() const { return trust_; }
  const MoeModel* anchor() const { return anchor_.get(); }
  // `scores`: this model's served scores of `group` (Score(), or RunForward
  // then ApplyRetrievalPrior). With trust data, replaced by the blend above
  // for trust t (clamped to [0, 1]); without, unchanged.
  Status BlendTrusted(const QueryGroup& group, double t, std::vector<double>& scores) const;
  const std::vector<double>& selection_bias() const { return bias_; }
  void set_selection_bias(std::vector<double> bias) { bias_ = std::move(bias); }

  // The boosted shared expert (model format 7): trees over tree_dim() =
  // input_dim() + query_dim() columns, each candidate's expert inputs
  // followed by the query's normalised features (TreeInputs). Its value is
  // added to every candidate's score; it is not a parameter (Backward
  // ignores it), so gradient training moves the networks around it.
  // InvalidArgument when the trees read another width. Empty trees: none.
  Status set_trees(BoostedTrees trees);
  const BoostedTrees& trees() const { return trees_; }
  size_t tree_dim() const { return input_dim() + schema_.query_dim(); }
  // The trees' input rows of `group` (n x tree_dim()).
  Status TreeInputs(const QueryGroup& group, std::vector<double>& out) const;
  // Sets expert `expert`'s output layer (w2, b2) to 0, so it adds nothing
  // until trained (routed 0..E-1, shared E..E+S-1).
  void ZeroExpertOutput(int expert);

  // ---- for the trainer and tests ----
  // Routes to `k` experts from now on (1 <= k <= routed_experts; the trainer's
  // dense warm-up); not thread-safe.
  void set_top_k(int k) { config_.top_k = k; }
  // All trainable parameters in one flat vector. Layout: for each routed then
  // each shared expert [W1 (hidden x input_dim), b1 (hidden), w2 (hidden),
  // b2 (1), with linear_skip v (input_dim), with list_context U (hidden x
  // hidden)], then the gate: linear [Wg (E x query_dim), bg (E)] or MLP
  // [Wg1 (gate_hidden x query_dim), bg1, Wg2 (E x gate_hidden), bg2].
  std::vector<double>& parameters() { return params_; }
  const std::vector<double>& parameters() const { return params_; }

  // Forward and backward over one group with a loss gradient supplied by the
  // caller: `score_grad` = dL/dscore per candidate, `affinity_grad` = extra
  // dL/ds_e per routed expert from gate losses (may be empty). Adds dL/dparams
  // to `grad` (same layout as parameters()). Uses the routing of `routing`
  // (from Route()) so that the caller's losses see the same decision.
  struct Forward {
    Routing routing;
    std::vector<double> gate_logits;  // u_e
    std::vector<double> scores;       // per candidate
    // With keep_activations (for Backward, which then does not recompute
    // them): the experts' inputs (n x input_dim) and, per evaluated expert
    // (shared ones first, then the chosen in order), its hidden layer
    // (n x hidden) and output (n).
    std::vector<double> inputs;
    std::vector<std::vector<double>> hidden, outputs;
  };
  Result<Forward> RunForward(const QueryGroup& group, bool keep_activations = false) const;
  void Backward(const QueryGroup& group, const Forward& forward, std::span<const double> score_grad,
                std::span<const double> affinity_grad, std::span<const double> logit_grad,
                std::vector<double>& grad) const;

 private:
  MoeModel(MoeConfig config, FeatureSchema schema);
  // Load's parser; `top_level` false for a fused model's anchor, which may
  // not have an anchor of its own.
  static Result<MoeModel> Parse(std::string_view data, const std::string& path, bool top_level);
  // Interpolate's and set_trust's precondition (moe_model.cc).
  static bool SameLineage(const MoeModel& a, const MoeModel& b);
  size_t ExpertSize() const;
  size_t ExpertOffset(int expert) const;  // routed 0..E-1, shared E..E+S-1
  size_t GateOffset() const;
  void NormalizeQuery(std::span<const double> raw, std::vector<double>& out) const;
  // The experts' inputs for every candidate of `group` (n x input_dim).
  void NormalizePairs(const QueryGroup& group, std::vector<double>& out) const;
  // The trees' rows from n normalised expert-input rows and the normalised query.
  void TreeRows(const std::vector<double>& x, const std::vector<double>& q, size_t n, std::vector<double>& rows) const;
  // Expert forward over n normalised rows; fills hidden (n x H) and out (n).
  void ExpertForward(int expert, const double* x, size_t n, std::vector<double>& hidden,
                     std::vector<double>& out) const;
  // list_context: the mean hidden row m (H) of n rows, the modulation
  // g = 1 + U m (H) and the output-layer weights w2 * g (H) of `expert`;
  // without it m = 0, g = 1 and w2 itself.
  void OutputWeights(int expert, const std::vector<double>& hidden, size_t n, std::vector<double>& mean,
                     std::vector<double>& gain, std::vector<double>& w2eff) const;
  void GateForward(const std::vector<double>& q, std::vector<double>& hidden, std::vector<double>& logits) const;
  Routing Select(const std::vector<double>& logits) const;

  MoeConfig config_;
  FeatureSchema schema_;
  Normalization norm_;
  std::vector<double> bias_;   // selection bias per routed expert
  std::string prior_feature_;  // retrieval prior (set_retrieval_prior)
  size_t prior_col_ = 0;
  double prior_mu_ = 0.0;
  std::vector<double> params_;
  std::shared_ptr<const MoeModel> anchor_;  // set_trust/set_fusion: the pre-trained model (no anchor of its own)
  QueryTrust trust_;
  double fusion_weight_ = 0.0;  // set_fusion; 0 = a trusted model of one lineage (set_trust)
  BoostedTrees trees_;          // set_trees
};

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_MOE_MODEL_H_
