// HeapStats: what the process's memory allocator holds, as jemalloc reports it.
//
// Every fieldloop binary that links this library allocates through jemalloc (Debian's
// libjemalloc): glibc's malloc, with the many threads of gRPC, oneTBB and RocksDB, kept
// freed memory in per-thread arenas, and the server's RSS grew with the data it had read
// (docs/benchmarks.md, "Memory under load"). These figures make that visible: allocated is
// what the program holds, resident what the allocator keeps in RAM for it.
#ifndef FIELDLOOP_SERVICES_HEAP_STATS_H_
#define FIELDLOOP_SERVICES_HEAP_STATS_H_

#include <cstdint>
#include <string>

namespace fieldloop::services {

struct HeapStats {
  // False when the allocator could not be asked (the figures are then 0).
  bool known = false;
  // Bytes of live allocations ("stats.allocated").
  uint64_t allocated_bytes = 0;
  // Bytes of the allocator's pages in RAM: live allocations, free space kept for reuse,
  // and its own metadata ("stats.resident").
  uint64_t resident_bytes = 0;
};

// The allocator's current figures (it refreshes them first: a few microseconds).
// Thread-safe.
HeapStats ReadHeapStats();

// "jemalloc 5.3.0-...", the allocator and its version.
std::string AllocatorName();

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_HEAP_STATS_H_
