// Smoke test of `hymir kg embed` (build/bin/hymir): trains on a small TSV
// graph, prints per-epoch loss and the link-prediction report, saves
// transe.bin; exit code 2 for a missing KG.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "hymir/kg/kg_embeddings.h"
#include "tests/testutil/cli_util.h"
#include "tests/testutil/testutil.h"

namespace {

using hymir::testing::TempDir;

using hymir::testing::CliRun;
using hymir::testing::Hymir;

TEST(KgEmbedCliTest, TrainsReportsAndSaves) {
  if (!std::filesystem::exists(hymir::testing::BinDir() + "/hymir")) GTEST_SKIP() << "hymir CLI not built";
  TempDir tmp;
  std::string tsv;
  for (int c = 0; c < 4; ++c) {
    for (int i = 0; i < 20; ++i) {
      const std::string e = "c" + std::to_string(c) + "_" + std::to_string(i);
      tsv += e + "\tmember_of\thub" + std::to_string(c) + "\n";
      tsv += e + "\tnext\tc" + std::to_string(c) + "_" + std::to_string((i + 1) % 20) + "\n";
    }
  }
  hymir::testing::WriteText(tmp.Sub("g.tsv"), tsv);
  const std::string kg = tmp.Sub("kg");
  CliRun load = Hymir("kg load --kg " + kg + " --tsv " + tmp.Sub("g.tsv"));
  ASSERT_EQ(load.exit_code, 0) << load.out;

  CliRun embed = Hymir("kg embed --kg " + kg + " --dim 16 --epochs 3 --holdout 0.1");
  ASSERT_EQ(embed.exit_code, 0) << embed.out;
  EXPECT_NE(embed.out.find("epoch 3/3 loss"), std::string::npos) << embed.out;
  EXPECT_NE(embed.out.find("trained  MRR"), std::string::npos) << embed.out;
  EXPECT_NE(embed.out.find("random   MRR"), std::string::npos) << embed.out;
  EXPECT_NE(embed.out.find("saved " + kg + "/transe.bin"), std::string::npos) << embed.out;
  auto loaded = hymir::kg::KgEmbeddings::Load(kg);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->dim(), 16);
  EXPECT_EQ(loaded->num_entities(), 84u);

  CliRun missing = Hymir("kg embed --kg " + tmp.Sub("nope"));
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
}

}  // namespace
