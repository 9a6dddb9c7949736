// libFuzzer target: MoE model files. The input is a model file without its
// CRC-32 trailer; the harness appends the right one, so the fuzzer reaches
// the parser behind the checksum. A damaged file must be refused
// (Corruption naming the path), never crash or allocate without bound; a
// file that loads must score a group of its schema.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hymir/ranking/boosted_trees.h"
#include "hymir/ranking/moe_model.h"
#include "src/core/crc32.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

// With HYMIR_FUZZ_SEED_DIR set: writes a real model (PLE bins, list inputs,
// a retrieval prior), minus its trailer, into that directory as a seed.
void WriteSeed(const char* dir) {
  hymir::ranking::FeatureSchema schema{{"fused_rrank", "bm25", "dense"}, {"qlen", "idf"}};
  hymir::ranking::MoeConfig c;
  c.routed_experts = 3;
  c.shared_experts = 1;
  c.top_k = 2;
  c.expert_hidden = 4;
  c.ple_bins = 2;
  auto m = hymir::ranking::MoeModel::Create(c, schema, 1);
  if (!m.ok() || !m->set_retrieval_prior("fused_rrank", 0.3).ok()) __builtin_trap();
  const std::string path = std::string(dir) + "/model.full";
  if (!m->Save(path).ok()) __builtin_trap();
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(std::string(dir) + "/model", std::ios::binary) << bytes.substr(0, bytes.size() - 4);
  std::remove(path.c_str());
  // A fused model (format 6): an anchor of another shape nested whole.
  c.routed_experts = 2;
  c.top_k = 1;
  c.ple_bins = 0;
  auto anchor = hymir::ranking::MoeModel::Create(c, schema, 2);
  if (!anchor.ok() || !m->set_fusion(*anchor, 0.5).ok()) __builtin_trap();
  const std::string fused = m->Serialize();
  std::ofstream(std::string(dir) + "/model-fused", std::ios::binary) << fused.substr(0, fused.size() - 4);
  // A model with a boosted shared expert (format 7), and the same with
  // per-query trust in an anchor without the trees grown on top (kind 5).
  auto boosted = hymir::ranking::MoeModel::Create(c, schema, 3);
  if (!boosted.ok()) __builtin_trap();
  std::vector<hymir::ranking::TreeList> lists(2);
  for (int q = 0; q < 2; ++q) {
    hymir::ranking::QueryGroup g;
    g.query_id = "q";
    g.query_features = {0.5 * q, 1.0};
    for (int i = 0; i < 6; ++i) {
      g.doc_ids.push_back(std::to_string(i));
      g.pair_features.insert(g.pair_features.end(), {1.0 / (i + 1), 0.3 * i, q - 0.1 * i});
      lists[q].labels.push_back(i == q ? 1.0 : 0.0);
    }
    if (!boosted->TreeInputs(g, lists[q].x).ok()) __builtin_trap();
  }
  hymir::ranking::TreeBoostOptions o;
  o.max_rounds = 3;
  o.max_depth = 2;
  o.min_child_hessian = 0;
  auto trees = hymir::ranking::TrainBoostedTrees(lists, {}, boosted->tree_dim(), o);
  if (!trees.ok() || trees->empty() || !boosted->set_trees(*trees).ok()) __builtin_trap();
  const std::string with_trees = boosted->Serialize();
  std::ofstream(std::string(dir) + "/model-trees", std::ios::binary) << with_trees.substr(0, with_trees.size() - 4);
  auto anchor_of = *boosted;
  if (!anchor_of.set_trees({}).ok() || !boosted->set_trust(anchor_of, {}).ok()) __builtin_trap();
  const std::string trusted = boosted->Serialize();
  std::ofstream(std::string(dir) + "/model-trees-trust", std::ios::binary) << trusted.substr(0, trusted.size() - 4);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("HYMIR_FUZZ_SEED_DIR")) WriteSeed(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  const uint32_t crc = hymir::internal::Crc32(0, bytes.data(), bytes.size());
  bytes.append(reinterpret_cast<const char*>(&crc), 4);
  const std::string path = hymir::fuzz::WriteInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "moe");
  auto model = hymir::ranking::MoeModel::Load(path);
  if (!model.ok()) return 0;
  // Loaded: it must score a well-formed group of its own schema.
  const auto& schema = model->schema();
  hymir::ranking::QueryGroup g;
  g.query_id = "q";
  g.query_features.assign(schema.query_dim(), 0.5);
  for (int i = 0; i < 3; ++i) {
    g.doc_ids.push_back(std::to_string(i));
    for (size_t f = 0; f < schema.pair_dim(); ++f) g.pair_features.push_back(1.0 / (i + 1));
  }
  auto scores = model->Score(g);
  if (scores.ok()) (void)model->BlendTrusted(g, model->BlendWeight({"q"}), *scores);
  return 0;
}
