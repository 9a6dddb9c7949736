// IngestCorpus: the indexing loop of `hymir index` in the library.
// Threads and periodic commits index exactly the corpus (searches equal an
// index written document by document), malformed lines stop the run naming
// file:line or are skipped on request, entity linking fills kg_entities in
// the representation the KG features read back, the LSA embedder trains
// from a corpus file, and parts (one process's share, as hymir-mpi index
// takes it) split the corpus into a sink of the caller's.
#include "hymir/ingest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "hymir/beir.h"
#include "hymir/engine.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using testing::TempDir;

const std::string kSample = std::string(HYMIR_SOURCE_DIR) + "/data/sample";

std::vector<Document> SampleDocs() {
  std::vector<Document> docs;
  auto reader = CorpusReader::Open(kSample + "/corpus.jsonl");
  EXPECT_TRUE(reader.ok());
  if (!reader.ok()) return docs;
  Document d;
  while (true) {
    auto more = (*reader)->Next(&d);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    docs.push_back(d);
  }
  return docs;
}

TEST(IngestTest, ThreadsAndCommitsIndexExactlyTheCorpus) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto writer, index::IndexWriter::Open(dir.Sub("ingested")));
  IngestOptions o;
  o.threads = 2;
  o.batch_size = 16;
  o.commit_every = 100;
  std::vector<uint64_t> commits;
  std::vector<IngestProgress> progress;
  o.on_commit = [&](uint64_t added) { commits.push_back(added); };
  o.on_progress = [&](const IngestProgress& p) { progress.push_back(p); };
  ASSERT_OK_AND_ASSIGN(IngestReport report, IngestCorpus(kSample + "/corpus.jsonl", *writer, o));
  ASSERT_OK(writer->Commit());
  const std::vector<Document> docs = SampleDocs();
  EXPECT_EQ(report.added, docs.size());
  EXPECT_EQ(report.skipped, 0u);
  ASSERT_EQ(commits.size(), docs.size() / 100);
  for (size_t i = 0; i < commits.size(); ++i) EXPECT_EQ(commits[i], (i + 1) * 100);  // every document before it
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().added, docs.size());
  EXPECT_EQ(progress.back().bytes_read, progress.back().total_bytes);
  ASSERT_OK_AND_ASSIGN(uint64_t n, writer->NumDocs());
  EXPECT_EQ(n, docs.size());
  writer.reset();

  // The same documents written one by one: every query scores the same.
  ASSERT_OK(testing::BuildIndex(dir.Sub("direct"), docs));
  ASSERT_OK_AND_ASSIGN(auto a, Engine::Open(dir.Sub("ingested")));
  ASSERT_OK_AND_ASSIGN(auto b, Engine::Open(dir.Sub("direct")));
  ASSERT_OK_AND_ASSIGN(auto queries, ReadQueries(kSample + "/queries.jsonl"));
  for (const auto& rec : queries) {
    HybridQuery q;
    q.text = rec.text;
    q.k = 50;
    ASSERT_OK_AND_ASSIGN(auto ha, a->Search(q));
    ASSERT_OK_AND_ASSIGN(auto hb, b->Search(q));
    ASSERT_EQ(ha.size(), hb.size()) << rec.id;
    for (size_t i = 0; i < ha.size(); ++i) {
      EXPECT_EQ(ha[i].id, hb[i].id) << rec.id;
      EXPECT_NEAR(ha[i].score, hb[i].score, 1e-9) << rec.id;
    }
  }
}

