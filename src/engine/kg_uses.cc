// KgUses: parsing and naming the ways a re-ranker uses a knowledge graph.
#include "hymir/kg_uses.h"

namespace hymir {

Result<KgUses> ParseKgUses(std::string_view list) {
  if (list == "default") return KgUses{};
  KgUses u{false, false, false, false, false};
  if (list == "none") return u;
  size_t b = 0;
  while (b <= list.size()) {
    size_t e = list.find(',', b);
    if (e == std::string_view::npos) e = list.size();
    const std::string_view w = list.substr(b, e - b);
    if (w == "expand")
      u.expand = true;
    else if (w == "features")
      u.features = true;
    else if (w == "gate")
      u.gate = true;
    else if (w == "pseudo-queries")
      u.pseudo_queries = true;
    else if (w == "legacy")
      u.legacy = true;
    else
      return Status::InvalidArgument("KG uses: unknown use \"" + std::string(w) +
                                     "\" (expected expand, features, gate, pseudo-queries, legacy, none or default)");
    b = e + 1;
  }
  return u;
}

void ApplyKgUses(const KgUses& uses, bool has_kg, FeatureConfig* config) {
  config->kg = has_kg && uses.legacy;
  config->kg_fusion = has_kg && uses.features;
  config->kg_gate = has_kg && uses.gate;
}

std::string KgUsesName(const KgUses& u) {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ',';
    s += name;
  };
  add(u.expand, "expand");
  add(u.features, "features");
  add(u.gate, "gate");
  add(u.pseudo_queries, "pseudo-queries");
  add(u.legacy, "legacy");
  return s.empty() ? "none" : s;
}

}  // namespace hymir
