// Sharded ingest: hymir::IngestCorpus (hymir/ingest.h) into a ShardedWriter,
// as `hymir-mpi index` runs it. Every rank reads the whole corpus and takes
// its share, the parsed documents i with i % size == rank (each document is
// parsed on every rank but linked and upserted on one); the writer routes each
// to the rank owning its shard. Batching, entity linking and skipping bad
// lines are IngestCorpus's.
//
// Thread-safety: collective; every rank calls it once, from the thread that
// initialised MPI, with the same corpus and options.
#ifndef HYMIR_DIST_SHARDED_INGEST_H_
#define HYMIR_DIST_SHARDED_INGEST_H_

#include <string>

#include "hymir/dist/cluster.h"
#include "hymir/dist/sharded_writer.h"
#include "hymir/ingest.h"
#include "hymir/result.h"

namespace hymir::dist {

// Collective. IngestCorpus of `corpus` into `writer` with options.part and
// options.part_count set to this rank and the job's size, and one worker
// thread (the writer is not thread-safe; options.threads is ignored).
// commit_every counts every rank's documents, so all ranks commit together
// (ShardedWriter::Commit). Returns the same status on every rank: the first
// failure anywhere (a malformed line unless skip_bad, an upsert or a commit)
// fails every rank. Like IngestCorpus it does not commit at the end: the
// caller's Commit() does; after an error nothing since the last commit is
// kept by the next one. The report's `added` is this rank's, `parsed` the
// corpus's.
Result<IngestReport> IngestCorpus(const Cluster& cluster, const std::string& corpus, ShardedWriter& writer,
                                  IngestOptions options = {});

}  // namespace hymir::dist

#endif  // HYMIR_DIST_SHARDED_INGEST_H_
