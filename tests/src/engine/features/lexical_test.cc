// The lexical family (src/engine/features/lexical.cc) against BM25 and
// coverage computed by hand on a three-document index.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

using testing::Idf;
using testing::TfPart;

// Analysed (English; every word is its own stem):
//   a  title [cat]  text [dog cat]      all [cat dog cat]      lengths 1, 2, 3
//   b  title [dog]  text [fox fox]      all [dog fox fox]      lengths 1, 2, 3
//   c  title [owl]  text [cat owl owl]  all [owl cat owl owl]  lengths 1, 3, 4
// N = 3 in every field; avgdl: all 10/3, title 1, text 7/3.
// df: all cat 2, fox 1; title cat 1, fox 0; text cat 2, fox 1.
// idf = ln(1 + (N - df + 0.5) / (df + 0.5)): df 2 -> ln(1.6), df 1 -> ln(8/3).
class LexicalFamilyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(
        testing::BuildIndex(tmp_.path(), {testing::Doc("a", "cat", "dog cat"), testing::Doc("b", "dog", "fox fox"),
                                          testing::Doc("c", "owl", "cat owl owl")}));
    ASSERT_OK_AND_ASSIGN(engine_, Engine::Open(tmp_.path()));
  }
  testing::Extracted Run(const std::string& text) {
    HybridQuery q;
    q.text = text;
    return testing::ExtractBoth(*engine_, FeatureConfig{}, q, testing::Candidates({"a", "b", "c"}));
  }
  testing::TempDir tmp_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(LexicalFamilyTest, PerFieldBm25ByHand) {
  const auto x = Run("cat fox");
  const double avg_all = 10.0 / 3, avg_text = 7.0 / 3;
  // a: cat twice in all (dl 3), once in title (dl 1, avgdl 1), once in text (dl 2).
  EXPECT_NEAR(x.Pair("a", "bm25_all"), std::log(1.6) * TfPart(2, 3, avg_all), 1e-12);
  EXPECT_NEAR(x.Pair("a", "bm25_title"), std::log(8.0 / 3) * (1 / 1.9), 1e-12);  // 1 / (1 + 0.9 * 1)
  EXPECT_NEAR(x.Pair("a", "bm25_text"), std::log(1.6) * TfPart(1, 2, avg_text), 1e-12);
  // b: fox twice in all and text, not in the title.
  EXPECT_NEAR(x.Pair("b", "bm25_all"), std::log(8.0 / 3) * TfPart(2, 3, avg_all), 1e-12);
  EXPECT_EQ(x.Pair("b", "bm25_title"), 0.0);
  EXPECT_NEAR(x.Pair("b", "bm25_text"), std::log(8.0 / 3) * TfPart(2, 2, avg_text), 1e-12);
  // c: cat once in all (dl 4) and text (dl 3).
  EXPECT_NEAR(x.Pair("c", "bm25_all"), std::log(1.6) * TfPart(1, 4, avg_all), 1e-12);
  EXPECT_NEAR(x.Pair("c", "bm25_text"), std::log(1.6) * TfPart(1, 3, avg_text), 1e-12);
  // b is the best (same tf part as a, larger idf): a relative = ln 1.6 / ln(8/3) = 0.4792.
  EXPECT_NEAR(x.Pair("b", "bm25_all_rel"), 1.0, 1e-12);
  EXPECT_NEAR(x.Pair("a", "bm25_all_rel"), std::log(1.6) / std::log(8.0 / 3), 1e-12);
  // The variants: field all with k1 1.2, b 0.75 and k1 2.0, b 0.3.
  EXPECT_NEAR(x.Pair("a", "bm25_k12_b75"), std::log(1.6) * TfPart(2, 3, avg_all, 1.2, 0.75), 1e-12);
  EXPECT_NEAR(x.Pair("a", "bm25_k20_b30"), std::log(1.6) * TfPart(2, 3, avg_all, 2.0, 0.3), 1e-12);
  EXPECT_NEAR(x.Pair("c", "bm25_k20_b30"), std::log(1.6) * TfPart(1, 4, avg_all, 2.0, 0.3), 1e-12);
}

TEST_F(LexicalFamilyTest, CoverageAndLengthsByHand) {
  const auto x = Run("cat fox");
  // Each document holds one of the two distinct terms.
  for (const char* d : {"a", "b", "c"}) EXPECT_DOUBLE_EQ(x.Pair(d, "coverage"), 0.5) << d;
  const double total = std::log(1.6) + std::log(8.0 / 3);
  EXPECT_NEAR(x.Pair("a", "idf_coverage"), std::log(1.6) / total, 1e-12);  // 0.3239
  EXPECT_NEAR(x.Pair("b", "idf_coverage"), std::log(8.0 / 3) / total, 1e-12);
  EXPECT_DOUBLE_EQ(x.Pair("a", "title_coverage"), 0.5);  // cat in a's title
  EXPECT_DOUBLE_EQ(x.Pair("b", "title_coverage"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "log_doc_len"), std::log1p(3.0));
  EXPECT_DOUBLE_EQ(x.Pair("c", "log_doc_len"), std::log1p(4.0));
  EXPECT_DOUBLE_EQ(x.Pair("c", "log_title_len"), std::log1p(1.0));
}

TEST_F(LexicalFamilyTest, RepeatedQueryTermsCountRepeatedlyAsInRetrieval) {
  // "cat cat": coverage counts distinct terms, BM25 each occurrence.
  const auto x = Run("cat cat");
  EXPECT_NEAR(x.Pair("a", "bm25_all"), 2 * std::log(1.6) * TfPart(2, 3, 10.0 / 3), 1e-12);
  EXPECT_DOUBLE_EQ(x.Pair("a", "coverage"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "coverage"), 0.0);
  EXPECT_EQ(x.Pair("b", "bm25_all"), 0.0);
  EXPECT_EQ(x.Pair("b", "bm25_all_rel"), 0.0);
}

TEST_F(LexicalFamilyTest, Bm25AllEqualsTheRetrieversScore) {
  HybridQuery q;
  q.text = "cat fox";
  q.retriever = Retriever::kBm25;
  ASSERT_OK_AND_ASSIGN(auto hits, engine_->Search(q));
  ASSERT_EQ(hits.size(), 3u);
  const auto x = testing::ExtractBoth(*engine_, FeatureConfig{}, q, hits);
  for (const auto& h : hits) {
    ASSERT_TRUE(h.bm25.present);
    EXPECT_NEAR(x.Pair(h.id, "bm25_all"), h.bm25.score, 1e-5 * h.bm25.score) << h.id;
  }
}

}  // namespace
}  // namespace hymir
