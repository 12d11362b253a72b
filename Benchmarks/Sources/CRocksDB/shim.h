// RocksDB's C API (Debian: librocksdb-dev). rocksdb/version.h is C++, so the version is read
// from the loaded library's file name instead (EngineKind.version).
#include <rocksdb/c.h>
