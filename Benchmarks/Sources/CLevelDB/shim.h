// LevelDB's C API (Debian: libleveldb-dev).
#include <leveldb/c.h>
