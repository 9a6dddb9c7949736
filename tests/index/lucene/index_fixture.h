// Helpers for index tests: build small indexes.
#ifndef HYMIR_TESTS_INDEX_LUCENE_INDEX_FIXTURE_H_
#define HYMIR_TESTS_INDEX_LUCENE_INDEX_FIXTURE_H_

#include <filesystem>
#include <vector>

#include "hymir/beir.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/lsa_embedder.h"
#include "hymir/index/searcher.h"
#include "tests/testutil/testutil.h"

namespace hymir::testing {

inline Document Doc(std::string id, std::string title, std::string text, std::optional<std::string> domain = {}) {
  Document d;
  d.id = std::move(id);
  d.title = std::move(title);
  d.text = std::move(text);
  d.domain = std::move(domain);
  return d;
}

// The bundled sample corpus's documents, in file order.
inline Result<std::vector<Document>> SampleDocuments() {
  HYMIR_ASSIGN_OR_RETURN(auto reader, CorpusReader::Open(SampleDir() + "/corpus.jsonl"));
  std::vector<Document> docs;
  for (Document d;;) {
    HYMIR_ASSIGN_OR_RETURN(bool more, reader->Next(&d));
    if (!more) break;
    docs.push_back(d);
  }
  return docs;
}

inline Status BuildIndex(const std::string& dir, const std::vector<Document>& docs,
                         index::AnalyzerKind kind = index::AnalyzerKind::kEnglish) {
  index::IndexWriterOptions opts;
  opts.analyzer = kind;
  auto w = index::IndexWriter::Open(dir, opts);
  if (!w.ok()) return w.status();
  for (const auto& d : docs) HYMIR_RETURN_IF_ERROR((*w)->Upsert(d));
  return (*w)->Commit();
}

// Declares in `options` an LSA vector field `name` of `dim` dimensions for a
// new index at `dir` and saves its embedder, trained on `docs`' title + text,
// where the index expects it (as `hymir index --embed lsa:DIM` does).
inline Status AddLsaField(const std::string& dir, const std::vector<Document>& docs, size_t dim,
                          index::IndexWriterOptions* options, const std::string& name = "emb") {
  index::VectorFieldSpec spec;
  spec.name = name;
  spec.dimension = dim;
  spec.embedder = "lsa";
  options->vector_fields.push_back(spec);
  std::vector<std::string> texts;
  for (const auto& d : docs) texts.push_back(d.title + " " + d.text);
  index::LsaOptions lsa;
  lsa.dimension = dim;
  auto embedder = index::LsaEmbedder::Train(texts, lsa);
  if (!embedder.ok()) return embedder.status();
  std::filesystem::create_directories(dir + "/vectors");
  return (*embedder)->Save(dir + "/vectors/" + name + ".lsa");
}

inline std::vector<std::string> Ids(const std::vector<index::Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

}  // namespace hymir::testing

#endif  // HYMIR_TESTS_INDEX_LUCENE_INDEX_FIXTURE_H_
