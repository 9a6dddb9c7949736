// Smoke tests of `hymir-media` on a slice of the real Tux Paint stamps (made
// by scripts/make_media_fixture.sh from the installed Debian package; skipped
// when tuxpaint-stamps-default is absent): ingest with a bad file, search by
// image, by stored image, by text and both, filters, eval, exit codes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/testutil/cli_util.h"
#include "tests/testutil/testutil.h"

namespace hymir {
namespace {

using testing::TempDir;

constexpr const char* kStamps = "/usr/share/tuxpaint/stamps";

using testing::Ran;
using testing::Shell;
using testing::Slurp;

Ran Media(const std::string& args) { return Shell(testing::BinDir() + "/hymir-media " + args); }

class MediaCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::is_directory(kStamps)) GTEST_SKIP() << kStamps << " absent (tuxpaint-stamps-default)";
    Ran fx = Shell(std::string(HYMIR_SOURCE_DIR) + "/scripts/make_media_fixture.sh " + tmp_.Sub("stamps") + " 4");
    ASSERT_EQ(fx.exit_code, 0) << fx.err;
    testing::WriteText(tmp_.Sub("stamps/food/rotten.png"), "\x89PNG but not really");
  }
  // Ids of a --json search, best first.
  static std::vector<std::string> Ids(const std::string& json, std::vector<std::string>* categories = nullptr) {
    std::vector<std::string> ids;
    for (const auto& h : nlohmann::json::parse(json)) {
      ids.push_back(h["id"]);
      if (categories) categories->push_back(h["category"]);
    }
    return ids;
  }
  TempDir tmp_;
};

TEST_F(MediaCliTest, IngestSearchEval) {
  const std::string index = tmp_.Sub("idx");
  Ran in = Media("ingest --dir " + tmp_.Sub("stamps") + " --index " + index + " --threads 2 --words 8");
  ASSERT_EQ(in.exit_code, 0) << in.err;
  EXPECT_NE(in.out.find("indexed 12 images"), std::string::npos) << in.out;
  EXPECT_NE(in.out.find("1 bad files skipped"), std::string::npos) << in.out;
  EXPECT_NE(in.err.find("rotten.png"), std::string::npos) << in.err;
  EXPECT_NE(in.err.find("images/s"), std::string::npos) << in.err;
  // The older positional form (`ingest DIR INDEX`) still builds the same index.
  const std::string positional = tmp_.Sub("idx-positional");
  Ran in2 = Media("ingest " + tmp_.Sub("stamps") + " " + positional + " --threads 2 --words 8");
  ASSERT_EQ(in2.exit_code, 0) << in2.err;
  EXPECT_NE(in2.out.find("indexed 12 images"), std::string::npos) << in2.out;
  const std::string by_text = " --text 'red car' --k 5 --json";
  EXPECT_EQ(Media("search --index " + positional + by_text).out, Media("search --index " + index + by_text).out);

  // Query by a file: the same stamp first, every list's score kept.
  Ran img =
      Media("search --index " + index + " --image " + tmp_.Sub("stamps/vehicles/auto/sedan.png") + " --k 3 --json");
  ASSERT_EQ(img.exit_code, 0) << img.err;
  auto hits = nlohmann::json::parse(img.out);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0]["id"], "vehicles/auto/sedan");
  EXPECT_NEAR(hits[0]["stages"]["colour"]["score"].get<double>(), 1.0, 1e-5);
  EXPECT_EQ(hits[0]["stages"]["texture"]["rank"], 1);
  EXPECT_TRUE(hits[0]["stages"]["bm25"].is_null());
  EXPECT_EQ(hits[0]["caption"], "A sedan car.");

  // More like this (the stored vectors) gives the same ranking.
  Ran like = Media("search --index " + index + " --like vehicles/auto/sedan --k 3 --json");
  ASSERT_EQ(like.exit_code, 0) << like.err;
  EXPECT_EQ(Ids(like.out), Ids(img.out));

  // Query by sound (the fixture's one stamp with a sound effect).
  EXPECT_NE(in.out.find("(1 with a sound)"), std::string::npos) << in.out;
  Ran sound =
      Media("search --index " + index + " --sound " + tmp_.Sub("stamps/animals/amphibians/frog.ogg") + " --json");
  ASSERT_EQ(sound.exit_code, 0) << sound.err;
  auto by_sound = nlohmann::json::parse(sound.out);
  ASSERT_EQ(by_sound.size(), 1u);
  EXPECT_EQ(by_sound[0]["id"], "animals/amphibians/frog");
  EXPECT_NEAR(by_sound[0]["stages"]["sound"]["score"].get<double>(), 1.0, 1e-5);

  // Text only: BM25 over the captions.
  Ran text = Media("search --index " + index + " --text \"cherry\" --json");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  ASSERT_FALSE(Ids(text.out).empty());
  EXPECT_EQ(Ids(text.out)[0], "food/fruit/Cherry_Stella");

  // Both, restricted to one category: only animals come back.
  Ran both =
      Media("search --index " + index + " --text \"frog\" --like vehicles/auto/sedan --filter domain:animals --json");
  ASSERT_EQ(both.exit_code, 0) << both.err;
  std::vector<std::string> categories;
  auto both_ids = Ids(both.out, &categories);
  ASSERT_FALSE(both_ids.empty());
  for (const auto& c : categories) EXPECT_EQ(c, "animals");
  EXPECT_EQ(both_ids[0].rfind("animals/amphibians/frog", 0), 0u) << both.out;
  EXPECT_FALSE(nlohmann::json::parse(both.out)[0]["stages"]["bm25"].is_null());

  // Plain-text output names each stage.
  Ran plain = Media("search --index " + index + " --like food/fruit/Apricot_whole --k 2");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("colour 1.0000@1"), std::string::npos) << plain.out;

  Ran eval = Media("eval --index " + index + " --json");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  auto e = nlohmann::json::parse(eval.out);
  EXPECT_EQ(e["queries"], 12);
  EXPECT_EQ(e["categories"], 3);
  for (const char* run :
       {"random", "colour", "texture", "caption text (bm25)", "colour+texture (minmax)", "text+colour+texture (rrf)"}) {
    ASSERT_TRUE(e["runs"].contains(run)) << run;
    EXPECT_GE(e["runs"][run]["map"].get<double>(), 0.0);
    EXPECT_LE(e["runs"][run]["P_10"].get<double>(), 1.0);
  }

  // The MoE on media queries: trains, compares with hybrid, routes by kind.
  Ran moe = Media("moe --index " + index + " --experts 2 --epochs 3 --depth 10 --routing-plot " + tmp_.Sub("r.svg"));
  ASSERT_EQ(moe.exit_code, 0) << moe.err;
  for (const char* want : {"hybrid nDCG@10", "MoE nDCG@10", "image", "text", "both", "I(domain; top-1 expert)"})
    EXPECT_NE(moe.out.find(want), std::string::npos) << want << "\n" << moe.out;
  EXPECT_NE(Slurp(tmp_.Sub("r.svg")).find("<svg"), std::string::npos);

  // Errors: a second ingest into the index, no query, unknown document or field.
  EXPECT_EQ(Media("ingest --dir " + tmp_.Sub("stamps") + " --index " + index).exit_code, 2);
  EXPECT_EQ(Media("search --index " + index).exit_code, 2);
  EXPECT_EQ(Media("search --index " + index + " --like no/such/stamp").exit_code, 2);
  EXPECT_EQ(Media("search --index " + index + " --like food/fruit/Apricot_whole --fields sound").exit_code, 2);
  EXPECT_EQ(Media("search --index " + index + " --image " + tmp_.Sub("stamps/food/rotten.png")).exit_code, 1);
  EXPECT_EQ(Media("search --index " + tmp_.Sub("absent") + " --text x").exit_code, 2);
  EXPECT_EQ(Media("ingest --dir " + tmp_.Sub("absent") + " --index " + tmp_.Sub("idx2")).exit_code, 2);
  EXPECT_EQ(Media("ingest --index " + tmp_.Sub("idx2")).exit_code, 2);  // no image tree
}

