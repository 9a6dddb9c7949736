// The search page `hymir serve` answers on GET /: one self-contained HTML
// document (no external scripts, styles or fonts) that calls /api/info,
// /api/search and /api/doc.
#ifndef HYMIR_EXAMPLES_SERVE_SEARCH_PAGE_H_
#define HYMIR_EXAMPLES_SERVE_SEARCH_PAGE_H_

#include <string_view>

namespace hymir::serve {

extern const std::string_view kSearchPage;

}  // namespace hymir::serve

#endif  // HYMIR_EXAMPLES_SERVE_SEARCH_PAGE_H_
