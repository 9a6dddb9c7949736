// Indexes two documents and searches them through the installed hymir.
#include <hymir/index/index_writer.h>
#include <hymir/index/searcher.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto writer = hymir::index::IndexWriter::Open(argv[1]);
  if (!writer.ok()) return std::fprintf(stderr, "%s\n", writer.status().ToString().c_str()), 1;
  hymir::Document a{"a", "Hybrid search", "BM25 and vectors", {}, {}};
  hymir::Document b{"b", "Cooking", "bread and butter", {}, {}};
  if (!(*writer)->Upsert(a).ok() || !(*writer)->Upsert(b).ok() || !(*writer)->Commit().ok()) return 1;
  auto searcher = hymir::index::Searcher::Open(argv[1]);
  if (!searcher.ok()) return std::fprintf(stderr, "%s\n", searcher.status().ToString().c_str()), 1;
  hymir::index::TextQuery q;
  q.text = "vectors";
  auto hits = (*searcher)->Search(q);
  if (!hits.ok() || hits->size() != 1 || (*hits)[0].id != "a") return 1;
  std::printf("consumer ok: %s %.4f\n", (*hits)[0].id.c_str(), (*hits)[0].score);
  return 0;
}
