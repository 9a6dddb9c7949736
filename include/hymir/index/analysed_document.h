// AnalysedDocument: one document as the index analysed it at index time, read
// back from the forward index (docs/format.md) instead of
// re-analysing its stored text.
//
// A plain value; no thread-safety concerns.
#ifndef HYMIR_INDEX_ANALYSED_DOCUMENT_H_
#define HYMIR_INDEX_ANALYSED_DOCUMENT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hymir::index {

struct AnalysedDocument {
  std::string id;
  // The analysed terms of the title and of the text, in order (a term's
  // position is its index), exactly as the index's analyzer produced them
  // for the title, text and all fields (hymir::index::Analyze of the stored
  // strings gives the same vectors).
  std::vector<std::string> title;
  std::vector<std::string> text;
  // Sentence boundaries of the text: sentence_ends[k] is the number of text
  // terms before the end of sentence k, where sentences are cut as
  // src/engine/sentences.h's SplitSentences cuts the raw text (after . ! ?
  // before whitespace, and at line breaks; blank pieces dropped). Sentence k
  // holds text[sentence_ends[k-1], sentence_ends[k]) (from 0 for k = 0) and
  // equals the analysis of that sentence alone. Non-decreasing; the last one
  // equals text.size() when the text has a non-blank piece.
  std::vector<uint32_t> sentence_ends;
  // The document's domain and extra fields, as stored (Document::domain,
  // Document::fields).
  std::optional<std::string> domain;
  std::map<std::string, std::string> fields;
};

}  // namespace hymir::index

#endif  // HYMIR_INDEX_ANALYSED_DOCUMENT_H_
