// libFuzzer target: the doc values file (<index>/vectors/values.g<N>.dv,
// index/lucene/doc_values.h) under a fixed schema of every typed field type.
// The input's first byte picks the fix-ups, the rest is the file:
//   bits 0-2 all set (one input in eight): no fix-ups; otherwise the harness
//   sets the header's size field and both checksums to the bytes', so the
//   fuzzer reaches the structure behind them.
// A damaged file is Corruption naming the file, never a crash, a hang or an
// allocation its counts ask for. A file that opens is consistent: every id
// is found at its row, every point range holds exactly the keys in range
// (checked against the column by brute force), every dictionary value is
// found at its ordinal, and its rows re-encode into a file that opens with
// the same rows. A delta (version 2) also lists deleted ids, strictly
// increasing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "index/lucene/doc_values.h"
#include "src/core/crc32.h"

namespace {

namespace hi = hymir::index::internal;
using hymir::index::FieldType;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

const hymir::index::Schema& TheSchema() {
  static const hymir::index::Schema* s = [] {
    auto* schema = new hymir::index::Schema();
    auto add = [&](const char* name, FieldType t) {
      hymir::index::FieldSpec f;
      f.type = t;
      f.sortable = f.facetable = true;
      schema->fields[name] = f;
    };
    add("flag", FieldType::kBool);
    add("price", FieldType::kDouble);
    add("released", FieldType::kDate);
    add("section", FieldType::kKeyword);
    add("size", FieldType::kInt64);
    add("tag", FieldType::kKeyword);
    return schema;
  }();
  return *s;
}

// A small sound file: what the seed corpus starts from.
std::string Sample() {
  std::vector<std::pair<std::string, hi::TypedRow>> rows;
  const char* sections[] = {"admin", "graphics", "net"};
  for (int i = 0; i < 12; ++i) {
    hi::TypedRow r;
    r.keys.resize(6);
    r.keywords.resize(6);
    if (i % 3) r.keys[0].push_back(i % 2);
    if (i % 4) r.keys[1].push_back(int64_t{i} * 1000 - 5000);
    r.keys[2].push_back(int64_t{1600000000000} + i * 86400000);
    if (i % 5) r.keywords[3].push_back(sections[i % 3]);
    r.keys[4].push_back((i * 7) % 5);
    if (i % 2) r.keywords[5] = {"a", "b"};
    rows.emplace_back("doc" + std::to_string(10 + i), std::move(r));
  }
  return hi::EncodeDocValues(TheSchema(), rows);
}

void FixUp(std::string* b) {
  if (b->size() < hi::kDocValuesHeaderBytes) return;
  const uint64_t size = b->size();
  std::memcpy(b->data() + 24, &size, 8);
  const uint32_t body =
      hymir::internal::Crc32(0, b->data() + hi::kDocValuesHeaderBytes, b->size() - hi::kDocValuesHeaderBytes);
  std::memcpy(b->data() + 32, &body, 4);
  std::memset(b->data() + 36, 0, 4);
  const uint32_t head = hymir::internal::Crc32(0, b->data(), hi::kDocValuesHeaderBytes);
  std::memcpy(b->data() + 36, &head, 4);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("HYMIR_FUZZ_SEED_DIR")) {
    const std::string sample = Sample();
    std::ofstream(std::string(dir) + "/values", std::ios::binary) << '\0' << sample;
    std::ofstream(std::string(dir) + "/values-unfixed", std::ios::binary) << '\x07' << sample;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool fix = (data[0] & 7) != 7;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (fix) FixUp(&bytes);
  // Version 2 is a delta: the same columns, then deleted ids.
  uint32_t version = 0;
  if (bytes.size() >= 12) std::memcpy(&version, bytes.data() + 8, 4);
  const bool delta = version == hi::kDocValuesDeltaVersion;
  auto r = delta ? hi::DocValuesReader::DeltaFromBytes(bytes, TheSchema(), "fuzz.dv")
                 : hi::DocValuesReader::FromBytes(bytes, TheSchema(), "fuzz.dv");
  if (!r.ok()) {
    Check(r.status().IsCorruption());
    Check(r.status().message().find("fuzz.dv") != std::string::npos);
    return 0;
  }
  const hi::DocValuesReader& v = **r;
  std::vector<std::pair<std::string, hi::TypedRow>> rows;
  for (uint64_t row = 0; row < v.rows(); ++row) {
    Check(v.Find(v.id(row)) == row);
    rows.emplace_back(std::string(v.id(row)), v.Row(row));
  }
  Check(v.Find("") == v.rows());
  for (uint64_t i = 0; i < v.tombstones(); ++i)
    Check(!v.tombstone(i).empty() && (i == 0 || v.tombstone(i - 1) < v.tombstone(i)));
  Check(delta || v.tombstones() == 0);
  for (const hi::ValueColumn& c : v.columns()) {
    if (c.numeric()) {
      int64_t probes[] = {INT64_MIN, -1, 0, 1, 1000, INT64_MAX};
      for (int64_t lo : probes) {
        for (int64_t hi_key : probes) {
          uint64_t begin, end;
          c.PointRange(lo, hi_key, &begin, &end);
          Check(begin <= end && end <= c.points);
          uint64_t want = 0;
          for (uint64_t row = 0; row < c.rows; ++row) want += c.Has(row) && c.Key(row) >= lo && c.Key(row) <= hi_key;
          Check(end - begin == want);
        }
      }
    } else {
      for (uint64_t o = 0; o < c.values; ++o) Check(c.FindValue(c.Value(o)) == static_cast<int64_t>(o));
    }
  }
  const std::string again = hi::EncodeDocValues(TheSchema(), rows);
  auto r2 = hi::DocValuesReader::FromBytes(again, TheSchema(), "again.dv");
  Check(r2.ok());
  Check((*r2)->rows() == v.rows());
  for (uint64_t row = 0; row < v.rows(); ++row) {
    const hi::TypedRow a = v.Row(row), b = (*r2)->Row(row);
    Check(a.keys == b.keys && a.keywords == b.keywords);
  }
  return 0;
}
