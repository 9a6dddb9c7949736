#include "index/lucene/snapshot.h"

#include <lucene++/SegmentReader.h>
#include <lucene++/TermPositions.h>

#include "index/lucene/lucene_util.h"
#include "index/lucene/segment_cache.h"
#include "index/vector/manifest.h"

#include <algorithm>
#include <map>

namespace hymir::index::internal {
namespace {

constexpr int32_t kEndDoc = std::numeric_limits<int32_t>::max();

// Whether segment reader `now` is `before` as a reopen finds it: the same
// segment, its deletions those of `before` and maybe more. Appends the
// documents deleted since, as docids of a reader where the segment starts
// at `base`.
bool SameSegmentMoreDeleted(const Lucene::IndexReaderPtr& before, const Lucene::IndexReaderPtr& now, int32_t base,
                            std::vector<int32_t>* deleted_since) {
  auto b = boost::dynamic_pointer_cast<Lucene::SegmentReader>(before);
  auto n = boost::dynamic_pointer_cast<Lucene::SegmentReader>(now);
  if (!b || !n) return false;
  const std::string name = SegmentName(now);
  const int32_t m = n->maxDoc();
  if (name.empty() || name != SegmentName(before) || b->maxDoc() != m) return false;
  if (b == n) return true;  // a reopen keeps the reader of a segment whose deletions did not change
  if (n->numDeletedDocs() < b->numDeletedDocs()) return false;
  std::vector<int32_t> found;
  for (int32_t d = 0; d < m; ++d) {
    const bool deleted_before = b->isDeleted(d);
    const bool deleted_now = n->isDeleted(d);
    if (deleted_before && !deleted_now) return false;  // undeleted: not a later state of `before`
    if (deleted_now && !deleted_before) found.push_back(base + d);
  }
  deleted_since->insert(deleted_since->end(), found.begin(), found.end());
  return true;
}

}  // namespace

Result<std::shared_ptr<Snapshot>> Snapshot::Load(Lucene::IndexReaderPtr reader, const std::string& dir,
                                                 const IndexMeta& meta, const Snapshot* previous) {
  const std::string& where = dir;
  return Guard(where, [&]() -> Result<std::shared_ptr<Snapshot>> {
    std::shared_ptr<Snapshot> s(new Snapshot());
    s->reader_ = reader;
    s->max_doc_ = reader->maxDoc();
    s->num_docs_ = static_cast<uint64_t>(reader->numDocs());
    s->has_deletions_ = reader->hasDeletions();
    s->all_indexed_ = meta.format_version < kDerivedAllFormatVersion;
    s->ids_.assign(static_cast<size_t>(s->max_doc_), std::string());
    for (int f = 0; f < kNumTextFields; ++f) {
      s->slot_names_.push_back(kTextFieldNames[f]);
      s->slot_fields_.push_back(kTextFieldsW[f]);
    }
    for (const auto& [name, spec] : meta.schema.fields) {
      if (spec.type != FieldType::kText) continue;
      s->slot_names_.push_back(name);
      s->slot_fields_.push_back(Wide(kSchemaTextPrefix + name));
    }
    const size_t slots = s->slot_names_.size();
    s->lengths_.resize(slots);
    s->doc_count_.assign(slots, 0);
    s->sum_length_.assign(slots, 0);
    s->postings_.resize(slots);
    s->positions_.resize(slots);
    s->df_cache_.resize(slots);
    s->df_utf8_cache_.resize(slots);
    for (auto& l : s->lengths_) l.assign(static_cast<size_t>(s->max_doc_), 0);

    // Ids and exact lengths, segment by segment. After a commit the
    // segments of `previous` come first, unchanged but for deletions: their
    // ids and lengths are copied from it, less the documents deleted since.
    // The others come from the segment's cache (segment_cache.h) or by
    // walking its `_id` and `_len.*` terms.
    const std::vector<Lucene::IndexReaderPtr> segments = SegmentReaders(reader);
    int64_t base = 0;
    size_t first_read = 0;
    if (previous) {
      const std::vector<Lucene::IndexReaderPtr> before = SegmentReaders(previous->reader_);
      for (; first_read < segments.size() && first_read < before.size(); ++first_read) {
        const int32_t seg_max = segments[first_read]->maxDoc();
        if (base + seg_max > std::min(s->max_doc_, previous->max_doc_) ||
            !SameSegmentMoreDeleted(before[first_read], segments[first_read], static_cast<int32_t>(base),
                                    &s->deleted_since_)) {
          break;
        }
        base += seg_max;
      }
      s->carried_docs_ = static_cast<int32_t>(base);
      std::copy(previous->ids_.begin(), previous->ids_.begin() + base, s->ids_.begin());
      for (int f = 0; f < kNumTextFields; ++f) {
        std::copy(previous->lengths_[f].begin(), previous->lengths_[f].begin() + base, s->lengths_[f].begin());
      }
      for (int32_t d : s->deleted_since_) {
        s->ids_[d].clear();
        for (int f = 0; f < kNumTextFields; ++f) s->lengths_[f][d] = 0;
      }
    }
    for (size_t i = first_read; i < segments.size(); ++i) {
      const Lucene::IndexReaderPtr& r = segments[i];
      const int32_t seg_max = r->maxDoc();
      if (seg_max < 0 || base + seg_max > s->max_doc_) {
        return Status::Corruption(dir + "/" + kTextDir + ": a segment of " + std::to_string(seg_max) +
                                  " documents does not fit the index's " + std::to_string(s->max_doc_) +
                                  " (a damaged segments_N file)");
      }
      SegmentSlice slice{s->ids_.data() + base, {}};
      for (int f = 0; f < kNumTextFields; ++f) slice.lengths[f] = s->lengths_[f].data() + base;
      bool from_cache = false;
      HYMIR_RETURN_IF_ERROR(LoadSegment(dir, r, slice, &from_cache));
      base += seg_max;
    }
    // Text fields of the schema: exact lengths from their _len.t.<name>
    // terms (one per document that has the field).
    for (size_t f = kNumTextFields; f < slots; ++f) {
      const Lucene::String lfield = Wide(kSchemaTextLengthPrefix + s->slot_names_[f]);
      Lucene::TermEnumPtr te = reader->terms(Lucene::newLucene<Lucene::Term>(lfield, L""));
      Lucene::TermDocsPtr td = reader->termDocs();
      do {
        Lucene::TermPtr t = te->term();
        if (!t || t->field() != lfield) break;
        const std::string text = Utf8(t->text());
        uint64_t len = 0;
        for (char c : text) {
          if (c < '0' || c > '9' || len > kMaxFieldLength) {
            len = kMaxFieldLength + 1;
            break;
          }
          len = len * 10 + static_cast<uint64_t>(c - '0');
        }
        if (text.empty() || len > kMaxFieldLength) {
          te->close();
          td->close();
          return Status::Corruption(dir + "/" + kTextDir + ": length \"" + text + "\" of text field \"" +
                                    s->slot_names_[f] + "\" is no token count (a damaged term dictionary)");
        }
        td->seek(t);
        while (td->next()) {
          const int32_t d = td->doc();
          if (d >= 0 && d < s->max_doc_) s->lengths_[f][d] = static_cast<uint32_t>(len);
        }
      } while (te->next());
      te->close();
      td->close();
    }
    for (size_t f = 0; f < slots; ++f) {
      const auto& lens = s->lengths_[f];
      for (int32_t d = 0; d < s->max_doc_; ++d) {
        if (lens[d] > 0) {
          ++s->doc_count_[f];
          s->sum_length_[f] += lens[d];
        }
      }
    }
    // Vectors of the generation this commit names.
    Lucene::MapStringString data = reader->getCommitUserData();
    if (data.contains(kGenerationKey)) {
      const std::string g = Utf8(data.get(kGenerationKey));
      if (g.empty() || g.size() > 19 || g.find_first_not_of("0123456789") != std::string::npos) {
        return Status::Corruption(dir + "/" + kTextDir + ": commit names vector generation \"" + g +
                                  "\" (a damaged segments_N file)");
      }
      s->vector_generation_ = std::stoull(g);
    }
    s->schema_ = meta.schema;
    if (previous && previous->vector_generation_ == s->vector_generation_) {
      s->vectors_ = previous->vectors_;
      s->forward_ = previous->forward_;
      s->values_ = previous->values_;
      s->values_base_ = previous->values_base_;
      s->values_base_info_ = previous->values_base_info_;
    } else {
      const std::string vdir = dir + "/" + kVectorsDir;
      Manifest manifest;
      if (s->vector_generation_ > 0) {
        auto m = ReadManifest(vdir, s->vector_generation_);
        if (!m.ok()) return m.status();
        manifest = std::move(m).value();
      }
      for (const auto& spec : meta.vector_fields) {
        auto it = std::find_if(manifest.fields.begin(), manifest.fields.end(),
                               [&](const ManifestField& f) { return f.name == spec.name; });
        auto store =
            it == manifest.fields.end() ? VectorStore::Create(spec) : VectorStore::Load(spec, vdir, it->raw, it->faiss);
        if (!store.ok()) return store.status();
        s->vectors_[spec.name] = std::shared_ptr<const VectorStore>(std::move(store).value());
      }
      if (!manifest.forward.name.empty()) {
        auto f = ForwardIndexReader::Open(vdir, ForwardFiles{manifest.forward, manifest.forward_base});
        if (!f.ok()) return f.status();
        s->forward_ = std::shared_ptr<const ForwardIndexReader>(std::move(f).value());
      }
      const Schema values_schema = ValuesSchema(meta.schema);
      if (!values_schema.empty() && !manifest.values.name.empty()) {
        const FileInfo& b = manifest.values_base;
        if (b.name.empty()) {
          auto v = DocValuesReader::Open(vdir, manifest.values, values_schema);
          if (!v.ok()) return v.status();
          s->values_ = std::shared_ptr<const DocValuesReader>(std::move(v).value());
        } else {
          // A delta: merged into its base, which the previous snapshot may
          // hold already (every commit until the next full file names it).
          const bool same_base = previous && previous->values_base_ && previous->values_base_info_.name == b.name &&
                                 previous->values_base_info_.size == b.size &&
                                 previous->values_base_info_.crc32 == b.crc32;
          if (same_base) {
            s->values_base_ = previous->values_base_;
          } else {
            auto base = DocValuesReader::Open(vdir, b, values_schema);
            if (!base.ok()) return base.status();
            s->values_base_ = std::shared_ptr<const DocValuesReader>(std::move(base).value());
          }
          s->values_base_info_ = b;
          auto v = DocValuesReader::Merge(*s->values_base_, vdir, manifest.values, values_schema);
          if (!v.ok()) return v.status();
          s->values_ = std::shared_ptr<const DocValuesReader>(std::move(v).value());
        }
      }
    }
    for (const auto& [name, store] : s->vectors_) {
      auto& map = s->slot_by_doc_[name];
      map.assign(static_cast<size_t>(s->max_doc_), -1);
      for (int32_t d = 0; d < s->max_doc_; ++d) {
        if (!s->ids_[d].empty()) map[d] = store->SlotOf(s->ids_[d]);
      }
    }
    // Rows of the typed values by docid now, while the snapshot is being
    // opened (a reopen off the query path), not in the first typed query.
    if (s->values_) s->MapRows();
    return s;
  });
}

void Snapshot::MapRows() const {
  std::call_once(rows_once_, [&] {
    row_by_doc_.assign(static_cast<size_t>(max_doc_), -1);
    doc_by_row_.assign(values_ ? values_->rows() : 0, -1);
    if (!values_) return;
    for (int32_t d = 0; d < max_doc_; ++d) {
      if (ids_[d].empty()) continue;
      const uint64_t row = values_->Find(ids_[d]);
      if (row == values_->rows()) continue;
      row_by_doc_[d] = static_cast<int32_t>(row);
      doc_by_row_[row] = d;
    }
  });
}

const std::vector<int32_t>& Snapshot::RowByDoc() const {
  MapRows();
  return row_by_doc_;
}

const std::vector<int32_t>& Snapshot::DocByRow() const {
  MapRows();
  return doc_by_row_;
}

int Snapshot::TextSlot(std::string_view name) const {
  for (size_t i = 0; i < slot_names_.size(); ++i) {
    if (slot_names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Snapshot::~Snapshot() {
  try {
    if (reader_) reader_->close();
  } catch (...) {
  }
}

uint64_t Snapshot::DocFreq(int field, const Lucene::String& term) const {
  // Cached per snapshot in both cases: re-ranking features ask for the
  // document frequency of every feedback term of every query.
  {
    std::lock_guard<std::mutex> g(df_mu_);
    auto it = df_cache_[field].find(term);
    if (it != df_cache_[field].end()) return it->second;
  }
  uint64_t n = 0;
  if (field == kAllField && !all_indexed_) {
    n = DerivedAllDocFreq(term);
  } else if (!has_deletions_) {
    n = static_cast<uint64_t>(reader_->docFreq(Lucene::newLucene<Lucene::Term>(slot_fields_[field], term)));
  } else {
    // Lucene's docFreq counts deleted documents until a merge drops them;
    // count live postings instead so that BM25 stays exact.
    Lucene::TermDocsPtr docs = reader_->termDocs(Lucene::newLucene<Lucene::Term>(slot_fields_[field], term));
    while (docs->next()) ++n;
    docs->close();
  }
  std::lock_guard<std::mutex> g(df_mu_);
  df_cache_[field][term] = n;
  return n;
}

uint64_t Snapshot::DerivedAllDocFreq(const Lucene::String& term) const {
  // Documents with the term in the title or the text: the two counts less
  // the documents having it in both. Those are found by walking the shorter
  // list and skipping through the longer one (Lucene's skip lists), so a
  // term that is rare in titles costs about its title postings. Live
  // documents only: TermDocs skips deleted ones, and DocFreq counts live ones.
  const uint64_t title = DocFreq(kTitleField, term);
  const uint64_t text = DocFreq(kTextField, term);
  if (title == 0 || text == 0) return title + text;
  const int short_field = title <= text ? kTitleField : kTextField;
  const int long_field = short_field == kTitleField ? kTextField : kTitleField;
  Lucene::TermDocsPtr a = reader_->termDocs(Lucene::newLucene<Lucene::Term>(kTextFieldsW[short_field], term));
  Lucene::TermDocsPtr b = reader_->termDocs(Lucene::newLucene<Lucene::Term>(kTextFieldsW[long_field], term));
  uint64_t both = 0;
  bool more = b->next();
  while (more && a->next()) {
    const int32_t d = a->doc();
    if (b->doc() < d) more = b->skipTo(d);
    if (more && b->doc() == d) ++both;
  }
  a->close();
  b->close();
  return title + text - both;
}

uint64_t Snapshot::DocFreqUtf8(int field, std::string_view term) const {
  std::string key(term);
  {
    std::lock_guard<std::mutex> g(df_mu_);
    auto it = df_utf8_cache_[field].find(key);
    if (it != df_utf8_cache_[field].end()) return it->second;
  }
  const uint64_t n = DocFreq(field, Wide(term));
  std::lock_guard<std::mutex> g(df_mu_);
  df_utf8_cache_[field].emplace(std::move(key), n);
  return n;
}

void Snapshot::ReadPostings(const Lucene::IndexReaderPtr& reader, int32_t base, int field, const Lucene::String& term,
                            std::vector<int32_t>* docs_out, std::vector<uint32_t>* tfs_out) const {
  Lucene::TermDocsPtr td = reader->termDocs(Lucene::newLucene<Lucene::Term>(slot_fields_[field], term));
  constexpr int32_t kChunk = 256;
  auto docs = Lucene::Collection<int32_t>::newInstance(kChunk);
  auto freqs = Lucene::Collection<int32_t>::newInstance(kChunk);
  const uint32_t* lens = lengths(field);
  const int64_t limit = std::min<int64_t>(max_doc_ - int64_t{base}, reader->maxDoc());
  for (int32_t n; (n = td->read(docs, freqs)) > 0;) {
    for (int32_t i = 0; i < n; ++i) {
      const int32_t d = docs[i];
      // Never trust a doc id or a frequency read from disk (damaged .frq/.tis).
      if (d < 0 || d >= limit || freqs[i] <= 0 ||
          static_cast<uint32_t>(freqs[i]) > std::max<uint32_t>(lens[base + d], 1)) {
        td->close();
        boost::throw_exception(Lucene::CorruptIndexException(
            L"postings of \"" + term + L"\" in field " + slot_fields_[field] + L": doc " +
            std::to_wstring(int64_t{base} + d) + L" with tf " + std::to_wstring(freqs[i]) +
            L" outside the index (a damaged .frq or .tis file)"));
      }
      docs_out->push_back(base + d);
      tfs_out->push_back(static_cast<uint32_t>(freqs[i]));
    }
  }
  td->close();
}

void Snapshot::ReadSlotPostings(const Lucene::IndexReaderPtr& reader, int32_t base, int field,
                                const Lucene::String& term, std::vector<int32_t>* docs,
                                std::vector<uint32_t>* tfs) const {
  if (field != kAllField || all_indexed_) {
    ReadPostings(reader, base, field, term, docs, tfs);
    return;
  }
  // "all" is title then text: a document's tf in it is the sum of its tfs
  // in the two, so its postings are the two lists merged by docid.
  std::vector<int32_t> title_docs, text_docs;
  std::vector<uint32_t> title_tfs, text_tfs;
  ReadPostings(reader, base, kTitleField, term, &title_docs, &title_tfs);
  ReadPostings(reader, base, kTextField, term, &text_docs, &text_tfs);
  docs->reserve(docs->size() + title_docs.size() + text_docs.size());
  tfs->reserve(tfs->size() + title_docs.size() + text_docs.size());
  size_t i = 0, j = 0;
  while (i < title_docs.size() || j < text_docs.size()) {
    if (j == text_docs.size() || (i < title_docs.size() && title_docs[i] < text_docs[j])) {
      docs->push_back(title_docs[i]);
      tfs->push_back(title_tfs[i++]);
    } else if (i == title_docs.size() || text_docs[j] < title_docs[i]) {
      docs->push_back(text_docs[j]);
      tfs->push_back(text_tfs[j++]);
    } else {
      docs->push_back(title_docs[i]);
      tfs->push_back(title_tfs[i++] + text_tfs[j++]);
    }
  }
}

void Snapshot::SetFrontier(DecodedPostings* p, int field) const {
  std::vector<uint32_t> min_dl;              // by tf, for tf < kDenseTf
  std::map<uint32_t, uint32_t> min_dl_high;  // by tf, for rare high tfs
  constexpr uint32_t kDenseTf = 1u << 16;
  const uint32_t* lens = lengths(field);
  for (size_t i = 0; i < p->docs.size(); ++i) {
    const int32_t d = p->docs[i];
    const uint32_t tf = p->tfs[i];
    if (tf >= kDenseTf) {
      auto [it, fresh] = min_dl_high.emplace(tf, lens[d]);
      if (!fresh) it->second = std::min(it->second, lens[d]);
      continue;
    }
    if (tf >= min_dl.size()) min_dl.resize(tf + 1, UINT32_MAX);
    min_dl[tf] = std::min(min_dl[tf], lens[d]);
  }
  // Keep (tf, dl) pairs not dominated by a higher tf with a shorter or equal dl.
  p->frontier.clear();
  uint32_t best_dl = UINT32_MAX;
  for (auto it = min_dl_high.rbegin(); it != min_dl_high.rend(); ++it) {
    if (it->second < best_dl) {
      p->frontier.push_back({it->first, it->second});
      best_dl = it->second;
    }
  }
  for (size_t tf = min_dl.size(); tf-- > 1;) {
    if (min_dl[tf] < best_dl) {
      p->frontier.push_back({static_cast<uint32_t>(tf), min_dl[tf]});
      best_dl = min_dl[tf];
    }
  }
}

std::shared_ptr<const DecodedPostings> Snapshot::CachePostings(int field, const Lucene::String& term,
                                                               std::shared_ptr<DecodedPostings> p) const {
  std::lock_guard<std::mutex> g(postings_mu_);
  if (cached_postings_ + p->docs.size() <= kMaxCachedPostings) {
    auto [it, fresh] = postings_[field].emplace(term, p);
    if (fresh) cached_postings_ += p->docs.size();
    return it->second;
  }
  return p;
}

void Snapshot::CarryPostings(const Snapshot& from) const {
  struct Entry {
    int field;
    std::wstring term;
    std::shared_ptr<const DecodedPostings> p;
  };
  std::vector<Entry> entries;
  {
    std::lock_guard<std::mutex> g(from.postings_mu_);
    for (size_t f = 0; f < from.postings_.size() && f < postings_.size(); ++f) {
      for (const auto& [term, p] : from.postings_[f]) entries.push_back({static_cast<int>(f), term, p});
    }
  }
  // Longest first: what the cache bound keeps, and what the old code warmed.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.p->docs.size() != b.p->docs.size() ? a.p->docs.size() > b.p->docs.size()
                                                : std::tie(a.field, a.term) < std::tie(b.field, b.term);
  });
  if (carried_docs_ == 0) {  // nothing of `from` is left as it was: decode the longest again
    for (size_t i = 0; i < entries.size() && i < kWarmTerms; ++i) (void)Postings(entries[i].field, entries[i].term);
    return;
  }
  // The segments after the carried ones, with their first docid.
  std::vector<std::pair<Lucene::IndexReaderPtr, int32_t>> tail;
  int64_t base = 0;
  for (const auto& r : SegmentReaders(reader_)) {
    if (base >= carried_docs_) tail.push_back({r, static_cast<int32_t>(base)});
    base += r->maxDoc();
  }
  for (const Entry& e : entries) {
    {
      std::lock_guard<std::mutex> g(postings_mu_);
      if (cached_postings_ + e.p->docs.size() > kMaxCachedPostings) continue;  // would not be cached
    }
    auto q = std::make_shared<DecodedPostings>();
    const std::vector<int32_t>& docs = e.p->docs;
    const size_t carried =
        static_cast<size_t>(std::lower_bound(docs.begin(), docs.end(), carried_docs_) - docs.begin());
    q->docs.reserve(docs.size());
    q->tfs.reserve(docs.size());
    // The carried postings less the documents deleted since (a merge of two
    // ascending lists).
    size_t g = 0;
    for (size_t i = 0; i < carried; ++i) {
      const int32_t d = docs[i];
      while (g < deleted_since_.size() && deleted_since_[g] < d) ++g;
      if (g < deleted_since_.size() && deleted_since_[g] == d) continue;
      q->docs.push_back(d);
      q->tfs.push_back(e.p->tfs[i]);
    }
    for (const auto& [r, b] : tail) ReadSlotPostings(r, b, e.field, e.term, &q->docs, &q->tfs);
    SetFrontier(q.get(), e.field);
    {
      // Live documents holding the term: what DocFreq counts.
      std::lock_guard<std::mutex> g2(df_mu_);
      df_cache_[e.field].emplace(e.term, q->docs.size());
    }
    (void)CachePostings(e.field, e.term, std::move(q));
  }
}

std::shared_ptr<const DecodedPostings> Snapshot::Postings(int field, const Lucene::String& term) const {
  {
    std::lock_guard<std::mutex> g(postings_mu_);
    auto it = postings_[field].find(term);
    if (it != postings_[field].end()) return it->second;
  }
  auto p = std::make_shared<DecodedPostings>();
  ReadSlotPostings(reader_, 0, field, term, &p->docs, &p->tfs);
  SetFrontier(p.get(), field);
  return CachePostings(field, term, std::move(p));
}

std::shared_ptr<const DecodedPostings::BlockMax> DecodedPostings::BlockMaxima(double k_base, double k_slope,
                                                                              const uint32_t* lengths) const {
  {
    std::lock_guard<std::mutex> g(block_mu_);
    for (const auto& m : block_max_) {
      if (m->k_base == k_base && m->k_slope == k_slope) return m;
    }
  }
  auto m = std::make_shared<BlockMax>();
  m->k_base = k_base;
  m->k_slope = k_slope;
  m->max.assign((docs.size() + kBlock - 1) / kBlock, 0.0);
  for (size_t i = 0; i < docs.size(); ++i) {
    const double tf = tfs[i];
    double& mx = m->max[i / kBlock];
    mx = std::max(mx, tf / (tf + k_base + k_slope * lengths[docs[i]]));
  }
  std::lock_guard<std::mutex> g(block_mu_);
  if (block_max_.size() >= kBlockMaxSets) block_max_.erase(block_max_.begin());
  block_max_.push_back(m);
  return m;
}

std::shared_ptr<const DecodedPostings::DenseIndex> DecodedPostings::Dense(int32_t max_doc) const {
  if (max_doc <= 0 || docs.size() * kDenseShare < static_cast<uint64_t>(max_doc)) return nullptr;
  {
    std::lock_guard<std::mutex> g(block_mu_);
    if (dense_) return dense_;
  }
  auto d = std::make_shared<DenseIndex>();
  d->words.assign((static_cast<size_t>(max_doc) + 63) / 64, DenseIndex::Word{0, 0});
  for (int32_t doc : docs) d->words[static_cast<size_t>(doc) >> 6].bits |= uint64_t{1} << (doc & 63);
  uint64_t before = 0;
  for (DenseIndex::Word& w : d->words) {
    w.before = before;
    before += static_cast<uint64_t>(__builtin_popcountll(w.bits));
  }
  std::lock_guard<std::mutex> g(block_mu_);
  if (!dense_) dense_ = d;
  return dense_;
}

std::shared_ptr<const DecodedPositions> Snapshot::DerivedAllPositions(const Lucene::String& term) const {
  const std::shared_ptr<const DecodedPositions> title = Positions(kTitleField, term);
  const std::shared_ptr<const DecodedPositions> text = Positions(kTextField, term);
  if (!title || !text) return nullptr;
  const uint64_t count = title->pos.size() + text->pos.size();
  {
    std::lock_guard<std::mutex> g(positions_mu_);
    if (cached_positions_ + count > kMaxCachedPositions) return nullptr;
  }
  auto p = std::make_shared<DecodedPositions>();
  p->docs.reserve(title->docs.size() + text->docs.size());
  p->starts.reserve(title->docs.size() + text->docs.size() + 1);
  p->pos.reserve(count);
  p->starts.push_back(0);
  size_t i = 0, j = 0;
  uint64_t mask = 0;
  int32_t last = -1;
  auto add = [&](int32_t at) {
    if (at == last || at >= DecodedPositions::kMaskBits) mask |= DecodedPositions::kInexact;
    mask |= uint64_t{1} << (at % DecodedPositions::kMaskBits);
    p->pos.push_back(at);
    last = at;
  };
  while (i < title->docs.size() || j < text->docs.size()) {
    const int32_t dt = i < title->docs.size() ? title->docs[i] : kEndDoc;
    const int32_t dx = j < text->docs.size() ? text->docs[j] : kEndDoc;
    const int32_t d = std::min(dt, dx);
    mask = 0;
    last = -1;
    if (dt == d) {
      for (uint32_t k = title->starts[i]; k < title->starts[i + 1]; ++k) {
        if (title->pos[k] >= kDerivedTextShift / 2) return nullptr;  // would come near the text's
        add(title->pos[k]);
      }
      ++i;
    }
    if (dx == d) {
      for (uint32_t k = text->starts[j]; k < text->starts[j + 1]; ++k) {
        if (text->pos[k] >= kDerivedTextShift) return nullptr;  // would overflow
        add(text->pos[k] + kDerivedTextShift);
      }
      ++j;
    }
    p->docs.push_back(d);
    p->masks.push_back(mask);
    p->starts.push_back(static_cast<uint32_t>(p->pos.size()));
  }
  // Aligned with the derived postings (the union of the two fields' live
  // documents), or the files disagree.
  if (p->docs != Postings(kAllField, term)->docs) {
    boost::throw_exception(Lucene::CorruptIndexException(L"positions of \"" + term +
                                                         L"\" in title and text disagree with their postings"
                                                         L" (a damaged .frq, .prx or .tis file)"));
  }
  std::lock_guard<std::mutex> g(positions_mu_);
  if (cached_positions_ + count > kMaxCachedPositions) return p;
  auto [it, fresh] = positions_[kAllField].emplace(term, p);
  if (fresh) cached_positions_ += count;
  return it->second;
}

std::shared_ptr<const DecodedPositions> Snapshot::Positions(int field, const Lucene::String& term) const {
  {
    std::lock_guard<std::mutex> g(positions_mu_);
    auto it = positions_[field].find(term);
    if (it != positions_[field].end()) return it->second;
  }
  if (field == kAllField && !all_indexed_) return DerivedAllPositions(term);
  // The number of positions is the sum of the term's tfs: refuse a term that
  // would overflow the cache before reading any of it.
  const std::shared_ptr<const DecodedPostings> postings = Postings(field, term);
  uint64_t count = 0;
  for (uint32_t tf : postings->tfs) count += tf;
  {
    std::lock_guard<std::mutex> g(positions_mu_);
    if (cached_positions_ + count > kMaxCachedPositions) return nullptr;
  }
  auto p = std::make_shared<DecodedPositions>();
  p->docs.reserve(postings->docs.size());
  p->starts.reserve(postings->docs.size() + 1);
  p->pos.reserve(count);
  p->masks.reserve(postings->docs.size());
  p->starts.push_back(0);
  Lucene::TermPositionsPtr tp = reader_->termPositions(Lucene::newLucene<Lucene::Term>(SlotField(field), term));
  auto corrupt = [&](int32_t d, const std::wstring& what) {
    tp->close();
    boost::throw_exception(Lucene::CorruptIndexException(L"positions of \"" + term + L"\" in field " +
                                                         SlotField(field) + L": doc " + std::to_wstring(d) + L" " +
                                                         what + L" (a damaged .frq, .prx or .tis file)"));
  };
  while (tp->next()) {
    const int32_t d = tp->doc();
    const int32_t f = tp->freq();
    // The same documents and tfs as the decoded postings, or the files disagree.
    const size_t i = p->docs.size();
    if (i >= postings->docs.size() || postings->docs[i] != d || static_cast<int64_t>(postings->tfs[i]) != f) {
      corrupt(d, L"with tf " + std::to_wstring(f) + L" where the postings have another");
    }
    int32_t last = -1;
    uint64_t mask = 0;
    for (int32_t k = 0; k < f; ++k) {
      const int32_t at = tp->nextPosition();
      if (at < last || at < 0) corrupt(d, L"with position " + std::to_wstring(at) + L" out of order");
      p->pos.push_back(at);
      if (at == last || at >= DecodedPositions::kMaskBits) mask |= DecodedPositions::kInexact;
      mask |= uint64_t{1} << (at % DecodedPositions::kMaskBits);
      last = at;
    }
    p->masks.push_back(mask);
    p->docs.push_back(d);
    p->starts.push_back(static_cast<uint32_t>(p->pos.size()));
  }
  tp->close();
  if (p->docs.size() != postings->docs.size()) corrupt(-1, L"missing from the positions");
  std::lock_guard<std::mutex> g(positions_mu_);
  if (cached_positions_ + count > kMaxCachedPositions) return p;
  auto [it, fresh] = positions_[field].emplace(term, p);
  if (fresh) cached_positions_ += count;
  return it->second;
}

uint64_t SnapshotStatistics::DocCount(std::string_view field) const {
  int f = s_->TextSlot(field);
  return f < 0 ? 0 : s_->doc_count(f);
}

uint64_t SnapshotStatistics::SumTotalTermFreq(std::string_view field) const {
  int f = s_->TextSlot(field);
  return f < 0 ? 0 : s_->sum_length(f);
}

uint64_t SnapshotStatistics::DocFreq(std::string_view field, std::string_view term) const {
  int f = s_->TextSlot(field);
  if (f < 0) return 0;
  Status failed;
  try {
    return s_->DocFreqUtf8(f, term);
  } catch (const Lucene::LuceneException& e) {
    failed = FromLucene(e, "document frequency of \"" + std::string(term) + "\"");
  } catch (const std::exception& e) {
    failed = Status::Internal("document frequency of \"" + std::string(term) + "\": " + e.what());
  }
  std::lock_guard<std::mutex> g(mu_);
  if (error_.ok()) error_ = failed;
  return 0;
}

Status SnapshotStatistics::status() const {
  std::lock_guard<std::mutex> g(mu_);
  return error_;
}

}  // namespace hymir::index::internal
