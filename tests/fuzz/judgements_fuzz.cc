// libFuzzer target: qrels (BEIR tsv or TREC) and TREC run files. Any input
// must be read or refused with an error, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "hymir/ranking/metrics.h"
#include "hymir/ranking/qrels.h"
#include "hymir/ranking/run.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = hymir::fuzz::WriteInput(data, size, "tsv");
  auto qrels = hymir::ranking::Qrels::Read(path);
  auto run = hymir::ranking::ReadRun(path);
  if (qrels.ok() && run.ok()) (void)hymir::ranking::Evaluate(*qrels, *run);
  return 0;
}
