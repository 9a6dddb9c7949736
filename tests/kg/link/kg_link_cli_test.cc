// Smoke test of `hymir kg link` (build/bin/hymir): mentions, --expand, and
// exit code 2 for a missing KG.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/testutil/cli_util.h"
#include "tests/testutil/testutil.h"

namespace {

using hymir::testing::TempDir;

using hymir::testing::CliRun;
using hymir::testing::Hymir;

TEST(KgLinkCliTest, LinksAndExpands) {
  if (!std::filesystem::exists(hymir::testing::BinDir() + "/hymir")) GTEST_SKIP() << "hymir CLI not built";
  TempDir tmp;
  std::string tsv = tmp.Sub("g.tsv");
  hymir::testing::WriteText(tsv,
                            "ex:dog\twn:hypernym\tex:canine\n"
                            "ex:dog\thymir:alias\tdog\nex:dog\thymir:alias\tdomestic dog\n"
                            "ex:canine\thymir:alias\tcanine\nex:hotdog\thymir:alias\thot dog\n");
  std::string kg = tmp.Sub("kg");
  CliRun load = Hymir("kg load --kg " + kg + " --tsv " + tsv);
  ASSERT_EQ(load.exit_code, 0) << load.out;

  CliRun link = Hymir("kg link --kg " + kg + " --text 'A hot dog for my Dog' --expand");
  ASSERT_EQ(link.exit_code, 0) << link.out;
  EXPECT_NE(link.out.find("2 mentions"), std::string::npos) << link.out;
  EXPECT_NE(link.out.find("[1,3)\thot dog\tex:hotdog"), std::string::npos) << link.out;
  EXPECT_NE(link.out.find("[5,6)\tdog\tex:dog"), std::string::npos) << link.out;
  EXPECT_NE(link.out.find("0.200\tdomestic dog\tex:dog"), std::string::npos) << link.out;
  // The default expansion follows no relation: no hypernym alias.
  EXPECT_EQ(link.out.find("canine"), std::string::npos) << link.out;

  CliRun english = Hymir("kg link --kg " + kg + " --analyzer english --text 'Dogs'");
  ASSERT_EQ(english.exit_code, 0) << english.out;
  EXPECT_NE(english.out.find("[0,1)\tdog\tex:dog"), std::string::npos) << english.out;

  CliRun missing = Hymir("kg link --kg " + tmp.Sub("none") + " --text dog");
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
}

}  // namespace
