#include "services/theme_feed.h"

#include <thread>

#include "gtest/gtest.h"

namespace fieldloop::services {
namespace {

ThemeFeed::Entry E(int64_t id, int64_t version, int64_t mentions, int64_t merged_into = -1) {
  return {id, version, version, merged_into, mentions};
}

TEST(ThemeFeed, ChangesCoalesceToTheLatestStateOfEachTheme) {
  ThemeFeed feed;
  feed.Publish("a", 1, {E(0, 1, 1), E(1, 1, 1)});
  feed.Publish("a", 2, {E(0, 2, 2)});
  feed.Publish("a", 3, {E(0, 3, 3), E(2, 3, 1)});
  EXPECT_EQ(feed.Version("a"), 3);
  EXPECT_EQ(feed.Version("b"), 0);
  ThemeFeed::Changes c = feed.ChangedAfter("a", 1, 100, absl::InfinitePast());
  ASSERT_EQ(c.entries.size(), 2u);  // Theme 0 once, at version 3; theme 2.
  EXPECT_EQ(c.entries[0].id, 0);
  EXPECT_EQ(c.entries[0].mentions, 3);
  EXPECT_EQ(c.entries[0].created_at, 1);  // A change keeps the version it was created at.
  EXPECT_EQ(c.entries[1].id, 2);
  EXPECT_EQ(c.seen, 3);
  // Nothing after 3: returns at the deadline, empty.
  c = feed.ChangedAfter("a", 3, 100, absl::Now() + absl::Milliseconds(10));
  EXPECT_TRUE(c.entries.empty());
  EXPECT_EQ(c.seen, 3);
  EXPECT_EQ(feed.All("a").entries.size(), 3u);
}

TEST(ThemeFeed, ALimitCutsOnlyBetweenVersions) {
  ThemeFeed feed;
  feed.Publish("a", 1, {E(0, 1, 1), E(1, 1, 1), E(2, 1, 1)});
  feed.Publish("a", 2, {E(3, 2, 1)});
  // A limit of 2 still returns the whole of version 1, and says so.
  ThemeFeed::Changes c = feed.ChangedAfter("a", 0, 2, absl::InfinitePast());
  EXPECT_EQ(c.entries.size(), 3u);
  EXPECT_EQ(c.seen, 1);
  c = feed.ChangedAfter("a", c.seen, 2, absl::InfinitePast());
  ASSERT_EQ(c.entries.size(), 1u);
  EXPECT_EQ(c.entries[0].id, 3);
  EXPECT_EQ(c.seen, 2);
}

TEST(ThemeFeed, AWaitingReaderWakesOnPublishAndOnClose) {
  ThemeFeed feed;
  ThemeFeed::Changes got;
  std::thread reader([&] { got = feed.ChangedAfter("a", 0, 10, absl::InfiniteFuture()); });
  feed.Publish("a", 5, {E(7, 5, 1, /*merged_into=*/3)});
  reader.join();
  ASSERT_EQ(got.entries.size(), 1u);
  EXPECT_EQ(got.entries[0].merged_into, 3);
  EXPECT_EQ(got.seen, 5);
  EXPECT_FALSE(got.closed);

  std::thread waiting([&] { got = feed.ChangedAfter("a", 5, 10, absl::InfiniteFuture()); });
  feed.Close();
  waiting.join();
  EXPECT_TRUE(got.closed);
  EXPECT_TRUE(got.entries.empty());
}

}  // namespace
}  // namespace fieldloop::services
