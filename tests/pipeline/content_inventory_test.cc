#include "pipeline/content_inventory.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::HasSubstr;

fieldloop::v1::ContentAsset Asset(const std::string& id, fieldloop::v1::AssetType type,
                                  const std::string& title, const std::string& updated,
                                  std::vector<std::string> tags = {}) {
  fieldloop::v1::ContentAsset a;
  a.set_asset_id(id);
  a.set_type(type);
  a.set_title(title);
  a.set_last_updated(updated);
  for (const auto& t : tags) a.add_tags(t);
  return a;
}

const absl::CivilDay kAsOf(2026, 11, 25);

TEST(Freshness, AgeAgainstTheWindowOfTheAssetType) {
  FreshnessWindows windows;
  auto battlecard = Freshness(
      Asset("bc", fieldloop::v1::ASSET_TYPE_BATTLECARD, "Acme", "2026-08-26"), kAsOf, windows);
  ASSERT_TRUE(battlecard.ok());
  EXPECT_EQ(battlecard->age_days, 91);
  EXPECT_EQ(battlecard->window_days, 90);
  EXPECT_TRUE(battlecard->stale);
  auto deck = Freshness(Asset("d", fieldloop::v1::ASSET_TYPE_DECK, "Pricing", "2026-08-26"), kAsOf,
                        windows);
  ASSERT_TRUE(deck.ok());
  EXPECT_FALSE(deck->stale);  // 91 days, window 180.
  auto edge =
      Freshness(Asset("e", fieldloop::v1::ASSET_TYPE_SNIPPET, "x", "2026-08-27"), kAsOf, windows);
  EXPECT_FALSE(edge->stale);  // Exactly 90 days old: still fresh.
}

TEST(Freshness, WindowsCanBeOverridden) {
  FreshnessWindows windows;
  ASSERT_TRUE(windows.Override("deck=30, video=10").ok());
  EXPECT_EQ(windows.For(fieldloop::v1::ASSET_TYPE_DECK), 30);
  EXPECT_EQ(windows.For(fieldloop::v1::ASSET_TYPE_VIDEO), 10);
  EXPECT_EQ(windows.For(fieldloop::v1::ASSET_TYPE_BATTLECARD), 90);
  absl::Status bad = windows.Override("deck=30,flyer=5");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("flyer=5"));
  EXPECT_FALSE(windows.Override("deck=-3").ok());
  EXPECT_FALSE(windows.Override("deck").ok());
}

TEST(Freshness, BadDateIsAnErrorNamingTheAsset) {
  auto f = Freshness(Asset("d-9", fieldloop::v1::ASSET_TYPE_DECK, "x", "2026-02-30"), kAsOf,
                     FreshnessWindows());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("d-9"));
}

TEST(Freshness, FutureDatedAssetIsFresh) {
  auto f = Freshness(Asset("d", fieldloop::v1::ASSET_TYPE_DECK, "x", "2026-12-01"), kAsOf,
                     FreshnessWindows());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->age_days, -6);
  EXPECT_FALSE(f->stale);
}

TEST(AssetMatching, TitleTagsAndTypeMakeTheAssetStems) {
  TextNormalizer n;
  std::vector<std::string> stems =
      AssetStems(Asset("bc", fieldloop::v1::ASSET_TYPE_BATTLECARD, "Acme CRM Battlecard",
                       "2025-03-10", {"competitor:acme", "objection-handling"}),
                 n);
  EXPECT_THAT(stems, ::testing::IsSupersetOf(
                         {"acm", "crm", "battlecard", "competitor", "object", "handl"}));
  EXPECT_TRUE(std::is_sorted(stems.begin(), stems.end()));
}

TEST(AssetMatching, SqueezedTagsSplitBetweenLettersAndDigits) {
  TextNormalizer n;
  // "soc2" is about SOC 2, as feedback writes it ("soc", and "2" is too short to keep).
  std::vector<std::string> stems =
      AssetStems(Asset("op", fieldloop::v1::ASSET_TYPE_ONE_PAGER, "Trust Overview", "2026-05-18",
                       {"soc2", "gdpr", "iso27001"}),
                 n);
  EXPECT_THAT(stems, ::testing::IsSupersetOf({"soc", "gdpr", "iso"}));  // 27001: 5 digits, dropped.
  EXPECT_THAT(stems, ::testing::Not(::testing::Contains("soc2")));
}

TEST(AssetMatching, AnAssetCoversAThemeWhenItSharesItsHeavyTerms) {
  TextNormalizer n;
  const std::vector<std::pair<std::string, double>> acme_theme = {
      {"acm", 9}, {"crm", 6}, {"claim", 3}, {"outdat", 2}, {"rep", 1}};
  const std::vector<std::pair<std::string, double>> billing_theme = {
      {"month", 8}, {"bill", 7}, {"invoic", 3}};
  std::vector<std::string> battlecard = AssetStems(
      Asset("bc", fieldloop::v1::ASSET_TYPE_BATTLECARD, "Acme CRM Battlecard", "2025-03-10"), n);
  EXPECT_NEAR(Coverage(battlecard, acme_theme), 15.0 / 21.0, 1e-12);
  EXPECT_TRUE(Covers(battlecard, acme_theme));
  EXPECT_EQ(Coverage(battlecard, billing_theme), 0);
  EXPECT_FALSE(Covers(battlecard, billing_theme));  // A content gap: nothing on billing.
  // One shared generic word is not coverage.
  std::vector<std::string> rep_guide =
      AssetStems(Asset("g", fieldloop::v1::ASSET_TYPE_OTHER, "Rep guide", "2025-03-10"), n);
  EXPECT_FALSE(Covers(rep_guide, acme_theme));
  EXPECT_EQ(Coverage(rep_guide, {}), 0);
}

}  // namespace
}  // namespace fieldloop::pipeline
