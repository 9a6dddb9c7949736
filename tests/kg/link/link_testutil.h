// A small TripleStore in a temp dir for the kg/link tests.
#ifndef HYMIR_TESTS_KG_LINK_LINK_TESTUTIL_H_
#define HYMIR_TESTS_KG_LINK_LINK_TESTUTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hymir/kg/triple_store.h"
#include "tests/testutil/testutil.h"

namespace hymir::kg::testing {

// Triples given as {s, r, o}; aliases as {entity, alias}.
inline std::unique_ptr<TripleStore> MakeStore(const std::string& dir, const std::vector<Triple>& edges,
                                              const std::vector<std::pair<std::string, std::string>>& aliases) {
  auto store = TripleStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return nullptr;
  EXPECT_OK((*store)->AddBatch(edges));
  for (const auto& [entity, alias] : aliases) EXPECT_OK((*store)->AddAlias(entity, alias));
  return std::move(store).value();
}

}  // namespace hymir::kg::testing

#endif  // HYMIR_TESTS_KG_LINK_LINK_TESTUTIL_H_
