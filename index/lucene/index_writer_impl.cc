// IndexWriter on Lucene++ and FAISS. Each document is analysed once per text
// field; the tokens are replayed into the title, text and combined "all"
// fields, and their exact counts are stored as _len.* terms (Lucene++ norms
// are lossy); the same tokens go to the forward index. Vectors go to one
// VectorStore per vector field; Commit() writes them and the forward index
// under a new generation and names it in the Lucene++ commit.
#include <lucene++/LuceneHeaders.h>
#include <lucene++/NoLockFactory.h>
#include <lucene++/SegmentInfos.h>
#include <lucene++/SerialMergeScheduler.h>

#include <algorithm>
#include <array>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_set>

#include "hymir/index/index_writer.h"
#include "hymir/index/lsa_embedder.h"
#include "index/lucene/analysis.h"
#include "index/lucene/analysis_chain.h"
#include "index/lucene/commit_manifest.h"
#include "index/lucene/doc_values.h"
#include "index/lucene/forward_index.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/segment_cache.h"
#include "index/lucene/segment_inverter.h"
#include "index/lucene/stored_source.h"
#include "index/vector/field_embedder.h"
#include "index/vector/manifest.h"
#include "index/vector/vector_store.h"
#include "src/core/file_util.h"

namespace hymir::index {
namespace {

using internal::Guard;
using internal::Wide;

// `tables`: the block checksums of the commit the writer starts from, so that
// merges verify what they read of it (and never record damage as good).
Lucene::IndexWriterPtr OpenLuceneWriter(const std::string& dir, const Lucene::AnalyzerPtr& analyzer, bool create,
                                        double ram_mb, const internal::BlockTables& tables = {}) {
  auto directory = Lucene::newLucene<internal::VerifyingDirectory>(dir + "/" + internal::kTextDir);
  directory->AddTables(tables);
  auto writer =
      Lucene::newLucene<Lucene::IndexWriter>(directory, analyzer, create, Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
  // ConcurrentMergeScheduler has a known use-after-free on writer
  // destruction (a use-after-free race reported upstream in Lucene++); serial merges avoid it.
  writer->setMergeScheduler(Lucene::newLucene<Lucene::SerialMergeScheduler>());
  writer->setRAMBufferSizeMB(ram_mb);
  writer->setUseCompoundFile(false);
  return writer;
}

// The vector generation named by the last Lucene++ commit (0: none).
uint64_t CommittedGeneration(const std::string& dir) {
  auto directory =
      Lucene::FSDirectory::open(Wide(dir + "/" + internal::kTextDir), Lucene::NoLockFactory::getNoLockFactory());
  Lucene::MapStringString data = Lucene::IndexReader::getCommitUserData(directory);
  directory->close();
  if (!data.contains(internal::kGenerationKey)) return 0;
  return std::stoull(internal::Utf8(data.get(internal::kGenerationKey)));
}

using Stores = std::map<std::string, std::unique_ptr<internal::VectorStore>>;

// Loads the stores of generation `g` (empty stores when g == 0), and its
// forward index into *forward (empty when g == 0 or the generation has none).
Result<Stores> LoadStores(const std::string& dir, const internal::IndexMeta& meta, uint64_t g,
                          std::unique_ptr<internal::ForwardIndex>* forward,
                          std::unique_ptr<internal::DocValues>* values) {
  Stores stores;
  const std::string vdir = dir + "/" + internal::kVectorsDir;
  internal::Manifest manifest;
  if (g > 0) {
    auto m = internal::ReadManifest(vdir, g);
    if (!m.ok()) return m.status();
    manifest = std::move(m).value();
  }
  for (const auto& spec : meta.vector_fields) {
    auto it = std::find_if(manifest.fields.begin(), manifest.fields.end(),
                           [&](const internal::ManifestField& f) { return f.name == spec.name; });
    Result<std::unique_ptr<internal::VectorStore>> s =
        it == manifest.fields.end() ? internal::VectorStore::Create(spec)
                                    : internal::VectorStore::Load(spec, vdir, it->raw, it->faiss);
    if (!s.ok()) return s.status();
    stores[spec.name] = std::move(s).value();
  }
  if (manifest.forward.name.empty()) {
    *forward = std::make_unique<internal::ForwardIndex>();
  } else {
    auto f = internal::ForwardIndex::Load(vdir, internal::ForwardFiles{manifest.forward, manifest.forward_base});
    if (!f.ok()) return f.status();
    *forward = std::move(f).value();
  }
  const Schema values_schema = internal::ValuesSchema(meta.schema);
  if (!values_schema.empty() && !manifest.values.name.empty()) {
    auto v =
        internal::DocValues::Load(vdir, internal::ValuesFiles{manifest.values, manifest.values_base}, values_schema);
    if (!v.ok()) return v.status();
    *values = std::move(v).value();
  } else {
    *values = std::make_unique<internal::DocValues>(values_schema);
  }
  return stores;
}

class LuceneIndexWriter final : public IndexWriter {
 public:
  LuceneIndexWriter(std::string dir, internal::IndexMeta meta, IndexWriterOptions options,
                    std::unique_ptr<hymir::internal::FileLock> lock, Lucene::AnalyzerPtr analyzer,
                    Lucene::IndexWriterPtr writer, Stores stores, std::unique_ptr<internal::ForwardIndex> forward,
                    std::unique_ptr<internal::DocValues> values,
                    std::map<std::string, std::shared_ptr<const Embedder>> embedders, uint64_t generation,
                    bool use_inverter)
      : dir_(std::move(dir)),
        meta_(std::move(meta)),
        options_(std::move(options)),
        lock_(std::move(lock)),
        analyzer_(std::move(analyzer)),
        writer_(std::move(writer)),
        stores_(std::move(stores)),
        forward_(std::move(forward)),
        values_(std::move(values)),
        embedders_(std::move(embedders)),
        generation_(generation) {
    if (use_inverter) inverter_ = std::make_unique<internal::SegmentInverter>();
    for (const auto& [name, spec] : meta_.schema.fields) {
      if (spec.type != FieldType::kText) continue;
      // The schema was checked when read: its analyzer names are known.
      const AnalyzerKind kind = ParseAnalyzerKind(spec.analyzer).value_or(AnalyzerKind::kStandard);
      text_fields_.push_back({name, spec, internal::TextAnalysis(kind, options_.lucenepp_analysis)});
    }
  }

  ~LuceneIndexWriter() override {
    // Uncommitted changes are discarded: rollback() also closes the writer.
    try {
      writer_->rollback();
    } catch (...) {
    }
  }

  Status Upsert(const Document& doc) override {
    if (doc.id.empty()) return Status::InvalidArgument(dir_ + ": document with an empty id");
    if (doc.title.size() + doc.text.size() > internal::kMaxSourceBytes) {
      return Status::InvalidArgument("document \"" + doc.id + "\": title and text of " +
                                     std::to_string(doc.title.size() + doc.text.size()) +
                                     " bytes exceed the limit of " + std::to_string(internal::kMaxSourceBytes));
    }
    if (doc.id.size() > kMaxIdBytes) {
      return Status::InvalidArgument(dir_ + ": document id of " + std::to_string(doc.id.size()) +
                                     " bytes, longer than the limit of " + std::to_string(kMaxIdBytes) + " (\"" +
                                     doc.id.substr(0, 40) + "...\")");
    }
    if (Status s = CheckId(doc.id); !s.ok()) return Status::InvalidArgument(dir_ + ": document " + s.message());
    for (const auto& [name, value] : doc.fields) {
      if (IsReservedFieldName(name)) {
        return Status::InvalidArgument("document \"" + doc.id + "\": field name \"" + name + "\" is reserved");
      }
    }
    // Typed values (an index with a schema): checked before anything is written.
    internal::TypedRow typed;
    if (!values_schema_.empty()) {
      auto row = internal::MakeTypedRow(values_schema_, doc);
      if (!row.ok()) return row.status();
      typed = std::move(row).value();
    }
    // Text fields of the schema: strings only.
    std::vector<std::vector<std::string>> texts(text_fields_.size());
    for (size_t i = 0; i < text_fields_.size(); ++i) {
      const std::string& name = text_fields_[i].name;
      if (auto it = doc.values.find(name); it != doc.values.end()) {
        for (const FieldValue& v : it->second) {
          const auto* s = std::get_if<std::string>(&v);
          if (!s) {
            return Status::InvalidArgument("document \"" + doc.id + "\": field \"" + name + "\" is text, got " +
                                           (std::holds_alternative<bool>(v) ? "a boolean" : "a number"));
          }
          texts[i].push_back(*s);
        }
      } else if (auto f = doc.fields.find(name); f != doc.fields.end()) {
        texts[i].push_back(f->second);
      }
    }
    // Vectors: validate and embed before touching anything.
    std::map<std::string, std::vector<float>> computed;
    for (const auto& [name, v] : doc.vectors) {
      const VectorFieldSpec* spec = internal::FindVectorField(meta_, name);
      if (!spec) {
        return Status::InvalidArgument("document \"" + doc.id + "\": unknown vector field \"" + name + "\"" +
                                       KnownFields());
      }
      if (v.size() != spec->dimension) {
        return Status::InvalidArgument("document \"" + doc.id + "\": vector field \"" + name + "\" expects " +
                                       std::to_string(spec->dimension) + " floats, got " + std::to_string(v.size()));
      }
      for (float x : v) {
        if (!std::isfinite(x)) {
          return Status::InvalidArgument("document \"" + doc.id + "\": vector field \"" + name + "\" holds NaN or inf");
        }
      }
    }
    for (const auto& spec : meta_.vector_fields) {
      if (doc.vectors.count(spec.name)) continue;
      auto e = embedders_.find(spec.name);
      if (e == embedders_.end() || !e->second) continue;
      std::vector<float> v(spec.dimension);
      HYMIR_RETURN_IF_ERROR(e->second->Embed({doc.title + " " + doc.text}, v.data())
                                .WithContext("document \"" + doc.id + "\": embedding field \"" + spec.name + "\""));
      computed[spec.name] = std::move(v);
    }

    std::shared_lock<std::shared_mutex> commit_guard(commit_mu_);
    std::lock_guard<std::mutex> id_guard(IdMutex(doc.id));  // same id: text and vectors in one order
    HYMIR_RETURN_IF_ERROR(AddText(doc, typed, texts));
    if (!values_schema_.empty()) {
      std::lock_guard<std::mutex> g(values_mu_);
      values_->Put(doc.id, std::move(typed));
    }
    if (!stores_.empty()) {
      std::lock_guard<std::mutex> g(vector_mu_);
      for (auto& [name, store] : stores_) {
        const std::vector<float>* v = nullptr;
        if (auto it = doc.vectors.find(name); it != doc.vectors.end()) v = &it->second;
        if (auto it = computed.find(name); it != computed.end()) v = &it->second;
        if (v) {
          HYMIR_RETURN_IF_ERROR(store->Upsert(doc.id, v->data()));
        } else {
          store->Delete(doc.id);  // the replaced document's vector goes too
        }
      }
    }
    return Status::OK();
  }

  Status Delete(std::string_view id) override {
    std::shared_lock<std::shared_mutex> commit_guard(commit_mu_);
    std::string key(id);
    std::lock_guard<std::mutex> id_guard(IdMutex(key));
    HYMIR_RETURN_IF_ERROR(Guard(dir_ + ": delete", [&]() -> Status {
      std::lock_guard<std::mutex> g(inverter_mu_);
      if (inverter_ && inverter_ids_.count(key)) HYMIR_RETURN_IF_ERROR(SpillInverter());
      // With the inverter on, the index holds no other document: nothing to delete.
      if (!inverter_) writer_->deleteDocuments(Lucene::newLucene<Lucene::Term>(internal::kIdField, Wide(id)));
      return Status::OK();
    }));
    {
      std::lock_guard<std::mutex> g(forward_mu_);
      forward_->Delete(key);
    }
    if (!values_schema_.empty()) {
      std::lock_guard<std::mutex> g(values_mu_);
      values_->Delete(key);
    }
    std::lock_guard<std::mutex> g(vector_mu_);
    for (auto& [name, store] : stores_) store->Delete(key);
    return Status::OK();
  }

  Status Commit() override {
    std::unique_lock<std::shared_mutex> commit_guard(commit_mu_);
    // Every commit writes a generation: the forward index is part of it
    // even when the index has no vector field.
    const uint64_t next = generation_ + 1;
    const std::string vdir = dir_ + "/" + internal::kVectorsDir;
    internal::ForwardFiles forward_files;
    internal::ValuesFiles values_files;
    {
      internal::Manifest manifest;
      manifest.generation = next;
      for (auto& [name, store] : stores_) {
        HYMIR_RETURN_IF_ERROR(store->CompactIfNeeded(options_.max_dead_vector_fraction));
        HYMIR_RETURN_IF_ERROR(store->TrainIfNeeded());
        internal::ManifestField f;
        f.name = name;
        HYMIR_RETURN_IF_ERROR(store->Save(vdir, next, &f.raw, &f.faiss));
        manifest.fields.push_back(std::move(f));
      }
      HYMIR_RETURN_IF_ERROR(forward_->Save(vdir, next, &forward_files));
      manifest.forward = forward_files.file;
      manifest.forward_base = forward_files.base;
      if (!values_schema_.empty()) {
        HYMIR_RETURN_IF_ERROR(values_->Save(vdir, next, &values_files));
        manifest.values = values_files.file;
        manifest.values_base = values_files.base;
      }
      HYMIR_RETURN_IF_ERROR(internal::WriteManifest(vdir, manifest));
    }
    bool inverted = false;
    HYMIR_RETURN_IF_ERROR(Guard(dir_ + ": commit", [&]() -> Status {
      std::lock_guard<std::mutex> g(inverter_mu_);
      if (inverter_ && inverter_->num_docs() > 0) {
        inverted = true;
        return CommitInverter(next);
      }
      Lucene::MapStringString data = Lucene::MapStringString::newInstance();
      data.put(internal::kGenerationKey, std::to_wstring(next));
      writer_->commit(data);
      return Status::OK();
    }));
    if (next != generation_) {
      // Lucene++ skips a commit that changes nothing; then its commit point
      // still names the old generation and the files just written are stray.
      uint64_t named = 0;
      HYMIR_RETURN_IF_ERROR(Guard(dir_ + ": commit", [&]() -> Status {
        named = CommittedGeneration(dir_);
        return Status::OK();
      }));
      if (named == next) {
        generation_ = next;
        // A full file just committed becomes the forward index's base, so
        // the changes it holds leave memory (a delta leaves them there: the
        // next commit writes them again, with its own, over the same base).
        // On failure the old base and the changes still describe the same
        // documents.
        if (forward_files.base.name.empty()) {
          auto rebased = internal::ForwardIndex::Load(vdir, forward_files.file);
          if (rebased.ok()) {
            std::lock_guard<std::mutex> g(forward_mu_);
            forward_ = std::move(rebased).value();
          }
        }
        if (!values_schema_.empty() && values_files.base.name.empty()) {  // a full file: the new base
          auto values = internal::DocValues::Load(vdir, values_files.file, values_schema_);
          if (values.ok()) {
            std::lock_guard<std::mutex> g(values_mu_);
            values_ = std::move(values).value();
          }
        }
      }
      internal::RemoveStaleGenerations(dir_ + "/" + internal::kVectorsDir, generation_);
    }
    // The commit is durable now; the manifest makes it verifiable (a crash
    // before this line leaves a commit that opens unverified until the next
    // writer records it).
    HYMIR_RETURN_IF_ERROR(internal::WriteCommitManifest(dir_));
    if (inverted) {  // Lucene++'s writer from now on, verifying merges against the new manifest
      HYMIR_RETURN_IF_ERROR(Guard(dir_ + ": commit", [&]() -> Status {
        internal::BlockTables tables;
        if (!internal::VerifyCommitManifest(dir_, internal::VerifyLevel::kOpen, nullptr, &tables).ok()) tables.clear();
        writer_->close();
        writer_ = OpenLuceneWriter(dir_, analyzer_, /*create=*/false, options_.ram_buffer_mb, tables);
        return Status::OK();
      }));
    }
    // Docid-ordered ids and lengths of the new segments, so that searchers
    // open without walking their terms. A cache, not part of the commit: a
    // failure only makes the next open slower.
    (void)internal::UpdateSegmentCaches(dir_, &sound_caches_);
    return Status::OK();
  }

  Status Rollback() override {
    std::unique_lock<std::shared_mutex> commit_guard(commit_mu_);
    // Lucene++'s rollback() closes the writer; reopen it at the last commit.
    HYMIR_RETURN_IF_ERROR(Guard(dir_ + ": rollback", [&]() -> Status {
      writer_->rollback();
      // The block checksums of the last commit, so that merges keep verifying
      // what they read of it (none when it cannot be verified: the next open
      // refuses it).
      internal::BlockTables tables;
      if (!internal::VerifyCommitManifest(dir_, internal::VerifyLevel::kOpen, nullptr, &tables).ok()) tables.clear();
      writer_ = OpenLuceneWriter(dir_, analyzer_, /*create=*/false, options_.ram_buffer_mb, tables);
      std::lock_guard<std::mutex> g(inverter_mu_);
      if (inverter_) inverter_ = std::make_unique<internal::SegmentInverter>();  // its documents go too
      inverter_ids_.clear();
      return Status::OK();
    }));
    std::unique_ptr<internal::ForwardIndex> forward;
    std::unique_ptr<internal::DocValues> values;
    auto stores = LoadStores(dir_, meta_, generation_, &forward, &values);
    if (!stores.ok()) return stores.status();
    std::lock_guard<std::mutex> g(vector_mu_);
    stores_ = std::move(stores).value();
    std::lock_guard<std::mutex> f(forward_mu_);
    forward_ = std::move(forward);
    std::lock_guard<std::mutex> v(values_mu_);
    values_ = std::move(values);
    return Status::OK();
  }

  AnalyzerKind analyzer() const override { return meta_.analyzer; }

  Result<uint64_t> NumDocs() override {
    return Guard(dir_ + ": numDocs", [&]() -> Result<uint64_t> {
      std::lock_guard<std::mutex> g(inverter_mu_);
      return static_cast<uint64_t>(writer_->numDocs()) + (inverter_ ? inverter_->num_docs() : 0);
    });
  }

  const std::string& dir() const override { return dir_; }
  const std::vector<VectorFieldSpec>& vector_fields() const override { return meta_.vector_fields; }
  const Schema& schema() const override { return meta_.schema; }

 private:
  std::string KnownFields() const {
    if (meta_.vector_fields.empty()) return " (the index has no vector fields)";
    std::string s = " (known:";
    for (const auto& f : meta_.vector_fields) s += " " + f.name;
    return s + ")";
  }

  std::mutex& IdMutex(const std::string& id) { return id_mu_[std::hash<std::string>()(id) % id_mu_.size()]; }

  Status AddText(const Document& doc, const internal::TypedRow& typed,
                 const std::vector<std::vector<std::string>>& texts) {
    return Guard(dir_ + ": upsert \"" + doc.id + "\"", [&]() -> Status {
      thread_local internal::TokenBuffer title_tokens, text_tokens;
      title_tokens.Clear();
      text_tokens.Clear();
      Lucene::String title = analysis_.Decode(doc.title);
      Lucene::String text = analysis_.Decode(doc.text);
      analysis_.AnalyzeInto(title, &title_tokens);
      analysis_.AnalyzeInto(text, &text_tokens);

      // The document's fields, in Lucene++'s Document order (the inverter
      // and Lucene++ both take them); `strings` holds what they point to.
      using Kind = internal::InvertField::Kind;
      std::deque<std::wstring> strings;
      std::vector<internal::InvertField> fields;
      auto add = [&](Kind kind, std::wstring_view name, std::wstring value, bool stored) {
        internal::InvertField f;
        f.kind = kind;
        f.name = name;
        f.text = strings.emplace_back(std::move(value));
        f.stored = stored;
        fields.push_back(f);
      };
      auto add_tokens = [&](std::wstring_view name, std::vector<const internal::TokenBuffer*> parts) {
        internal::InvertField f;
        f.kind = Kind::kTokens;
        f.name = name;
        f.tokens = std::move(parts);
        fields.push_back(f);
      };
      const Lucene::String id = Wide(doc.id);
      add(Kind::kKeyword, internal::kIdField, id, /*stored=*/true);
      const bool format1 = meta_.format_version < internal::kDerivedAllFormatVersion;
      std::string src;
      if (format1) {
        add(Kind::kStoredString, L"title", title, true);
        add(Kind::kStoredString, L"text", text, true);
      } else {  // title and text in one compressed stored field (stored_source.h)
        src = internal::EncodeSource(doc.title, doc.text);
        internal::InvertField f;
        f.kind = Kind::kStoredBinary;
        f.name = internal::kSourceField;
        f.value = src;
        fields.push_back(f);
      }
      const std::array<std::vector<const internal::TokenBuffer*>, internal::kNumTextFields> parts = {
          std::vector<const internal::TokenBuffer*>{&title_tokens},
          std::vector<const internal::TokenBuffer*>{&text_tokens},
          std::vector<const internal::TokenBuffer*>{&title_tokens, &text_tokens}};
      // Format 2 derives "all" from title and text at search time.
      const int num_fields = format1 ? internal::kNumTextFields : internal::kAllField;
      for (int f = 0; f < num_fields; ++f) {
        size_t len = 0;
        for (const auto* p : parts[f]) len += p->size();
        add_tokens(internal::kTextFieldsW[f], parts[f]);
        add(Kind::kKeyword, internal::kLenFieldsW[f], std::to_wstring(len), false);
      }
      std::deque<std::wstring> names;  // of the filter and schema fields
      auto add_filter = [&](const std::string& name, const std::string& value, bool stored) {
        add(Kind::kKeyword, names.emplace_back(Wide(internal::kFilterPrefix + name)), Wide(value), stored);
      };
      if (doc.domain) add_filter("domain", *doc.domain, true);
      for (const auto& [name, value] : doc.fields) {
        if (!meta_.schema.Find(name)) add_filter(name, value, true);  // typed fields: below
      }
      // Keyword fields of the schema: one untokenized term per value, for
      // filters (their values are kept in the doc values, not stored here).
      // Text fields of the schema: each value analysed with the field's
      // analyzer, the values' tokens in sequence (as Lucene indexes a
      // multi-valued field), the exact count as a _len term.
      std::vector<internal::TokenBuffer> text_tokens_of(text_fields_.size());
      for (size_t i = 0; i < text_fields_.size(); ++i) {
        const TextField& tf = text_fields_[i];
        if (texts[i].empty()) continue;
        const std::wstring_view lname = names.emplace_back(Wide(internal::kSchemaTextPrefix + tf.name));
        if (tf.spec.stored) {
          for (const std::string& v : texts[i]) add(Kind::kStoredString, lname, Wide(v), true);
        }
        if (!tf.spec.indexed) continue;
        for (const std::string& v : texts[i]) tf.analysis.AnalyzeInto(tf.analysis.Decode(v), &text_tokens_of[i]);
        add_tokens(lname, {&text_tokens_of[i]});
        add(Kind::kKeyword, names.emplace_back(Wide(internal::kSchemaTextLengthPrefix + tf.name)),
            std::to_wstring(text_tokens_of[i].size()), false);
      }
      size_t f = 0;
      for (const auto& [name, spec] : values_schema_.fields) {
        if (spec.type == FieldType::kKeyword && spec.indexed) {
          for (const std::string& v : typed.keywords[f]) add_filter(name, v, false);
        }
        ++f;
      }
      // hymir's inverter while it holds the documents of a new index (a
      // document it does not write, or one replacing one of its documents,
      // hands them to Lucene++ first), else Lucene++'s IndexWriter.
      bool inverted = false;
      {
        std::lock_guard<std::mutex> g(inverter_mu_);
        if (inverter_) {
          if (!inverter_ids_.count(doc.id) && inverter_->AddDocument(fields).ok()) {
            inverter_ids_.insert(doc.id);
            inverted = true;
            // It holds everything until the commit: past its memory budget,
            // Lucene++'s writer (which flushes) takes over.
            if (inverter_->bytes_used() > InverterBudget()) HYMIR_RETURN_IF_ERROR(SpillInverter());
          } else {
            HYMIR_RETURN_IF_ERROR(SpillInverter());
          }
        }
      }
      if (!inverted) {
        writer_->updateDocument(Lucene::newLucene<Lucene::Term>(internal::kIdField, id),
                                internal::ToLuceneDocument(fields));
      }
      const std::vector<uint32_t> sentence_ends = internal::SentenceEnds(text, text_tokens.starts);
      std::lock_guard<std::mutex> g(forward_mu_);
      forward_->Put(doc, title_tokens, text_tokens, sentence_ends);
      return Status::OK();
    });
  }

  // The inverter's memory budget: the RAM buffer, at least 1 GiB (the
  // first commit of 1M short documents, about 0.6 GiB, in one segment).
  size_t InverterBudget() const { return static_cast<size_t>(std::max(options_.ram_buffer_mb, 1024.0) * (1 << 20)); }

  // Hands the inverter's documents to Lucene++'s writer (one segment, not
  // committed) and turns the inverter off. Caller holds inverter_mu_.
  Status SpillInverter() {
    namespace fs = std::filesystem;
    if (inverter_->num_docs() > 0) {
      const std::string spill = dir_ + "/" + internal::kTextDir + ".spill";
      std::error_code ec;
      fs::remove_all(spill, ec);
      fs::create_directories(spill, ec);
      if (ec) return Status::IOError(spill + ": cannot create: " + ec.message());
      auto seg = inverter_->Flush(spill, "_0");
      if (!seg.ok()) return seg.status();
      HYMIR_RETURN_IF_ERROR(internal::WriteCommitPoint(spill, 1, 1, 1, {seg.value()}, {}));
      auto from = Lucene::FSDirectory::open(Wide(spill), Lucene::NoLockFactory::getNoLockFactory());
      Lucene::Collection<Lucene::DirectoryPtr> dirs = Lucene::Collection<Lucene::DirectoryPtr>::newInstance();
      dirs.add(from);
      writer_->addIndexesNoOptimize(dirs);
      from->close();
      fs::remove_all(spill, ec);
    }
    inverter_.reset();
    inverter_ids_.clear();
    return Status::OK();
  }

  // Writes the inverter's documents as the next commit: one segment and the
  // commit point (what Lucene++'s writer, which holds nothing, would write
  // for them), then closes that writer (Commit reopens it). Caller holds
  // inverter_mu_.
  Status CommitInverter(uint64_t next) {
    writer_->close();  // nothing buffered: writes nothing
    const std::string text_dir = dir_ + "/" + internal::kTextDir;
    auto directory = Lucene::FSDirectory::open(Wide(text_dir), Lucene::NoLockFactory::getNoLockFactory());
    auto infos = Lucene::newLucene<Lucene::SegmentInfos>();
    infos->read(directory);
    directory->close();
    std::string name = "_";
    for (int32_t c = infos->counter;;) {  // IndexWriter::newSegmentName: base 36
      name.insert(name.begin() + 1, "0123456789abcdefghijklmnopqrstuvwxyz"[c % 36]);
      c /= 36;
      if (c == 0) break;
    }
    auto seg = inverter_->Flush(text_dir, name);
    if (!seg.ok()) return seg.status();
    HYMIR_RETURN_IF_ERROR(internal::WriteCommitPoint(text_dir, infos->getGeneration() + 1, infos->getVersion() + 1,
                                                     infos->counter + 1, {seg.value()},
                                                     {{internal::kGenerationKey, std::to_wstring(next)}}));
    inverter_.reset();
    inverter_ids_.clear();
    // Lucene++'s writer on the new commit (Commit reopens it once more with
    // the commit manifest's checksums); it removes the previous commit point.
    writer_ = OpenLuceneWriter(dir_, analyzer_, /*create=*/false, options_.ram_buffer_mb);
    return Status::OK();
  }

  struct TextField {
    std::string name;
    FieldSpec spec;
    internal::TextAnalysis analysis;
  };

  const std::string dir_;
  const internal::IndexMeta meta_;
  const Schema values_schema_ = internal::ValuesSchema(meta_.schema);  // what the values file holds
  std::vector<TextField> text_fields_;                                 // the schema's text fields
  const IndexWriterOptions options_;
  std::unique_ptr<hymir::internal::FileLock> lock_;
  Lucene::AnalyzerPtr analyzer_;
  const internal::TextAnalysis analysis_{meta_.analyzer, options_.lucenepp_analysis};  // of title and text
  Lucene::IndexWriterPtr writer_;
  std::set<std::string> sound_caches_;  // segment caches written or checked; GUARDED_BY(commit_mu_)
  std::shared_mutex commit_mu_;         // shared: upserts/deletes; exclusive: commit/rollback
  std::array<std::mutex, 64> id_mu_;    // striped by document id
  std::mutex vector_mu_;
  Stores stores_;  // GUARDED_BY(vector_mu_)
  std::mutex forward_mu_;
  std::unique_ptr<internal::ForwardIndex> forward_;  // GUARDED_BY(forward_mu_)
  std::mutex values_mu_;
  std::unique_ptr<internal::DocValues> values_;  // GUARDED_BY(values_mu_)
  std::mutex inverter_mu_;
  // hymir's inverter: the documents of a new index until its first commit
  // (null once Lucene++'s writer takes over); the ids it holds.
  std::unique_ptr<internal::SegmentInverter> inverter_;  // GUARDED_BY(inverter_mu_)
  std::unordered_set<std::string> inverter_ids_;         // GUARDED_BY(inverter_mu_)
  std::map<std::string, std::shared_ptr<const Embedder>> embedders_;
  uint64_t generation_;  // committed vector generation; GUARDED_BY(commit_mu_)
};

// The checks of `options` that need nothing on disk.
Status CheckOptions(const IndexWriterOptions& options) {
  for (const auto& spec : options.vector_fields) HYMIR_RETURN_IF_ERROR(ValidateVectorFieldSpec(spec));
  const auto& fields = options.vector_fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (fields[i].name == fields[j].name) {
        return Status::InvalidArgument("duplicate vector field \"" + fields[i].name + "\"");
      }
    }
  }
  if (options.schema) {
    for (const auto& [name, spec] : options.schema->fields) {
      if (IsReservedFieldName(name)) return Status::InvalidArgument("schema: field name \"" + name + "\" is reserved");
      if (spec.type == FieldType::kText) {
        auto kind = ParseAnalyzerKind(spec.analyzer);
        if (!kind.ok()) return kind.status().WithContext("schema: field \"" + name + "\": \"analyzer\"");
        if (spec.sortable || spec.facetable) {
          return Status::InvalidArgument("schema: field \"" + name + "\": a text field cannot be sorted or faceted");
        }
      } else if (!spec.analyzer.empty()) {
        return Status::InvalidArgument("schema: field \"" + name + "\": \"analyzer\" applies to text fields only");
      }
    }
  }
  if (options.format_version != 0 &&
      (options.format_version < internal::kOldestFormatVersion || options.format_version > internal::kFormatVersion)) {
    return Status::InvalidArgument("format_version " + std::to_string(options.format_version) +
                                   ": this build writes versions " + std::to_string(internal::kOldestFormatVersion) +
                                   " to " + std::to_string(internal::kFormatVersion));
  }
  if (options.format_version != 0 && options.analyzer) {
    HYMIR_RETURN_IF_ERROR(internal::CheckAnalyzerFormat(*options.analyzer, options.format_version));
  }
  return Status::OK();
}

// Copies the given embedder models of `fields` into the index at `dir`,
// after checking each (it loads, with the field's dimension). A field that
// declares an embedder and has a model in the index already keeps it; one
// with neither is InvalidArgument, as is a model for a field without an
// embedder.
Status InstallEmbedderModels(const std::string& dir, const std::vector<VectorFieldSpec>& fields,
                             const std::map<std::string, std::string>& models) {
  for (const auto& [name, path] : models) {
    auto it = std::find_if(fields.begin(), fields.end(), [&](const VectorFieldSpec& f) { return f.name == name; });
    if (it == fields.end() || it->embedder.empty()) {
      return Status::InvalidArgument("embedder model " + path + " is given for \"" + name +
                                     "\", which is not a vector field with a built-in embedder");
    }
  }
  for (const auto& spec : fields) {
    if (spec.embedder.empty()) continue;
    const std::string target = internal::FieldEmbedderPath(dir, spec);
    std::error_code ec;
    if (std::filesystem::exists(target, ec)) continue;
    auto given = models.find(spec.name);
    if (given == models.end()) {
      return Status::InvalidArgument("vector field \"" + spec.name + "\" declares embedder \"" + spec.embedder +
                                     "\": give its trained model in IndexWriterOptions::embedder_models "
                                     "(TrainLsaOnCorpus makes one)");
    }
    auto model = LsaEmbedder::Load(given->second);
    if (!model.ok()) {
      return Status::InvalidArgument("embedder model for vector field \"" + spec.name +
                                     "\": " + model.status().message());
    }
    if ((*model)->dimension() != spec.dimension) {
      return Status::InvalidArgument("embedder model " + given->second + " has dimension " +
                                     std::to_string((*model)->dimension()) + ", vector field \"" + spec.name +
                                     "\" has " + std::to_string(spec.dimension));
    }
    auto bytes = hymir::internal::ReadFile(given->second);
    if (!bytes.ok()) return bytes.status();
    std::filesystem::create_directories(dir + "/" + internal::kVectorsDir, ec);
    HYMIR_RETURN_IF_ERROR(hymir::internal::WriteFileAtomic(target, *bytes));
  }
  return Status::OK();
}

}  // namespace

