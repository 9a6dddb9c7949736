// Snippet: the head of a document's text for a result page.
//
// Thread-safety: a pure function.
#ifndef HYMIR_SNIPPET_H_
#define HYMIR_SNIPPET_H_

#include <cstddef>
#include <string>

namespace hymir {

// The first `limit` bytes of `text`, cut at a space (or a UTF-8 character
// boundary) and marked with an ellipsis when shortened.
std::string Snippet(const std::string& text, size_t limit);

}  // namespace hymir

#endif  // HYMIR_SNIPPET_H_
