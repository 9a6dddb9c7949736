// hymir_dist under mpirun (ctest runs it with 2 and 3 ranks): sharded
// indexing routes every change to its owner, sharded BM25 with global
// statistics equals one index of all documents, and an error on one rank is
// the same error on every rank. Every rank runs every test; the collective
// calls must stay in step, so tests use EXPECT where a failure must not skip
// a collective.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>

#include "hymir/dist/cluster.h"
#include "hymir/dist/data_parallel.h"
#include "hymir/dist/global_statistics.h"
#include "hymir/dist/sharded_ingest.h"
#include "hymir/dist/sharded_pipeline.h"
#include "hymir/dist/sharded_searcher.h"
#include "hymir/dist/sharded_writer.h"
#include "hymir/dist/sharding.h"
#include "hymir/engine.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/searcher.h"
#include "hymir/kg/triple_store.h"
#include "hymir/pipeline.h"
#include "hymir/ranking/moe_trainer.h"
#include "tests/testutil/testutil.h"

namespace hymir::dist {
namespace {

const Cluster* g_cluster = nullptr;

// A directory every rank sees: created by the root, its path broadcast.
class SharedDir {
 public:
  SharedDir() {
    std::string path;
    if (g_cluster->is_root()) {
      path = (std::filesystem::temp_directory_path() /
              ("hymir_dist_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++)))
                 .string();
      std::filesystem::remove_all(path);
      std::filesystem::create_directories(path);
    }
    EXPECT_TRUE(g_cluster->Broadcast(path).ok());
    path_ = path;
  }
  ~SharedDir() {
    g_cluster->Barrier();
    if (g_cluster->is_root()) std::filesystem::remove_all(path_);
  }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// A reproducible corpus: Zipf-like words, a unique token per document.
std::vector<Document> Corpus(size_t n) {
  std::mt19937 rng(7);
  std::vector<std::string> vocab;
  for (int i = 0; i < 300; ++i) vocab.push_back("w" + std::to_string(i));
  std::vector<double> weights;
  for (int i = 0; i < 300; ++i) weights.push_back(1.0 / (i + 1));
  std::discrete_distribution<int> word(weights.begin(), weights.end());
  std::uniform_int_distribution<int> len(5, 60);
  std::vector<Document> docs;
  for (size_t i = 0; i < n; ++i) {
    Document d;
    d.id = "d" + std::to_string(i);
    for (int k = 0; k < 3; ++k) d.title += vocab[word(rng)] + " ";
    const int l = len(rng);
    for (int k = 0; k < l; ++k) d.text += vocab[word(rng)] + " ";
    d.text += "uniq" + std::to_string(i);
    d.domain = std::string(1, static_cast<char>('a' + i % 3));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int k = 0; k < 8; ++k) d.vectors["img"].push_back(normal(rng));
    docs.push_back(std::move(d));
  }
  return docs;
}

// BM25, vector and hybrid queries (with a raw query vector), with fields,
// filters, paging and weighted expansions.
std::vector<HybridQuery> Queries() {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> w(0, 120), len(1, 4), kind(0, 4), retriever(0, 2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<HybridQuery> out;
  for (int i = 0; i < 60; ++i) {
    HybridQuery q;
    const int l = len(rng);
    for (int k = 0; k < l; ++k) q.text += "w" + std::to_string(w(rng)) + " ";
    q.k = 10;
    q.bm25_depth = 50;
    q.vector_depth = 30;
    q.vector_field = "img";
    switch (retriever(rng)) {
      case 0:
        q.retriever = Retriever::kBm25;
        break;
      case 1:
        q.retriever = Retriever::kVector;
        break;
      default:
        q.retriever = Retriever::kHybrid;
        break;
    }
    if (q.retriever != Retriever::kBm25)
      for (int k = 0; k < 8; ++k) q.vector.push_back(normal(rng));
    switch (kind(rng)) {
      case 1:
        q.bm25.fields = {{"title", 2.0}, {"text", 1.0}};
        break;
      case 2:
        q.filters = {{"domain", {"b"}}};
        break;
      case 3:
        q.offset = 5;
        break;
      case 4:
        q.bm25.expansions = {{"w3 w4", 0.3}};
        break;
      default:
        break;
    }
    out.push_back(std::move(q));
  }
  return out;
}

index::VectorFieldSpec ImageField() {
  index::VectorFieldSpec f;
  f.name = "img";
  f.dimension = 8;
  return f;
}

// Builds the sharded index (rank r feeds documents i % size == r, so most
// changes travel to their owner) and, on the root, one index of everything.
void Build(const SharedDir& dir, const std::vector<Document>& docs) {
  ShardedWriterOptions options;
  options.vector_fields = {ImageField()};
  auto writer = ShardedWriter::Open(*g_cluster, dir.Sub("sharded"), options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (size_t i = g_cluster->rank(); i < docs.size(); i += g_cluster->size()) {
    EXPECT_OK((*writer)->Upsert(docs[i]));
  }
  EXPECT_OK((*writer)->Commit());
  auto n = (*writer)->NumDocs();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, docs.size());
  if (g_cluster->is_root()) {
    index::IndexWriterOptions single_options;
    single_options.vector_fields = {ImageField()};
    auto single = index::IndexWriter::Open(dir.Sub("single"), single_options);
    ASSERT_TRUE(single.ok());
    for (const auto& d : docs) {
      EXPECT_OK((*single)->Upsert(d));
    }
    EXPECT_OK((*single)->Commit());
  }
  g_cluster->Barrier();
}

TEST(ShardingTest, ShardOfIsStableAndSpreadsIds) {
  // The placement is an on-disk contract: FNV-1a 64 of the id, modulo shards.
  EXPECT_EQ(ShardOf("doc1", 7), 4);
  EXPECT_EQ(ShardOf("d42", 7), 3);
  EXPECT_EQ(ShardOf("d42", 2), 1);
  EXPECT_EQ(ShardOf("anything", 1), 0);
  std::vector<int> count(4, 0);
  for (int i = 0; i < 10000; ++i) ++count[ShardOf("doc-" + std::to_string(i), 4)];
  for (int c : count) {
    EXPECT_GT(c, 2200);
    EXPECT_LT(c, 2800);
  }
}

TEST(ShardingTest, LayoutNamesTheEnglishAnalyzersApart) {
  // Layout format 1 was written when "english" meant english-lucenepp30 (its
  // shards are of index format 1 or 2); the english analyzer needs format 2,
  // any other is still written as format 1 for older builds.
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("old"));
  testing::WriteText(dir.Sub("old") + "/shards.json", R"({"format": 1, "shards": 2, "analyzer": "english"})");
  ASSERT_OK_AND_ASSIGN(ShardLayout old, ReadShardLayout(dir.Sub("old")));
  EXPECT_EQ(old.analyzer, index::AnalyzerKind::kEnglishLegacy);
  for (index::AnalyzerKind kind : index::kAllAnalyzerKinds) {
    const std::string d = dir.Sub(index::AnalyzerName(kind));
    ASSERT_OK(WriteShardLayout(d, {2, kind}));
    ASSERT_OK_AND_ASSIGN(ShardLayout back, ReadShardLayout(d));
    EXPECT_EQ(back.analyzer, kind);
    std::ifstream in(d + "/shards.json");
    const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const bool english = kind == index::AnalyzerKind::kEnglish;
    EXPECT_NE(json.find(english ? "\"format\": 2" : "\"format\": 1"), std::string::npos) << json;
  }
}

TEST(ClusterTest, CollectivesMoveBytesAndAgreeOnErrors) {
  const int rank = g_cluster->rank(), size = g_cluster->size();
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r) out.push_back(std::to_string(rank) + "->" + std::to_string(r));
  auto in = g_cluster->Exchange(out);
  ASSERT_TRUE(in.ok());
  for (int r = 0; r < size; ++r) EXPECT_EQ((*in)[r], std::to_string(r) + "->" + std::to_string(rank));
  auto gathered = g_cluster->Gather(std::string(rank + 1, 'x'));
  ASSERT_TRUE(gathered.ok());
  if (g_cluster->is_root()) {
    ASSERT_EQ(gathered->size(), static_cast<size_t>(size));
    for (int r = 0; r < size; ++r) EXPECT_EQ((*gathered)[r], std::string(r + 1, 'x'));
  } else {
    EXPECT_TRUE(gathered->empty());
  }
  std::vector<uint64_t> v = {static_cast<uint64_t>(rank), 1};
  EXPECT_OK(g_cluster->SumInPlace(v));
  EXPECT_EQ(v[0], static_cast<uint64_t>(size * (size - 1) / 2));
  EXPECT_EQ(v[1], static_cast<uint64_t>(size));
  std::vector<uint64_t> uneven(rank == 0 ? 2 : 3, 0);
  if (size > 1) {
    EXPECT_TRUE(g_cluster->SumInPlace(uneven).IsInvalidArgument());
  }

  // Only the last rank fails: every rank gets its error, named.
  Status local = rank == size - 1 ? Status::NotFound("shard file gone") : Status::OK();
  Status agreed = g_cluster->Agree(local);
  EXPECT_TRUE(agreed.IsNotFound()) << agreed.ToString();
  EXPECT_EQ(agreed.message(), "rank " + std::to_string(size - 1) + ": shard file gone");
  EXPECT_OK(g_cluster->Agree(Status::OK()));
}

TEST(ShardedSearchTest, GlobalStatisticsGiveTheSingleIndexRanking) {
  SharedDir dir;
  const auto docs = Corpus(400);
  Build(dir, docs);
  auto searcher = ShardedSearcher::Open(*g_cluster, dir.Sub("sharded"));
  ASSERT_TRUE(searcher.ok()) << searcher.status().ToString();
  auto n = (*searcher)->NumDocs();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 400u);
  // Every shard holds exactly the documents placed on it.
  const index::Searcher& shard = (*searcher)->local().searcher();
  EXPECT_GT(shard.NumDocs(), 0u);
  for (const auto& d : docs) {
    const bool here = shard.GetDocument(d.id).ok();
    EXPECT_EQ(here, ShardOf(d.id, g_cluster->size()) == g_cluster->rank()) << d.id;
  }

