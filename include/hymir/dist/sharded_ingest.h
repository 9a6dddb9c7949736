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

#include <functional>
#include <memory>
#include <string>

#include "hymir/dist/cluster.h"
#include "hymir/dist/sharded_writer.h"
#include "hymir/index/analyzer.h"
#include "hymir/index/lsa_embedder.h"
#include "hymir/ingest.h"
#include "hymir/knowledge.h"
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
// corpus's less the documents refused, and `skipped` the job's (malformed
// lines and, under skip_bad, documents the writers refused, such as typed
// values that do not suit the schema).
Result<IngestReport> IngestCorpus(const Cluster& cluster, const std::string& corpus, ShardedWriter& writer,
                                  IngestOptions options = {});

// Collective. The built-in LSA embedder of a sharded index: one model for
// every shard, so that query and document vectors of all shards live in one
// space. Rank 0 trains it on the whole corpus (TrainLsaOnCorpus, `log` as
// there) into <dir>/lsa.lsa unless that exists; then every rank copies it to
// <its shard>/vectors/lsa.lsa unless that exists, where ShardedWriter::Open
// finds it for a vector field with embedder "lsa". Returns the same status on
// every rank.
Status ShareLsaEmbedder(const Cluster& cluster, const std::string& dir, const std::string& corpus,
                        const index::LsaOptions& lsa, bool skip_bad = false,
                        const std::function<void(const std::string&)>& log = {});

// Collective. The KnowledgeContext of `kg_dir` on every rank (for entity
// linking at index time), opened by rank 0 first: it writes the linker's
// cache file, which the other ranks then read. The same status on every rank.
Result<std::unique_ptr<KnowledgeContext>> OpenKnowledgeOnEveryRank(const Cluster& cluster, const std::string& kg_dir,
                                                                   index::AnalyzerKind analyzer,
                                                                   const KnowledgeOptions& options = {});

}  // namespace hymir::dist

#endif  // HYMIR_DIST_SHARDED_INGEST_H_
