#include "pipeline/refresh_plan.h"

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::HasSubstr;

const absl::CivilDay kAsOf(2026, 11, 25);

ThemeSummary Theme(ThemeId id, const std::string& label, int64_t mentions,
                   std::vector<std::pair<std::string, double>> stems) {
  ThemeSummary t;
  t.id = id;
  t.label = label;
  t.mentions = mentions;
  t.by_region = {{"NA", mentions / 2}, {"EMEA", mentions - mentions / 2}};
  t.by_segment = {{"SMB", mentions / 2}, {"Enterprise", mentions - mentions / 2}};
  t.by_quarter = {{"2026-Q4", mentions}};
  t.last_seen = 1795132800;
  t.stems = std::move(stems);
  return t;
}

fieldloop::v1::ContentAsset Asset(const std::string& id, fieldloop::v1::AssetType type,
                                  const std::string& title, const std::string& owner,
                                  const std::string& updated) {
  fieldloop::v1::ContentAsset a;
  a.set_asset_id(id);
  a.set_type(type);
  a.set_title(title);
  a.set_owner(owner);
  a.set_last_updated(updated);
  return a;
}

class RefreshPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ThemeSummary acme =
        Theme(1, "acme / battlecard / claims", 30, {{"acm", 9}, {"crm", 6}, {"claim", 3}});
    acme.competitors = {{"Acme CRM", 12}};
    ThemeSummary billing = Theme(2, "monthly / billing", 20, {{"month", 8}, {"bill", 7}});
    ThemeSummary security = Theme(3, "soc / report", 10, {{"soc", 5}, {"report", 4}});
    themes_ = Prioritize({acme, billing, security}, kAsOf, 2, 2);
    assets_ = {
        Asset("cnt-1", fieldloop::v1::ASSET_TYPE_BATTLECARD, "Acme CRM Battlecard",
              "Dana Whitfield", "2025-03-10"),  // Stale, covers acme.
        Asset("cnt-2", fieldloop::v1::ASSET_TYPE_ONE_PAGER, "SOC report, \"Type II\" summary",
              "security-team@example.com", "2026-10-01"),  // Fresh, covers security.
    };
  }

  TextNormalizer normalizer_;
  PrioritizedThemes themes_;
  std::vector<fieldloop::v1::ContentAsset> assets_;
};

TEST_F(RefreshPlanTest, StaleAssetOfALiveThemeGetsARefreshTaskOwnedByItsOwner) {
  std::vector<RefreshTask> tasks = PlanTasks(themes_, assets_, kAsOf, normalizer_);
  const RefreshTask* refresh = nullptr;
  for (const auto& t : tasks) {
    if (t.action == "refresh") refresh = &t;
  }
  ASSERT_NE(refresh, nullptr);
  EXPECT_EQ(refresh->task_key, "1/cnt-1");
  EXPECT_EQ(refresh->asset_id, "cnt-1");
  EXPECT_EQ(refresh->owner, "Dana Whitfield");
  EXPECT_EQ(refresh->format, "battlecard");
  EXPECT_EQ(refresh->priority, "P1");
  EXPECT_EQ(refresh->due, "2026-12-09");  // P1: as_of + 14 days.
  EXPECT_EQ(refresh->status, "open");
  EXPECT_EQ(refresh->evidence_count, 30);
  EXPECT_THAT(refresh->reason, HasSubstr("last updated 2025-03-10, 625 days ago (window 90)"));
}

TEST_F(RefreshPlanTest, LinkedAssetsAreEveryCoveringAssetFreshOrStale) {
  const std::map<ThemeId, std::vector<LinkedAsset>> links =
      LinkAssets(themes_, assets_, kAsOf, normalizer_, FreshnessWindows{});
  ASSERT_EQ(links.size(), 2u);  // acme and security; nothing covers billing.
  ASSERT_EQ(links.at(1).size(), 1u);
  EXPECT_EQ(links.at(1)[0].asset_id, "cnt-1");
  EXPECT_TRUE(links.at(1)[0].freshness.stale);
  ASSERT_EQ(links.at(3).size(), 1u);
  EXPECT_EQ(links.at(3)[0].asset_id, "cnt-2");
  EXPECT_EQ(links.at(3)[0].owner, "security-team@example.com");
  EXPECT_FALSE(links.at(3)[0].freshness.stale);
  // The plan made from the links is the plan made from the assets.
  EXPECT_EQ(RenderRefreshPlanCsv(PlanTasks(themes_, links, kAsOf)),
            RenderRefreshPlanCsv(PlanTasks(themes_, assets_, kAsOf, normalizer_)));
}

TEST_F(RefreshPlanTest, AThemeNoAssetCoversGetsACreateTaskWithAFormat) {
  std::vector<RefreshTask> tasks = PlanTasks(themes_, assets_, kAsOf, normalizer_);
  std::vector<std::string> creates;
  for (const auto& t : tasks) {
    if (t.action == "create") {
      creates.push_back(t.task_key);
      EXPECT_TRUE(t.asset_id.empty());
      EXPECT_EQ(t.owner, "unassigned");
      EXPECT_FALSE(t.format.empty());
    }
  }
  // Billing has no asset; security is covered by a fresh one-pager (no task); acme is
  // covered by the stale battlecard (refresh, not create).
  EXPECT_EQ(creates, std::vector<std::string>{"2/new"});
}

