// The one adapter from rocksdb::Status to hymir::Status. Private; included as
// "kg/store/rocksdb_status.h".
#ifndef HYMIR_KG_STORE_ROCKSDB_STATUS_H_
#define HYMIR_KG_STORE_ROCKSDB_STATUS_H_

#include <rocksdb/status.h>

#include <string_view>

#include "hymir/status.h"

namespace hymir::kg::internal {

// Maps `s` to the matching hymir code, message "<context>: <rocksdb message>".
// A held LOCK file (another process has the store open) becomes Busy.
Status FromRocks(const rocksdb::Status& s, std::string_view context);

}  // namespace hymir::kg::internal

#endif  // HYMIR_KG_STORE_ROCKSDB_STATUS_H_