TEST(IngestTest, MalformedLinesStopTheRunOrAreSkipped) {
  TempDir dir;
  testing::WriteText(dir.Sub("c.jsonl"),
                     "{\"_id\": \"a\", \"title\": \"\", \"text\": \"apple\"}\n"
                     "{\"_id\": \"b\", \"text\": \n"
                     "{\"_id\": \"c\", \"title\": \"\", \"text\": \"cherry\"}\n");
  {
    ASSERT_OK_AND_ASSIGN(auto writer, index::IndexWriter::Open(dir.Sub("idx")));
    auto r = IngestCorpus(dir.Sub("c.jsonl"), *writer);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().ToString().find("c.jsonl:2"), std::string::npos) << r.status().ToString();
    ASSERT_OK(writer->Rollback());
  }
  ASSERT_OK_AND_ASSIGN(auto writer, index::IndexWriter::Open(dir.Sub("idx")));
  IngestOptions o;
  o.skip_bad = true;
  std::vector<std::string> skipped;
  o.on_skip = [&](const Status& s) { skipped.push_back(s.ToString()); };
  ASSERT_OK_AND_ASSIGN(IngestReport report, IngestCorpus(dir.Sub("c.jsonl"), *writer, o));
  EXPECT_EQ(report.added, 2u);
  EXPECT_EQ(report.skipped, 1u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("c.jsonl:2"), std::string::npos) << skipped[0];

  o.threads = 0;
  EXPECT_TRUE(IngestCorpus(dir.Sub("c.jsonl"), *writer, o).status().IsInvalidArgument());
  EXPECT_TRUE(IngestCorpus(dir.Sub("absent.jsonl"), *writer).status().IsNotFound());
}

TEST(IngestTest, LinkedEntitiesRoundTripThroughTheField) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto store, kg::TripleStore::Open(dir.Sub("kg")));
    ASSERT_OK(store->AddAlias("e:dog", "dog"));
    ASSERT_OK(store->AddAlias("e:cat", "cat"));
  }
  ASSERT_OK_AND_ASSIGN(auto kg, KnowledgeContext::Open(dir.Sub("kg"), index::AnalyzerKind::kEnglish));
  testing::WriteText(dir.Sub("c.jsonl"),
                     "{\"_id\": \"a\", \"title\": \"Dogs\", \"text\": \"a cat and dogs\"}\n"
                     "{\"_id\": \"b\", \"title\": \"\", \"text\": \"nothing known\"}\n");
  ASSERT_OK_AND_ASSIGN(auto writer, index::IndexWriter::Open(dir.Sub("idx")));
  IngestOptions o;
  o.kg = kg.get();
  ASSERT_OK_AND_ASSIGN(IngestReport report, IngestCorpus(dir.Sub("c.jsonl"), *writer, o));
  EXPECT_EQ(report.added, 2u);
  ASSERT_OK(writer->Commit());
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir.Sub("idx")));
  ASSERT_OK_AND_ASSIGN(Document a, engine->searcher().GetDocument("a"));
  EXPECT_EQ(a.fields[kKgEntitiesField], "e:dog e:cat");  // text order, duplicates removed
  EXPECT_EQ(SplitEntities(a.fields[kKgEntitiesField]), (std::vector<std::string>{"e:dog", "e:cat"}));
  ASSERT_OK_AND_ASSIGN(Document b, engine->searcher().GetDocument("b"));
  EXPECT_EQ(b.fields[kKgEntitiesField], "");
  EXPECT_TRUE(SplitEntities("").empty());
  EXPECT_EQ(SplitEntities(" x  y "), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(JoinEntities({"x", "y"}), "x y");
}

// A sink that keeps what it is given.
class CollectingSink : public IngestSink {
 public:
  Status Upsert(const Document& doc) override {
    std::lock_guard<std::mutex> lock(mu_);
    ids.push_back(doc.id);
    return Status::OK();
  }
  Status Commit() override {
    commits.push_back(ids.size());
    return Status::OK();
  }
  std::mutex mu_;
  std::vector<std::string> ids;
  std::vector<size_t> commits;  // documents held at each commit
};

TEST(IngestTest, PartsSplitTheCorpusAndCommitTogether) {
  const std::vector<Document> docs = SampleDocs();
  const uint64_t parts = 3;
  for (uint64_t part = 0; part < parts; ++part) {
    CollectingSink sink;
    IngestOptions o;
    o.part = part;
    o.part_count = parts;
    o.commit_every = 100;  // counts every part's documents
    o.batch_size = 7;
    ASSERT_OK_AND_ASSIGN(IngestReport report, IngestCorpus(kSample + "/corpus.jsonl", sink, o));
    EXPECT_EQ(report.parsed, docs.size());
    std::vector<std::string> want;
    for (size_t i = part; i < docs.size(); i += parts) want.push_back(docs[i].id);
    EXPECT_EQ(sink.ids, want);  // one worker: corpus order
    EXPECT_EQ(report.added, want.size());
    ASSERT_EQ(sink.commits.size(), docs.size() / 100);
    for (size_t c = 0; c < sink.commits.size(); ++c)  // this part's documents among the first (c + 1) * 100
      EXPECT_EQ(sink.commits[c], ((c + 1) * 100 + parts - 1 - part) / parts) << part << " " << c;
  }
  CollectingSink sink;
  IngestOptions o;
  o.part = 3;
  o.part_count = 3;
  EXPECT_TRUE(IngestCorpus(kSample + "/corpus.jsonl", sink, o).status().IsInvalidArgument());
  o.part = 0;
  o.part_count = 0;
  EXPECT_TRUE(IngestCorpus(kSample + "/corpus.jsonl", sink, o).status().IsInvalidArgument());
}

