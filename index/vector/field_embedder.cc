#include "index/vector/field_embedder.h"

#include <filesystem>

#include "hymir/index/lsa_embedder.h"

namespace hymir::index::internal {

std::string FieldEmbedderPath(const std::string& index_dir, const VectorFieldSpec& spec) {
  return index_dir + "/vectors/" + spec.name + "." + spec.embedder;
}

Result<std::shared_ptr<const Embedder>> LoadFieldEmbedder(const std::string& index_dir, const VectorFieldSpec& spec) {
  if (spec.embedder.empty()) return std::shared_ptr<const Embedder>();
  const std::string path = FieldEmbedderPath(index_dir, spec);
  if (!std::filesystem::exists(path)) {
    return Status::Corruption("vector field \"" + spec.name + "\" declares embedder \"" + spec.embedder + "\" but " +
                              path + " is missing");
  }
  auto e = LsaEmbedder::Load(path);
  if (!e.ok()) return e.status();
  if ((*e)->dimension() != spec.dimension) {
    return Status::Corruption(path + ": embedder dimension " + std::to_string((*e)->dimension()) +
                              " differs from vector field \"" + spec.name + "\" (" + std::to_string(spec.dimension) +
                              ")");
  }
  return std::shared_ptr<const Embedder>(std::move(e).value());
}

}  // namespace hymir::index::internal
