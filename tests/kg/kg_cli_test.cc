// Smoke tests of `hymir kg` (build/bin/hymir): load, reload, query, stats,
// neighbors by alias, and exit code 2 for missing inputs.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/testutil/cli_util.h"
#include "tests/testutil/testutil.h"

namespace {

using hymir::testing::TempDir;

using hymir::testing::CliRun;
using hymir::testing::Hymir;

class KgCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(hymir::testing::BinDir() + "/hymir")) GTEST_SKIP() << "hymir CLI not built";
  }
};

TEST_F(KgCliTest, LoadQueryNeighborsStats) {
  TempDir tmp;
  std::string tsv = tmp.Sub("g.tsv");
  hymir::testing::WriteText(tsv,
                            "ex:dog\tisa\tex:canine\nex:canine\tisa\tex:animal\n"
                            "ex:dog\thymir:alias\tDog\nex:animal\thymir:alias\tAnimal\n");
  std::string kg = tmp.Sub("kg");
  CliRun load = Hymir("kg load --kg " + kg + " --tsv " + tsv);
  ASSERT_EQ(load.exit_code, 0) << load.out;
  EXPECT_NE(load.out.find("holds 4 triples"), std::string::npos) << load.out;
  CliRun reload = Hymir("kg load --kg " + kg + " --tsv " + tsv);
  ASSERT_EQ(reload.exit_code, 0) << reload.out;
  EXPECT_NE(reload.out.find("(0 new)"), std::string::npos) << reload.out;

  CliRun query = Hymir("kg query --kg " + kg + " --p isa");
  ASSERT_EQ(query.exit_code, 0) << query.out;
  EXPECT_NE(query.out.find("ex:dog\tisa\tex:canine"), std::string::npos) << query.out;

  CliRun nb = Hymir("kg neighbors --kg " + kg + " --entity dog --hops 2 --direction out");
  ASSERT_EQ(nb.exit_code, 0) << nb.out;
  EXPECT_NE(nb.out.find("2\tisa\tex:animal\tAnimal"), std::string::npos) << nb.out;

  CliRun stats = Hymir("kg stats --kg " + kg);
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("triples       4"), std::string::npos) << stats.out;
}

TEST_F(KgCliTest, OboLoadAndMinedGraphOfTheSampleIndex) {
  TempDir tmp;
  const std::string obo = tmp.Sub("t.obo");
  hymir::testing::WriteText(obo, "[Term]\nid: T:1\nname: heart attack\nis_a: T:2\n\n[Term]\nid: T:2\nname: disease\n");
  const std::string kg = tmp.Sub("kg");
  CliRun load = Hymir("kg load --kg " + kg + " --obo " + obo);
  ASSERT_EQ(load.exit_code, 0) << load.out;
  EXPECT_NE(load.out.find("2 terms"), std::string::npos) << load.out;
  CliRun nb = Hymir("kg neighbors --kg " + kg + " --entity 'heart attack' --direction out");
  ASSERT_EQ(nb.exit_code, 0) << nb.out;
  EXPECT_NE(nb.out.find("obo:is_a\tT:2"), std::string::npos) << nb.out;
  CliRun bad = Hymir("kg load --kg " + kg + " --obo " + obo + " --go " + obo);
  EXPECT_EQ(bad.exit_code, 2) << bad.out;

  const std::string idx = tmp.Sub("idx");
  CliRun index = Hymir("index --corpus " + hymir::testing::SampleDir() + "/corpus.jsonl --index " + idx);
  ASSERT_EQ(index.exit_code, 0) << index.out;
  CliRun mine = Hymir("kg mine --index " + idx + " --kg " + kg + " --min-df 2");
  ASSERT_EQ(mine.exit_code, 0) << mine.out;
  EXPECT_NE(mine.out.find("mined " + idx), std::string::npos) << mine.out;
  CliRun source = Hymir("kg query --kg " + kg + " --s mined:source --p mined:from");
  ASSERT_EQ(source.exit_code, 0) << source.out;
  EXPECT_NE(source.out.find(std::filesystem::absolute(idx).string()), std::string::npos) << source.out;
  CliRun missing = Hymir("kg mine --index " + tmp.Sub("none") + " --kg " + kg);
  EXPECT_NE(missing.exit_code, 0) << missing.out;
}

