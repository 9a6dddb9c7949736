// The forward index file: version 2 is read through a memory map
// without decoding at open; version 1 files (written before) still read, and
// the writer turns them into version 2; damage is Corruption naming the file
// at open (header, dictionary, offsets) or at Get (a record's own checksum).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "index/lucene/analysis.h"
#include "index/lucene/forward_index.h"
#include "src/core/binary_io.h"
#include "src/core/crc32.h"
#include "tests/testutil/testutil.h"

namespace hymir::index::internal {
namespace {

using hymir::testing::TempDir;

using hymir::internal::PutVarint;
using hymir::internal::PutVarintString;

// A version 1 file as the format's description in forward_index.h gives it,
// written byte by byte: terms {lens, clear, protein}; "a": title [lens],
// text [lens clear | protein] (2 sentences), domain bio, field k=v; "b":
// empty title, text [protein].
std::string Version1File() {
  std::string payload;
  for (const char* t : {"lens", "clear", "protein"}) PutVarintString(&payload, t);
  std::string a;
  PutVarint(&a, 1);
  PutVarint(&a, 0);  // title: lens
  PutVarint(&a, 3);
  for (int t : {0, 1, 2}) PutVarint(&a, t);
  PutVarint(&a, 2);  // sentences end at 2 and 3, delta-coded
  PutVarint(&a, 2);
  PutVarint(&a, 1);
  PutVarint(&a, 1);  // has a domain
  PutVarintString(&a, "bio");
  PutVarint(&a, 1);
  PutVarintString(&a, "k");
  PutVarintString(&a, "v");
  std::string b;
  PutVarint(&b, 0);
  PutVarint(&b, 1);
  PutVarint(&b, 2);
  PutVarint(&b, 1);
  PutVarint(&b, 1);
  PutVarint(&b, 0);
  PutVarint(&b, 0);
  PutVarintString(&payload, "a");
  PutVarintString(&payload, a);
  PutVarintString(&payload, "b");
  PutVarintString(&payload, b);
  std::string h(48, '\0');
  std::memcpy(h.data(), "HYMIRFWD", 8);
  const uint32_t version = 1;
  const uint64_t terms = 3, docs = 2, size = payload.size();
  const uint32_t crc = hymir::internal::Crc32(0, payload.data(), payload.size());
  std::memcpy(h.data() + 8, &version, 4);
  std::memcpy(h.data() + 16, &terms, 8);
  std::memcpy(h.data() + 24, &docs, 8);
  std::memcpy(h.data() + 32, &size, 8);
  std::memcpy(h.data() + 40, &crc, 4);
  return h + payload;
}

FileInfo Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
  return FileInfo{name, bytes.size(), hymir::internal::Crc32(0, bytes.data(), bytes.size())};
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void ExpectRecords(const ForwardIndexReader& r) {
  ASSERT_EQ(r.size(), 2u);
  ASSERT_OK_AND_ASSIGN(AnalysedDocument a, r.Get("a"));
  EXPECT_EQ(a.id, "a");
  EXPECT_EQ(a.title, std::vector<std::string>({"lens"}));
  EXPECT_EQ(a.text, std::vector<std::string>({"lens", "clear", "protein"}));
  EXPECT_EQ(a.sentence_ends, std::vector<uint32_t>({2, 3}));
  EXPECT_EQ(a.domain, std::optional<std::string>("bio"));
  EXPECT_EQ(a.fields, (std::map<std::string, std::string>{{"k", "v"}}));
  ASSERT_OK_AND_ASSIGN(AnalysedDocument b, r.Get("b"));
  EXPECT_TRUE(b.title.empty());
  EXPECT_EQ(b.text, std::vector<std::string>({"protein"}));
  EXPECT_EQ(b.sentence_ends, std::vector<uint32_t>({1}));
  EXPECT_FALSE(b.domain.has_value());
  for (const char* absent : {"", "0", "aa", "c", "B"}) {
    EXPECT_TRUE(r.Get(absent).status().IsNotFound()) << absent;
  }
}

TEST(ForwardFileTest, Version1IsReadAndTheWriterRewritesItAsVersion2) {
  TempDir tmp;
  const FileInfo v1 = Write(tmp.path(), "forward.g1.fwd", Version1File());
  ASSERT_OK_AND_ASSIGN(auto r1, ForwardIndexReader::Open(tmp.path(), v1));
  ExpectRecords(*r1);
  ASSERT_OK_AND_ASSIGN(auto writer, ForwardIndex::Load(tmp.path(), v1));
  ForwardFiles saved;
  ASSERT_OK(writer->Save(tmp.path(), 2, &saved));
  EXPECT_TRUE(saved.base.name.empty());  // a full file
  const FileInfo v2 = saved.file;
  EXPECT_EQ(v2.name, "forward.g2.fwd");
  const std::string bytes = Slurp(tmp.path() + "/" + v2.name);
  uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  EXPECT_EQ(version, 2u);
  ASSERT_OK_AND_ASSIGN(auto r2, ForwardIndexReader::Open(tmp.path(), v2));
  ExpectRecords(*r2);
  // And the writer reads version 2 back: with no change, the next save is
  // an empty delta over it, read as the same documents.
  ASSERT_OK_AND_ASSIGN(auto again, ForwardIndex::Load(tmp.path(), v2));
  ForwardFiles v3;
  ASSERT_OK(again->Save(tmp.path(), 3, &v3));
  EXPECT_EQ(v3.base.name, v2.name);
  EXPECT_EQ(v3.base.crc32, v2.crc32);
  EXPECT_EQ(v3.file.size, 64u + 8 + 8);  // header and two offset arrays of one entry
  ASSERT_OK_AND_ASSIGN(auto r3, ForwardIndexReader::Open(tmp.path(), v3));
  ExpectRecords(*r3);
}

// A token buffer of whitespace-separated words (what the analyzer would
// give for already analysed text).
TokenBuffer Tokens(const std::wstring& text) {
  TokenBuffer b;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == L' ') ++i;
    if (i == text.size()) break;
    const size_t start = i;
    while (i < text.size() && text[i] != L' ') b.chars.push_back(text[i++]);
    b.ends.push_back(static_cast<uint32_t>(b.chars.size()));
    b.increments.push_back(1);
    b.starts.push_back(static_cast<uint32_t>(start));
  }
  return b;
}

