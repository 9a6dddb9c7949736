// Features read from the forward index equal the features of the
// stored-text path (re-analysis), value for value, on the bundled sample
// (with an LSA vector field, domains, sentence and copied query features)
// and, when ../shared/data/mixed exists, on mixed.
#include "hymir/features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "hymir/beir.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/lsa_embedder.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::TempDir;

// Indexes `dir`/corpus.jsonl (domain = the id's prefix before ':', or
// alternating even/odd), with an LSA vector field "emb" when `lsa_dims` > 0.
Status BuildCorpus(const std::string& corpus, const std::string& dir, int lsa_dims) {
  HYMIR_ASSIGN_OR_RETURN(auto reader, CorpusReader::Open(corpus));
  std::vector<Document> docs;
  Document d;
  while (true) {
    HYMIR_ASSIGN_OR_RETURN(bool more, reader->Next(&d));
    if (!more) break;
    const size_t colon = d.id.find(':');
    d.domain = colon != std::string::npos ? d.id.substr(0, colon) : (docs.size() % 2 ? "odd" : "even");
    if (docs.size() % 5 == 0) d.fields["kg_entities"] = "e" + std::to_string(docs.size() % 17);
    docs.push_back(d);
  }
  index::IndexWriterOptions o;
  if (lsa_dims > 0) HYMIR_RETURN_IF_ERROR(testing::AddLsaField(dir, docs, lsa_dims, &o));
  HYMIR_ASSIGN_OR_RETURN(auto w, index::IndexWriter::Open(dir, o));
  for (size_t i = 0; i < docs.size(); ++i) {
    HYMIR_RETURN_IF_ERROR(w->Upsert(docs[i]));
    if (i == docs.size() / 2) HYMIR_RETURN_IF_ERROR(w->Commit());  // two generations, two segments at least
  }
  return w->Commit();
}

// Every feature of both paths for the first `max_queries` queries' top 100.
void ExpectSameFeatures(const std::string& dir, const std::string& queries_file, size_t max_queries,
                        FeatureConfig config) {
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir));
  ASSERT_TRUE(engine->searcher().HasForwardIndex());
  ASSERT_OK_AND_ASSIGN(auto records, ReadQueries(queries_file));
  std::vector<HybridQuery> queries;
  for (const auto& r : records) {
    if (queries.size() == max_queries) break;
    HybridQuery q;
    q.id = r.id;
    q.text = r.text;
    queries.push_back(q);
  }
  ASSERT_OK_AND_ASSIGN(auto hits, RetrieveCandidates(*engine, queries, 100));
  config.use_forward_index = true;
  ASSERT_OK_AND_ASSIGN(auto forward, FeatureExtractor::Create(*engine, config));
  config.use_forward_index = false;
  ASSERT_OK_AND_ASSIGN(auto stored, FeatureExtractor::Create(*engine, config));
  ASSERT_EQ(forward->schema().pair_features, stored->schema().pair_features);
  size_t compared = 0, nonzero = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    ASSERT_OK_AND_ASSIGN(auto a, forward->Extract(queries[q], hits[q]));
    ASSERT_OK_AND_ASSIGN(auto b, stored->Extract(queries[q], hits[q]));
    ASSERT_EQ(a.doc_ids, b.doc_ids);
    ASSERT_EQ(a.pair_features.size(), b.pair_features.size());
    ASSERT_EQ(a.query_features.size(), b.query_features.size());
    const size_t d = forward->schema().pair_dim();
    for (size_t i = 0; i < a.pair_features.size(); ++i) {
      ASSERT_NEAR(a.pair_features[i], b.pair_features[i], 1e-9)
          << "query " << queries[q].id << " doc " << a.doc_ids[i / d] << " feature "
          << forward->schema().pair_features[i % d];
      nonzero += a.pair_features[i] != 0.0;
    }
    for (size_t i = 0; i < a.query_features.size(); ++i) {
      ASSERT_NEAR(a.query_features[i], b.query_features[i], 1e-9)
          << "query " << queries[q].id << " feature " << forward->schema().query_features[i];
    }
    compared += a.pair_features.size() + a.query_features.size();
  }
  std::printf("%zu feature values compared (%zu non-zero pair values), all within 1e-9\n", compared, nonzero);
  EXPECT_GT(nonzero, compared / 4);
}

