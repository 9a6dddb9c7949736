// Sharded ingest: IngestCorpus with a sink whose commits are collective.
#include "hymir/dist/sharded_ingest.h"

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "hymir/dist/sharding.h"

namespace hymir::dist {
namespace {

// Upserts from IngestCorpus's one worker; commits on the calling thread,
// where every rank meets at the same commit points. A rank whose worker
// failed leaves IngestCorpus before its commit point and agrees on its error
// instead, which the others' Agree() below then receives.
class ShardedSink : public IngestSink {
 public:
  ShardedSink(const Cluster& cluster, ShardedWriter& writer) : cluster_(cluster), writer_(writer) {}
  Status Upsert(const Document& doc) override {
    Status s = writer_.Upsert(doc);
    if (s.IsInvalidArgument()) refused_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  Status Commit() override {
    Status s = cluster_.Agree(Status::OK());
    if (s.ok()) s = writer_.Commit();  // collective: the same status on every rank
    if (!s.ok()) agreed_ = s;
    return s;
  }
  // The failure every rank already agreed on, if any.
  const Status& agreed() const { return agreed_; }
  // Documents this rank's writer refused (skipped under skip_bad).
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> refused_{0};
  const Cluster& cluster_;
  ShardedWriter& writer_;
  Status agreed_;
};

}  // namespace

Result<IngestReport> IngestCorpus(const Cluster& cluster, const std::string& corpus, ShardedWriter& writer,
                                  IngestOptions options) {
  options.threads = 1;
  options.part = static_cast<uint64_t>(cluster.rank());
  options.part_count = static_cast<uint64_t>(cluster.size());
  ShardedSink sink(cluster, writer);
  Result<IngestReport> report = hymir::IngestCorpus(corpus, sink, options);
  if (!sink.agreed().ok()) return sink.agreed();
  HYMIR_RETURN_IF_ERROR(cluster.Agree(report.status()));
  // Every rank parsed (and skipped the malformed of) every line, but only
  // the rank that upserted a document refused it: the refused ones are
  // summed, so that every rank reports the job's skipped documents.
  std::vector<uint64_t> refused = {sink.refused()};
  HYMIR_RETURN_IF_ERROR(cluster.SumInPlace(refused));
  report->skipped += refused[0] - sink.refused();
  report->parsed -= std::min(report->parsed, refused[0]);
  return report;
}

Status ShareLsaEmbedder(const Cluster& cluster, const std::string& dir, const std::string& corpus,
                        const index::LsaOptions& lsa, bool skip_bad,
                        const std::function<void(const std::string&)>& log) {
  const std::string model = (std::filesystem::path(dir) / "lsa.lsa").string();
  Status trained;
  if (cluster.is_root() && !std::filesystem::exists(model))
    trained = TrainLsaOnCorpus(corpus, lsa, model, skip_bad, log);
  HYMIR_RETURN_IF_ERROR(cluster.Agree(trained));
  const std::string mine = ShardDir(dir, cluster.rank()) + "/vectors/lsa.lsa";
  std::error_code ec;
  if (!std::filesystem::exists(mine)) {
    std::filesystem::create_directories(std::filesystem::path(mine).parent_path(), ec);
    if (!ec) std::filesystem::copy_file(model, mine, ec);
  }
  return cluster.Agree(ec ? Status::IOError(mine + ": " + ec.message()) : Status::OK());
}

Result<std::unique_ptr<KnowledgeContext>> OpenKnowledgeOnEveryRank(const Cluster& cluster, const std::string& kg_dir,
                                                                   index::AnalyzerKind analyzer,
                                                                   const KnowledgeOptions& options) {
  std::unique_ptr<KnowledgeContext> kg;
  for (bool root_turn : {true, false}) {
    Status opened;
    if (cluster.is_root() == root_turn) {
      auto k = KnowledgeContext::Open(kg_dir, analyzer, options);
      if (k.ok()) kg = std::move(k).value();
      opened = k.status();
    }
    HYMIR_RETURN_IF_ERROR(cluster.Agree(opened));
  }
  return kg;
}

}  // namespace hymir::dist
