#include "services/heap_stats.h"

#include <cstring>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::services {
namespace {

using ::testing::StartsWith;

// The figures are jemalloc's, and jemalloc is this process's malloc: memory taken with
// new[] shows up in them, and leaves them when freed. With glibc's malloc in use (the
// library linked without jemalloc before libc), allocated would not move.
TEST(HeapStats, JemallocIsTheAllocatorAndCountsWhatTheProgramHolds) {
  const HeapStats before = ReadHeapStats();
  ASSERT_TRUE(before.known);
  constexpr size_t kBytes = size_t{64} << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);               // Touched: resident too.
  asm volatile("" : : "r"(block.get()) : "memory");  // Keeps the allocation.
  const HeapStats holding = ReadHeapStats();
  EXPECT_GE(holding.allocated_bytes, before.allocated_bytes + kBytes);
  block.reset();
  const HeapStats after = ReadHeapStats();
  EXPECT_LT(after.allocated_bytes, holding.allocated_bytes - kBytes / 2);
}

TEST(HeapStats, AllocatorNameSaysJemallocAndItsVersion) {
  EXPECT_THAT(AllocatorName(), StartsWith("jemalloc 5."));
}

}  // namespace
}  // namespace fieldloop::services
