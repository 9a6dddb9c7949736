// The hymir release this header belongs to. CMake reads the project version
// from the three macros below, so they are the one place it is set. What a
// release reads and writes (index, model and knowledge-graph formats) is in
// docs/compatibility.md.
//
// Thread-safety: constants only.
#ifndef HYMIR_VERSION_H_
#define HYMIR_VERSION_H_

#define HYMIR_VERSION_MAJOR 0
#define HYMIR_VERSION_MINOR 1
#define HYMIR_VERSION_PATCH 0

namespace hymir {

inline constexpr int kVersionMajor = HYMIR_VERSION_MAJOR;
inline constexpr int kVersionMinor = HYMIR_VERSION_MINOR;
inline constexpr int kVersionPatch = HYMIR_VERSION_PATCH;

// "MAJOR.MINOR.PATCH".
const char* VersionString();

}  // namespace hymir

#endif  // HYMIR_VERSION_H_
