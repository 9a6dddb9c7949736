// Helpers for index tests: build small indexes.
#ifndef HYMIR_TESTS_INDEX_LUCENE_INDEX_FIXTURE_H_
#define HYMIR_TESTS_INDEX_LUCENE_INDEX_FIXTURE_H_

#include <vector>

#include "hymir/index/index_writer.h"
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

inline Status BuildIndex(const std::string& dir, const std::vector<Document>& docs,
                         index::AnalyzerKind kind = index::AnalyzerKind::kEnglish) {
  index::IndexWriterOptions opts;
  opts.analyzer = kind;
  auto w = index::IndexWriter::Open(dir, opts);
  if (!w.ok()) return w.status();
  for (const auto& d : docs) HYMIR_RETURN_IF_ERROR((*w)->Upsert(d));
  return (*w)->Commit();
}

inline std::vector<std::string> Ids(const std::vector<index::Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

}  // namespace hymir::testing

#endif  // HYMIR_TESTS_INDEX_LUCENE_INDEX_FIXTURE_H_
