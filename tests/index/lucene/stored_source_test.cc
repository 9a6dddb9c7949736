// The compressed stored form of a document's title and text (format 2,
// stored_source.h): it round-trips, it is smaller than the text for prose, and
// damage (any flipped byte, any truncation, a foreign tag) is refused, never
// decoded into another text.
#include "index/lucene/stored_source.h"

#include <gtest/gtest.h>

#include <string>

namespace hymir::index::internal {
namespace {

TEST(StoredSourceTest, RoundTrips) {
  const std::string prose =
      "Vitamin D deficiency is common in northern latitudes. Supplementation trials report mixed results. ";
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += prose + std::to_string(i) + " ";
  for (const auto& [title, text] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"t", ""}, {"", "x"}, {"Ünïcödé — 漢字", "emoji 🙂 and\nnew lines\t"}, {"A title", long_text}}) {
    const std::string stored = EncodeSource(title, text);
    std::string t = "junk", x = "junk";
    ASSERT_TRUE(DecodeSource(stored, &t, &x)) << title;
    EXPECT_EQ(t, title);
    EXPECT_EQ(x, text);
  }
  // Prose compresses (zstd level 1; the text repeats, so by far).
  EXPECT_LT(EncodeSource("A title", long_text).size(), long_text.size() / 4);
  EXPECT_EQ(EncodeSource("A title", long_text)[0], 1);
}

TEST(StoredSourceTest, WhatCompressesTooWellIsStoredRaw) {
  // 100,000 times one letter: zstd would store it in a few dozen bytes, more
  // than kMaxSourceRatio times smaller, so the reader could not bound it.
  const std::string run(100000, 'a');
  const std::string stored = EncodeSource("t", run);
  EXPECT_EQ(stored[0], 0);
  EXPECT_EQ(stored.size(), 1 + 1 + 1 + run.size() + 4);
  std::string t, x;
  ASSERT_TRUE(DecodeSource(stored, &t, &x));
  EXPECT_EQ(t, "t");
  EXPECT_EQ(x, run);
  std::string bad = stored;
  bad[5000] = 'b';
  EXPECT_FALSE(DecodeSource(bad, &t, &x));  // the crc32 catches it
}

TEST(StoredSourceTest, DamageIsRefusedNotDecodedIntoAnotherText) {
  const std::string title = "Effects of exercise";
  const std::string text = "Regular exercise lowers blood pressure in adults with hypertension. It also helps sleep.";
  const std::string stored = EncodeSource(title, text);
  std::string t, x;
  int refused = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = stored;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      if (DecodeSource(bad, &t, &x)) {
        // Only a flip zstd ignores may decode, and then to the same text.
        EXPECT_EQ(t, title) << "byte " << i << " bit " << bit;
        EXPECT_EQ(x, text) << "byte " << i << " bit " << bit;
      } else {
        ++refused;
      }
    }
  }
  EXPECT_GT(refused, static_cast<int>(stored.size() * 8 * 9 / 10));
  for (size_t n = 0; n < stored.size(); ++n) EXPECT_FALSE(DecodeSource(stored.substr(0, n), &t, &x)) << n;
  EXPECT_FALSE(DecodeSource(stored + "x", &t, &x));  // trailing bytes
  for (char tag : {'\2', '\xff'}) {
    std::string bad = stored;
    bad[0] = tag;
    EXPECT_FALSE(DecodeSource(bad, &t, &x));
  }
}

}  // namespace
}  // namespace hymir::index::internal
