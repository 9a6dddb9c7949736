// Cluster on MPI (the only place, with the rest of src/dist, that includes mpi.h).
#include "hymir/dist/cluster.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace hymir::dist {
namespace {

Status FromCode(Status::Code code, std::string message) {
  switch (code) {
    case Status::Code::kOk:
      return Status::OK();
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(std::move(message));
    case Status::Code::kNotFound:
      return Status::NotFound(std::move(message));
    case Status::Code::kCorruption:
      return Status::Corruption(std::move(message));
    case Status::Code::kIOError:
      return Status::IOError(std::move(message));
    case Status::Code::kBusy:
      return Status::Busy(std::move(message));
    case Status::Code::kNotSupported:
      return Status::NotSupported(std::move(message));
    case Status::Code::kAlreadyExists:
      return Status::AlreadyExists(std::move(message));
    case Status::Code::kInternal:
      return Status::Internal(std::move(message));
  }
  return Status::Internal(std::move(message));
}

Status MpiError(const char* what, int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return Status::Internal(std::string("MPI ") + what + ": " + std::string(text, len));
}

// Byte counts travel as int (MPI's count type); larger messages are refused.
Result<int> Count(size_t n) {
  if (n > static_cast<size_t>(INT_MAX)) return Status::NotSupported("message of " + std::to_string(n) + " bytes");
  return static_cast<int>(n);
}

}  // namespace

Result<std::unique_ptr<Cluster>> Cluster::Init(int* argc, char*** argv) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return Status::NotSupported("MPI was already finalised in this process");
  int initialized = 0;
  MPI_Initialized(&initialized);
  bool owns = false;
  if (!initialized) {
    int provided = 0;
    int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return MpiError("init", rc);
    owns = true;
  }
  // Errors come back as return codes, not aborts, so they become Statuses.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return std::unique_ptr<Cluster>(new Cluster(rank, size, owns));
}

Cluster::~Cluster() {
  if (owns_mpi_) MPI_Finalize();
}

