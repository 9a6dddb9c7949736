#include "hymir/status.h"

#include <gtest/gtest.h>

#include "hymir/result.h"
#include "tests/testutil/testutil.h"

namespace hymir {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::Corruption("seg_1: bad checksum");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "seg_1: bad checksum");
  EXPECT_EQ(s.ToString(), "Corruption: seg_1: bad checksum");
  EXPECT_EQ(s.WithContext("/idx").message(), "/idx: seg_1: bad checksum");
  EXPECT_TRUE(Status::OK().WithContext("x").ok());
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  HYMIR_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(ResultTest, ValueOrStatusAndPropagation) {
  auto r = Quarter(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  auto bad = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_EQ(bad.value_or(-1), -1);
}

}  // namespace
}  // namespace hymir
