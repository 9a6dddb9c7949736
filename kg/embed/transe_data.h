// Private representation of hymir::kg::KgEmbeddings, shared by training
// (transe.cc) and the file format (transe_format.cc). Included as
// "kg/embed/transe_data.h".
#ifndef HYMIR_KG_EMBED_TRANSE_DATA_H_
#define HYMIR_KG_EMBED_TRANSE_DATA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hymir/kg/kg_embeddings.h"

namespace hymir::kg {

struct KgEmbeddings::Data {
  int dim = 0;
  TransENorm norm = TransENorm::kL2;
  std::vector<std::string> entity_names;    // row i of `entities`
  std::vector<std::string> relation_names;  // row i of `relations`
  std::vector<float> entities;              // entity_names.size() * dim, row-major
  std::vector<float> relations;             // relation_names.size() * dim, row-major
  // Name -> row. The keys view the strings in *_names: call BuildIndex() after
  // the names are final and never change the names afterwards.
  std::unordered_map<std::string_view, uint32_t> entity_index;
  std::unordered_map<std::string_view, uint32_t> relation_index;

  // Rebuilds both indexes; false when a name occurs twice.
  bool BuildIndex() {
    entity_index.clear();
    relation_index.clear();
    entity_index.reserve(entity_names.size());
    relation_index.reserve(relation_names.size());
    for (uint32_t i = 0; i < entity_names.size(); ++i) {
      if (!entity_index.emplace(entity_names[i], i).second) return false;
    }
    for (uint32_t i = 0; i < relation_names.size(); ++i) {
      if (!relation_index.emplace(relation_names[i], i).second) return false;
    }
    return true;
  }
};

}  // namespace hymir::kg

#endif  // HYMIR_KG_EMBED_TRANSE_DATA_H_
