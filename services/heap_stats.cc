#include "services/heap_stats.h"

#include <jemalloc/jemalloc.h>

namespace fieldloop::services {
namespace {

bool ReadSize(const char* name, uint64_t* out) {
  size_t value = 0;
  size_t size = sizeof value;
  if (mallctl(name, &value, &size, nullptr, 0) != 0) return false;
  *out = value;
  return true;
}

}  // namespace

HeapStats ReadHeapStats() {
  HeapStats stats;
  // jemalloc caches its statistics; advancing the epoch refreshes them.
  uint64_t epoch = 1;
  size_t size = sizeof epoch;
  if (mallctl("epoch", &epoch, &size, &epoch, size) != 0) return stats;
  stats.known = ReadSize("stats.allocated", &stats.allocated_bytes) &&
                ReadSize("stats.resident", &stats.resident_bytes);
  if (!stats.known) stats = HeapStats();
  return stats;
}

std::string AllocatorName() {
  // Asked of the allocator at run time, not taken from the header: it names the library
  // actually answering.
  const char* version = nullptr;
  size_t size = sizeof version;
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) {
    return "unknown allocator";
  }
  return std::string("jemalloc ") + version;
}

}  // namespace fieldloop::services
