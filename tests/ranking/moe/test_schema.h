// A feature schema of numbered features (p0.., q0..) for the MoE tests.
#ifndef HYMIR_TESTS_RANKING_MOE_TEST_SCHEMA_H_
#define HYMIR_TESTS_RANKING_MOE_TEST_SCHEMA_H_

#include <string>

#include "hymir/ranking/ranking_data.h"

namespace hymir::ranking::testing {

inline FeatureSchema Schema(size_t pair, size_t query) {
  FeatureSchema s;
  for (size_t i = 0; i < pair; ++i) s.pair_features.push_back("p" + std::to_string(i));
  for (size_t i = 0; i < query; ++i) s.query_features.push_back("q" + std::to_string(i));
  return s;
}

}  // namespace hymir::ranking::testing

#endif  // HYMIR_TESTS_RANKING_MOE_TEST_SCHEMA_H_
