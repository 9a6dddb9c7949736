// Private adapter between hymir and Lucene++: string conversion and the one
// place where LuceneException becomes hymir::Status.
#ifndef HYMIR_INDEX_LUCENE_LUCENE_UTIL_H_
#define HYMIR_INDEX_LUCENE_LUCENE_UTIL_H_

#include <lucene++/LuceneHeaders.h>

#include <exception>
#include <string>
#include <string_view>

#include "hymir/result.h"

namespace hymir::index::internal {

inline Lucene::String Wide(std::string_view utf8) {
  return Lucene::StringUtils::toUnicode(reinterpret_cast<const uint8_t*>(utf8.data()),
                                        static_cast<int32_t>(utf8.size()));
}
inline std::string Utf8(const Lucene::String& wide) { return Lucene::StringUtils::toUTF8(wide); }

// Maps a Lucene++ exception to a Status; `where` names the place (a path).
Status FromLucene(const Lucene::LuceneException& e, const std::string& where);

// Runs `fn` (returning Status or Result<T>), converting any exception.
template <typename Fn>
auto Guard(const std::string& where, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Lucene::LuceneException& e) {
    return FromLucene(e, where);
  } catch (const std::bad_alloc&) {
    return Status::Internal(where + ": out of memory");
  } catch (const std::exception& e) {
    return Status::Internal(where + ": " + e.what());
  }
}

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_LUCENE_UTIL_H_
