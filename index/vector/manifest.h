// Private: the vector manifest. One manifest per commit generation names every
// vector file of that generation with its size and checksum:
//   <index>/vectors/MANIFEST.g<N>.json
// The Lucene++ commit (segments_N) names the generation in its commit user
// data under kGenerationKey, so text and vectors change in one atomic step:
// vector files and the manifest are written first (new names, fsynced), then
// the Lucene commit makes generation N current. A crash before the Lucene
// commit leaves the previous generation current; stray files are removed when
// a writer next opens.
#ifndef HYMIR_INDEX_VECTOR_MANIFEST_H_
#define HYMIR_INDEX_VECTOR_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "hymir/result.h"
#include "index/vector/vector_store.h"

namespace hymir::index::internal {

inline constexpr const char* kVectorsDir = "vectors";
inline constexpr const wchar_t* kGenerationKey = L"hymir.vector_generation";

struct ManifestField {
  std::string name;
  FileInfo raw;
  FileInfo faiss;
};

struct Manifest {
  uint64_t generation = 0;
  std::vector<ManifestField> fields;
  // The forward index of the generation (index/lucene/forward_index.h);
  // empty name: none (generations written before it existed).
  FileInfo forward;
  // When `forward` is a delta, the full forward file it applies to (written
  // by an earlier generation and kept while a kept manifest names it).
  FileInfo forward_base;
  // The typed values of the generation (index/lucene/doc_values.h); empty
  // name: none (an index without a schema).
  FileInfo values;
  // When `values` is a delta, the full values file it applies to.
  FileInfo values_base;
};

Status WriteManifest(const std::string& vectors_dir, const Manifest& m);
Result<Manifest> ReadManifest(const std::string& vectors_dir, uint64_t generation);
// Removes vector and forward-index files and manifests of generations other than `keep` and
// `keep - 1` (readers may still be loading the previous one), except the files
// those two generations' manifests name (the bases of their deltas).
void RemoveStaleGenerations(const std::string& vectors_dir, uint64_t keep);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_VECTOR_MANIFEST_H_
