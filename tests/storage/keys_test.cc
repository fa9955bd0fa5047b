#include "storage/keys.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace fieldloop::storage {
namespace {

TEST(Keys, BigEndianRoundTripsAndSortsNumerically) {
  const std::vector<uint64_t> values = {0, 1, 255, 256, 65535, 1ull << 32, ~0ull - 1, ~0ull};
  std::vector<std::string> encoded;
  for (uint64_t v : values) {
    std::string s;
    PutBigEndian64(&s, v);
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(GetBigEndian64(s), v);
    encoded.push_back(s);
  }
  EXPECT_TRUE(std::is_sorted(encoded.begin(), encoded.end()));
}

TEST(Keys, EventKeysOfOneInitiativeAreContiguousAndOrdered) {
  // "ab" and "ab-x" share a prefix; all "ab" keys must sort before any "ab-x" key, and
  // within an initiative sequence order must be byte order.
  std::vector<std::string> keys = {EventKey("ab-x", 1), EventKey("ab", 300), EventKey("ab", 2),
                                   EventKey("ab.c", 1), EventKey("ab", 256), EventKey("a", 9)};
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> want = {EventKey("a", 9),    EventKey("ab", 2),   EventKey("ab", 256),
                                   EventKey("ab", 300), EventKey("ab-x", 1), EventKey("ab.c", 1)};
  EXPECT_EQ(keys, want);
}

TEST(Keys, IdKeySeparatesKinds) {
  EXPECT_NE(IdKey("i", RecordKind::kFeedbackEvent, "x"), IdKey("i", RecordKind::kWinLossNote, "x"));
  EXPECT_NE(IdKey("i", RecordKind::kFeedbackEvent, "x"),
            IdKey("j", RecordKind::kFeedbackEvent, "x"));
  EXPECT_EQ(IdKey("i", RecordKind::kFeedbackEvent, "x").substr(0, 2), std::string("i\0", 2));
}

}  // namespace
}  // namespace fieldloop::storage
