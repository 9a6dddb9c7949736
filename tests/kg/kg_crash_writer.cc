// Writer process for the kg atomicity test: adds (and sometimes deletes)
// random triples and aliases in a loop until it is killed. Prints "ready"
// after its first write so the test knows the store is open.
//   kg_crash_writer <dir> <seed>
#include <hymir/kg/triple_store.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: kg_crash_writer <dir> <seed>\n");
    return 2;
  }
  auto store = hymir::kg::TripleStore::Open(argv[1]);
  if (!store.ok()) {
    std::fprintf(stderr, "kg_crash_writer: %s\n", store.status().ToString().c_str());
    return 1;
  }
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  auto pick = [&](const char* prefix, int n) { return std::string(prefix) + std::to_string(rng() % n); };
  bool announced = false;
  for (uint64_t round = 0;; ++round) {
    std::vector<hymir::kg::Triple> batch;
    for (int i = 0; i < 64; ++i) {
      // Fresh terms every round, so dictionary entries are written too.
      batch.push_back({pick("e", 500), pick("r", 8), std::string("e") + std::to_string(rng() % 500 + round % 7 * 500)});
    }
    hymir::Status s = (*store)->AddBatch(batch);
    if (s.ok() && round % 3 == 0) s = (*store)->AddAlias(pick("e", 500), pick("Label ", 300));
    if (s.ok() && round % 5 == 0) s = (*store)->Delete(batch[rng() % batch.size()]);
    if (!s.ok()) {
      std::fprintf(stderr, "kg_crash_writer: %s\n", s.ToString().c_str());
      return 1;
    }
    if (!announced) {
      std::printf("ready\n");
      std::fflush(stdout);
      announced = true;
    }
  }
}
