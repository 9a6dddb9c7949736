// libFuzzer target: hymir's segment inverter (segment_inverter.h) against
// Lucene++'s IndexWriter. The input becomes up to 40 documents of stored
// strings, binary values, keywords and token streams over a few field names
// (so fields repeat within and across documents, change kind, and terms
// repeat enough to reach skip lists), with characters of every UTF-8 length,
// U+FFFD and, now and then, a surrogate or U+FFFF (which the inverter must
// refuse, leaving nothing behind: such a document is given to neither
// writer). Both write one segment and its commit; any file that differs
// stops the run.
#include <lucene++/LuceneHeaders.h>
#include <lucene++/SerialMergeScheduler.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "index/lucene/analysis.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/segment_inverter.h"

namespace {

namespace hi = hymir::index::internal;
namespace fs = std::filesystem;

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  uint8_t Next() { return p_ < end_ ? *p_++ : 0; }
  bool done() const { return p_ >= end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

const wchar_t* const kNames[] = {L"_id", L"title", L"text", L"_f.a", L"B", L"\u00e9t\u00e9", L"_src"};
const wchar_t kChars[] = L"aabbcz0\u00e9\u4e2d\U0001F642\ufffd";

std::wstring Text(Bytes& in, size_t max) {
  std::wstring s;
  const size_t n = in.Next() % (max + 1);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t b = in.Next();
    if (b == 0xFE) {
      s += static_cast<wchar_t>(0xD800 + in.Next());  // refused
    } else if (b == 0xFF) {
      s += static_cast<wchar_t>(0xFFFF);  // refused
    } else {
      s += kChars[b % (std::size(kChars) - 1)];
    }
  }
  return s;
}

struct Doc {
  std::deque<std::wstring> strings;
  std::deque<std::string> bytes;
  std::deque<hi::TokenBuffer> buffers;
  std::vector<hi::InvertField> fields;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const int num_docs = 1 + in.Next() % 40;
  std::vector<std::unique_ptr<Doc>> docs;
  hi::SegmentInverter inverter;
  for (int d = 0; d < num_docs; ++d) {
    auto doc = std::make_unique<Doc>();
    const int num_fields = in.Next() % 6;
    for (int f = 0; f < num_fields; ++f) {
      const uint8_t b = in.Next();
      hi::InvertField field;
      field.name = kNames[(b >> 2) % std::size(kNames)];
      switch (b % 4) {
        case 0:
          field.kind = hi::InvertField::Kind::kStoredString;
          field.text = doc->strings.emplace_back(Text(in, 12));
          break;
        case 1: {
          field.kind = hi::InvertField::Kind::kStoredBinary;
          std::string v;
          for (int n = in.Next() % 9; n > 0; --n) v += static_cast<char>(in.Next());
          field.value = doc->bytes.emplace_back(std::move(v));
          break;
        }
        case 2:
          field.kind = hi::InvertField::Kind::kKeyword;
          field.text = doc->strings.emplace_back(Text(in, 3));
          field.stored = in.Next() % 2;
          break;
        default: {
          field.kind = hi::InvertField::Kind::kTokens;
          for (int parts = 1 + in.Next() % 2; parts > 0; --parts) {
            hi::TokenBuffer& t = doc->buffers.emplace_back();
            for (int n = in.Next() % 12; n > 0; --n) {
              const std::wstring term = Text(in, 3);
              t.chars.insert(t.chars.end(), term.begin(), term.end());
              t.ends.push_back(static_cast<uint32_t>(t.chars.size()));
              t.increments.push_back(in.Next() % 3);
              t.starts.push_back(0);
            }
            field.tokens.push_back(&t);
          }
          break;
        }
      }
      doc->fields.push_back(field);
    }
    if (inverter.AddDocument(doc->fields).ok()) docs.push_back(std::move(doc));  // else: given to neither
  }
  if (docs.empty()) return 0;  // Lucene++ writes no segment for no documents

  static const fs::path root = fs::temp_directory_path() / ("hymir-inverter-fuzz-" + std::to_string(::getpid()));
  const fs::path a = root / "lucenepp", b = root / "hymir";
  fs::remove_all(root);
  fs::create_directories(a);
  fs::create_directories(b);
  {
    auto directory = Lucene::FSDirectory::open(a.wstring());
    auto writer = Lucene::newLucene<Lucene::IndexWriter>(directory, Lucene::newLucene<Lucene::WhitespaceAnalyzer>(),
                                                         true, Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
    writer->setMergeScheduler(Lucene::newLucene<Lucene::SerialMergeScheduler>());
    writer->setRAMBufferSizeMB(256);
    writer->setUseCompoundFile(false);
    for (const auto& doc : docs) writer->addDocument(hi::ToLuceneDocument(doc->fields));
    Lucene::MapStringString data = Lucene::MapStringString::newInstance();
    data.put(L"k", L"v");
    writer->commit(data);
    writer->close();
    directory->close();
  }
  const std::string seg = ReadAll(a / "segments_2");
  int64_t version = 0;
  for (size_t i = 4; i < 12 && i < seg.size(); ++i) version = (version << 8) | static_cast<uint8_t>(seg[i]);
  auto flushed = inverter.Flush(b.string(), "_0");
  if (!flushed.ok() || !hi::WriteCommitPoint(b.string(), 2, version, 1, {flushed.value()}, {{L"k", L"v"}}).ok()) {
    std::fprintf(stderr, "inverter_fuzz: flush failed\n");
    __builtin_trap();
  }
  for (const auto& e : fs::directory_iterator(a)) {
    const std::string n = e.path().filename().string();
    if (n == "write.lock" || n == "segments_1") continue;
    if (ReadAll(e.path()) != ReadAll(b / n)) {
      std::fprintf(stderr, "inverter_fuzz: %s differs (%zu documents)\n", n.c_str(), docs.size());
      __builtin_trap();
    }
  }
  fs::remove_all(root);
  return 0;
}