void Put(ForwardIndex* f, const std::string& id, const std::wstring& text) {
  Document d;
  d.id = id;
  const TokenBuffer t = Tokens(text);
  f->Put(d, TokenBuffer(), t, {static_cast<uint32_t>(t.size())});
}

TEST(ForwardFileTest, ADeltaHoldsTheChangesSinceItsBaseAndReadsAsTheWhole) {
  TempDir tmp;
  const FileInfo v1 = Write(tmp.path(), "forward.g1.fwd", Version1File());
  ForwardFiles base;
  {
    ASSERT_OK_AND_ASSIGN(auto w, ForwardIndex::Load(tmp.path(), v1));
    for (int i = 0; i < 200; ++i) Put(w.get(), "doc" + std::to_string(1000 + i), L"lens clear protein");
    ASSERT_OK(w->Save(tmp.path(), 2, &base));
  }
  ASSERT_TRUE(base.base.name.empty());
  ASSERT_OK_AND_ASSIGN(auto w, ForwardIndex::Load(tmp.path(), base));
  Put(w.get(), "c", L"novel lens");  // new, with a new term
  Put(w.get(), "b", L"clear");       // replaces a base document
  w->Delete("a");                    // a base document
  w->Delete("doc1005");
  w->Delete("never");  // not in the base: no tombstone
  ForwardFiles delta;
  ASSERT_OK(w->Save(tmp.path(), 3, &delta));
  EXPECT_EQ(delta.base.name, base.file.name);
  EXPECT_LT(delta.file.size * kDeltaFraction, base.file.size);
  const std::string bytes = Slurp(tmp.path() + "/" + delta.file.name);
  uint32_t version = 0;
  uint64_t terms = 0, docs = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&terms, bytes.data() + 16, 8);
  std::memcpy(&docs, bytes.data() + 24, 8);
  EXPECT_EQ(version, kForwardDeltaVersion);
  EXPECT_EQ(terms, 1u);  // "novel"
  EXPECT_EQ(docs, 4u);   // b, c, and tombstones for a and doc1005
  for (const auto& r : {ForwardIndexReader::Open(tmp.path(), delta)}) {
    ASSERT_OK(r.status());
    EXPECT_EQ((*r)->size(), 2u + 200 - 2 + 1);
    EXPECT_TRUE((*r)->Get("a").status().IsNotFound());
    EXPECT_TRUE((*r)->Get("doc1005").status().IsNotFound());
    EXPECT_TRUE((*r)->Get("never").status().IsNotFound());
    ASSERT_OK_AND_ASSIGN(AnalysedDocument b, (*r)->Get("b"));
    EXPECT_EQ(b.text, std::vector<std::string>({"clear"}));
    ASSERT_OK_AND_ASSIGN(AnalysedDocument c, (*r)->Get("c"));
    EXPECT_EQ(c.text, std::vector<std::string>({"novel", "lens"}));
    ASSERT_OK_AND_ASSIGN(AnalysedDocument d, (*r)->Get("doc1006"));
    EXPECT_EQ(d.text, std::vector<std::string>({"lens", "clear", "protein"}));
  }
  // A writer loaded from base + delta holds the same changes: its next save
  // writes the same delta again.
  ASSERT_OK_AND_ASSIGN(auto reloaded, ForwardIndex::Load(tmp.path(), delta));
  EXPECT_EQ(reloaded->size(), w->size());
  ForwardFiles again;
  ASSERT_OK(reloaded->Save(tmp.path(), 4, &again));
  EXPECT_EQ(Slurp(tmp.path() + "/" + again.file.name), bytes);
  // Changes past 1/kDeltaFraction of the base: a full file again.
  for (int i = 0; i < 100; ++i) Put(reloaded.get(), "more" + std::to_string(i), L"protein lens");
  ForwardFiles full;
  ASSERT_OK(reloaded->Save(tmp.path(), 5, &full));
  EXPECT_TRUE(full.base.name.empty());
  ASSERT_OK_AND_ASSIGN(auto r5, ForwardIndexReader::Open(tmp.path(), full));
  EXPECT_EQ(r5->size(), 2u + 200 - 2 + 1 + 100);
  ASSERT_OK_AND_ASSIGN(AnalysedDocument c5, r5->Get("c"));
  EXPECT_EQ(c5.text, std::vector<std::string>({"novel", "lens"}));
}

