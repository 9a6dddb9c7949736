// The typed values file across commits: a commit writes the changes since
// the last full file as a delta, or merges them into it column by column,
// and must then write exactly the bytes of encoding the merged rows one by
// one; a delta reads back as its base with the changes applied.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>

#include "hymir/index/schema.h"
#include "index/lucene/doc_values.h"
#include "src/core/crc32.h"
#include "tests/testutil/testutil.h"

namespace hymir::index::internal {
namespace {

using hymir::testing::TempDir;

Schema TwoOfEachKind() {
  auto s = ParseSchemaJson(R"({"fields": {"a_size": {"type": "int64", "sort": true, "facet": true},
      "b_tags": {"type": "keyword", "facet": true}, "c_price": {"type": "double", "sort": true},
      "d_kind": {"type": "keyword"}}})");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

// A random row: each numeric field present with probability 3/4 (keys drawn
// from a small range, so ties are common), keyword fields with 0-3 values
// of a small vocabulary.
TypedRow RandomRow(std::mt19937& rng, size_t fields) {
  TypedRow row;
  row.keys.resize(fields);
  row.keywords.resize(fields);
  for (size_t f = 0; f < fields; ++f) {
    if (f % 2 == 0) {
      if (rng() % 4 != 0) row.keys[f].push_back(static_cast<int64_t>(rng() % 40) - 10);
    } else {
      std::set<std::string> v;
      for (size_t i = rng() % 4; i > 0; --i) v.insert("v" + std::to_string(rng() % (f == 1 ? 12 : 300)));
      row.keywords[f].assign(v.begin(), v.end());
    }
  }
  return row;
}

TEST(DocValuesFileTest, DeltasAndFullFilesReadAsTheMergedRowsOverEveryMixOfChanges) {
  TempDir tmp;
  const Schema schema = ValuesSchema(TwoOfEachKind());
  const size_t fields = schema.fields.size();
  ASSERT_EQ(fields, 4u);
  int deltas = 0;
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    std::map<std::string, TypedRow> truth;
    const int base_rows = seed % 5 == 0 ? 0 : static_cast<int>(rng() % 400);
    for (int i = 0; i < base_rows; ++i) truth["id" + std::to_string(rng() % 1000)] = RandomRow(rng, fields);
    std::vector<std::pair<std::string, TypedRow>> rows(truth.begin(), truth.end());
    const std::string base_bytes = EncodeDocValues(schema, rows);
    const std::string name = "values.g" + std::to_string(seed) + ".dv";
    std::ofstream(tmp.path() + "/" + name, std::ios::binary) << base_bytes;
    const FileInfo base{name, base_bytes.size(), hymir::internal::Crc32(0, base_bytes.data(), base_bytes.size())};
    ASSERT_OK_AND_ASSIGN(auto dv, DocValues::Load(tmp.path(), base, schema));
    // Puts (new ids and replacements), deletes of base and unknown ids, a
    // put then deleted, a delete then put again.
    const int changes = static_cast<int>(rng() % 60);
    for (int i = 0; i < changes; ++i) {
      const std::string id = "id" + std::to_string(rng() % 1100);
      if (rng() % 3 == 0) {
        dv->Delete(id);
        truth.erase(id);
      } else {
        TypedRow row = RandomRow(rng, fields);
        truth[id] = row;
        dv->Put(id, std::move(row));
      }
    }
    ValuesFiles saved;
    ASSERT_OK(dv->Save(tmp.path(), 1000 + seed, &saved));
    auto slurp = [&](const std::string& name) {
      std::ifstream in(tmp.path() + "/" + name, std::ios::binary);
      return std::string((std::istreambuf_iterator<char>(in)), {});
    };
    // Read back (a delta merged into its base at open) as the truth's rows.
    auto expect_truth = [&](const ValuesFiles& files) {
      ASSERT_OK_AND_ASSIGN(auto reader, DocValuesReader::Open(tmp.path(), files, schema));
      ASSERT_EQ(reader->rows(), truth.size());
      uint64_t r = 0;
      for (const auto& [id, row] : truth) {
        EXPECT_EQ(reader->id(r), id);
        const TypedRow back = reader->Row(r++);
        EXPECT_EQ(back.keys, row.keys) << id;
        EXPECT_EQ(back.keywords, row.keywords) << id;
      }
    };
    ASSERT_NO_FATAL_FAILURE(expect_truth(saved));
    if (saved.base.name.empty()) {
      EXPECT_TRUE(slurp(saved.file.name) == EncodeDocValues(schema, {truth.begin(), truth.end()}))
          << "the merged file differs from the rows encoded one by one";
      continue;
    }
    // A delta: few changes next to its base; alone it is refused.
    ++deltas;
    EXPECT_LT((static_cast<uint64_t>(changes)) * kValuesDeltaFraction, static_cast<uint64_t>(base_rows) + 1);
    EXPECT_TRUE(DocValuesReader::Open(tmp.path(), saved.file, schema).status().IsCorruption());
    // A writer loaded from base + delta holds the same changes: enough more
    // puts make its next save a full file of exactly the truth's bytes.
    ASSERT_OK_AND_ASSIGN(auto again, DocValues::Load(tmp.path(), saved, schema));
    for (uint64_t i = 0; i <= truth.size() / kValuesDeltaFraction + 1; ++i) {
      const std::string id = "more" + std::to_string(i);
      TypedRow row = RandomRow(rng, fields);
      truth[id] = row;
      again->Put(id, std::move(row));
    }
    ValuesFiles full;
    ASSERT_OK(again->Save(tmp.path(), 2000 + seed, &full));
    ASSERT_TRUE(full.base.name.empty());
    EXPECT_TRUE(slurp(full.file.name) == EncodeDocValues(schema, {truth.begin(), truth.end()}));
    ASSERT_NO_FATAL_FAILURE(expect_truth(full));
  }
  EXPECT_GT(deltas, 3);  // both kinds of commit were exercised
  EXPECT_LT(deltas, 22);
}

}  // namespace
}  // namespace hymir::index::internal
