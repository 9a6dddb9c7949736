// Searcher on Lucene++: a shared_ptr to the current Snapshot is swapped under
// a mutex by Refresh(); each search pins the snapshot it started with.
#include <lucene++/NoLockFactory.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "hymir/index/searcher.h"
#include "index/lucene/analysis.h"
#include "index/lucene/bm25_scorer.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/snapshot.h"

namespace hymir::index {
namespace {

using internal::Guard;
using internal::Snapshot;
using internal::Wide;

class LuceneSearcher final : public Searcher {
 public:
  LuceneSearcher(std::string dir, AnalyzerKind kind, std::shared_ptr<Snapshot> snap)
      : dir_(std::move(dir)), kind_(kind), analyzer_(internal::MakeAnalyzer(kind)), snap_(std::move(snap)) {}

  Result<std::vector<Hit>> Search(const TextQuery& query, SearchStats* stats) const override {
    return Run(query, /*exhaustive=*/false, stats);
  }

  Result<std::vector<Hit>> SearchExhaustive(const TextQuery& query) const override {
    return Run(query, /*exhaustive=*/true, nullptr);
  }

  Status Refresh() override {
    std::lock_guard<std::mutex> refresh_guard(refresh_mu_);
    auto current = Current();
    return Guard(dir_ + ": refresh", [&]() -> Status {
      Lucene::IndexReaderPtr newer = current->reader()->reopen();
      if (newer == current->reader()) return Status::OK();
      auto snap = Snapshot::Load(newer, dir_);
      if (!snap.ok()) return snap.status();
      std::lock_guard<std::mutex> g(mu_);
      snap_ = std::move(snap).value();
      return Status::OK();
    });
  }

  Result<Document> GetDocument(std::string_view id) const override {
    auto snap = Current();
    return Guard(dir_ + ": get \"" + std::string(id) + "\"", [&]() -> Result<Document> {
      Lucene::TermDocsPtr td =
          snap->reader()->termDocs(Lucene::newLucene<Lucene::Term>(internal::kIdField, Wide(id)));
      if (!td->next()) return Status::NotFound(dir_ + ": no document \"" + std::string(id) + "\"");
      Lucene::DocumentPtr ldoc = snap->reader()->document(td->doc());
      td->close();
      Document doc;
      doc.id = std::string(id);
      doc.title = internal::Utf8(ldoc->get(L"title"));
      doc.text = internal::Utf8(ldoc->get(L"text"));
      const std::string prefix = internal::kFilterPrefix;
      for (const Lucene::FieldablePtr& f : ldoc->getFields()) {
        std::string name = internal::Utf8(f->name());
        if (name.rfind(prefix, 0) != 0) continue;
        name = name.substr(prefix.size());
        std::string value = internal::Utf8(f->stringValue());
        if (name == "domain") {
          doc.domain = value;
        } else {
          doc.fields[name] = value;
        }
      }
      return doc;
    });
  }

  std::shared_ptr<const CollectionStatistics> Statistics() const override {
    return std::make_shared<internal::SnapshotStatistics>(Current());
  }

  uint64_t NumDocs() const override { return Current()->num_docs(); }
  AnalyzerKind analyzer() const override { return kind_; }

 private:
  std::shared_ptr<Snapshot> Current() const {
    std::lock_guard<std::mutex> g(mu_);
    return snap_;
  }

