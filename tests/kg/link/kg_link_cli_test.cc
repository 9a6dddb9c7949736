// Smoke test of `hymir kg link` (build/bin/hymir): mentions, --expand, and
// exit code 2 for a missing KG.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
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

std::map<std::string, std::string> DirBytes(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) {
      out[e.path().string()] = "<dir>";
      continue;
    }
    std::ifstream in(e.path(), std::ios::binary);
    out[e.path().string()].assign(std::istreambuf_iterator<char>(in), {});
  }
  return out;
}

// `kg link` and `search --kg` keep the linker cache under $XDG_CACHE_HOME,
// never in the KG directory, which they leave byte for byte as it was.
TEST(KgLinkCliTest, ReadersLeaveTheKgDirectoryUnchanged) {
  if (!std::filesystem::exists(hymir::testing::BinDir() + "/hymir")) GTEST_SKIP() << "hymir CLI not built";
  TempDir tmp;
  hymir::testing::WriteText(tmp.Sub("g.tsv"), "ex:dog\thymir:alias\tdog\nex:cat\thymir:alias\tcat\n");
  hymir::testing::WriteText(tmp.Sub("c.jsonl"),
                            "{\"_id\":\"1\",\"text\":\"a dog\"}\n{\"_id\":\"2\",\"text\":\"a cat\"}\n");
  const std::string kg = tmp.Sub("kg");
  ASSERT_EQ(Hymir("kg load --kg " + kg + " --tsv " + tmp.Sub("g.tsv")).exit_code, 0);
  ASSERT_EQ(Hymir("index --corpus " + tmp.Sub("c.jsonl") + " --index " + tmp.Sub("idx")).exit_code, 0);
  const auto before = DirBytes(kg);
  std::filesystem::permissions(kg, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  const std::string cache = tmp.Sub("cache");
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);
  CliRun first = Hymir("kg link --kg " + kg + " --text 'a dog'");
  CliRun second = Hymir("kg link --kg " + kg + " --text 'a dog'");
  CliRun search = Hymir("search --index " + tmp.Sub("idx") + " --kg " + kg + " --query dog");
  if (old)
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else
    ::unsetenv("XDG_CACHE_HOME");
  std::filesystem::permissions(kg, std::filesystem::perms::owner_all);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("built"), std::string::npos) << first.out;
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_NE(second.out.find("loaded from its cache"), std::string::npos) << second.out;
  ASSERT_EQ(search.exit_code, 0) << search.out;
  EXPECT_EQ(DirBytes(kg), before);
  size_t caches = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache + "/hymir")) {
    caches += e.path().filename().string().rfind("linker-", 0) == 0;
  }
  EXPECT_GE(caches, 1u);
}

}  // namespace