TEST_F(KgCliTest, MissingInputsExitTwoAndBadLinesNameThePlace) {
  TempDir tmp;
  EXPECT_EQ(Hymir("kg stats --kg " + tmp.Sub("none")).exit_code, 2);
  EXPECT_EQ(Hymir("kg load --kg " + tmp.Sub("kg") + " --tsv " + tmp.Sub("none.tsv")).exit_code, 2);
  EXPECT_EQ(Hymir("kg load --kg " + tmp.Sub("kg")).exit_code, 2);  // no source
  EXPECT_EQ(Hymir("kg --help").exit_code, 0);
  std::string nt = tmp.Sub("bad.nt");
  hymir::testing::WriteText(nt, "<a> <b> <c> .\n<a> <b>\n");
  CliRun bad = Hymir("kg load --kg " + tmp.Sub("kg") + " --ntriples " + nt);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find(nt + ":2: "), std::string::npos) << bad.out;
  CliRun skip = Hymir("kg load --kg " + tmp.Sub("kg") + " --ntriples " + nt + " --skip-bad");
  EXPECT_EQ(skip.exit_code, 0) << skip.out;
  EXPECT_NE(skip.out.find("1 bad lines"), std::string::npos) << skip.out;
}

// Read commands open the KG read-only (no new WAL or LOG.old.*
// per open; they work beside a writer), and a damaged SST is exit 1, never
// aliases printed as "-".
TEST_F(KgCliTest, ReadsCreateNoFilesAndDamageIsExitOne) {
  TempDir tmp;
  std::string tsv;
  for (int i = 0; i < 3000; ++i) {
    tsv += "ex:e" + std::to_string(i) + "\tisa\tex:e" + std::to_string((i + 1) % 3000) + "\n";
    tsv += "ex:e" + std::to_string(i) + "\thymir:alias\tname" + std::to_string(i) + "\n";
  }
  hymir::testing::WriteText(tmp.Sub("g.tsv"), tsv);
  const std::string kg = tmp.Sub("kg");
  ASSERT_EQ(Hymir("kg load --kg " + kg + " --tsv " + tmp.Sub("g.tsv")).exit_code, 0);
  auto files = [&] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(kg)) n += e.is_regular_file();
    return n;
  };
  const size_t before = files();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Hymir("kg stats --kg " + kg).exit_code, 0);
    CliRun nb = Hymir("kg neighbors --kg " + kg + " --entity ex:e7");
    ASSERT_EQ(nb.exit_code, 0) << nb.out;
    EXPECT_NE(nb.out.find("ex:e8\tname8"), std::string::npos) << nb.out;
  }
  EXPECT_EQ(files(), before);

  int damaged = 0;
  for (const auto& e : std::filesystem::directory_iterator(kg)) {
    if (e.path().extension() != ".sst") continue;
    std::string b;
    {
      std::ifstream in(e.path(), std::ios::binary);
      b.assign(std::istreambuf_iterator<char>(in), {});
    }
    for (size_t i = 100; i + 100 < b.size(); i += 256) b[i] = static_cast<char>(b[i] ^ 0x5a);  // every block
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << b;
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  CliRun bad = Hymir("kg neighbors --kg " + kg + " --entity ex:e7 --hops 3");
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("Corruption"), std::string::npos) << bad.out;
}

// A MANIFEST cut at its tail (RocksDB reads it as an older, shorter one) is
// refused by reads and by a later load, which changes nothing: putting the
// bytes back gives every triple.
TEST_F(KgCliTest, CutManifestIsRefusedAndALaterLoadLosesNothing) {
  TempDir tmp;
  std::string tsv;
  for (int i = 0; i < 500; ++i) tsv += "ex:e" + std::to_string(i) + "\tisa\tex:e" + std::to_string(i + 1) + "\n";
  hymir::testing::WriteText(tmp.Sub("g.tsv"), tsv);
  hymir::testing::WriteText(tmp.Sub("one.tsv"), "ex:x\tisa\tex:y\n");
  const std::string kg = tmp.Sub("kg");
  ASSERT_EQ(Hymir("kg load --kg " + kg + " --tsv " + tmp.Sub("g.tsv")).exit_code, 0);
  ASSERT_EQ(Hymir("kg load --kg " + kg + " --tsv " + tmp.Sub("g.tsv")).exit_code, 0);  // a second writer
  std::string manifest;
  for (const auto& e : std::filesystem::directory_iterator(kg)) {
    if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) manifest = e.path().string();
  }
  ASSERT_FALSE(manifest.empty());
  std::string bytes;
  {
    std::ifstream in(manifest, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 200u);
  std::filesystem::resize_file(manifest, bytes.size() - 150);
  for (const char* cmd : {"kg stats", "kg query", "kg neighbors --entity ex:e1"}) {
    CliRun r = Hymir(std::string(cmd) + " --kg " + kg);
    EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find(manifest), std::string::npos) << cmd << ": " << r.out;
  }
  CliRun load = Hymir("kg load --kg " + kg + " --tsv " + tmp.Sub("one.tsv"));
  EXPECT_EQ(load.exit_code, 1) << load.out;
  std::ofstream(manifest, std::ios::binary | std::ios::trunc) << bytes;
  CliRun stats = Hymir("kg stats --kg " + kg);
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("triples       500"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("subjects      500"), std::string::npos) << stats.out;
}

}  // namespace
