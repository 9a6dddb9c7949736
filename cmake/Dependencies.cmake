# Third-party dependencies, all from Debian 12 packages (scripts/setup.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem system thread)

# Lucene++: Debian's config sets variables only; wrap them in a target that is
# exported with hymir (absolute paths) so consumers link it transitively.
find_package(liblucene++ 3.0.8 REQUIRED CONFIG)
find_package(liblucene++-contrib 3.0.8 REQUIRED CONFIG)
find_library(LUCENEPP_LIBRARY NAMES ${liblucene++_LIBRARIES} HINTS ${liblucene++_LIBRARY_DIRS} REQUIRED)
find_library(LUCENEPP_CONTRIB_LIBRARY NAMES ${liblucene++-contrib_LIBRARIES}
             HINTS ${liblucene++-contrib_LIBRARY_DIRS} REQUIRED)
add_library(hymir_lucenepp INTERFACE)
target_link_libraries(hymir_lucenepp INTERFACE ${LUCENEPP_CONTRIB_LIBRARY} ${LUCENEPP_LIBRARY}
                      Boost::boost Boost::filesystem Boost::system Boost::thread)

find_package(simdjson CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
endif()

# FAISS (static libfaiss.a): its config names OpenMP::OpenMP_CXX without
# finding it, so OpenMP must come first (STACK.md §2).
find_package(OpenMP REQUIRED)
find_package(faiss 1.7.3 REQUIRED CONFIG)

# OpenBLAS (BLAS + LAPACK symbols): variables only; wrap them, exported with hymir.
find_package(OpenBLAS CONFIG REQUIRED)
add_library(hymir_openblas INTERFACE)
target_include_directories(hymir_openblas SYSTEM INTERFACE ${OpenBLAS_INCLUDE_DIRS})
target_link_libraries(hymir_openblas INTERFACE ${OpenBLAS_LIBRARIES})

# zstd (the index's stored text): wrapped with absolute paths and exported
# with hymir, so that the index does not lean on another package's find module.
find_path(ZSTD_INCLUDE_DIR zstd.h REQUIRED)
find_library(ZSTD_LIBRARY zstd REQUIRED)
add_library(hymir_zstd INTERFACE)
target_include_directories(hymir_zstd SYSTEM INTERFACE ${ZSTD_INCLUDE_DIR})
target_link_libraries(hymir_zstd INTERFACE ${ZSTD_LIBRARY})

# RocksDB (the kg triple store). Its shared library, RocksDB::rocksdb-shared:
# the static librocksdb.a (RocksDB::rocksdb, STACK.md §2) uses initial-exec
# thread-locals, which cannot go into a shared object such as the Python
# module ("relocation R_X86_64_TPOFF32 ... recompile with -fPIC"). Every
# target links this one, so that no program holds two RocksDBs.
find_package(RocksDB 7.8 CONFIG REQUIRED)
# The KG loaders: GO.sqlite (SQLite3) and FOLDOC's dictzip file (zlib).
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
set(HYMIR_ROCKSDB RocksDB::rocksdb-shared)

# cpp-httplib (the example HTTP service and its tests): pkg-config only; its
# flags enable the OpenSSL/zlib/brotli parts the Debian .so was built with.
if(HYMIR_BUILD_EXAMPLES)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib)
endif()

# Open MPI (hymir_dist, hymir-mpi and their tests). The CXX component: the C API
# used from C++ (hymir_dist defines OMPI_SKIP_MPICXX, so no C++ bindings).
if(HYMIR_WITH_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
endif()

# OpenCV (hymir_media: image decoding and filters). Only the core, imgproc and
# imgcodecs modules are installed (scripts/setup.sh), and Debian's OpenCV CMake
# config ships with libopencv-dev (every module), so wrap the three libraries in
# a target exported with hymir (absolute paths), as for Lucene++.
if(HYMIR_WITH_MEDIA)
  find_path(OPENCV_INCLUDE_DIR opencv2/imgcodecs.hpp PATH_SUFFIXES opencv4 REQUIRED)
  find_library(OPENCV_CORE_LIBRARY opencv_core REQUIRED)
  find_library(OPENCV_IMGPROC_LIBRARY opencv_imgproc REQUIRED)
  find_library(OPENCV_IMGCODECS_LIBRARY opencv_imgcodecs REQUIRED)
  add_library(hymir_opencv INTERFACE)
  target_include_directories(hymir_opencv SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR})
  target_link_libraries(hymir_opencv INTERFACE ${OPENCV_IMGCODECS_LIBRARY} ${OPENCV_IMGPROC_LIBRARY}
                        ${OPENCV_CORE_LIBRARY})
  # libsndfile (sound decoding: WAV, FLAC, Ogg/Vorbis), wrapped the same way.
  find_path(SNDFILE_INCLUDE_DIR sndfile.h REQUIRED)
  find_library(SNDFILE_LIBRARY sndfile REQUIRED)
  add_library(hymir_sndfile INTERFACE)
  target_include_directories(hymir_sndfile SYSTEM INTERFACE ${SNDFILE_INCLUDE_DIR})
  target_link_libraries(hymir_sndfile INTERFACE ${SNDFILE_LIBRARY})
endif()
