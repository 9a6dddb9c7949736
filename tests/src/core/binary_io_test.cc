// BinaryWriter / BinaryReader round trips, built with UBSan in its own binary
// (binary_io_ubsan_test): an empty vector's data() may be null, and passing
// it to memcpy, even with length 0, is undefined behaviour that UBSan stops
// on (five tests stopped at binary_io.h:83).
#include "src/core/binary_io.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hymir::internal {
namespace {

TEST(BinaryIoTest, EmptyVectorsAndStringsRoundTrip) {
  BinaryWriter w;
  w.Pods(std::vector<float>());
  w.Str("");
  w.Strings({});
  w.Pods(std::vector<double>{1.5, -2.0});
  const std::string bytes = w.out();
  BinaryReader r(bytes);
  std::vector<float> empty = {7.0f};
  std::string s = "x";
  std::vector<std::string> strings = {"y"};
  std::vector<double> two;
  ASSERT_TRUE(r.Pods(&empty));
  ASSERT_TRUE(r.Str(&s));
  ASSERT_TRUE(r.Strings(&strings));
  ASSERT_TRUE(r.Pods(&two));
  EXPECT_TRUE(r.AtEnd());
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(strings.empty());
  EXPECT_EQ(two, (std::vector<double>{1.5, -2.0}));
  // A read into a null destination of length 0, as an empty vector gives.
  BinaryReader at_end(std::string_view{});
  EXPECT_TRUE(at_end.Raw(nullptr, 0));
  EXPECT_FALSE(at_end.Raw(nullptr, 1));
}

}  // namespace
}  // namespace hymir::internal
