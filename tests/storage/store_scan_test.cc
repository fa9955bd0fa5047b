// The store's reads of one kind of record without the whole events log: ScanKind (through
// the ids index, in sequence order) and ScanLatestState (the assets and metrics column
// families, in id order).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::storage {
namespace {

RecordToAppend Rec(std::string initiative, RecordKind kind, std::string id, std::string payload) {
  return RecordToAppend{std::move(initiative), kind, std::move(id), std::move(payload)};
}

// (sequence, id, payload) of what ScanKind visits.
struct Seen {
  SequenceNumber sequence;
  std::string id, payload;
  bool operator==(const Seen& o) const {
    return sequence == o.sequence && id == o.id && payload == o.payload;
  }
};

std::vector<Seen> OfKind(const Store& store, const std::string& initiative, RecordKind kind) {
  std::vector<Seen> out;
  absl::Status s = store.ScanKind(initiative, kind, [&](const StoredRecord& r) {
    EXPECT_EQ(r.initiative, initiative);
    EXPECT_EQ(r.kind, kind);
    out.push_back({r.sequence, r.id, r.payload});
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::vector<std::pair<std::string, std::string>> Latest(const Store& store,
                                                        const std::string& initiative,
                                                        RecordKind kind) {
  std::vector<std::pair<std::string, std::string>> out;
  absl::Status s =
      store.ScanLatestState(initiative, kind, [&](absl::string_view id, absl::string_view value) {
        out.emplace_back(std::string(id), std::string(value));
        return true;
      });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

class StoreScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path(), {});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    // Ids sort against their sequence order; other kinds and a longer initiative with the
    // same prefix in between; a resent note (duplicate) and re-versioned assets.
    ASSERT_TRUE(store_
                    ->Append({Rec("a", RecordKind::kWinLossNote, "wl-3", "n3"),          // 1
                              Rec("a", RecordKind::kFeedbackEvent, "wl-2", "feedback"),  // 2
                              Rec("a", RecordKind::kWinLossNote, "wl-2", "n2"),          // 3
                              Rec("ab", RecordKind::kWinLossNote, "wl-0", "other"),      // ab 1
                              Rec("a", RecordKind::kContentAsset, "c-1", "v1"),          // 4
                              Rec("a", RecordKind::kWinLossNote, "wl-1", "n1")})         // 5
                    .ok());
    ASSERT_TRUE(store_
                    ->Append({Rec("a", RecordKind::kWinLossNote, "wl-3", "resent"),  // duplicate
                              Rec("a", RecordKind::kContentAsset, "c-1", "v2"),      // 6
                              Rec("a", RecordKind::kContentAsset, "c-0", "w1"),      // 7
                              Rec("a", RecordKind::kOnboardingMetric, "m-1", "x"),   // 8
                              Rec("ab", RecordKind::kContentAsset, "c-0", "other")})
                    .ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreScanTest, ScanKindVisitsTheStoredRecordOfEachIdentityInSequenceOrder) {
  EXPECT_EQ(OfKind(*store_, "a", RecordKind::kWinLossNote),
            (std::vector<Seen>{{1, "wl-3", "n3"}, {3, "wl-2", "n2"}, {5, "wl-1", "n1"}}));
  // A state kind: the latest version of each identity, still in sequence order.
  EXPECT_EQ(OfKind(*store_, "a", RecordKind::kContentAsset),
            (std::vector<Seen>{{6, "c-1", "v2"}, {7, "c-0", "w1"}}));
  EXPECT_EQ(OfKind(*store_, "ab", RecordKind::kWinLossNote),
            (std::vector<Seen>{{1, "wl-0", "other"}}));
  EXPECT_TRUE(OfKind(*store_, "a", RecordKind::kCallTranscript).empty());
  EXPECT_TRUE(OfKind(*store_, "none", RecordKind::kWinLossNote).empty());
}

TEST_F(StoreScanTest, ScanKindStopsWhenTheVisitorSaysSo) {
  int visited = 0;
  ASSERT_TRUE(store_
                  ->ScanKind("a", RecordKind::kWinLossNote,
                             [&](const StoredRecord&) { return ++visited < 2; })
                  .ok());
  EXPECT_EQ(visited, 2);
}

TEST_F(StoreScanTest, ScanLatestStateVisitsTheLatestPayloadOfEachIdentityInIdOrder) {
  EXPECT_EQ(Latest(*store_, "a", RecordKind::kContentAsset),
            (std::vector<std::pair<std::string, std::string>>{{"c-0", "w1"}, {"c-1", "v2"}}));
  EXPECT_EQ(Latest(*store_, "a", RecordKind::kOnboardingMetric),
            (std::vector<std::pair<std::string, std::string>>{{"m-1", "x"}}));
  EXPECT_EQ(Latest(*store_, "ab", RecordKind::kContentAsset),
            (std::vector<std::pair<std::string, std::string>>{{"c-0", "other"}}));
  EXPECT_EQ(store_
                ->ScanLatestState("a", RecordKind::kWinLossNote,
                                  [](absl::string_view, absl::string_view) { return true; })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreScanTest, ForgottenRecordsAreNotVisited) {
  std::vector<StoredRecord> forget;
  ASSERT_TRUE(store_
                  ->ScanEvents("a", 0,
                               [&](const StoredRecord& r) {
                                 if (r.id == "wl-2" || r.id == "c-1") forget.push_back(r);
                                 return true;
                               })
                  .ok());
  ASSERT_EQ(forget.size(), 4u);  // A feedback event wl-2, note wl-2, both versions of c-1.
  ASSERT_TRUE(store_->ForgetRecords("a", forget, {}, store_->LastSequence("a")).ok());
  EXPECT_EQ(OfKind(*store_, "a", RecordKind::kWinLossNote),
            (std::vector<Seen>{{1, "wl-3", "n3"}, {5, "wl-1", "n1"}}));
  EXPECT_EQ(OfKind(*store_, "a", RecordKind::kContentAsset), (std::vector<Seen>{{7, "c-0", "w1"}}));
  EXPECT_EQ(Latest(*store_, "a", RecordKind::kContentAsset),
            (std::vector<std::pair<std::string, std::string>>{{"c-0", "w1"}}));
}

}  // namespace
}  // namespace fieldloop::storage