  const auto queries = Queries();
  auto global = (*searcher)->Statistics(queries);
  ASSERT_TRUE(global.ok());
  auto results = (*searcher)->SearchBatch(queries);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  if (!g_cluster->is_root()) {
    EXPECT_TRUE(results->empty());
    return;
  }
  auto single = Engine::Open(dir.Sub("single"));
  ASSERT_TRUE(single.ok());
  // The summed statistics are the single index's.
  auto all = (*single)->searcher().Statistics();
  for (auto f : GlobalStatistics::Fields()) {
    EXPECT_EQ(global->DocCount(f), all->DocCount(f)) << f;
    EXPECT_EQ(global->SumTotalTermFreq(f), all->SumTotalTermFreq(f)) << f;
    EXPECT_EQ(global->DocFreq(f, "w7"), all->DocFreq(f, "w7")) << f;
  }
  size_t compared = 0;
  std::map<Retriever, size_t> kinds;
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    const HybridQuery& q = queries[qi];
    const std::string what = std::string(RetrieverName(q.retriever)) + " \"" + q.text + "\"";
    auto expected = (*single)->Search(q);
    ASSERT_TRUE(expected.ok()) << what;
    HybridQuery whole = q;  // the ranking from the top, one past the page
    whole.k = q.offset + q.k + 1;
    whole.offset = 0;
    auto prefix = (*single)->Search(whole);
    ASSERT_TRUE(prefix.ok());
    const auto& got = (*results)[qi];
    ASSERT_EQ(got.size(), expected->size()) << what;
    ++kinds[q.retriever];
    for (size_t i = 0; i < got.size(); ++i) {
      const SearchHit& e = (*expected)[i];
      EXPECT_NEAR(got[i].score, e.score, 1e-9 * std::max(1.0, std::abs(e.score))) << what << " at " << i;
      EXPECT_EQ(got[i].rank, e.rank);
      // Ids and stages agree wherever no other document has the same score
      // (also across the page's edges).
      size_t same = 0;
      for (const auto& h : *prefix) same += std::abs(h.score - got[i].score) < 1e-9;
      if (same > 1) continue;
      EXPECT_EQ(got[i].id, e.id) << what << " at " << i;
      EXPECT_EQ(got[i].bm25.present, e.bm25.present) << what << " at " << i;
      EXPECT_EQ(got[i].bm25.rank, e.bm25.rank) << what << " at " << i;
      EXPECT_EQ(got[i].vector.present, e.vector.present) << what << " at " << i;
      EXPECT_EQ(got[i].vector.rank, e.vector.rank) << what << " at " << i;
      EXPECT_NEAR(got[i].vector.score, e.vector.score, 1e-6) << what << " at " << i;
      ++compared;
    }
  }
  EXPECT_GT(compared, 300u);
  EXPECT_GT(kinds[Retriever::kBm25], 5u);
  EXPECT_GT(kinds[Retriever::kVector], 5u);
  EXPECT_GT(kinds[Retriever::kHybrid], 5u);
  EXPECT_EQ(global->misses(), 0u);
  // Without the global statistics a shard scores differently: the sums matter.
  if (g_cluster->size() > 1) {
    index::TextQuery q;
    q.text = "w1 w2 w30";
    q.k = 5;
    auto local_hits = shard.Search(q);
    ASSERT_TRUE(local_hits.ok());
    index::TextQuery everything = q;
    everything.k = 400;
    auto every_hit = (*single)->searcher().Search(everything);
    ASSERT_TRUE(every_hit.ok());
    std::map<std::string, double> single_scores;
    for (const auto& h : *every_hit) single_scores[h.id] = h.score;
    bool differs = false;
    for (const auto& h : *local_hits) differs |= std::abs(single_scores[h.id] - h.score) > 1e-6;
    EXPECT_TRUE(differs);
  }
}

TEST(ShardedSearchTest, UpsertsAndDeletesReachTheirOwners) {
  SharedDir dir;
  const auto docs = Corpus(120);
  Build(dir, docs);
  {
    auto writer = ShardedWriter::Open(*g_cluster, dir.Sub("sharded"));
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    if (g_cluster->is_root()) {  // one rank changes documents other shards own
      Document d = docs[5];
      d.text = "zebra stripes";
      EXPECT_OK((*writer)->Upsert(d));
      EXPECT_OK((*writer)->Delete("d7"));
      Document added;
      added.id = "new";
      added.text = "zebra crossing";
      EXPECT_OK((*writer)->Upsert(added));
    }
    EXPECT_OK((*writer)->Commit());
    auto n = (*writer)->NumDocs();
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 120u);  // one deleted, one added
  }
  auto searcher = ShardedSearcher::Open(*g_cluster, dir.Sub("sharded"));
  ASSERT_TRUE(searcher.ok());
  std::vector<HybridQuery> qs(3);
  qs[0].text = "zebra";
  qs[1].text = "uniq5";
  qs[2].text = "uniq7";
  for (auto& q : qs) q.retriever = Retriever::kBm25;
  auto r = (*searcher)->SearchBatch(qs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  if (g_cluster->is_root()) {
    std::set<std::string> zebra;
    for (const auto& h : (*r)[0]) zebra.insert(h.id);
    EXPECT_EQ(zebra, (std::set<std::string>{"d5", "new"}));
    EXPECT_TRUE((*r)[1].empty());  // d5's old text is gone
    EXPECT_TRUE((*r)[2].empty());  // d7 is deleted
  }
}

TEST(ShardedSearchTest, ErrorsAreTheSameOnEveryRank) {
  SharedDir dir;
  Build(dir, Corpus(30));
  // No layout file.
  auto none = ShardedSearcher::Open(*g_cluster, dir.Sub("single"));
  EXPECT_TRUE(none.status().IsNotFound()) << none.status().ToString();
  EXPECT_NE(none.status().message().find("not a sharded index"), std::string::npos);
  // An unknown filter field fails the batch on every rank.
  auto searcher = ShardedSearcher::Open(*g_cluster, dir.Sub("sharded"));
  ASSERT_TRUE(searcher.ok());
  std::vector<HybridQuery> bad(1);
  bad[0].text = "w1";
  bad[0].retriever = Retriever::kBm25;
  bad[0].filters = {{"bogus", {"x"}}};
  auto r = (*searcher)->SearchBatch(bad);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("bogus"), std::string::npos);
  // A document with a wrong vector dimension, sent by the root to its owner:
  // the commit fails on every rank, naming it, and no shard keeps the batch.
  {
    auto writer = ShardedWriter::Open(*g_cluster, dir.Sub("sharded"));
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    if (g_cluster->is_root()) {
      for (int i = 0; i < 8; ++i) {
        Document good;
        good.id = "fresh" + std::to_string(i);
        good.text = "w1";
        EXPECT_OK((*writer)->Upsert(good));
      }
      Document wrong;
      wrong.id = "wrong-dim";
      wrong.text = "w1";
      wrong.vectors["img"] = {1.0f, 2.0f, 3.0f};
      (void)(*writer)->Upsert(wrong);  // fails here when the root owns it, else at its owner in Commit()
    }
    Status commit = (*writer)->Commit();
    EXPECT_FALSE(commit.ok());
    EXPECT_NE(commit.message().find("wrong-dim"), std::string::npos) << commit.ToString();
    auto n = (*writer)->NumDocs();
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 30u);
  }
  // A writer on a plain index, and a layout for another job size.
  auto plain = ShardedWriter::Open(*g_cluster, dir.Sub("single"));
  EXPECT_TRUE(plain.status().IsInvalidArgument()) << plain.status().ToString();
  EXPECT_NE(plain.status().message().find("unsharded"), std::string::npos);
  if (g_cluster->is_root()) {
    EXPECT_OK(WriteShardLayout(dir.Sub("other"), {g_cluster->size() + 1}));
  }
  g_cluster->Barrier();
  auto other = ShardedSearcher::Open(*g_cluster, dir.Sub("other"));
  EXPECT_TRUE(other.status().IsInvalidArgument()) << other.status().ToString();
  auto other_writer = ShardedWriter::Open(*g_cluster, dir.Sub("other"));
  EXPECT_TRUE(other_writer.status().IsInvalidArgument());
  EXPECT_NE(other_writer.status().message().find("resharding"), std::string::npos);
  // A damaged layout names its file.
  if (g_cluster->is_root()) {
    testing::WriteText(dir.Sub("sharded") + "/shards.json", "{\"format\": 1, \"shards\"");
  }
  g_cluster->Barrier();
  auto damaged = ShardedSearcher::Open(*g_cluster, dir.Sub("sharded"));
  EXPECT_TRUE(damaged.status().IsCorruption()) << damaged.status().ToString();
  EXPECT_NE(damaged.status().message().find("shards.json"), std::string::npos);
}

