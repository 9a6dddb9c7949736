// IndexWriter on Lucene++. Each document is analysed once per text field;
// the tokens are replayed into the title, text and combined "all" fields, and
// their exact counts are stored as _len.* terms (Lucene++ norms are lossy).
#include <lucene++/LuceneHeaders.h>
#include <lucene++/NoLockFactory.h>
#include <lucene++/SerialMergeScheduler.h>
#include <sys/stat.h>

#include <filesystem>
#include <mutex>

#include "hymir/index/index_writer.h"
#include "index/lucene/analysis.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "src/core/file_util.h"

namespace hymir::index {
namespace {

using internal::Guard;
using internal::Wide;

class LuceneIndexWriter final : public IndexWriter {
 public:
  LuceneIndexWriter(std::string dir, AnalyzerKind kind, std::unique_ptr<hymir::internal::FileLock> lock,
                    Lucene::AnalyzerPtr analyzer, Lucene::IndexWriterPtr writer)
      : dir_(std::move(dir)), kind_(kind), lock_(std::move(lock)), analyzer_(std::move(analyzer)),
        writer_(std::move(writer)) {}

  ~LuceneIndexWriter() override {
    // Uncommitted changes are discarded: rollback() also closes the writer.
    try {
      writer_->rollback();
    } catch (...) {
    }
  }

  Status Upsert(const Document& doc) override {
    if (doc.id.empty()) return Status::InvalidArgument(dir_ + ": document with an empty id");
    for (const auto& [name, value] : doc.fields) {
      if (IsReservedFieldName(name)) {
        return Status::InvalidArgument("document \"" + doc.id + "\": field name \"" + name + "\" is reserved");
      }
    }
    return Guard(dir_ + ": upsert \"" + doc.id + "\"", [&]() -> Status {
      thread_local internal::TokenBuffer title_tokens, text_tokens;
      title_tokens.Clear();
      text_tokens.Clear();
      Lucene::String title = Wide(doc.title);
      Lucene::String text = Wide(doc.text);
      internal::AnalyzeInto(analyzer_, title, &title_tokens);
      internal::AnalyzeInto(analyzer_, text, &text_tokens);

      Lucene::String id = Wide(doc.id);
      auto ldoc = Lucene::newLucene<Lucene::Document>();
      ldoc->add(Lucene::newLucene<Lucene::Field>(internal::kIdField, id, Lucene::Field::STORE_YES,
                                                 Lucene::Field::INDEX_NOT_ANALYZED_NO_NORMS));
      ldoc->add(Lucene::newLucene<Lucene::Field>(L"title", title, Lucene::Field::STORE_YES, Lucene::Field::INDEX_NO));
      ldoc->add(Lucene::newLucene<Lucene::Field>(L"text", text, Lucene::Field::STORE_YES, Lucene::Field::INDEX_NO));
      const internal::TokenBuffer* parts[3][2] = {
          {&title_tokens, nullptr}, {&text_tokens, nullptr}, {&title_tokens, &text_tokens}};
      const size_t lens[3] = {title_tokens.size(), text_tokens.size(), title_tokens.size() + text_tokens.size()};
      for (int f = 0; f < internal::kNumTextFields; ++f) {
        std::vector<const internal::TokenBuffer*> p = {parts[f][0]};
        if (parts[f][1]) p.push_back(parts[f][1]);
        auto field = Lucene::newLucene<Lucene::Field>(internal::kTextFieldsW[f], internal::MakeReplayStream(p));
        field->setOmitNorms(true);
        ldoc->add(field);
        ldoc->add(Lucene::newLucene<Lucene::Field>(internal::kLenFieldsW[f], std::to_wstring(lens[f]),
                                                   Lucene::Field::STORE_NO,
                                                   Lucene::Field::INDEX_NOT_ANALYZED_NO_NORMS));
      }
      auto add_filter = [&](const std::string& name, const std::string& value) {
        ldoc->add(Lucene::newLucene<Lucene::Field>(Wide(internal::kFilterPrefix + name), Wide(value),
                                                   Lucene::Field::STORE_YES,
                                                   Lucene::Field::INDEX_NOT_ANALYZED_NO_NORMS));
      };
      if (doc.domain) add_filter("domain", *doc.domain);
      for (const auto& [name, value] : doc.fields) add_filter(name, value);
      writer_->updateDocument(Lucene::newLucene<Lucene::Term>(internal::kIdField, id), ldoc);
      return Status::OK();
    });
  }

