// MoeModel's file format: Save/Serialize and Load/Parse. Versions are
// listed at kVersion; every version this build reads is parsed here.
#include <algorithm>
#include <cstring>

#include "hymir/ranking/moe_model.h"
#include "src/core/binary_io.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::ranking {
namespace {

constexpr char kMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'M', 'O', 'E'};
// Version 2 added the input-transform flags; version 1 files load with both
// off. Version 3 added ple_bins, the bin edges and the linear_skip and
// list_context flags; older files load without them.
// Version 5 (written only for a model with per-query trust; others are
// still written as 4) adds the anchor's weights and the QueryTrust.
// Version 6 (written only for a fused model, MoeModel::set_fusion) adds the
// whole anchor model as a nested version-4 file, the fusion weight and the
// QueryTrust (possibly empty).
// Version 7 (written only for a model with a boosted shared expert) adds
// the trees after the retrieval prior, then a u32 kind (4: nothing more, 5:
// the version-5 trust block, 6: the version-6 fusion block) and that block;
// a trust block also ends with the u64 count of the anchor's trees (the
// model's first ones).
constexpr uint32_t kVersion = 7;  // 4: retrieval prior, 5: per-query trust, 6: fusion, 7: trees

}  // namespace

Status MoeModel::Save(const std::string& path) const { return internal::WriteFileAtomic(path, Serialize()); }

std::string MoeModel::Serialize() const {
  internal::BinaryWriter w;
  w.Raw(kMagic, sizeof kMagic);
  const bool fused = anchor_ && fusion_weight_ > 0;
  const uint32_t kind = fused ? 6u : anchor_ ? 5u : 4u;
  w.U32(trees_.empty() ? kind : 7u);
  w.U32(config_.routed_experts);
  w.U32(config_.shared_experts);
  w.U32(config_.top_k);
  w.U32(config_.expert_hidden);
  w.U32(config_.gate_hidden);
  w.U32((config_.log_inputs ? 1u : 0u) | (config_.list_inputs ? 2u : 0u) | (config_.linear_skip ? 4u : 0u) |
        (config_.list_context ? 8u : 0u));
  w.U32(static_cast<uint32_t>(config_.ple_bins));
  w.Strings(schema_.pair_features);
  w.Strings(schema_.query_features);
  w.Pods(norm_.pair_mean);
  w.Pods(norm_.pair_scale);
  w.Pods(norm_.query_mean);
  w.Pods(norm_.query_scale);
  w.Pods(norm_.pair_edges);
  w.Pods(bias_);
  w.Pods(params_);
  w.Strings(std::vector<std::string>{prior_feature_});
  w.Pods(std::vector<double>{prior_mu_});
  if (!trees_.empty()) {
    w.Str(trees_.Serialize());
    w.U32(kind);
  }
  if (anchor_) {
    const QueryTrust::Stored t = trust_.ToStored();
    if (fused) {
      w.Str(anchor_->Serialize());
      w.Pods(std::vector<double>{fusion_weight_});
    } else {
      w.Pods(anchor_->params_);
      w.Pods(anchor_->bias_);
      if (!trees_.empty()) w.U64(anchor_->trees_.rounds());  // the anchor's trees are the first ones
    }
    w.Strings(t.vocabulary);
    w.Pods(t.idf);
    w.Pods(t.offsets);
    w.Pods(t.term_ids);
    w.Pods(t.weights);
    w.Pods(t.gains);
    w.Pods(t.config);
  }
  const uint32_t crc = internal::Crc32(0, w.out().data(), w.out().size());
  w.U32(crc);
  return std::move(w.out());
}

Result<MoeModel> MoeModel::Load(const std::string& path) {
  HYMIR_ASSIGN_OR_RETURN(std::string data, internal::ReadFile(path));
  return Parse(data, path, true);
}

