// ShardedWriter: local changes for this rank's shard, queued changes for the others.
#include "hymir/dist/sharded_writer.h"

#include <filesystem>

#include "src/core/binary_io.h"
#include "src/dist/document_codec.h"
#include "src/dist/fingerprint.h"

namespace hymir::dist {
namespace {

constexpr uint32_t kUpsert = 1, kDelete = 2;

// Applies the changes another rank queued for this shard, in their order.
Status Apply(std::string_view bytes, int from, index::IndexWriter& writer) {
  internal::BinaryReader r(bytes);
  const auto damaged = [&] { return Status::Internal("damaged change queue from rank " + std::to_string(from)); };
  while (!r.AtEnd()) {
    uint32_t kind = 0;
    if (!r.U32(&kind)) return damaged();
    if (kind == kDelete) {
      std::string id;
      if (!r.Str(&id)) return damaged();
      HYMIR_RETURN_IF_ERROR(writer.Delete(id));
      continue;
    }
    if (kind != kUpsert) return damaged();
    Document d;
    if (!codec::DecodeDocument(r, &d)) return damaged();
    HYMIR_RETURN_IF_ERROR(writer.Upsert(d));
  }
  return Status::OK();
}

}  // namespace

ShardedWriter::ShardedWriter(const Cluster& cluster, ShardLayout layout, std::unique_ptr<index::IndexWriter> local)
    : cluster_(cluster), layout_(layout), local_(std::move(local)), outgoing_(cluster.size()) {}

ShardedWriter::~ShardedWriter() = default;

Status ShardedWriter::Remember(Status s) {
  if (!s.ok() && failed_.ok()) failed_ = s;
  return s;
}

Result<std::unique_ptr<ShardedWriter>> ShardedWriter::Open(const Cluster& cluster, const std::string& dir,
                                                           const ShardedWriterOptions& options) {
  // The root reads or creates the layout; every rank checks it.
  Status s;
  ShardLayout layout;
  if (cluster.is_root()) {
    auto existing = ReadShardLayout(dir);
    if (existing.ok()) {
      layout = *existing;
      if (layout.shards != cluster.size()) {
        s = Status::InvalidArgument(dir + " has " + std::to_string(layout.shards) + " shards but the job has " +
                                    std::to_string(cluster.size()) + " ranks (resharding is not supported)");
      } else if (options.analyzer && *options.analyzer != layout.analyzer) {
        s = Status::InvalidArgument(dir + " was built with the " + index::AnalyzerName(layout.analyzer) +
                                    " analyzer, not " + index::AnalyzerName(*options.analyzer));
      }
    } else if (existing.status().IsNotFound()) {
      if (std::filesystem::exists(std::filesystem::path(dir) / "hymir.json")) {
        s = Status::InvalidArgument(dir + " is a single (unsharded) hymir index");
      } else {
        layout.shards = cluster.size();
        layout.analyzer = options.analyzer.value_or(index::AnalyzerKind::kEnglish);
        s = WriteShardLayout(dir, layout);
      }
    } else {
      s = existing.status();
    }
  }
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  if (!cluster.is_root()) {
    auto l = ReadShardLayout(dir);
    s = l.ok() ? Status::OK() : l.status();
    if (l.ok()) layout = *l;
  }
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  index::IndexWriterOptions o;
  o.analyzer = layout.analyzer;
  o.ram_buffer_mb = options.ram_buffer_mb;
  o.vector_fields = options.vector_fields;
  o.schema = options.schema;
  auto local = index::IndexWriter::Open(ShardDir(dir, cluster.rank()), o);
  HYMIR_RETURN_IF_ERROR(cluster.Agree(local.status()));
  HYMIR_RETURN_IF_ERROR(cluster.Agree(fingerprint::CheckSameSchema(cluster, (*local)->schema(), dir)));
  return std::unique_ptr<ShardedWriter>(new ShardedWriter(cluster, layout, std::move(local).value()));
}

Status ShardedWriter::Upsert(const Document& doc) {
  if (doc.id.empty()) return Status::InvalidArgument("document with an empty id");
  // Typed values are checked here, on every rank, so that a bad document is
  // refused at once (and skipped with --skip-bad) wherever it is routed.
  if (!local_->schema().empty()) HYMIR_RETURN_IF_ERROR(index::CheckDocumentValues(local_->schema(), doc));
  const int owner = ShardOf(doc.id, layout_.shards);
  if (owner == cluster_.rank()) return Remember(local_->Upsert(doc));
  internal::BinaryWriter w;
  w.U32(kUpsert);
  codec::EncodeDocument(w, doc);
  outgoing_[owner] += w.out();
  ++queued_;
  return Status::OK();
}

Status ShardedWriter::Delete(std::string_view id) {
  const int owner = ShardOf(id, layout_.shards);
  if (owner == cluster_.rank()) return Remember(local_->Delete(id));
  internal::BinaryWriter w;
  w.U32(kDelete);
  w.Str(id);
  outgoing_[owner] += w.out();
  ++queued_;
  return Status::OK();
}

Status ShardedWriter::Commit() {
  auto incoming = cluster_.Exchange(outgoing_);
  for (auto& q : outgoing_) std::string().swap(q);
  queued_ = 0;
  Status s = failed_.ok() ? incoming.status() : failed_;
  failed_ = Status::OK();
  for (int r = 0; s.ok() && r < cluster_.size(); ++r) s = Apply((*incoming)[r], r, *local_);
  // Commit only when every rank could apply its changes.
  s = cluster_.Agree(s);
  if (s.ok()) s = cluster_.Agree(local_->Commit());
  if (!s.ok()) (void)local_->Rollback();
  return s;
}

Result<std::vector<uint64_t>> ShardedWriter::ShardSizes() {
  auto n = local_->NumDocs();
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(n.status()));
  std::vector<uint64_t> sizes(cluster_.size(), 0);
  sizes[cluster_.rank()] = *n;
  HYMIR_RETURN_IF_ERROR(cluster_.SumInPlace(sizes));  // one-hot vectors: the sum lists every shard
  return sizes;
}

Result<uint64_t> ShardedWriter::NumDocs() {
  HYMIR_ASSIGN_OR_RETURN(auto sizes, ShardSizes());
  uint64_t total = 0;
  for (uint64_t n : sizes) total += n;
  return total;
}

}  // namespace hymir::dist
