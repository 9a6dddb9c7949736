// Helpers for the feature-family tests: a tiny index, a hand-made
// candidate list, and one extraction whose values are read by feature name.
#ifndef HYMIR_TESTS_SRC_ENGINE_FEATURES_FEATURE_TEST_UTIL_H_
#define HYMIR_TESTS_SRC_ENGINE_FEATURES_FEATURE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hymir/engine.h"
#include "hymir/features.h"
#include "hymir/knowledge.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::testing {

// A candidate at `rank` (1-based), its own score 1 / rank, with no stage
// results (set them by hand where a test needs them).
inline SearchHit Candidate(std::string id, uint32_t rank) {
  SearchHit h;
  h.id = std::move(id);
  h.rank = rank;
  h.score = 1.0 / rank;
  return h;
}

// Candidates `ids` in this order.
inline std::vector<SearchHit> Candidates(const std::vector<std::string>& ids) {
  std::vector<SearchHit> hits;
  for (size_t i = 0; i < ids.size(); ++i) hits.push_back(Candidate(ids[i], static_cast<uint32_t>(i + 1)));
  return hits;
}

// One Extract() result with its schema, read by name.
struct Extracted {
  ranking::QueryGroup group;
  ranking::FeatureSchema schema;

  double Pair(const std::string& doc, const std::string& name) const {
    const size_t row = std::find(group.doc_ids.begin(), group.doc_ids.end(), doc) - group.doc_ids.begin();
    const auto& names = schema.pair_features;
    const size_t col = std::find(names.begin(), names.end(), name) - names.begin();
    EXPECT_LT(row, group.doc_ids.size()) << "no candidate " << doc;
    EXPECT_LT(col, names.size()) << "no pair feature " << name;
    if (row >= group.doc_ids.size() || col >= names.size()) return -1e300;
    return group.pair_features[row * names.size() + col];
  }
  double Query(const std::string& name) const {
    const auto& names = schema.query_features;
    const size_t col = std::find(names.begin(), names.end(), name) - names.begin();
    EXPECT_LT(col, names.size()) << "no query feature " << name;
    if (col >= names.size()) return -1e300;
    return group.query_features[col];
  }
};

// Extracts `hits` for `query` on both document paths (forward index and
// stored text) and checks they agree exactly; returns the forward one.
inline Extracted ExtractBoth(const Engine& engine, FeatureConfig config, const HybridQuery& query,
                             const std::vector<SearchHit>& hits, const KnowledgeContext* kg = nullptr) {
  Extracted out[2];
  for (int mode = 0; mode < 2; ++mode) {
    config.use_forward_index = mode == 0;
    auto fx = FeatureExtractor::Create(engine, config, kg);
    EXPECT_TRUE(fx.ok()) << fx.status().ToString();
    if (!fx.ok()) return {};
    auto g = (*fx)->Extract(query, hits);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    if (!g.ok()) return {};
    out[mode].group = std::move(g).value();
    out[mode].schema = (*fx)->schema();
  }
  EXPECT_EQ(out[0].group.pair_features, out[1].group.pair_features);
  EXPECT_EQ(out[0].group.query_features, out[1].group.query_features);
  return out[0];
}

// BM25 as the index computes it (hymir/index/bm25.h), spelled out for the
// hand computations: idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
// tf part = tf / (tf + k1 (1 - b + b dl / avgdl)); defaults k1 0.9, b 0.4.
inline double Idf(double n, double df) { return std::log(1.0 + (n - df + 0.5) / (df + 0.5)); }
inline double TfPart(double tf, double dl, double avgdl, double k1 = 0.9, double b = 0.4) {
  return tf / (tf + k1 * (1.0 - b + b * dl / avgdl));
}

}  // namespace hymir::testing

#endif  // HYMIR_TESTS_SRC_ENGINE_FEATURES_FEATURE_TEST_UTIL_H_