FeatureConfig FullConfig(std::vector<std::string> domains) {
  FeatureConfig c;
  c.sentence_features = true;
  c.pair_query_features = true;
  c.domains = std::move(domains);
  return c;
}

TEST(FeaturesTest, ForwardIndexFeaturesEqualStoredTextFeaturesOnSample) {
  TempDir tmp;
  const std::string sample = std::string(HYMIR_SOURCE_DIR) + "/data/sample";
  ASSERT_OK(BuildCorpus(sample + "/corpus.jsonl", tmp.path(), 16));
  ExpectSameFeatures(tmp.path(), sample + "/queries.jsonl", 1000, FullConfig({"even", "odd"}));
  ExpectSameFeatures(tmp.path(), sample + "/queries.jsonl", 1000, FeatureConfig{});
}

TEST(FeaturesTest, ForwardIndexFeaturesEqualStoredTextFeaturesOnMixed) {
  const std::string mixed = std::string(HYMIR_SHARED_DATA_DIR) + "/mixed";
  if (!std::filesystem::exists(mixed + "/corpus.jsonl")) GTEST_SKIP() << "no " << mixed;
  TempDir tmp;
  ASSERT_OK(BuildCorpus(mixed + "/corpus.jsonl", tmp.path(), 0));
  ExpectSameFeatures(tmp.path(), mixed + "/queries.jsonl", 300,
                     FullConfig({"cacm", "cisi", "cranfield", "med", "scifact"}));
}

