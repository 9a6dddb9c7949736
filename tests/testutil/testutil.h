// Test helpers shared by every hymir test binary.
#ifndef HYMIR_TESTS_TESTUTIL_TESTUTIL_H_
#define HYMIR_TESTS_TESTUTIL_TESTUTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "hymir/result.h"
#include "hymir/status.h"

#define ASSERT_OK(expr)                                \
  do {                                                 \
    const ::hymir::Status& hymir_s_ = (expr);          \
    ASSERT_TRUE(hymir_s_.ok()) << hymir_s_.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                \
  do {                                                 \
    const ::hymir::Status& hymir_s_ = (expr);          \
    EXPECT_TRUE(hymir_s_.ok()) << hymir_s_.ToString(); \
  } while (0)
// Evaluates a Result-returning expression, asserts success, assigns the value.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                                                         \
  auto HYMIR_CONCAT_(hymir_r_, __LINE__) = (expr);                                                              \
  ASSERT_TRUE(HYMIR_CONCAT_(hymir_r_, __LINE__).ok()) << HYMIR_CONCAT_(hymir_r_, __LINE__).status().ToString(); \
  lhs = std::move(HYMIR_CONCAT_(hymir_r_, __LINE__)).value()

namespace hymir::testing {

// A fresh directory under $TMPDIR, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hymir_test_XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// ../shared/data/<name> (or $HYMIR_SHARED_DATA/<name>, for a checkout
// elsewhere), or "" when the shared collections are absent.
inline std::string SharedDataDir(const std::string& name) {
  const char* env = std::getenv("HYMIR_SHARED_DATA");
  std::string dir = std::string(env && *env ? env : HYMIR_SHARED_DATA_DIR) + "/" + name;
  return std::filesystem::exists(dir + "/corpus.jsonl") ? dir : std::string();
}

inline std::string SampleDir() { return std::string(HYMIR_SOURCE_DIR) + "/data/sample"; }
inline std::string BinDir() { return HYMIR_BIN_DIR; }

}  // namespace hymir::testing

#endif  // HYMIR_TESTS_TESTUTIL_TESTUTIL_H_