// IngestDocuments over a source of the caller's (as the multimedia pipeline
// feeds it): every document reaches the index, a malformed record is skipped
// on request or stops the run, and an upsert failure names the source's
// place of that document.
class ListSource : public DocumentSource {
 public:
  explicit ListSource(std::vector<Result<Document>> records) : records_(std::move(records)) {}
  Result<bool> Next(Document* doc) override {
    if (next_ == records_.size()) return false;
    const Result<Document>& r = records_[next_++];
    if (!r.ok()) return r.status();
    *doc = *r;
    return true;
  }
  std::string Where() const override { return "item #" + std::to_string(next_ - 1); }

 private:
  std::vector<Result<Document>> records_;
  size_t next_ = 0;
};

TEST(IngestTest, AnyDocumentSourceFeedsTheWorkers) {
  TempDir dir;
  std::vector<Result<Document>> records;
  for (int i = 0; i < 50; ++i)
    records.push_back(testing::Doc("doc" + std::to_string(i), "", "text of item " + std::to_string(i)));
  records[20] = Status::InvalidArgument("item 20 is malformed");
  {
    ASSERT_OK_AND_ASSIGN(auto writer, index::IndexWriter::Open(dir.Sub("skip")));
    ListSource source(records);
    IngestOptions o;
    o.threads = 2;
    o.batch_size = 4;
    o.skip_bad = true;
    std::vector<std::string> skipped;
    o.on_skip = [&](const Status& s) { skipped.push_back(s.message()); };
    ASSERT_OK_AND_ASSIGN(IngestReport report, IngestDocuments(source, *writer, o));
    ASSERT_OK(writer->Commit());
    EXPECT_EQ(report.added, 49u);
    EXPECT_EQ(report.skipped, 1u);
    EXPECT_EQ(skipped, std::vector<std::string>{"item 20 is malformed"});
    ASSERT_OK_AND_ASSIGN(uint64_t n, writer->NumDocs());
    EXPECT_EQ(n, 49u);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto writer, index::IndexWriter::Open(dir.Sub("stop")));
    ListSource source(records);
    auto report = IngestDocuments(source, *writer);
    EXPECT_TRUE(report.status().IsInvalidArgument());
    EXPECT_NE(report.status().message().find("item 20 is malformed"), std::string::npos);
  }
  {  // an upsert failure (an empty id) names the source's place
    ASSERT_OK_AND_ASSIGN(auto writer, index::IndexWriter::Open(dir.Sub("bad")));
    std::vector<Result<Document>> bad = {testing::Doc("a", "", "x"), testing::Doc("", "", "no id")};
    ListSource source(bad);
    auto report = IngestDocuments(source, *writer);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.status().message().find("item #1"), std::string::npos) << report.status().ToString();
  }
}

TEST(IngestTest, TrainsTheLsaEmbedderFromACorpusFile) {
  TempDir dir;
  index::LsaOptions lsa;
  lsa.dimension = 8;
  std::vector<std::string> log;
  const std::string path = dir.Sub("sub/lsa.lsa");
  ASSERT_OK(TrainLsaOnCorpus(kSample + "/corpus.jsonl", lsa, path, false,
                             [&](const std::string& line) { log.push_back(line); }));
  ASSERT_TRUE(std::filesystem::exists(path));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "training lsa:8 on 1033 documents");
  ASSERT_OK_AND_ASSIGN(auto model, index::LsaEmbedder::Load(path));
  EXPECT_EQ(model->dimension(), 8u);
  EXPECT_TRUE(TrainLsaOnCorpus(dir.Sub("absent.jsonl"), lsa, path).IsNotFound());
}

}  // namespace
}  // namespace hymir