Result<AnalyzerKind> IndexAnalyzer(const std::string& dir, const IndexWriterOptions& options) {
  auto meta = internal::ReadMeta(dir);
  if (meta.ok()) return meta->analyzer;
  if (!meta.status().IsNotFound()) return meta.status();
  const int format = options.format_version == 0 ? internal::kFormatVersion : options.format_version;
  if (options.analyzer) HYMIR_RETURN_IF_ERROR(internal::CheckAnalyzerFormat(*options.analyzer, format));
  return options.analyzer.value_or(internal::DefaultAnalyzer(format));
}

Result<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& dir, const IndexWriterOptions& options) {
  namespace fs = std::filesystem;
  // Usage errors first: a refused Open leaves no trace on disk.
  HYMIR_RETURN_IF_ERROR(CheckOptions(options));
  std::error_code ec;
  bool created_dir = false;
  if (!fs::exists(dir, ec)) {
    if (!options.create_if_missing) return Status::NotFound(dir + ": no index directory");
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError(dir + ": cannot create directory: " + ec.message());
    created_dir = true;
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
    m.format_version = options.format_version == 0 ? internal::kFormatVersion : options.format_version;
    m.analyzer = options.analyzer.value_or(internal::DefaultAnalyzer(m.format_version));
    m.vector_fields = options.vector_fields;
    if (options.schema) m.schema = *options.schema;
    // The embedders' models go in before hymir.json: an index that exists
    // has them.
    Status created = InstallEmbedderModels(dir, m.vector_fields, options.embedder_models);
    if (created.ok()) created = internal::WriteMeta(dir, m);
    if (!created.ok()) {
      if (created_dir) {
        lock->reset();  // release before removing what this call created
        fs::remove_all(dir, ec);
      }
      return created;
    }
    meta = m;
    fresh = true;
  } else if (!meta.ok()) {
    return meta.status();
  }
  // Never build on (and then checksum as good) a damaged index.
  internal::VerifyStats verify;
  internal::BlockTables tables;
  if (!fresh) {
    HYMIR_RETURN_IF_ERROR(internal::VerifyCommitManifest(dir, internal::VerifyLevel::kOpen, &verify, &tables));
    HYMIR_RETURN_IF_ERROR(internal::CheckTermDictionaryHeaders(dir));
  }
  if (options.format_version != 0 && options.format_version != meta->format_version) {
    return Status::InvalidArgument(dir + ": index has format_version " + std::to_string(meta->format_version) +
                                   ", not " + std::to_string(options.format_version) + " (an index keeps its format)");
  }
  if (options.analyzer && *options.analyzer != meta->analyzer) {
    const bool legacy = meta->analyzer == AnalyzerKind::kEnglishLegacy;
    return Status::InvalidArgument(
        dir + ": index uses analyzer \"" + AnalyzerName(meta->analyzer) + "\"" +
        (legacy && meta->format_version < internal::kExactAnalyzerNameFormatVersion
             ? " (recorded as \"english\" by format " + std::to_string(meta->format_version) + ")"
             : std::string()) +
        ", not \"" + AnalyzerName(*options.analyzer) + "\"" +
        (legacy ? "; re-index into a new directory for another analyzer" : ""));
  }
  if (!options.vector_fields.empty() && options.vector_fields != meta->vector_fields) {
    return Status::InvalidArgument(dir +
                                   ": the index was created with other vector fields; the schema cannot "
                                   "change after creation");
  }
  if (options.schema && *options.schema != meta->schema) {
    return Status::InvalidArgument(
        dir + ": the index was created with " +
        (meta->schema.empty() ? std::string("no schema") : "schema " + SchemaToJson(meta->schema)) + ", not " +
        SchemaToJson(*options.schema) + "; a schema cannot change after creation");
  }
  if (!fresh) HYMIR_RETURN_IF_ERROR(InstallEmbedderModels(dir, meta->vector_fields, options.embedder_models));
  std::map<std::string, std::shared_ptr<const Embedder>> embedders;
  for (const auto& spec : meta->vector_fields) {
    auto e = internal::LoadFieldEmbedder(dir, spec);
    if (!e.ok()) return e.status();
    embedders[spec.name] = std::move(e).value();
  }
  std::error_code mk;
  fs::create_directories(dir + "/" + internal::kVectorsDir, mk);
  const internal::IndexMeta m = *meta;
  return Guard(dir, [&]() -> Result<std::unique_ptr<IndexWriter>> {
    auto analyzer = internal::MakeAnalyzer(m.analyzer);
    auto text_dir =
        Lucene::FSDirectory::open(Wide(dir + "/" + internal::kTextDir), Lucene::NoLockFactory::getNoLockFactory());
    bool create = fresh || !Lucene::IndexReader::indexExists(text_dir);
    text_dir->close();
    auto writer = OpenLuceneWriter(dir, analyzer, create, options.ram_buffer_mb, tables);
    if (create) {  // an empty, openable index from the start
      Lucene::MapStringString data = Lucene::MapStringString::newInstance();
      data.put(internal::kGenerationKey, L"0");
      writer->commit(data);
    }
    const uint64_t g = CommittedGeneration(dir);
    std::unique_ptr<internal::ForwardIndex> forward;
    std::unique_ptr<internal::DocValues> values;
    auto stores = LoadStores(dir, m, g, &forward, &values);
    if (!stores.ok()) return stores.status();
    internal::RemoveStaleGenerations(dir + "/" + internal::kVectorsDir, g);
    // A new index, one written before manifests (or before block checksums),
    // or a crash between the last commit and its manifest: record the last
    // commit now.
    if (create || !verify.verified || !verify.blocks) HYMIR_RETURN_IF_ERROR(internal::WriteCommitManifest(dir));
    return std::unique_ptr<IndexWriter>(new LuceneIndexWriter(dir, m, options, std::move(lock).value(), analyzer,
                                                              writer, std::move(stores).value(), std::move(forward),
                                                              std::move(values), std::move(embedders), g,
                                                              /*use_inverter=*/create && !options.lucenepp_writer));
  });
}

Result<uint64_t> LastCommitGeneration(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir + "/" + internal::kMetaFile, ec) || !fs::is_directory(dir + "/" + internal::kTextDir, ec)) {
    return Status::NotFound(dir + ": no hymir index");
  }
  return Guard(dir + ": reading the last commit", [&]() -> Result<uint64_t> { return CommittedGeneration(dir); });
}

Status WriteRecordedIndexFile(const std::string& dir, const std::string& name, const std::string* contents) {
  return internal::WriteRecordedSideFile(dir, name, contents);
}

}  // namespace hymir::index