// Coverage, window density, bigram match and lengths by hand, on both paths.
// Query "blood cell"; document "a": title [cell growth], text [blood test
// show mani cell count] ("the" is a stop word): both terms matched, "cell"
// in the title, the smallest window holding both is cell(0) growth(1)
// blood(2) -> 2/3, and "blood cell" is never adjacent.
TEST(FeaturesTest, HandComputedLexicalAndProximityFeatures) {
  TempDir tmp;
  ASSERT_OK(testing::BuildIndex(
      tmp.path(),
      {testing::Doc("a", "Cell growth", "The blood test showed many cell counts."),
       testing::Doc("b", "Blood cell", "Blood cell blood."), testing::Doc("c", "other", "nothing relevant here")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  for (bool forward : {true, false}) {
    SCOPED_TRACE(forward ? "forward index" : "stored text");
    FeatureConfig c;
    c.use_forward_index = forward;
    ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, c));
    HybridQuery q;
    q.text = "blood cell";
    ASSERT_OK_AND_ASSIGN(auto hits, engine->Search(q));
    ASSERT_OK_AND_ASSIGN(auto g, fx->Extract(q, hits));
    const auto& names = fx->schema().pair_features;
    auto value = [&](const std::string& doc, const std::string& name) {
      const size_t row = std::find(g.doc_ids.begin(), g.doc_ids.end(), doc) - g.doc_ids.begin();
      const size_t col = std::find(names.begin(), names.end(), name) - names.begin();
      EXPECT_LT(row, g.doc_ids.size()) << doc;
      EXPECT_LT(col, names.size()) << name;
      return g.pair_features[row * names.size() + col];
    };
    EXPECT_DOUBLE_EQ(value("a", "coverage"), 1.0);
    EXPECT_DOUBLE_EQ(value("a", "title_coverage"), 0.5);
    EXPECT_DOUBLE_EQ(value("a", "window_density"), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(value("a", "bigram_match"), 0.0);
    EXPECT_DOUBLE_EQ(value("a", "log_doc_len"), std::log1p(8.0));
    EXPECT_DOUBLE_EQ(value("a", "log_title_len"), std::log1p(2.0));
    // "b": [blood cell] + [blood cell blood]: adjacent, window 2 -> 1.
    EXPECT_DOUBLE_EQ(value("b", "coverage"), 1.0);
    EXPECT_DOUBLE_EQ(value("b", "title_coverage"), 1.0);
    EXPECT_DOUBLE_EQ(value("b", "window_density"), 1.0);
    EXPECT_DOUBLE_EQ(value("b", "bigram_match"), 1.0);
    EXPECT_DOUBLE_EQ(value("b", "log_doc_len"), std::log1p(5.0));
  }
}

// An index whose commit has no forward index (as written by hymir before forward indexes:
// the generation's manifest without a "forward" entry, no commit manifest)
// opens, answers GetAnalysed with NotFound, and its features come from the
// stored text, equal to those of the index with a forward index.
TEST(FeaturesTest, IndexWithoutForwardIndexFallsBackToStoredText) {
  TempDir tmp;
  const std::string sample = std::string(HYMIR_SOURCE_DIR) + "/data/sample";
  ASSERT_OK(BuildCorpus(sample + "/corpus.jsonl", tmp.Sub("with"), 0));
  std::filesystem::copy(tmp.Sub("with"), tmp.Sub("without"), std::filesystem::copy_options::recursive);
  std::filesystem::remove(tmp.Sub("without/MANIFEST"));
  std::filesystem::remove(tmp.Sub("without/LOCK"));
  int edited = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.Sub("without/vectors"))) {
    const std::string name = e.path().filename().string();
    if (name.rfind("MANIFEST.g", 0) != 0) continue;
    std::ifstream in(e.path());
    std::string json((std::istreambuf_iterator<char>(in)), {});
    in.close();
    json = std::regex_replace(json, std::regex(R"re("forward": \{[^}]*\},?)re"), "");
    std::ofstream(e.path(), std::ios::trunc) << json;
    ++edited;
  }
  ASSERT_GT(edited, 0);
  ASSERT_OK_AND_ASSIGN(auto with, Engine::Open(tmp.Sub("with")));
  ASSERT_OK_AND_ASSIGN(auto without, Engine::Open(tmp.Sub("without")));
  EXPECT_TRUE(with->searcher().HasForwardIndex());
  EXPECT_FALSE(without->searcher().HasForwardIndex());
  ASSERT_OK_AND_ASSIGN(auto ids, without->searcher().DocumentIds());
  ASSERT_FALSE(ids.empty());
  EXPECT_TRUE(without->searcher().GetAnalysed(ids[0]).status().IsNotFound());
  ASSERT_OK_AND_ASSIGN(auto records, ReadQueries(sample + "/queries.jsonl"));
  FeatureConfig c = FullConfig({"even", "odd"});
  ASSERT_OK_AND_ASSIGN(auto fa, FeatureExtractor::Create(*with, c));
  ASSERT_OK_AND_ASSIGN(auto fb, FeatureExtractor::Create(*without, c));
  for (size_t i = 0; i < std::min<size_t>(records.size(), 10); ++i) {
    HybridQuery q;
    q.id = records[i].id;
    q.text = records[i].text;
    ASSERT_OK_AND_ASSIGN(auto hits, with->Search(q));
    ASSERT_OK_AND_ASSIGN(auto a, fa->Extract(q, hits));
    ASSERT_OK_AND_ASSIGN(auto b, fb->Extract(q, hits));
    ASSERT_EQ(a.pair_features.size(), b.pair_features.size());
    for (size_t k = 0; k < a.pair_features.size(); ++k) ASSERT_NEAR(a.pair_features[k], b.pair_features[k], 1e-9);
    for (size_t k = 0; k < a.query_features.size(); ++k) ASSERT_NEAR(a.query_features[k], b.query_features[k], 1e-9);
  }
  // A writer on the old index writes a forward index from its next commit on.
  {
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(tmp.Sub("without")));
    ASSERT_OK(w->Upsert(testing::Doc("new", "new title", "new text.")));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK(without->Refresh());
  EXPECT_TRUE(without->searcher().HasForwardIndex());
  EXPECT_OK(without->searcher().GetAnalysed("new").status());
  EXPECT_TRUE(without->searcher().GetAnalysed(ids[0]).status().IsNotFound());  // still stored-text only
}

// The stored-text path (indexes written before forward indexes take it)
// still works on its own.
TEST(FeaturesTest, StoredTextPathStillWorks) {
  TempDir tmp;
  ASSERT_OK(testing::BuildIndex(tmp.path(), {testing::Doc("a", "insulin", "insulin lowers glucose."),
                                             testing::Doc("b", "glucose", "glucose rises.")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  FeatureConfig c;
  c.use_forward_index = false;
  ASSERT_OK_AND_ASSIGN(auto fx, FeatureExtractor::Create(*engine, c));
  HybridQuery q;
  q.text = "insulin glucose";
  ASSERT_OK_AND_ASSIGN(auto hits, engine->Search(q));
  ASSERT_OK_AND_ASSIGN(auto g, fx->Extract(q, hits));
  EXPECT_EQ(g.doc_ids.size(), 2u);
}

}  // namespace
}  // namespace hymir