// ShardedPipeline (hymir-mpi search): the root expands each query with its KG
// and every shard searches the expanded query, so the results are one
// index's Pipeline with the same KG. The expansion reaches documents that only
// the expansion terms match, spread over the shards (so some are on shards
// the root does not hold).
TEST(ShardedPipelineTest, TheRootsExpansionsReachEveryShard) {
  SharedDir dir;
  const auto docs = Corpus(300);
  Build(dir, docs);
  std::set<int> owners;  // the shards holding the expansion-only documents
  if (g_cluster->is_root()) {
    auto store = kg::TripleStore::Open(dir.Sub("kg"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_OK((*store)->AddAlias("e:x", "w123"));  // a single-token alias needs >= 3 characters
    for (int i : {7, 8, 9, 10}) {                  // within max_terms (5)
      EXPECT_OK((*store)->AddAlias("e:x", "uniq" + std::to_string(i)));
      owners.insert(ShardOf("d" + std::to_string(i), g_cluster->size()));
    }
  }
  g_cluster->Barrier();
  PipelineOptions options;
  options.index_dir = dir.Sub("sharded");
  options.kg_dir = dir.Sub("kg");
  auto pipeline = ShardedPipeline::Open(*g_cluster, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  EXPECT_TRUE((*pipeline)->has_kg());
  EXPECT_FALSE((*pipeline)->has_reranker());
  EXPECT_EQ((*pipeline)->root() != nullptr, g_cluster->is_root());
  std::vector<HybridQuery> queries;
  for (const char* text : {"w123", "w123 w17", "w40"}) {
    auto q = (*pipeline)->MakeQuery({.text = text, .retriever = "bm25", .k = 20});
    ASSERT_TRUE(q.ok());
    queries.push_back(*q);
  }
  auto results = (*pipeline)->SearchBatch(queries);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  StageOptions literal;
  literal.expand = false;
  auto unexpanded = (*pipeline)->SearchBatch(queries, literal);
  ASSERT_TRUE(unexpanded.ok());
  // A stage the pipeline lacks is refused on every rank.
  StageOptions rerank;
  rerank.rerank = true;
  EXPECT_TRUE((*pipeline)->SearchBatch(queries, rerank).status().IsInvalidArgument());
  if (!g_cluster->is_root()) {
    EXPECT_TRUE(results->empty());
    return;
  }
  auto single = Pipeline::Open(PipelineOptions{.index_dir = dir.Sub("single"), .kg_dir = dir.Sub("kg")});
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  auto expected = (*single)->SearchBatch(queries, StageOptions{.fetch_documents = false});
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(results->size(), queries.size());
  std::set<int> reached;
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    const PipelineResult& got = (*results)[qi];
    const PipelineResult& want = (*expected)[qi];
    EXPECT_TRUE(got.expanded);
    EXPECT_EQ(got.expansions.size(), want.expansions.size()) << queries[qi].text;
    EXPECT_EQ(got.query.bm25.expansions.size(), want.query.bm25.expansions.size());
    EXPECT_EQ(got.retriever, Retriever::kBm25);
    ASSERT_EQ(got.hits.size(), want.hits.size()) << queries[qi].text;
    for (size_t i = 0; i < got.hits.size(); ++i) {
      EXPECT_NEAR(got.hits[i].hit.score, want.hits[i].hit.score, 1e-9) << queries[qi].text << " at " << i;
      const std::string& id = got.hits[i].hit.id;
      // The page's documents are gathered from the shards that hold them.
      ASSERT_TRUE(got.hits[i].document.has_value()) << id;
      auto stored = (*single)->engine().searcher().GetDocument(id);
      ASSERT_TRUE(stored.ok()) << id;
      EXPECT_EQ(got.hits[i].document->id, id);
      EXPECT_EQ(got.hits[i].document->text, stored->text) << id;
      if (id.size() > 1 && std::stoi(id.substr(1)) >= 7 && std::stoi(id.substr(1)) <= 10)
        reached.insert(ShardOf(id, g_cluster->size()));
    }
    EXPECT_FALSE((*unexpanded)[qi].expanded);
  }
  EXPECT_FALSE((*results)[0].expansions.empty());
  // The expansion-only documents were found on every shard holding one.
  EXPECT_EQ(reached, owners);
  // Without expansion "w123" reaches fewer of them: the expansion did the work.
  size_t literal_hits = 0, expanded = 0;
  for (const auto& h : (*unexpanded)[0].hits)
    literal_hits += h.hit.id == "d7" || h.hit.id == "d8" || h.hit.id == "d9" || h.hit.id == "d10";
  for (const auto& h : (*results)[0].hits)
    expanded += h.hit.id == "d7" || h.hit.id == "d8" || h.hit.id == "d9" || h.hit.id == "d10";
  EXPECT_LT(literal_hits, expanded);
}

// dist::IngestCorpus (hymir-mpi index): every rank reads the whole corpus
// file and takes its share. The shards hold what upserting document i on rank
// i % size and committing every 20 documents holds (searches equal to the
// last digit, ties in the same order), and a malformed line stops every rank
// naming it, or is skipped.
TEST(ShardedIngestTest, ACorpusFileFillsTheShardsAsDirectUpserts) {
  SharedDir dir;
  auto docs = Corpus(90);
  for (auto& d : docs) d.vectors.clear();
  std::string corpus;
  for (const auto& d : docs)
    corpus += "{\"_id\": \"" + d.id + "\", \"title\": \"" + d.title + "\", \"text\": \"" + d.text +
              "\", \"domain\": \"" + *d.domain + "\"}\n";
  if (g_cluster->is_root()) testing::WriteText(dir.Sub("c.jsonl"), corpus);
  g_cluster->Barrier();
  {
    auto writer = ShardedWriter::Open(*g_cluster, dir.Sub("ingested"));
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    IngestOptions o;
    o.commit_every = 20;
    o.threads = 4;  // ignored: one worker per rank
    auto report = IngestCorpus(*g_cluster, dir.Sub("c.jsonl"), **writer, o);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->parsed, docs.size());
    EXPECT_EQ(report->added, (docs.size() + g_cluster->size() - 1 - g_cluster->rank()) / g_cluster->size());
    EXPECT_OK((*writer)->Commit());
    auto direct = ShardedWriter::Open(*g_cluster, dir.Sub("direct"));
    ASSERT_TRUE(direct.ok());
    for (size_t i = 0; i < docs.size(); ++i) {  // hymir-mpi index's loop before dist::IngestCorpus
      if (i % g_cluster->size() == static_cast<size_t>(g_cluster->rank())) {
        EXPECT_OK((*direct)->Upsert(docs[i]));
      }
      if ((i + 1) % 20 == 0) {
        EXPECT_OK((*direct)->Commit());
      }
    }
    EXPECT_OK((*direct)->Commit());
    auto a = (*writer)->ShardSizes(), b = (*direct)->ShardSizes();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b);
  }
  auto a = ShardedSearcher::Open(*g_cluster, dir.Sub("ingested"));
  auto b = ShardedSearcher::Open(*g_cluster, dir.Sub("direct"));
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<HybridQuery> qs;
  for (const auto& q : Queries())
    if (q.retriever == Retriever::kBm25) qs.push_back(q);
  auto ra = (*a)->SearchBatch(qs);
  auto rb = (*b)->SearchBatch(qs);
  ASSERT_TRUE(ra.ok() && rb.ok());
  if (g_cluster->is_root()) {
    for (size_t i = 0; i < qs.size(); ++i) {
      ASSERT_EQ((*ra)[i].size(), (*rb)[i].size()) << i;
      for (size_t j = 0; j < (*ra)[i].size(); ++j) {
        EXPECT_EQ((*ra)[i][j].id, (*rb)[i][j].id);
        EXPECT_EQ((*ra)[i][j].score, (*rb)[i][j].score);
      }
    }
  }
  // A malformed line 5: every rank stops with it; skip_bad skips it.
  corpus.insert(corpus.find(docs[4].id) - 9, "{\"_id\": \"bad\", \"text\": \n");
  if (g_cluster->is_root()) testing::WriteText(dir.Sub("bad.jsonl"), corpus);
  g_cluster->Barrier();
  auto writer = ShardedWriter::Open(*g_cluster, dir.Sub("bad"));
  ASSERT_TRUE(writer.ok());
  auto failed = IngestCorpus(*g_cluster, dir.Sub("bad.jsonl"), **writer);
  EXPECT_TRUE(failed.status().IsInvalidArgument()) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("bad.jsonl:5"), std::string::npos) << failed.status().ToString();
  IngestOptions skip;
  skip.skip_bad = true;
  skip.commit_every = 7;
  auto skipped = IngestCorpus(*g_cluster, dir.Sub("bad.jsonl"), **writer, skip);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->skipped, 1u);
  EXPECT_EQ(skipped->parsed, docs.size());
  EXPECT_OK((*writer)->Commit());
  auto n = (*writer)->NumDocs();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, docs.size());
}

