// Private: hymir's own analysis chain for the english, standard and
// whitespace analyzers, token for token equal to Lucene++ 3.0.8's (see
// analyzer.h for what each does), without Lucene++'s token streams: no
// attribute objects, virtual calls or string allocations per token.
//
// StandardTokenizer is the Lucene 3.0 JFlex grammar (ALPHANUM, APOSTROPHE,
// ACRONYM, COMPANY, EMAIL, HOST, NUM, CJ, ACRONYM_DEP, longest match, the
// earlier rule on a tie), compiled here into a DFA over 12 character
// classes when first used; the classes of the Basic Multilingual Plane come
// from standard_char_classes.inc, and every character above U+FFFF is a
// letter, as Lucene++ treats it. Lower-casing, white space and the stop words
// are read from Lucene++ once (CharFolder, UnicodeUtil, StopAnalyzer), so
// they follow the installed library.
//
// Two kinds of input are left to Lucene++'s chain: NativeAnalyzeInto returns
// false and the caller analyses with Lucene++. A UTF-32 value outside
// [0, 0x10FFFF], which Lucene++'s tokenizer would use as a table index (no
// defined result to match). And a NUL character: Lucene++'s StringReader
// copies with wcsncpy, which turns every character after a NUL into NUL up
// to the end of the block its tokenizer asked for, and those blocks depend
// on the tokenizer's buffer state; hymir does not copy that.
//
// Thread-safety: all functions are safe to call concurrently.
#ifndef HYMIR_INDEX_LUCENE_ANALYSIS_CHAIN_H_
#define HYMIR_INDEX_LUCENE_ANALYSIS_CHAIN_H_

#include <cstdint>
#include <string_view>

#include "hymir/index/analyzer.h"
#include "index/lucene/analysis.h"

namespace hymir::index::internal {

// True for the analyzers with a chain of hymir's own (english, standard,
// whitespace).
bool HasNativeChain(AnalyzerKind kind);

// Appends the tokens Lucene++'s analyzer of `kind` gives for `text` (UTF-32,
// as Lucene::String holds it) to *out: terms, position increments and start
// offsets. Returns false, leaving *out as it was, when `kind` has no native
// chain or `text` holds a NUL or a value outside [0, 0x10FFFF] (see above).
bool NativeAnalyzeInto(AnalyzerKind kind, std::wstring_view text, TokenBuffer* out);

// `utf8` as Lucene::String, exactly as Lucene++'s StringUtils::toUnicode
// (internal::Wide) decodes it, but faster: well-formed UTF-8 is decoded
// here, anything else (and U+FFFE, U+FFFF, which Lucene++ refuses) is left
// to Lucene++, which then gives an empty string.
Lucene::String DecodeUtf8(std::string_view utf8);

// The text analysis of one analyzer as the index writer runs it: hymir's
// chain where the analyzer has one and it takes the text, else Lucene++'s
// (always, with `lucenepp_only`, which also decodes UTF-8 with Lucene++).
// Both give the same tokens.
class TextAnalysis {
 public:
  TextAnalysis(AnalyzerKind kind, bool lucenepp_only);

  // `utf8` decoded: DecodeUtf8, or with `lucenepp_only` Lucene++'s decoder
  // (the same string).
  Lucene::String Decode(std::string_view utf8) const;

  // Appends the tokens of `text` to *out.
  void AnalyzeInto(const Lucene::String& text, TokenBuffer* out) const;

  // Lucene++'s analyzer of the kind (what its IndexWriter is opened with).
  const Lucene::AnalyzerPtr& lucenepp() const { return lucenepp_; }

 private:
  AnalyzerKind kind_;
  bool lucenepp_only_;
  bool native_;
  Lucene::AnalyzerPtr lucenepp_;
};

// The class of `c` in StandardTokenizer's grammar (exposed for the test that
// checks the table against Lucene++): 0 other, 1 letter, 2 digit, 3 Thai
// (neither letter nor digit), 4 CJ, 5 and up the punctuation ' . & @ - _ and
// / or , (one class).
int StandardCharClass(wchar_t c);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_ANALYSIS_CHAIN_H_
