// Parsing of the BM25 query specs the example programs share: FIELD:VALUE
// filters (`hymir search --filter`, `hymir-mpi search --filter`, the HTTP
// service's `filter` parameter) and FIELD[:WEIGHT] fields (`--field`).
#ifndef HYMIR_EXAMPLES_COMMON_FILTERS_H_
#define HYMIR_EXAMPLES_COMMON_FILTERS_H_

#include <hymir/index/text_query.h>
#include <hymir/status.h>

#include <algorithm>
#include <string>
#include <vector>

namespace hymir::app {

// Appends each "FIELD:VALUE" of `specs` to `out`; the same field twice admits
// either value. InvalidArgument (naming `what` and the spec) when a spec has
// no ':' or an empty field.
inline Status ParseFilters(const std::vector<std::string>& specs, std::vector<index::FieldFilter>* out,
                           const std::string& what = "--filter") {
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument(what + " \"" + spec + "\": expected FIELD:VALUE");
    }
    std::string field = spec.substr(0, colon), value = spec.substr(colon + 1);
    auto it = std::find_if(out->begin(), out->end(), [&](const index::FieldFilter& f) { return f.field == field; });
    if (it == out->end()) {
      out->push_back({field, {value}});
    } else {
      it->values.push_back(value);
    }
  }
  return Status::OK();
}

// Replaces `out` with the "FIELD[:WEIGHT]" specs of `specs` (weight 1 when
// absent); leaves it alone when `specs` is empty. InvalidArgument naming the
// spec when a weight is not a number.
inline Status ParseFields(const std::vector<std::string>& specs, std::vector<index::FieldWeight>* out) {
  if (specs.empty()) return Status::OK();
  out->clear();
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    index::FieldWeight fw{spec.substr(0, colon), 1.0};
    if (colon != std::string::npos) {
      try {
        fw.weight = std::stod(spec.substr(colon + 1));
      } catch (...) {
        return Status::InvalidArgument("--field \"" + spec + "\": weight is not a number");
      }
    }
    out->push_back(fw);
  }
  return Status::OK();
}

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_FILTERS_H_
