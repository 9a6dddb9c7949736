// hymir's inverter writes the segment Lucene++'s IndexWriter writes for the
// same documents: every file byte for byte (the commit point too, given the
// same version), on made-up documents that reach the format's corners and on
// the shared collections' corpora as hymir's index writer lays them out; and
// Lucene++ checks, reads and merges what it wrote.
#include "index/lucene/segment_inverter.h"

#include <gtest/gtest.h>
#include <lucene++/CheckIndex.h>
#include <lucene++/LuceneHeaders.h>
#include <lucene++/SerialMergeScheduler.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hymir/beir.h"
#include "index/lucene/analysis_chain.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/stored_source.h"
#include "index/vector/manifest.h"
#include "tests/testutil/testutil.h"

namespace hymir::index::internal {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A document's fields and the buffers and strings they point into.
struct Doc {
  std::deque<std::wstring> strings;  // deques: the views into them stay valid
  std::deque<std::string> bytes;
  std::vector<std::unique_ptr<TokenBuffer>> buffers;
  std::vector<InvertField> fields;

  std::wstring_view Keep(std::wstring s) { return strings.emplace_back(std::move(s)); }
  void Stored(std::wstring name, std::wstring text) {
    InvertField f;
    f.kind = InvertField::Kind::kStoredString;
    f.name = Keep(std::move(name));
    f.text = Keep(std::move(text));
    fields.push_back(f);
  }
  void Binary(std::wstring name, std::string value) {
    InvertField f;
    f.kind = InvertField::Kind::kStoredBinary;
    f.name = Keep(std::move(name));
    f.value = bytes.emplace_back(std::move(value));
    fields.push_back(f);
  }
  void Keyword(std::wstring name, std::wstring text, bool stored) {
    InvertField f;
    f.kind = InvertField::Kind::kKeyword;
    f.name = Keep(std::move(name));
    f.text = Keep(std::move(text));
    f.stored = stored;
    fields.push_back(f);
  }
  // Tokens given as (term, increment).
  TokenBuffer* Buffer(const std::vector<std::pair<std::wstring, int32_t>>& tokens) {
    auto b = std::make_unique<TokenBuffer>();
    for (const auto& [t, inc] : tokens) {
      b->chars.insert(b->chars.end(), t.begin(), t.end());
      b->ends.push_back(static_cast<uint32_t>(b->chars.size()));
      b->increments.push_back(inc);
      b->starts.push_back(0);
    }
    buffers.push_back(std::move(b));
    return buffers.back().get();
  }
  void Tokens(std::wstring name, std::vector<const TokenBuffer*> parts) {
    InvertField f;
    f.kind = InvertField::Kind::kTokens;
    f.name = Keep(std::move(name));
    f.tokens = std::move(parts);
    fields.push_back(f);
  }
};

using Docs = std::vector<std::unique_ptr<Doc>>;

// Lucene++'s IndexWriter as hymir's writer opens it (no compound files, one
// flush for everything given), then one commit with `generation` as its
// user data. Returns the commit's version.
int64_t IndexWithLucenepp(const std::string& dir, const Docs& docs, bool update_by_id) {
  auto directory = Lucene::FSDirectory::open(Wide(dir));
  auto writer = Lucene::newLucene<Lucene::IndexWriter>(directory, Lucene::newLucene<Lucene::WhitespaceAnalyzer>(), true,
                                                       Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
  writer->setMergeScheduler(Lucene::newLucene<Lucene::SerialMergeScheduler>());
  writer->setRAMBufferSizeMB(1024);
  writer->setUseCompoundFile(false);
  for (const auto& d : docs) {
    Lucene::DocumentPtr doc = ToLuceneDocument(d->fields);
    if (update_by_id) {
      writer->updateDocument(Lucene::newLucene<Lucene::Term>(kIdField, doc->get(kIdField)), doc);
    } else {
      writer->addDocument(doc);
    }
  }
  Lucene::MapStringString data = Lucene::MapStringString::newInstance();
  data.put(kGenerationKey, L"1");
  writer->commit(data);
  writer->close();
  directory->close();
  const std::string seg = ReadAll(fs::path(dir) / "segments_2");
  int64_t version = 0;
  for (int i = 4; i < 12; ++i) version = (version << 8) | static_cast<uint8_t>(seg[i]);
  return version;
}

void IndexWithInverter(const std::string& dir, const Docs& docs, int64_t version) {
  fs::create_directories(dir);
  SegmentInverter inverter;
  for (const auto& d : docs) {
    const Status s = inverter.AddDocument(d->fields);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto seg = inverter.Flush(dir, "_0");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  ASSERT_TRUE(WriteCommitPoint(dir, 2, version, 1, {seg.value()}, {{kGenerationKey, L"1"}}).ok());
}

// Every file of `a` (but the lock and the first, empty commit) is in `b`
// with the same bytes, and `b` has no other file.
void ExpectSameFiles(const std::string& a, const std::string& b) {
  std::set<std::string> names_a, names_b;
  for (const auto& e : fs::directory_iterator(a)) {
    const std::string n = e.path().filename().string();
    if (n != "write.lock" && n != "segments_1") names_a.insert(n);
  }
  for (const auto& e : fs::directory_iterator(b)) names_b.insert(e.path().filename().string());
  EXPECT_EQ(names_a, names_b);
  for (const std::string& n : names_a) {
    const std::string x = ReadAll(fs::path(a) / n), y = ReadAll(fs::path(b) / n);
    if (x == y) continue;
    size_t i = 0;
    while (i < x.size() && i < y.size() && x[i] == y[i]) ++i;
    ADD_FAILURE() << n << ": " << x.size() << " bytes from Lucene++, " << y.size()
                  << " from the inverter, first difference at byte " << i;
  }
}

bool CheckIndexClean(const std::string& dir) {
  auto directory = Lucene::FSDirectory::open(Wide(dir));
  auto checker = Lucene::newLucene<Lucene::CheckIndex>(directory);
  const bool clean = checker->checkIndex()->clean;
  directory->close();
  return clean;
}

// Documents that reach the format's corners: a term in every document (skip
// lists on two levels), fields first seen late and named out of order,
// several instances of a field in one document, position increments of 0 and
// 2 (also on a field's first token), an empty keyword, a term past Lucene++'s
// 16,383-character limit (skipped), U+FFFD in a term, non-ASCII text and binary values with NULs, a document with
// nothing stored, one with no tokens.
Docs CornerDocs(int n) {
  Docs docs;
  std::mt19937 rng(7);
  const std::vector<std::wstring> words = {L"alpha",      L"beta", L"gamma", L"d\u00e9j\u00e0", L"\u6f22\u5b57",
                                           L"\U0001F642", L"al",   L"alp",   L"zeta",           L"Zulu"};
  for (int i = 0; i < n; ++i) {
    auto d = std::make_unique<Doc>();
    if (i != 5) d->Keyword(L"_id", L"doc" + std::to_wstring(i), /*stored=*/true);
    if (i != 5) d->Binary(L"_src", std::string("\0bin\xff", 5) + std::to_string(i));
    std::vector<std::pair<std::wstring, int32_t>> toks;
    toks.push_back({L"common", i % 3 == 0 ? 2 : 1});
    const int len = i == 9 ? 0 : 1 + static_cast<int>(rng() % 40);
    for (int k = 0; k < len; ++k) {
      toks.push_back(
          {words[rng() % words.size()], static_cast<int32_t>(rng() % 5 == 0 ? 2 : (rng() % 7 == 0 ? 0 : 1))});
    }
    if (i == 9) toks.clear();
    if (i == 11) toks.push_back({std::wstring(16384, L'x'), 1});
    if (i == 12) toks.push_back({std::wstring(16383, L'y'), 1});
    if (i == 13) toks.push_back({std::wstring(L"a\ufffdb"), 1});
    TokenBuffer* text = d->Buffer(toks);
    TokenBuffer* title = d->Buffer({{words[i % words.size()], i % 4 == 0 ? 0 : 1}, {L"common", 1}});
    d->Tokens(L"title", {title});
    d->Keyword(L"_len.title", std::to_wstring(title->size()), false);
    d->Tokens(L"text", {text});
    d->Keyword(L"_len.text", std::to_wstring(text->size()), false);
    if (i > 300) d->Tokens(L"Late", {title, text});
    if (i % 2 == 0) {
      d->Keyword(L"_f.tag", L"even", true);
      d->Keyword(L"_f.tag", i % 4 == 0 ? L"four" : L"", true);
    }
    if (i % 10 == 0) d->Stored(L"_t.note", L"note \u00fcber " + std::to_wstring(i) + L" \U0001F642");
    if (i % 7 == 0) d->Tokens(L"_t.note", {text});
    docs.push_back(std::move(d));
  }
  return docs;
}

class SegmentInverterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("hymir_inverter_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    if (!std::getenv("HYMIR_KEEP_INVERTER_TEST")) fs::remove_all(root_);
  }
  std::string Dir(const std::string& name) const { return (root_ / name).string(); }
  fs::path root_;
};

TEST_F(SegmentInverterTest, CornerDocumentsGiveLuceneppsFiles) {
  const Docs docs = CornerDocs(700);
  const int64_t version = IndexWithLucenepp(Dir("lucenepp"), docs, /*update_by_id=*/false);
  IndexWithInverter(Dir("hymir"), docs, version);
  ExpectSameFiles(Dir("lucenepp"), Dir("hymir"));
  EXPECT_TRUE(CheckIndexClean(Dir("hymir")));
}

TEST_F(SegmentInverterTest, FewDocumentsAndNoDocumentsGiveLuceneppsFiles) {
  for (int n : {0, 1, 15, 16, 17}) {
    const Docs docs = CornerDocs(n);
    const std::string a = Dir("lucenepp" + std::to_string(n)), b = Dir("hymir" + std::to_string(n));
    const int64_t version = IndexWithLucenepp(a, docs, false);
    if (n == 0) continue;  // Lucene++ writes no segment for no documents
    IndexWithInverter(b, docs, version);
    ExpectSameFiles(a, b);
  }
}

// Lucene++ adds `more` to the index in `dir` as a segment of its own and
// merges everything into one segment.
void AddAndOptimize(const std::string& dir, const Docs& more) {
  auto directory = Lucene::FSDirectory::open(Wide(dir));
  auto writer = Lucene::newLucene<Lucene::IndexWriter>(directory, Lucene::newLucene<Lucene::WhitespaceAnalyzer>(),
                                                       false, Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
  writer->setMergeScheduler(Lucene::newLucene<Lucene::SerialMergeScheduler>());
  writer->setUseCompoundFile(false);
  for (const auto& d : more) writer->addDocument(ToLuceneDocument(d->fields));
  writer->optimize();
  writer->close();
  directory->close();
}

TEST_F(SegmentInverterTest, LuceneppReadsSearchesAndMergesTheSegment) {
  const Docs docs = CornerDocs(400);
  const int64_t version = IndexWithLucenepp(Dir("lucenepp"), docs, false);
  IndexWithInverter(Dir("hymir"), docs, version);
  EXPECT_TRUE(CheckIndexClean(Dir("hymir")));
  auto directory = Lucene::FSDirectory::open(Wide(Dir("hymir")));
  {
    auto reader = Lucene::IndexReader::open(directory, true);
    EXPECT_EQ(reader->numDocs(), static_cast<int32_t>(docs.size()));
    auto searcher = Lucene::newLucene<Lucene::IndexSearcher>(reader);
    auto hits =
        searcher->search(Lucene::newLucene<Lucene::TermQuery>(Lucene::newLucene<Lucene::Term>(L"_id", L"doc77")), 10);
    ASSERT_EQ(hits->totalHits, 1);
    EXPECT_EQ(reader->document(hits->scoreDocs[0]->doc)->get(L"_id"), L"doc77");
    searcher->close();
    reader->close();
  }
  directory->close();
  // Lucene++ merging hymir's segment with one of its own writes what it
  // writes merging its own two.
  const Docs more = CornerDocs(50);
  AddAndOptimize(Dir("lucenepp"), more);
  AddAndOptimize(Dir("hymir"), more);
  ExpectSameFiles(Dir("lucenepp"), Dir("hymir"));
  EXPECT_TRUE(CheckIndexClean(Dir("hymir")));
}

TEST_F(SegmentInverterTest, RefusedDocumentLeavesNothingBehind) {
  SegmentInverter inverter;
  Doc bad;
  bad.Keyword(L"_id", L"ok", true);
  bad.Keyword(L"_f.x", std::wstring(L"a") + static_cast<wchar_t>(0xD800), true);
  Status s = inverter.AddDocument(bad.fields);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_NE(s.message().find("U+D800"), std::string::npos) << s.message();
  Doc ffff;
  ffff.Tokens(L"text", {ffff.Buffer({{L"fine", 1}, {std::wstring(L"a") + static_cast<wchar_t>(0xFFFF), 1}})});
  s = inverter.AddDocument(ffff.fields);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_NE(s.message().find("U+FFFF"), std::string::npos) << s.message();
  EXPECT_EQ(inverter.num_docs(), 0);
  // The refused documents left no field behind: the segment of one good
  // document is Lucene++'s.
  Docs one;
  one.push_back(std::make_unique<Doc>());
  one.back()->Keyword(L"_id", L"good", true);
  const int64_t version = IndexWithLucenepp(Dir("lucenepp"), one, false);
  ASSERT_TRUE(inverter.AddDocument(one.back()->fields).ok());
  fs::create_directories(Dir("hymir"));
  auto seg = inverter.Flush(Dir("hymir"), "_0");
  ASSERT_TRUE(seg.ok());
  ASSERT_TRUE(WriteCommitPoint(Dir("hymir"), 2, version, 1, {seg.value()}, {{kGenerationKey, L"1"}}).ok());
  ExpectSameFiles(Dir("lucenepp"), Dir("hymir"));
}

// The shared collections, laid out as hymir's index writer (format 3) lays
// out a document: _id, _src, title and text tokens with their _len terms.
TEST_F(SegmentInverterTest, SharedCorporaGiveLuceneppsFiles) {
  bool any = false;
  for (const char* name : {"scifact", "cacm", "cisi", "cranfield", "med", "mixed"}) {
    const std::string data = testing::SharedDataDir(name);
    if (data.empty()) continue;
    any = true;
    const TextAnalysis analysis(AnalyzerKind::kEnglish, false);
    ASSERT_OK_AND_ASSIGN(auto reader, CorpusReader::Open(data + "/corpus.jsonl"));
    Docs docs;
    Document doc;
    while (true) {
      ASSERT_OK_AND_ASSIGN(bool more, reader->Next(&doc));
      if (!more) break;
      auto d = std::make_unique<Doc>();
      TokenBuffer* title = d->Buffer({});
      TokenBuffer* text = d->Buffer({});
      analysis.AnalyzeInto(analysis.Decode(doc.title), title);
      analysis.AnalyzeInto(analysis.Decode(doc.text), text);
      d->Keyword(kIdField, Wide(doc.id), true);
      d->Binary(kSourceField, EncodeSource(doc.title, doc.text));
      for (int f = 0; f < kAllField; ++f) {
        TokenBuffer* t = f == 0 ? title : text;
        d->Tokens(kTextFieldsW[f], {t});
        d->Keyword(kLenFieldsW[f], std::to_wstring(t->size()), false);
      }
      docs.push_back(std::move(d));
    }
    const int64_t version = IndexWithLucenepp(Dir(std::string("lucenepp_") + name), docs, /*update_by_id=*/true);
    IndexWithInverter(Dir(std::string("hymir_") + name), docs, version);
    ExpectSameFiles(Dir(std::string("lucenepp_") + name), Dir(std::string("hymir_") + name));
    fs::remove_all(Dir(std::string("lucenepp_") + name));
    fs::remove_all(Dir(std::string("hymir_") + name));
  }
  if (!any) GTEST_SKIP() << "no shared collections in " << HYMIR_SHARED_DATA_DIR;
}

}  // namespace
}  // namespace hymir::index::internal
