// ShardedWriter: builds and updates a sharded index with one MPI rank per
// shard. Every rank may feed any documents: Upsert() and Delete() keep a
// change for this rank's shard and queue the others for their owners;
// Commit() (collective) sends the queues to their ranks, applies them and
// commits every shard, and fails on every rank when it fails on one (the
// shards that did commit keep their commit; a rank that failed rolls back).
//
// Typical use, every rank reading the same corpus file: rank r upserts the
// lines i with i % size == r (each line is parsed once in the job) and all
// ranks call Commit() at the same points.
//
// Thread-safety: not thread-safe; one writer per rank, used from one thread.
#ifndef HYMIR_DIST_SHARDED_WRITER_H_
#define HYMIR_DIST_SHARDED_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hymir/dist/cluster.h"
#include "hymir/dist/sharding.h"
#include "hymir/document.h"
#include "hymir/index/index_writer.h"
#include "hymir/result.h"

namespace hymir::dist {

struct ShardedWriterOptions {
  // Analyzer of a new sharded index; for an existing one nullopt means the
  // recorded one, anything else must equal it. Default: nullopt (english).
  std::optional<index::AnalyzerKind> analyzer;
  double ram_buffer_mb = 128.0;  // per shard
};

class ShardedWriter {
 public:
  // Collective. Opens (or creates) the sharded index at `dir` with one shard
  // per rank. InvalidArgument on every rank when an existing index has
  // another shard count than the job's size (resharding is not supported)
  // or another analyzer. Vector fields are not supported in sharded indexes.
  static Result<std::unique_ptr<ShardedWriter>> Open(const Cluster& cluster, const std::string& dir,
                                                     const ShardedWriterOptions& options = {});
  ~ShardedWriter();

  // Local: the change goes to this rank's shard or to its owner's queue.
  // InvalidArgument for an empty id or a document carrying vectors.
  Status Upsert(const Document& doc);
  Status Delete(std::string_view id);
  // Collective: exchange, apply and commit (see above).
  Status Commit();

  // Collective: live documents over all shards, committed or not.
  Result<uint64_t> NumDocs();
  // Collective: live documents of each shard (index = shard), on every rank.
  Result<std::vector<uint64_t>> ShardSizes();
  // Documents this rank routed to other ranks since the last Commit().
  uint64_t queued() const { return queued_; }
  const ShardLayout& layout() const { return layout_; }

 private:
  ShardedWriter(const Cluster& cluster, ShardLayout layout, std::unique_ptr<index::IndexWriter> local);
  const Cluster& cluster_;
  ShardLayout layout_;
  std::unique_ptr<index::IndexWriter> local_;
  std::vector<std::string> outgoing_;  // per rank: serialised changes
  uint64_t queued_ = 0;
};

}  // namespace hymir::dist

#endif  // HYMIR_DIST_SHARDED_WRITER_H_