Status Cluster::Agree(const Status& local) const {
  // The lowest failing rank (size_ when none) speaks for every rank.
  int mine = local.ok() ? size_ : rank_, first = size_;
  int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("allreduce", rc);
  if (first == size_) return Status::OK();
  std::string message;
  int code = 0;
  if (rank_ == first) {
    message = "rank " + std::to_string(rank_) + ": " + local.message();
    code = static_cast<int>(local.code());
  }
  rc = MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("broadcast", rc);
  int len = static_cast<int>(std::min<size_t>(message.size(), INT_MAX));
  rc = MPI_Bcast(&len, 1, MPI_INT, first, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("broadcast", rc);
  message.resize(len);
  rc = MPI_Bcast(message.data(), len, MPI_CHAR, first, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("broadcast", rc);
  return FromCode(static_cast<Status::Code>(code), message);
}

namespace {
// InvalidArgument on every rank unless every rank passes the same `n`.
Status SameLength(uint64_t n) {
  uint64_t lo = 0, hi = 0;
  int rc = MPI_Allreduce(&n, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  if (rc == MPI_SUCCESS) rc = MPI_Allreduce(&n, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("allreduce", rc);
  if (lo != hi)
    return Status::InvalidArgument("ranks reduce vectors of different lengths (" + std::to_string(lo) + " to " +
                                   std::to_string(hi) + ")");
  return Status::OK();
}

template <typename T>
Status Reduce(std::vector<T>& values, MPI_Datatype type, MPI_Op op) {
  // Lengths first, so a mismatch is an error rather than a hang or overrun.
  HYMIR_RETURN_IF_ERROR(SameLength(values.size()));
  if (values.empty()) return Status::OK();
  HYMIR_ASSIGN_OR_RETURN(int count, Count(values.size()));
  int rc = MPI_Allreduce(MPI_IN_PLACE, values.data(), count, type, op, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("allreduce", rc);
  return Status::OK();
}
}  // namespace

Status Cluster::SumInPlace(std::vector<uint64_t>& values) const { return Reduce(values, MPI_UINT64_T, MPI_SUM); }
Status Cluster::SumInPlace(std::vector<double>& values) const { return Reduce(values, MPI_DOUBLE, MPI_SUM); }
Status Cluster::MaxInPlace(std::vector<uint64_t>& values) const { return Reduce(values, MPI_UINT64_T, MPI_MAX); }

Status Cluster::Broadcast(std::string& bytes) const {
  uint64_t n = bytes.size();
  int rc = MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("broadcast", rc);
  HYMIR_ASSIGN_OR_RETURN(int count, Count(n));
  bytes.resize(n);
  rc = MPI_Bcast(bytes.data(), count, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("broadcast", rc);
  return Status::OK();
}

Result<std::vector<std::string>> Cluster::Gather(const std::string& bytes) const {
  HYMIR_ASSIGN_OR_RETURN(int mine, Count(bytes.size()));
  std::vector<int> counts(rank_ == 0 ? size_ : 0), offsets(counts.size());
  int rc = MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("gather", rc);
  std::string all;
  if (rank_ == 0) {
    size_t total = 0;
    for (int r = 0; r < size_; ++r) {
      HYMIR_ASSIGN_OR_RETURN(offsets[r], Count(total));
      total += counts[r];
    }
    all.resize(total);
  }
  rc =
      MPI_Gatherv(bytes.data(), mine, MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("gather", rc);
  std::vector<std::string> out;
  if (rank_ == 0)
    for (int r = 0; r < size_; ++r) out.push_back(all.substr(offsets[r], counts[r]));
  return out;
}

Result<std::vector<std::string>> Cluster::AllGather(const std::string& bytes) const {
  HYMIR_ASSIGN_OR_RETURN(auto parts, Gather(bytes));
  // The root sends every part, length-prefixed, in one broadcast.
  std::string packed;
  if (rank_ == 0) {
    for (const auto& p : parts) {
      const uint64_t n = p.size();
      packed.append(reinterpret_cast<const char*>(&n), sizeof n);
      packed += p;
    }
  }
  HYMIR_RETURN_IF_ERROR(Broadcast(packed));
  std::vector<std::string> out;
  size_t at = 0;
  while (at + sizeof(uint64_t) <= packed.size()) {
    uint64_t n = 0;
    std::memcpy(&n, packed.data() + at, sizeof n);
    at += sizeof n;
    if (n > packed.size() - at) return Status::Internal("all-gather: damaged message");
    out.push_back(packed.substr(at, n));
    at += n;
  }
  if (static_cast<int>(out.size()) != size_) return Status::Internal("all-gather: damaged message");
  return out;
}

Result<std::vector<std::string>> Cluster::Exchange(const std::vector<std::string>& outgoing) const {
  if (static_cast<int>(outgoing.size()) != size_)
    return Status::InvalidArgument("exchange needs one message per rank (" + std::to_string(size_) + "), got " +
                                   std::to_string(outgoing.size()));
  std::vector<int> send_counts(size_), send_offsets(size_), recv_counts(size_), recv_offsets(size_);
  std::string send;
  for (int r = 0; r < size_; ++r) {
    HYMIR_ASSIGN_OR_RETURN(send_offsets[r], Count(send.size()));
    HYMIR_ASSIGN_OR_RETURN(send_counts[r], Count(outgoing[r].size()));
    send += outgoing[r];
  }
  int rc = MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("all-to-all", rc);
  size_t total = 0;
  for (int r = 0; r < size_; ++r) {
    HYMIR_ASSIGN_OR_RETURN(recv_offsets[r], Count(total));
    total += recv_counts[r];
  }
  std::string recv(total, '\0');
  rc = MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MPI_CHAR, recv.data(), recv_counts.data(),
                     recv_offsets.data(), MPI_CHAR, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError("all-to-all", rc);
  std::vector<std::string> incoming;
  for (int r = 0; r < size_; ++r) incoming.push_back(recv.substr(recv_offsets[r], recv_counts[r]));
  return incoming;
}

void Cluster::Barrier() const { MPI_Barrier(MPI_COMM_WORLD); }

}  // namespace hymir::dist