// `hymir-media serve` on port 0, its stdout in a file; stopped (SIGTERM) and
// reaped by the destructor.
class Server {
 public:
  Server(const std::string& index, const std::string& out) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::execl((testing::BinDir() + "/hymir-media").c_str(), "hymir-media", "serve", "--index", index.c_str(), "--port",
              "0", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)/");
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::smatch m;
      const std::string text = Slurp(out);
      if (std::regex_search(text, m, listening))
        port_ = std::stoi(m[1]);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(MediaCliTest, SearchPageShowsThumbnailsInHeadlessChromium) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) GTEST_SKIP() << "chromium absent";
  const std::string index = tmp_.Sub("idx");
  ASSERT_EQ(Media("ingest " + tmp_.Sub("stamps") + " " + index + " --words 8 --quiet").exit_code, 0);
  Server server(index, tmp_.Sub("serve.out"));
  ASSERT_NE(server.port(), 0) << Slurp(tmp_.Sub("serve.out"));
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  httplib::Client client("127.0.0.1", server.port());
  auto thumb = client.Get("/thumb?id=vehicles/auto/sedan");
  ASSERT_TRUE(thumb);
  EXPECT_EQ(thumb->status, 200);
  EXPECT_EQ(thumb->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(thumb->body.substr(1, 3), "PNG");
  auto missing = client.Get("/thumb?id=no/such");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto bad = client.Get("/api/search");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  // The page as "more like this" on the sedan leaves it: rendered by the
  // page's script, read back from the DOM.
  Ran dom = Shell(
      "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
      "--virtual-time-budget=10000 --dump-dom '" +
      base + "/?like=vehicles/auto/sedan'");
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  std::vector<std::string> ids;
  const std::regex hit("<li class=\"hit\" data-id=\"([^\"]+)\">(.*?)</li>");
  for (auto it = std::sregex_iterator(dom.out.begin(), dom.out.end(), hit); it != std::sregex_iterator(); ++it) {
    ids.push_back((*it)[1]);
    const std::string body = (*it)[2];
    EXPECT_NE(body.find("<img src=\"/thumb?id="), std::string::npos) << body;
    EXPECT_NE(body.find("more like this"), std::string::npos) << body;
  }
  ASSERT_EQ(ids.size(), 12u) << dom.out;
  EXPECT_EQ(ids[0], "vehicles/auto/sedan");
  EXPECT_NE(dom.out.find("more like: vehicles/auto/sedan"), std::string::npos);

  // Text and a filter from the URL.
  Ran text = Shell(
      "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
      "--virtual-time-budget=10000 --dump-dom '" +
      base + "/?q=frog&filter=domain:animals'");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  std::smatch first;
  ASSERT_TRUE(std::regex_search(text.out, first, hit)) << text.out;
  EXPECT_EQ(first[1].str().rfind("animals/amphibians/frog", 0), 0u);
}

}  // namespace
}  // namespace hymir