TEST(ForwardFileTest, ADamagedDeltaOrOneOverAnotherBaseIsCorruptionNamingIt) {
  TempDir tmp;
  const FileInfo v1 = Write(tmp.path(), "forward.g1.fwd", Version1File());
  ForwardFiles base, other;
  {
    ASSERT_OK_AND_ASSIGN(auto w, ForwardIndex::Load(tmp.path(), v1));
    for (int i = 0; i < 200; ++i) Put(w.get(), "doc" + std::to_string(1000 + i), L"lens clear protein");
    ASSERT_OK(w->Save(tmp.path(), 2, &base));
    Put(w.get(), "x", L"lens");
    ASSERT_OK(w->Save(tmp.path(), 3, &other));  // a full file (w has no base)
  }
  ASSERT_TRUE(other.base.name.empty());
  ASSERT_OK_AND_ASSIGN(auto w, ForwardIndex::Load(tmp.path(), base));
  Put(w.get(), "c", L"novel lens");
  ForwardFiles delta;
  ASSERT_OK(w->Save(tmp.path(), 4, &delta));
  ASSERT_FALSE(delta.base.name.empty());
  auto expect_corrupt = [&](const ForwardFiles& f, const std::string& name) {
    for (const Status& s :
         {ForwardIndexReader::Open(tmp.path(), f).status(), ForwardIndex::Load(tmp.path(), f).status()}) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(s.message().find(name), std::string::npos) << s.ToString();
    }
  };
  // Read over another base.
  ForwardFiles wrong_base = delta;
  wrong_base.base = other.file;
  expect_corrupt(wrong_base, delta.file.name);
  // Named alone, without its base.
  EXPECT_TRUE(ForwardIndexReader::Open(tmp.path(), delta.file).status().IsCorruption());
  // A flipped byte in the delta.
  std::string bytes = Slurp(tmp.path() + "/" + delta.file.name);
  bytes[bytes.size() - 20] ^= 0x10;
  std::ofstream(tmp.path() + "/" + delta.file.name, std::ios::binary) << bytes;
  expect_corrupt(delta, delta.file.name);
}