  Status Delete(std::string_view id) override {
    return Guard(dir_ + ": delete", [&]() -> Status {
      writer_->deleteDocuments(Lucene::newLucene<Lucene::Term>(internal::kIdField, Wide(id)));
      return Status::OK();
    });
  }

  Status Commit() override {
    return Guard(dir_ + ": commit", [&]() -> Status {
      writer_->commit();
      return Status::OK();
    });
  }

  Status Rollback() override {
    // Lucene++'s rollback() closes the writer; reopen it at the last commit.
    return Guard(dir_ + ": rollback", [&]() -> Status {
      writer_->rollback();
      writer_ = OpenLuceneWriter(dir_, analyzer_, /*create=*/false);
      return Status::OK();
    });
  }

  AnalyzerKind analyzer() const override { return kind_; }

  Result<uint64_t> NumDocs() override {
    return Guard(dir_ + ": numDocs", [&]() -> Result<uint64_t> {
      return static_cast<uint64_t>(writer_->numDocs());
    });
  }

  const std::string& dir() const override { return dir_; }

  static Lucene::IndexWriterPtr OpenLuceneWriter(const std::string& dir, const Lucene::AnalyzerPtr& analyzer,
                                                 bool create, double ram_mb = 128.0) {
    auto directory = Lucene::FSDirectory::open(Wide(dir + "/" + internal::kTextDir),
                                               Lucene::NoLockFactory::getNoLockFactory());
    auto writer = Lucene::newLucene<Lucene::IndexWriter>(directory, analyzer, create,
                                                         Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
    // ConcurrentMergeScheduler has a known use-after-free on writer
    // destruction (Lucene++ issue #86); serial merges avoid it.
    writer->setMergeScheduler(Lucene::newLucene<Lucene::SerialMergeScheduler>());
    writer->setRAMBufferSizeMB(ram_mb);
    writer->setUseCompoundFile(false);
    return writer;
  }

 private:
  std::string dir_;
  AnalyzerKind kind_;
  std::unique_ptr<hymir::internal::FileLock> lock_;
  Lucene::AnalyzerPtr analyzer_;
  Lucene::IndexWriterPtr writer_;
};

}  // namespace

Result<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& dir, const IndexWriterOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (!options.create_if_missing) return Status::NotFound(dir + ": no index directory");
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError(dir + ": cannot create directory: " + ec.message());
  } else if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument(dir + ": exists and is not a directory");
  }
  auto lock = hymir::internal::FileLock::Acquire(dir + "/" + internal::kLockFile);
  if (!lock.ok()) return lock.status();

  auto meta = internal::ReadMeta(dir);
  bool fresh = false;
  if (meta.status().IsNotFound()) {
    if (fs::exists(dir + "/" + internal::kTextDir)) {
      return Status::Corruption(dir + ": has a text/ index but no " + internal::kMetaFile);
    }
    if (!options.create_if_missing) return Status::NotFound(dir + ": no hymir index (missing hymir.json)");
    internal::IndexMeta m;
    m.analyzer = options.analyzer.value_or(AnalyzerKind::kEnglish);
    HYMIR_RETURN_IF_ERROR(internal::WriteMeta(dir, m));
    meta = m;
    fresh = true;
  } else if (!meta.ok()) {
    return meta.status();
  }
  if (options.analyzer && *options.analyzer != meta->analyzer) {
    return Status::InvalidArgument(dir + ": index uses analyzer \"" + AnalyzerName(meta->analyzer) +
                                   "\", not \"" + AnalyzerName(*options.analyzer) + "\"");
  }
  const AnalyzerKind kind = meta->analyzer;
  return Guard(dir, [&]() -> Result<std::unique_ptr<IndexWriter>> {
    auto analyzer = internal::MakeAnalyzer(kind);
    auto text_dir = Lucene::FSDirectory::open(Wide(dir + "/" + internal::kTextDir),
                                              Lucene::NoLockFactory::getNoLockFactory());
    bool create = fresh || !Lucene::IndexReader::indexExists(text_dir);
    text_dir->close();
    auto writer = LuceneIndexWriter::OpenLuceneWriter(dir, analyzer, create, options.ram_buffer_mb);
    if (create) writer->commit();  // an empty, openable index from the start
    return std::unique_ptr<IndexWriter>(
        new LuceneIndexWriter(dir, kind, std::move(lock).value(), analyzer, writer));
  });
}

}  // namespace hymir::index
