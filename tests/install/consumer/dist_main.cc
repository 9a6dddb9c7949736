// A one-rank sharded index through the installed hymir::dist (MPI singleton:
// started without mpirun).
#include <hymir/dist/cluster.h>
#include <hymir/dist/sharded_searcher.h>
#include <hymir/dist/sharded_writer.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto cluster = hymir::dist::Cluster::Init(&argc, &argv);
  if (!cluster.ok()) return std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str()), 1;
  {
    auto writer = hymir::dist::ShardedWriter::Open(**cluster, argv[1]);
    if (!writer.ok()) return std::fprintf(stderr, "%s\n", writer.status().ToString().c_str()), 1;
    hymir::Document a{"a", "Hybrid search", "BM25 and vectors", {}, {}, {}};
    if (!(*writer)->Upsert(a).ok() || !(*writer)->Commit().ok()) return 1;
  }
  auto searcher = hymir::dist::ShardedSearcher::Open(**cluster, argv[1]);
  if (!searcher.ok()) return std::fprintf(stderr, "%s\n", searcher.status().ToString().c_str()), 1;
  hymir::HybridQuery q;
  q.text = "vectors";
  auto hits = (*searcher)->SearchBatch({q});
  if (!hits.ok() || hits->size() != 1 || (*hits)[0].size() != 1 || (*hits)[0][0].id != "a") return 1;
  std::printf("dist consumer ok: %s %.4f\n", (*hits)[0][0].id.c_str(), (*hits)[0][0].score);
  return 0;
}