// Offsets into a version 2 file of the v1 sample rewritten: header 64,
// dictionary "lensclearprotein" (16 bytes), then the records.
TEST(ForwardFileTest, Version2DamageIsCorruptionNamingTheFile) {
  TempDir tmp;
  const FileInfo v1 = Write(tmp.path(), "forward.g1.fwd", Version1File());
  ASSERT_OK_AND_ASSIGN(auto writer, ForwardIndex::Load(tmp.path(), v1));
  ForwardFiles saved;
  ASSERT_OK(writer->Save(tmp.path(), 2, &saved));
  const FileInfo v2 = saved.file;
  const std::string good = Slurp(tmp.path() + "/" + v2.name);
  const size_t dict = 64, records = 64 + 16;
  ASSERT_EQ(good.substr(dict, 16), "lensclearprotein");
  ASSERT_EQ(good.substr(records, 2), std::string("\x01"
                                                 "a",
                                                 2));  // record 0: id "a"
  struct Case {
    const char* what;
    size_t at;
    bool at_open;
  } cases[] = {{"header", 20, true},
               {"dictionary", dict + 3, true},
               {"term offsets", good.size() - 8 * 3 - 8 * 4 + 1, true},
               {"record offsets", good.size() - 5, true},
               {"record a's id", records + 1, false},
               {"record a's body", records + 4, false},
               {"record a's checksum", records + 22, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::string bad = good;
    bad[c.at] = static_cast<char>(bad[c.at] ^ 0x21);
    // The size is what Open checks against the manifest; the bytes are the
    // reader's own to check.
    const FileInfo info = Write(tmp.path(), "forward.g9.fwd", bad);
    auto r = ForwardIndexReader::Open(tmp.path(), info);
    if (c.at_open) {
      ASSERT_FALSE(r.ok());
      EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
      EXPECT_NE(r.status().ToString().find("forward.g9.fwd"), std::string::npos) << r.status().ToString();
      continue;
    }
    ASSERT_OK(r.status());
    auto a = (*r)->Get("a");
    if (a.ok()) {
      ADD_FAILURE() << "a damaged record decoded";
    } else if (!a.status().IsNotFound()) {  // a damaged id may only hide the record
      EXPECT_TRUE(a.status().IsCorruption()) << a.status().ToString();
      EXPECT_NE(a.status().ToString().find("forward.g9.fwd"), std::string::npos) << a.status().ToString();
    }
    ASSERT_OK_AND_ASSIGN(AnalysedDocument b, (*r)->Get("b"));  // the other record is intact
    EXPECT_EQ(b.text, std::vector<std::string>({"protein"}));
  }
  // A size the manifest does not expect, and a truncated file.
  FileInfo wrong = v2;
  wrong.size += 1;
  EXPECT_TRUE(ForwardIndexReader::Open(tmp.path(), wrong).status().IsCorruption());
  const FileInfo cut = Write(tmp.path(), "forward.g8.fwd", good.substr(0, good.size() - 8));
  auto r = ForwardIndexReader::Open(tmp.path(), cut);
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
}

// A sentence end delta of 2^64 - 1 (a 10-byte varint) once wrapped the
// running end back below the text length, so the record decoded with
// decreasing sentence ends (text[2, 1): a reversed slice for the sentence
// features). Found while writing the forward fuzz target, whose harness
// checks that decoded sentence ends never decrease; its input is
// tests/fuzz/regressions/forward/sentence-end-overflow.
TEST(ForwardFileTest, SentenceEndDeltaThatWrapsIsCorruption) {
  std::string record;
  for (uint64_t v : {uint64_t{0}, uint64_t{2}, uint64_t{0}, uint64_t{0}, uint64_t{2}, uint64_t{2}, ~uint64_t{0},
                     uint64_t{0}, uint64_t{0}}) {
    PutVarint(&record, v);  // no title; text [t0 t0]; sentences 2, +(2^64-1); no domain, no fields
  }
  std::string payload;
  PutVarintString(&payload, "t");
  PutVarintString(&payload, "d0");
  PutVarintString(&payload, record);
  std::string h(48, '\0');
  std::memcpy(h.data(), "HYMIRFWD", 8);
  const uint32_t version = 1, crc = hymir::internal::Crc32(0, payload.data(), payload.size());
  const uint64_t terms = 1, docs = 1, size = payload.size();
  std::memcpy(h.data() + 8, &version, 4);
  std::memcpy(h.data() + 16, &terms, 8);
  std::memcpy(h.data() + 24, &docs, 8);
  std::memcpy(h.data() + 32, &size, 8);
  std::memcpy(h.data() + 40, &crc, 4);
  TempDir tmp;
  const FileInfo v1 = Write(tmp.path(), "forward.g1.fwd", h + payload);
  for (const auto& s :
       {ForwardIndexReader::Open(tmp.path(), v1).status(), ForwardIndex::Load(tmp.path(), v1).status()}) {
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find("forward.g1.fwd: malformed record 0"), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace hymir::index::internal