// Judged candidate lists where relevance follows the features (two query
// domains that weigh them differently), for training.
std::vector<ranking::QueryGroup> Groups(ranking::FeatureSchema* schema) {
  schema->pair_features = {"f0", "f1", "f2", "f3"};
  schema->query_features = {"q0", "q1"};
  std::mt19937 rng(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<ranking::QueryGroup> groups;
  for (int q = 0; q < 48; ++q) {
    ranking::QueryGroup g;
    g.query_id = "q" + std::to_string(q);
    g.domain = q % 2;
    g.query_features = {static_cast<double>(g.domain), normal(rng)};
    for (int i = 0; i < 20; ++i) {
      g.doc_ids.push_back("d" + std::to_string(i));
      double x[4];
      for (double& v : x) v = normal(rng);
      g.pair_features.insert(g.pair_features.end(), x, x + 4);
      const double signal = g.domain ? x[0] - x[1] : x[2] + x[3];
      g.labels.push_back(signal > 1.0 ? 2.0 : signal > 0.3 ? 1.0 : 0.0);
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

// Typed values of every kind travel with the documents routed to other
// ranks, and the shards count, facet and sort as one index: Count's totals
// and facets (every value's count summed), sorted pages at every offset (the
// shards' sort values merged by key, score, id), and a text field's BM25
// scores from global statistics.
TEST(ShardedSearchTest, TypedFieldsCountFacetAndSortAsOneIndex) {
  SharedDir dir;
  auto schema = index::ParseSchemaJson(R"({"fields": {
      "kind": {"type": "keyword", "facet": true, "sort": true},
      "tag": {"type": "keyword", "facet": true},
      "n": {"type": "int64", "facet": true, "sort": true},
      "x": {"type": "double", "sort": true},
      "on": {"type": "bool", "facet": true, "sort": true},
      "at": {"type": "date", "facet": true, "sort": true},
      "note": {"type": "text", "analyzer": "german"}}})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  std::vector<Document> docs = Corpus(240);
  for (size_t i = 0; i < docs.size(); ++i) {
    Document& d = docs[i];
    d.vectors.clear();
    if (i % 9 != 4) d.values["kind"] = {std::string(1, static_cast<char>('p' + i % 5))};
    d.values["tag"] = {std::string("t") + std::to_string(i % 7), std::string("t") + std::to_string(i % 3)};
    if (i % 10 != 7) d.values["n"] = {int64_t{static_cast<int64_t>(i % 13) - 6}};
    d.values["x"] = {static_cast<double>(i % 4) / 4.0};
    if (i % 2 == 0) d.values["on"] = {i % 4 == 0};
    d.values["at"] = {std::string("2021-0") + std::to_string(1 + i % 9) + "-15"};
    if (i % 3 == 0) d.values["note"] = {std::string(i % 2 ? "alte Häuser" : "das Haus")};
  }
  ShardedWriterOptions options;
  options.schema = *schema;
  auto writer = ShardedWriter::Open(*g_cluster, dir.Sub("sharded"), options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (size_t i = g_cluster->rank(); i < docs.size(); i += g_cluster->size()) EXPECT_OK((*writer)->Upsert(docs[i]));
  // A value of the wrong type is refused at once, whichever rank owns the document.
  Document bad = docs[0];
  bad.id = "bad" + std::to_string(g_cluster->rank());
  bad.values["n"] = {std::string("many")};
  EXPECT_TRUE((*writer)->Upsert(bad).IsInvalidArgument());
  EXPECT_OK((*writer)->Commit());
  if (g_cluster->is_root()) {
    index::IndexWriterOptions single_options;
    single_options.schema = *schema;
    auto single = index::IndexWriter::Open(dir.Sub("single"), single_options);
    ASSERT_TRUE(single.ok());
    for (const auto& d : docs) EXPECT_OK((*single)->Upsert(d));
    EXPECT_OK((*single)->Commit());
  }
  g_cluster->Barrier();
  auto searcher = ShardedSearcher::Open(*g_cluster, dir.Sub("sharded"));
  ASSERT_TRUE(searcher.ok()) << searcher.status().ToString();

  std::vector<HybridQuery> counted(3);
  counted[0].text = "w1 w2";
  counted[0].facets = {{"kind", 3, {}}, {"tag", 4, {}}, {"n", 5, {}},
                       {"on", 10, {}},  {"at", 2, {}},  {"n", 10, {"-6", "-2", "0", "3", "7"}}};
  counted[1].facets = {{"tag", 100, {}}};  // no text: every document
  counted[1].ranges = {index::RangeFilter{"x", "0.25", "0.5"}};
  counted[2].text = "w5";
  counted[2].syntax = QuerySyntax::kLucene;
  counted[2].text = "w5 OR note:häuser";
  auto counts = (*searcher)->Count(counted);
  EXPECT_TRUE(counts.ok()) << counts.status().ToString();

  std::vector<HybridQuery> sorted;
  for (size_t offset : {0, 5, 17, 40}) {
    HybridQuery q;
    q.text = "w1 w3";
    q.sort = {{"n", true}, {"x", false}};
    q.k = 9;
    q.offset = offset;
    sorted.push_back(q);
    q.text.clear();
    q.sort = {{"kind", false}, {"on", true}, {"at", true}};
    sorted.push_back(q);
  }
  HybridQuery text;
  text.text = "note:häuser";
  text.syntax = QuerySyntax::kLucene;
  text.k = 100;
  sorted.push_back(text);
  auto hits = (*searcher)->SearchBatch(sorted);
  EXPECT_TRUE(hits.ok()) << hits.status().ToString();
  std::vector<std::string> ids;
  for (const auto& d : docs) ids.push_back(d.id);
  auto gathered = (*searcher)->GetDocuments(ids);
  EXPECT_TRUE(gathered.ok());
  if (!g_cluster->is_root() || !counts.ok() || !hits.ok() || !gathered.ok()) return;

  auto single = Engine::Open(dir.Sub("single"));
  ASSERT_TRUE(single.ok());
  // Every document's typed values, whichever rank routed it.
  ASSERT_EQ(gathered->size(), docs.size());
  for (const auto& d : docs) {
    auto want = (*single)->searcher().GetDocument(d.id);
    ASSERT_TRUE(want.ok());
    EXPECT_EQ(gathered->at(d.id).values, want->values) << d.id;
  }
  ASSERT_EQ(counts->size(), counted.size());
  for (size_t i = 0; i < counted.size(); ++i) {
    auto want = (*single)->Count(counted[i]);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    EXPECT_EQ((*counts)[i].total, want->total) << i;
    ASSERT_EQ((*counts)[i].facets.size(), want->facets.size());
    for (size_t f = 0; f < want->facets.size(); ++f) {
      std::vector<std::pair<std::string, uint64_t>> got_counts, want_counts;
      for (const auto& c : (*counts)[i].facets[f].counts) got_counts.push_back({c.value, c.count});
      for (const auto& c : want->facets[f].counts) want_counts.push_back({c.value, c.count});
      EXPECT_EQ(got_counts, want_counts) << "query " << i << " facet " << want->facets[f].field;
    }
  }
  EXPECT_GT((*counts)[0].total, 0u);
  EXPECT_EQ((*counts)[1].total, 120u);  // x in {0.25, 0.5}
  ASSERT_EQ(hits->size(), sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    auto want = (*single)->Search(sorted[i]);
    ASSERT_TRUE(want.ok());
    ASSERT_EQ((*hits)[i].size(), want->size()) << i;
    for (size_t j = 0; j < want->size(); ++j) {
      EXPECT_EQ((*hits)[i][j].rank, (*want)[j].rank);
      EXPECT_NEAR((*hits)[i][j].score, (*want)[j].score, 1e-9) << i << " at " << j;
      if (!sorted[i].sort.empty()) EXPECT_EQ((*hits)[i][j].id, (*want)[j].id) << i << " at " << j;
    }
  }
  EXPECT_EQ(hits->back().size(), 80u);  // every note: Haus and Häuser alike
}

TEST(DataParallelTest, GroupsTravelBackIntoTheirOrder) {
  ranking::FeatureSchema schema;
  const auto all = Groups(&schema);
  std::vector<ranking::QueryGroup> mine;
  for (size_t i = g_cluster->rank(); i < all.size(); i += g_cluster->size()) mine.push_back(all[i]);
  auto back = AllGatherGroups(*g_cluster, mine);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ((*back)[i].query_id, all[i].query_id);
    EXPECT_EQ((*back)[i].pair_features, all[i].pair_features);
    EXPECT_EQ((*back)[i].query_features, all[i].query_features);
    EXPECT_EQ((*back)[i].labels, all[i].labels);
    EXPECT_EQ((*back)[i].domain, all[i].domain);
    EXPECT_EQ((*back)[i].doc_ids, all[i].doc_ids);
  }
}

TEST(DataParallelTest, TrainingOnAllRanksEqualsOneProcess) {
  ranking::FeatureSchema schema;
  const auto groups = Groups(&schema);
  ranking::MoeTrainOptions o;
  o.model.routed_experts = 4;
  o.model.top_k = 2;
  o.model.expert_hidden = 8;
  o.max_epochs = 6;
  o.patience = 100;
  o.batch_queries = 8;
  o.objective.balance_loss = 0.01;  // its batch-level load must be the whole batch's on every rank
  ranking::TrainReport alone_report, together_report;
  auto alone = ranking::TrainMoe(schema, groups, o, &alone_report);  // this process by itself
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  o.parallel = DataParallelTraining(*g_cluster);
  auto together = ranking::TrainMoe(schema, groups, o, &together_report);
  ASSERT_TRUE(together.ok()) << together.status().ToString();
  ASSERT_EQ(together->parameters().size(), alone->parameters().size());
  double worst = 0;
  for (size_t i = 0; i < alone->parameters().size(); ++i)
    worst = std::max(worst, std::abs(together->parameters()[i] - alone->parameters()[i]));
  EXPECT_LT(worst, 1e-9);
  EXPECT_EQ(together_report.best_epoch, alone_report.best_epoch);
  ASSERT_EQ(together_report.history.size(), alone_report.history.size());
  for (size_t e = 0; e < alone_report.history.size(); ++e)
    EXPECT_NEAR(together_report.history[e].train_loss, alone_report.history[e].train_loss, 1e-9);
  // Training moved the weights (the comparison is not of two untouched models).
  auto fresh = ranking::MoeModel::Create(o.model, schema, o.seed);
  ASSERT_TRUE(fresh.ok());
  double moved = 0;
  for (size_t i = 0; i < fresh->parameters().size(); ++i)
    moved = std::max(moved, std::abs(fresh->parameters()[i] - together->parameters()[i]));
  EXPECT_GT(moved, 1e-3);
  // Every rank holds the same model.
  std::vector<double> sum = together->parameters();
  ASSERT_OK(g_cluster->SumInPlace(sum));
  for (size_t i = 0; i < sum.size(); ++i)
    EXPECT_NEAR(sum[i], g_cluster->size() * together->parameters()[i], 1e-12 * std::max(1.0, std::abs(sum[i])));
  // A worker without an all-reduce is refused.
  ranking::MoeTrainOptions broken = o;
  broken.parallel.all_reduce = nullptr;
  if (g_cluster->size() > 1) {
    EXPECT_TRUE(ranking::TrainMoe(schema, groups, broken).status().IsInvalidArgument());
  }
}

}  // namespace
}  // namespace hymir::dist

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto cluster = hymir::dist::Cluster::Init(&argc, &argv);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  hymir::dist::g_cluster = cluster->get();
  const int failed = RUN_ALL_TESTS() != 0;
  // Every rank exits with the job's verdict.
  std::vector<uint64_t> verdict = {static_cast<uint64_t>(failed)};
  if (!(*cluster)->MaxInPlace(verdict).ok()) return 1;
  return verdict[0] ? 1 : 0;
}
