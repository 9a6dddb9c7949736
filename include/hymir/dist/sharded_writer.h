// ShardedWriter: builds and updates a sharded index with one MPI rank per
// shard. Every rank may feed any documents: Upsert() and Delete() apply a
// change to this rank's shard and queue the others for their owners;
// Commit() (collective) sends the queues to their ranks and applies them,
// then commits every shard. A change that failed (at once, on its own shard,
// or at its owner during the exchange) fails that Commit() on every rank,
// and every shard then drops the whole batch since the last commit. Only a
// failure of the final commit step itself can leave some shards committed.
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
  // recorded one (a layout of format 1 that says "english" records
  // english-lucenepp30), anything else must equal it. Default: nullopt
  // (english).
  std::optional<index::AnalyzerKind> analyzer;
  double ram_buffer_mb = 128.0;  // per shard
  // Vector fields of a new sharded index (every shard gets them); for an
  // existing one, empty means "as recorded". A field with the built-in
  // embedder needs its model in every shard before Open() (see
  // hymir-mpi index --embed). Default: none.
  std::vector<index::VectorFieldSpec> vector_fields;
  // Typed fields of a new sharded index (hymir/index/schema.h; every shard
  // gets them); for an existing one, nullopt means "as recorded" and
  // anything else must equal the recorded schema. Default: nullopt (none).
  std::optional<index::Schema> schema;
};

class ShardedWriter {
 public:
  // Collective. Opens (or creates) the sharded index at `dir` with one shard
  // per rank. InvalidArgument on every rank when an existing index has
  // another shard count than the job's size (resharding is not supported),
  // another analyzer or another schema; Corruption naming the shard when
  // the shards' schemas differ.
  static Result<std::unique_ptr<ShardedWriter>> Open(const Cluster& cluster, const std::string& dir,
                                                     const ShardedWriterOptions& options = {});
  ~ShardedWriter();

  // Local: the change goes to this rank's shard (its error returned at once,
  // and the next Commit() fails) or to its owner's queue.
  // InvalidArgument for an empty id, and (at once, whichever shard owns the
  // document, without failing the next Commit()) for typed values that do
  // not suit the schema; a document's vectors are checked by the owning
  // shard (a wrong dimension fails the Commit() on every rank).
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
  Status Remember(Status s);           // a failed local change fails the next Commit()
  std::vector<std::string> outgoing_;  // per rank: serialised changes
  Status failed_;
  uint64_t queued_ = 0;
};

}  // namespace hymir::dist

#endif  // HYMIR_DIST_SHARDED_WRITER_H_