TEST_F(RefreshPlanTest, FormatsFollowTheTheme) {
  PrioritizedTheme p;
  p.theme.mentions = 10;
  EXPECT_EQ(SuggestedFormat(p), "short deck");
  p.theme.competitors = {{"Acme CRM", 1}};
  EXPECT_EQ(SuggestedFormat(p), "battlecard");
  p.theme.competitors.clear();
  p.theme.objections = 6;
  EXPECT_EQ(SuggestedFormat(p), "objection-handling snippet");
  p.theme.objections = 0;
  p.theme.won_deals = 2;
  EXPECT_EQ(SuggestedFormat(p), "customer-story one-pager");
  p.theme.won_deals = 0;
  p.theme.by_source = {{"enablement_session", 6}};
  EXPECT_EQ(SuggestedFormat(p), "onboarding module");
}

TEST_F(RefreshPlanTest, OneRowPerThemeAndAssetInAStableOrder) {
  std::vector<RefreshTask> tasks = PlanTasks(themes_, assets_, kAsOf, normalizer_);
  ASSERT_GE(tasks.size(), 2u);
  std::set<std::string> keys;
  for (const auto& t : tasks) EXPECT_TRUE(keys.insert(t.task_key).second) << t.task_key;
  for (size_t i = 1; i < tasks.size(); ++i) {
    EXPECT_LE(std::tie(tasks[i - 1].priority, tasks[i - 1].theme_id, tasks[i - 1].asset_id),
              std::tie(tasks[i].priority, tasks[i].theme_id, tasks[i].asset_id))
        << i;
  }
  // The order does not depend on the inventory's order.
  std::vector<fieldloop::v1::ContentAsset> reversed(assets_.rbegin(), assets_.rend());
  std::vector<std::string> again;
  for (const auto& t : PlanTasks(themes_, reversed, kAsOf, normalizer_)) {
    again.push_back(t.task_key);
  }
  std::vector<std::string> first;
  for (const auto& t : tasks) first.push_back(t.task_key);
  EXPECT_EQ(again, first);
}

TEST_F(RefreshPlanTest, CsvHasTheExactHeaderQuotesAndIsByteIdenticalOnRerun) {
  std::vector<fieldloop::v1::ContentAsset> assets = assets_;
  assets[0].set_title("Acme CRM Battlecard, \"v2\"");
  const std::string csv = RenderRefreshPlanCsv(PlanTasks(themes_, assets, kAsOf, normalizer_));
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "task_key,theme_id,theme,asset_id,asset,action,format,owner,due,priority,status,"
            "evidence_count,reason");
  EXPECT_THAT(csv, HasSubstr(",\"Acme CRM Battlecard, \"\"v2\"\"\",refresh,battlecard,"));
  EXPECT_EQ(csv, RenderRefreshPlanCsv(PlanTasks(themes_, assets, kAsOf, normalizer_)));
  EXPECT_EQ(csv.back(), '\n');
}

TEST_F(RefreshPlanTest, CellsThatASpreadsheetWouldRunAsFormulasAreGuarded) {
  std::vector<RefreshTask> tasks = PlanTasks(themes_, assets_, kAsOf, normalizer_);
  ASSERT_FALSE(tasks.empty());
  // Owners and titles come from the inventory, as anyone typed them.
  tasks[0].owner = "=HYPERLINK(\"http://evil\",\"x\")";
  tasks[0].asset = "+cmd|' /C calc'!A0";
  for (const char* hostile : {"-2+3", "@SUM(A1)", "\tx", "\rx"}) {
    RefreshTask t = tasks[0];
    t.task_key = "9/x";
    t.theme = hostile;
    tasks.push_back(t);
  }
  const std::string csv = RenderRefreshPlanCsv(tasks);
  EXPECT_THAT(csv, HasSubstr(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","));
  EXPECT_THAT(csv, HasSubstr(",'+cmd|' /C calc'!A0,"));
  EXPECT_THAT(csv, HasSubstr(",'-2+3,"));
  EXPECT_THAT(csv, HasSubstr(",'@SUM(A1),"));
  EXPECT_THAT(csv, HasSubstr(",'\tx,"));
  EXPECT_THAT(csv, HasSubstr(",\"'\rx\","));
  // No cell of the plan starts with a formula character once split.
  for (absl::string_view line : absl::StrSplit(csv, "\r\n", absl::SkipEmpty())) {
    for (absl::string_view cell : absl::StrSplit(line, ',')) {
      if (cell.empty()) continue;
      EXPECT_EQ(std::string_view("=+-@").find(cell[0]), std::string_view::npos) << line;
    }
  }
}

}  // namespace
}  // namespace fieldloop::pipeline
