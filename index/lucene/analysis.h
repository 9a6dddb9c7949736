// Private: Lucene++ analyzers for each AnalyzerKind, and a token buffer that
// analyses a string once so several index fields can replay its tokens.
#ifndef HYMIR_INDEX_LUCENE_ANALYSIS_H_
#define HYMIR_INDEX_LUCENE_ANALYSIS_H_

#include <lucene++/LuceneHeaders.h>

#include <string_view>
#include <vector>

#include "hymir/index/analyzer.h"

namespace hymir::index::internal {

// A shared, thread-safe analyzer (reusableTokenStream is per thread).
Lucene::AnalyzerPtr MakeAnalyzer(AnalyzerKind kind);

// Tokens of one analysed string, stored contiguously.
struct TokenBuffer {
  std::vector<wchar_t> chars;
  std::vector<uint32_t> ends;       // ends[i]: end offset of token i in chars
  std::vector<int32_t> increments;  // position increment of token i
  std::vector<uint32_t> starts;     // starts[i]: offset of token i in the analysed string (chars)
  void Clear() {
    chars.clear();
    ends.clear();
    increments.clear();
    starts.clear();
  }
  size_t size() const { return ends.size(); }
};

// Appends the tokens of `text` to *out using `analyzer` (field name "all").
void AnalyzeInto(const Lucene::AnalyzerPtr& analyzer, const Lucene::String& text, TokenBuffer* out);

// A TokenStream replaying one or more TokenBuffers in sequence (title then
// text for the combined field). The buffers must outlive indexing of the doc.
Lucene::TokenStreamPtr MakeReplayStream(std::vector<const TokenBuffer*> parts);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_ANALYSIS_H_
