// Sentence splitting of stored text, shared by the sentence features
// (features.cc) and the inverse-cloze pseudo-queries (pretrain.cc).
#ifndef HYMIR_SRC_ENGINE_SENTENCES_H_
#define HYMIR_SRC_ENGINE_SENTENCES_H_

#include <cctype>
#include <string_view>
#include <vector>

namespace hymir::internal {

// The sentences of `text`: cut after '.', '!' or '?' followed by whitespace
// (or the end) and at line breaks; blank pieces are dropped. The pieces are
// views into `text`, in order, and keep their surrounding whitespace.
inline std::vector<std::string_view> SplitSentences(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  auto emit = [&](size_t end) {
    std::string_view s = text.substr(start, end - start);
    if (s.find_first_not_of(" \t\r\n") != std::string_view::npos) out.push_back(s);
    start = end;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      emit(i + 1);
    } else if ((c == '.' || c == '!' || c == '?') &&
               (i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1])))) {
      emit(i + 1);
    }
  }
  if (start < text.size()) emit(text.size());
  return out;
}

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_SENTENCES_H_