Result<MoeModel> MoeModel::Parse(std::string_view data, const std::string& path, bool top_level) {
  auto corrupt = [&](const std::string& why) { return Status::Corruption(path + ": " + why); };
  if (data.size() < sizeof kMagic + 8 || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return corrupt("not a hymir MoE model file (bad magic)");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data.data() + data.size() - 4, 4);
  if (internal::Crc32(0, data.data(), data.size() - 4) != stored_crc)
    return corrupt("checksum mismatch (the file is damaged or truncated)");
  internal::BinaryReader r(std::string_view(data).substr(0, data.size() - 4));
  char magic[8];
  uint32_t version = 0;
  r.Raw(magic, 8);
  r.U32(&version);
  if (version < 1 || version > kVersion)
    return corrupt("model format version " + std::to_string(version) + ", this build reads 1 to " +
                   std::to_string(kVersion));
  if (!top_level && (version == 5 || version == 6))
    return corrupt("the fused pre-trained model has an anchor of its own");
  MoeConfig config;
  FeatureSchema schema;
  Normalization norm;
  std::vector<double> bias, params;
  bool ok = r.I32(&config.routed_experts) && r.I32(&config.shared_experts) && r.I32(&config.top_k) &&
            r.I32(&config.expert_hidden) && r.I32(&config.gate_hidden);
  uint32_t flags = 0;
  if (ok && version >= 2) ok = r.U32(&flags);
  if (flags > (version >= 3 ? 15u : 3u)) return corrupt("unknown model flags " + std::to_string(flags));
  config.log_inputs = (flags & 1u) != 0;
  config.list_inputs = (flags & 2u) != 0;
  config.linear_skip = (flags & 4u) != 0;
  config.list_context = (flags & 8u) != 0;
  if (ok && version >= 3) ok = r.I32(&config.ple_bins);
  ok = ok && r.Strings(&schema.pair_features) && r.Strings(&schema.query_features) && r.Pods(&norm.pair_mean) &&
       r.Pods(&norm.pair_scale) && r.Pods(&norm.query_mean) && r.Pods(&norm.query_scale);
  if (ok && version >= 3) ok = r.Pods(&norm.pair_edges);
  ok = ok && r.Pods(&bias) && r.Pods(&params);
  std::vector<std::string> prior_feature{""};
  std::vector<double> prior_mu{0.0};
  if (ok && version >= 4) ok = r.Strings(&prior_feature) && r.Pods(&prior_mu);
  // What follows the prior: version 7 names it (kind) after the trees.
  std::string trees_bytes;
  uint32_t kind = version >= 5 ? version : 4;
  if (ok && version >= 7) {
    ok = r.Str(&trees_bytes) && r.U32(&kind);
    if (ok && kind != 4 && kind != 5 && kind != 6) return corrupt("unknown model section kind " + std::to_string(kind));
    if (ok && !top_level && kind != 4) return corrupt("the fused pre-trained model has an anchor of its own");
  }
  std::vector<double> anchor_params, anchor_bias, fusion{0.0};
  std::string anchor_file;
  QueryTrust::Stored stored_trust;
  uint64_t anchor_trees = 0;
  if (ok && kind == 5) ok = r.Pods(&anchor_params) && r.Pods(&anchor_bias);
  if (ok && kind == 5 && version >= 7) ok = r.U64(&anchor_trees);
  if (ok && kind == 6) ok = r.Str(&anchor_file) && r.Pods(&fusion) && fusion.size() == 1;
  if (ok && kind >= 5)
    ok = r.Strings(&stored_trust.vocabulary) && r.Pods(&stored_trust.idf) && r.Pods(&stored_trust.offsets) &&
         r.Pods(&stored_trust.term_ids) && r.Pods(&stored_trust.weights) && r.Pods(&stored_trust.gains) &&
         r.Pods(&stored_trust.config);
  ok = ok && r.AtEnd() && prior_feature.size() == 1 && prior_mu.size() == 1;
  if (!ok) return corrupt("truncated or malformed model body");
  {  // Every parameter is stored: a config needing more than the file holds
     // is damaged, and must be refused before Create() allocates for it.
    const double stored = static_cast<double>(params.size());
    const double experts = static_cast<double>(config.routed_experts) + static_cast<double>(config.shared_experts);
    const double first_layers =
        experts * static_cast<double>(config.expert_hidden) * static_cast<double>(schema.pair_dim());
    const double gate =
        static_cast<double>(config.gate_hidden) * static_cast<double>(schema.query_dim()) +
        static_cast<double>(config.routed_experts) * std::max(1.0, static_cast<double>(config.gate_hidden));
    if (first_layers > stored || gate > stored) return corrupt("parameter sizes do not match the stored config");
  }
  auto created = Create(config, schema, 0);
  if (!created.ok()) return corrupt(created.status().message());
  MoeModel m = std::move(created).value();
  if (params.size() != m.params_.size() || bias.size() != static_cast<size_t>(config.routed_experts) ||
      norm.pair_mean.size() != schema.pair_dim() || norm.pair_scale.size() != schema.pair_dim() ||
      norm.query_mean.size() != schema.query_dim() || norm.query_scale.size() != schema.query_dim() ||
      norm.pair_edges.size() != (config.ple_bins > 0 ? schema.pair_dim() * (config.ple_bins + 1) : 0))
    return corrupt("parameter sizes do not match the stored config");
  auto positive = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
  };
  if (!positive(norm.pair_scale) || !positive(norm.query_scale))
    return corrupt("a normalisation scale is not positive");
  m.params_ = std::move(params);
  m.bias_ = std::move(bias);
  m.norm_ = std::move(norm);
  if (Status s = m.set_retrieval_prior(prior_feature[0], prior_mu[0]); !s.ok()) return corrupt(s.message());
  if (version >= 7) {
    auto trees = BoostedTrees::Parse(trees_bytes);
    if (!trees.ok()) return corrupt(trees.status().message());
    if (trees->empty()) return corrupt("a version-7 model without trees");
    if (Status s = m.set_trees(std::move(trees).value()); !s.ok()) return corrupt(s.message());
  }
  if (kind == 6) {
    auto anchor = Parse(anchor_file, path + " (its fused pre-trained model)", false);
    if (!anchor.ok()) return anchor.status();
    auto trust = QueryTrust::FromStored(std::move(stored_trust));
    if (!trust.ok()) return corrupt(trust.status().message());
    if (Status s = m.set_fusion(*anchor, fusion[0], std::move(trust).value()); !s.ok()) return corrupt(s.message());
  } else if (kind == 5) {
    if (anchor_params.size() != m.params_.size() || anchor_bias.size() != m.bias_.size())
      return corrupt("the pre-trained weights of the query trust do not match the stored config");
    MoeModel anchor = m;
    anchor.params_ = std::move(anchor_params);
    anchor.bias_ = std::move(anchor_bias);
    if (anchor_trees > m.trees_.rounds())
      return corrupt("the query trust's initial model has more trees than the model");
    anchor.trees_.Truncate(static_cast<size_t>(anchor_trees));
    auto trust = QueryTrust::FromStored(std::move(stored_trust));
    if (!trust.ok()) return corrupt(trust.status().message());
    if (Status s = m.set_trust(anchor, std::move(trust).value()); !s.ok()) return corrupt(s.message());
  }
  return m;
}

}  // namespace hymir::ranking