  Result<std::vector<Hit>> Run(const TextQuery& q, bool exhaustive, SearchStats* stats) const {
    auto snap = Current();
    return Guard(dir_ + ": search", [&]() -> Result<std::vector<Hit>> {
      internal::SnapshotStatistics local(snap);
      const CollectionStatistics& cs = q.statistics ? *q.statistics : local;

      // Analyse once; count multiplicities (a repeated term scores repeatedly).
      internal::TokenBuffer tokens;
      internal::AnalyzeInto(analyzer_, Wide(q.text), &tokens);
      std::map<Lucene::String, int> qtf;
      uint32_t begin = 0;
      for (uint32_t end : tokens.ends) {
        ++qtf[Lucene::String(tokens.chars.data() + begin, end - begin)];
        begin = end;
      }

      std::vector<internal::ScoredTerm> terms;
      for (const FieldWeight& fw : q.fields) {
        int f = internal::TextFieldIndex(fw.field);
        if (f < 0) {
          return Status::InvalidArgument("unknown text field \"" + fw.field + "\" (expected title, text or all)");
        }
        if (!(fw.weight > 0)) {
          return Status::InvalidArgument("field \"" + fw.field + "\": weight must be > 0");
        }
        const std::string_view fname = internal::kTextFieldNames[f];
        const uint64_t n = cs.DocCount(fname);
        const double avgdl = cs.AverageFieldLength(fname);
        for (const auto& [term, count] : qtf) {
          const uint64_t df = cs.DocFreq(fname, internal::Utf8(term));
          if (df == 0) continue;
          internal::ScoredTerm t;
          t.field = f;
          t.term = term;
          t.weight = fw.weight * count * Bm25Idf(n, df);
          t.avgdl = avgdl;
          terms.push_back(std::move(t));
        }
      }

      internal::DocFilter filter;
      HYMIR_RETURN_IF_ERROR(BuildFilter(*snap, q.filters, &filter));

      const size_t want = q.offset + q.k;
      std::vector<internal::ScoredDoc> top =
          exhaustive ? internal::TopKExhaustive(*snap, terms, q.bm25, filter, want)
                     : internal::TopKMaxScore(*snap, terms, q.bm25, filter, want, stats);
      std::vector<Hit> hits;
      for (size_t i = q.offset; i < top.size(); ++i) {
        hits.push_back(Hit{snap->id(top[i].doc), top[i].score, static_cast<uint32_t>(i + 1)});
      }
      return hits;
    });
  }

  Status BuildFilter(const Snapshot& snap, const std::vector<FieldFilter>& filters,
                     internal::DocFilter* out) const {
    if (filters.empty()) return Status::OK();
    const size_t words = (static_cast<size_t>(snap.max_doc()) + 63) / 64;
    out->assign(words, ~uint64_t{0});
    Lucene::HashSet<Lucene::String> known = snap.reader()->getFieldNames(Lucene::IndexReader::FIELD_OPTION_INDEXED);
    for (const FieldFilter& f : filters) {
      Lucene::String lname = Wide(internal::kFilterPrefix + f.field);
      if (!known.contains(lname)) {
        return Status::InvalidArgument(dir_ + ": unknown filter field \"" + f.field + "\"");
      }
      std::vector<uint64_t> admitted(words, 0);
      for (const std::string& v : f.values) {
        Lucene::TermDocsPtr td = snap.reader()->termDocs(Lucene::newLucene<Lucene::Term>(lname, Wide(v)));
        while (td->next()) {
          const int32_t d = td->doc();
          admitted[static_cast<size_t>(d) >> 6] |= uint64_t{1} << (d & 63);
        }
        td->close();
      }
      for (size_t w = 0; w < words; ++w) (*out)[w] &= admitted[w];
    }
    return Status::OK();
  }

  const std::string dir_;
  const AnalyzerKind kind_;
  Lucene::AnalyzerPtr analyzer_;
  std::mutex refresh_mu_;  // one Refresh() at a time
  mutable std::mutex mu_;
  std::shared_ptr<Snapshot> snap_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<Searcher>> Searcher::Open(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": no index directory");
  auto meta = internal::ReadMeta(dir);
  if (!meta.ok()) return meta.status();
  return Guard(dir, [&]() -> Result<std::unique_ptr<Searcher>> {
    auto directory = Lucene::FSDirectory::open(Wide(dir + "/" + internal::kTextDir),
                                               Lucene::NoLockFactory::getNoLockFactory());
    if (!Lucene::IndexReader::indexExists(directory)) {
      return Status::Corruption(dir + "/" + internal::kTextDir + ": no committed Lucene++ index");
    }
    Lucene::IndexReaderPtr reader = Lucene::IndexReader::open(directory, /*readOnly=*/true);
    auto snap = Snapshot::Load(reader, dir);
    if (!snap.ok()) return snap.status();
    return std::unique_ptr<Searcher>(new LuceneSearcher(dir, meta->analyzer, std::move(snap).value()));
  });
}

}  // namespace hymir::index
