// Themes service through a real server on 127.0.0.1:0 with a real RocksDB: ListThemes
// (filters, orders, pages), GetTheme (as the board shows it, merged ids), WatchThemes
// (snapshot, live changes, resume, merges, a watcher that never reads, restart).
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pipeline/record_files.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/example_records.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/files.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using v1::ThemeChange;

constexpr char kInitiative[] = "q3-push";
constexpr char kAsOf[] = "2026-11-25";

class ThemesServiceTest : public ::testing::Test {
 protected:
  void StartServer(pipeline::ModelOptions model = {}, bool redact_pii = true) {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.clock = &clock_;
    options.model = model;
    options.redact_pii = redact_pii;
    auto server = services::FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    themes_ = v1::Themes::NewStub(channel);
    board_ = v1::Board::NewStub(channel);
  }

  // Streams `records` and waits until they are applied to themes.
  void Stream(const std::vector<v1::IngestRequest>& records) {
    testing::StreamResult result = testing::StreamAll(server_->address(), records);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    ASSERT_EQ(result.acks.size(), records.size());
    for (const auto& ack : result.acks) ASSERT_EQ(ack.status(), v1::ACK_STATUS_ACCEPTED);
    ASSERT_TRUE(
        server_->applier().WaitApplied(kInitiative, 0, absl::Now() + absl::Seconds(60)).ok());
  }

  grpc::Status List(v1::ListThemesRequest request, v1::ListThemesResponse* response) {
    grpc::ClientContext context;
    if (request.initiative().empty()) request.set_initiative(kInitiative);
    if (request.as_of().empty() && request.page_token().empty()) request.set_as_of(kAsOf);
    return themes_->ListThemes(&context, request, response);
  }

  // Every page of `request`, concatenated.
  std::vector<v1::ThemeBrief> ListAll(v1::ListThemesRequest request) {
    std::vector<v1::ThemeBrief> out;
    while (true) {
      v1::ListThemesResponse page;
      grpc::Status s = List(request, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return out;
      out.insert(out.end(), page.themes().begin(), page.themes().end());
      if (page.next_page_token().empty()) return out;
      request.set_page_token(page.next_page_token());
      request.clear_as_of();  // The token carries it.
    }
  }

  grpc::Status Get(int64_t id, v1::GetThemeResponse* response) {
    grpc::ClientContext context;
    v1::GetThemeRequest request;
    request.set_initiative(kInitiative);
    request.set_theme_id(id);
    request.set_as_of(kAsOf);
    return themes_->GetTheme(&context, request, response);
  }

  // A watch; Next() reads events until CAUGHT_UP and returns them (CAUGHT_UP last).
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<ThemeChange>> reader;
    std::vector<ThemeChange> Next() {
      std::vector<ThemeChange> out;
      ThemeChange change;
      while (reader->Read(&change)) {
        out.push_back(change);
        if (change.kind() == ThemeChange::CAUGHT_UP) break;
      }
      return out;
    }
  };
  std::unique_ptr<Watch> StartWatch(int64_t from_version) {
    auto w = std::make_unique<Watch>();
    v1::WatchThemesRequest request;
    request.set_initiative(kInitiative);
    request.set_from_version(from_version);
    w->reader = themes_->WatchThemes(&w->context, request);
    return w;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 12, 0, 0), absl::UTCTimeZone())};
  std::unique_ptr<services::FieldloopServer> server_;
  std::unique_ptr<v1::Themes::Stub> themes_;
  std::unique_ptr<v1::Board::Stub> board_;
};

TEST_F(ThemesServiceTest, ListThemesPagesThroughEveryThemeInEachOrder) {
  StartServer();
  Stream(testing::AllExampleRecords());
  v1::ListThemesRequest one_page;
  one_page.set_page_size(500);
  v1::ListThemesResponse all;
  ASSERT_TRUE(List(one_page, &all).ok());
  ASSERT_TRUE(all.next_page_token().empty());
  ASSERT_GT(all.themes_size(), 20);
  EXPECT_EQ(all.total(), all.themes_size());
  EXPECT_EQ(static_cast<size_t>(all.version()), server_->ingestor().stats().accepted);

  for (v1::ThemeOrder order :
       {v1::THEME_ORDER_PRIORITY, v1::THEME_ORDER_MENTIONS, v1::THEME_ORDER_RECENCY}) {
    SCOPED_TRACE(order);
    v1::ListThemesRequest request;
    request.set_order(order);
    request.set_page_size(7);
    const std::vector<v1::ThemeBrief> paged = ListAll(request);
    request.set_page_size(500);
    v1::ListThemesResponse whole;
    ASSERT_TRUE(List(request, &whole).ok());
    ASSERT_EQ(paged.size(), static_cast<size_t>(whole.themes_size()));
    std::set<int64_t> ids;
    for (size_t i = 0; i < paged.size(); ++i) {
      EXPECT_EQ(paged[i].id(), whole.themes(static_cast<int>(i)).id());
      ids.insert(paged[i].id());
      if (i == 0) continue;
      const v1::ThemeBrief& a = paged[i - 1];
      const v1::ThemeBrief& b = paged[i];
      if (order == v1::THEME_ORDER_PRIORITY) EXPECT_GE(a.score(), b.score());
      if (order == v1::THEME_ORDER_MENTIONS) EXPECT_GE(a.mentions(), b.mentions());
      if (order == v1::THEME_ORDER_RECENCY) {
        EXPECT_GE(a.last_seen().seconds(), b.last_seen().seconds());
      }
    }
    EXPECT_EQ(ids.size(), paged.size());  // No theme twice.
  }
  // The priority order is the board's: its first fix's theme leads the global list.
  grpc::ClientContext context;
  v1::GetBoardRequest board_request;
  board_request.set_initiative(kInitiative);
  board_request.set_as_of(kAsOf);
  v1::GetBoardResponse board;
  ASSERT_TRUE(board_->GetBoard(&context, board_request, &board).ok());
  EXPECT_THAT(board.board_markdown(), HasSubstr("| 1 (P1) | " + all.themes(0).label() + " |"));
  EXPECT_EQ(all.themes(0).rank_list(), "global");
}

TEST_F(ThemesServiceTest, FiltersKeepOnlyMatchingThemes) {
  StartServer();
  Stream(testing::AllExampleRecords());
  v1::ListThemesRequest request;
  request.set_page_size(500);
  request.set_region("LATAM");
  request.set_source("ride_along");
  request.mutable_seen_since()->set_seconds(1790000000);  // 2026-09-21.
  v1::ListThemesResponse filtered, all;
  ASSERT_TRUE(List(request, &filtered).ok());
  v1::ListThemesRequest everything;
  everything.set_page_size(500);
  ASSERT_TRUE(List(everything, &all).ok());
  ASSERT_GT(filtered.themes_size(), 0);
  EXPECT_LT(filtered.themes_size(), all.themes_size());
  EXPECT_EQ(filtered.total(), filtered.themes_size());
  for (const v1::ThemeBrief& t : filtered.themes()) {
    EXPECT_GE(t.last_seen().seconds(), 1790000000);
    v1::GetThemeResponse got;
    ASSERT_TRUE(Get(t.id(), &got).ok());
    std::map<std::string, int64_t> regions, sources;
    for (const auto& c : got.theme().by_region()) regions[c.name()] = c.count();
    for (const auto& c : got.theme().by_source()) sources[c.name()] = c.count();
    EXPECT_GT(regions["LATAM"], 0) << t.label();
    EXPECT_GT(sources["ride_along"], 0) << t.label();
  }
  // A theme that matches all filters but is missing from the answer would be a bug too.
  int64_t matching = 0;
  for (const v1::ThemeBrief& t : all.themes()) {
    v1::GetThemeResponse got;
    ASSERT_TRUE(Get(t.id(), &got).ok());
    bool region = false, source = false;
    for (const auto& c : got.theme().by_region()) region |= c.name() == "LATAM" && c.count() > 0;
    for (const auto& c : got.theme().by_source())
      source |= c.name() == "ride_along" && c.count() > 0;
    matching += region && source && t.last_seen().seconds() >= 1790000000;
  }
  EXPECT_EQ(matching, filtered.total());
}

TEST_F(ThemesServiceTest, BadRequestsNameTheField) {
  StartServer();
  Stream(testing::AllExampleRecords());
  v1::ListThemesResponse response;
  v1::ListThemesRequest request;
  request.set_page_size(501);
  grpc::Status s = List(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_size"));

  request.set_page_size(0);
  request.set_page_token("not a token");
  s = List(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));

  // A token used with other filters.
  v1::ListThemesRequest first;
  first.set_page_size(2);
  ASSERT_TRUE(List(first, &response).ok());
  ASSERT_FALSE(response.next_page_token().empty());
  v1::ListThemesRequest other;
  other.set_region("EMEA");
  other.set_page_token(response.next_page_token());
  s = List(other, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));

  v1::ListThemesRequest bad_name;
  bad_name.set_initiative("../etc");
  s = List(bad_name, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("initiative"));
  v1::ListThemesRequest unknown;
  unknown.set_initiative("nobody");
  EXPECT_EQ(List(unknown, &response).error_code(), grpc::StatusCode::NOT_FOUND);

  v1::GetThemeResponse got;
  EXPECT_EQ(Get(987654, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(-1, &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ThemesServiceTest, GetThemeTellsWhatTheBoardKnows) {
  StartServer();
  Stream(testing::AllExampleRecords());
  // The board's plan: tasks per theme id.
  grpc::ClientContext context;
  v1::GetBoardRequest board_request;
  board_request.set_initiative(kInitiative);
  board_request.set_as_of(kAsOf);
  v1::GetBoardResponse board;
  ASSERT_TRUE(board_->GetBoard(&context, board_request, &board).ok());
  std::map<int64_t, std::set<std::string>> keys_by_theme;
  for (absl::string_view line : absl::StrSplit(board.plan_csv(), "\r\n", absl::SkipEmpty())) {
    std::vector<std::string> cells = absl::StrSplit(line, absl::MaxSplits(',', 2));
    int64_t id;
    if (absl::SimpleAtoi(cells[1], &id)) keys_by_theme[id].insert(cells[0]);
  }
  v1::ListThemesRequest request;
  request.set_page_size(500);
  v1::ListThemesResponse all;
  ASSERT_TRUE(List(request, &all).ok());
  int with_assets = 0, with_proof = 0;
  for (const v1::ThemeBrief& t : all.themes()) {
    v1::GetThemeResponse got;
    ASSERT_TRUE(Get(t.id(), &got).ok());
    const v1::Theme& theme = got.theme();
    EXPECT_FALSE(got.merged());
    EXPECT_EQ(got.requested_id(), t.id());
    EXPECT_EQ(theme.brief().id(), t.id());
    EXPECT_EQ(theme.brief().label(), t.label());
    EXPECT_EQ(theme.brief().why(), t.why());
    EXPECT_GT(theme.quotes_size(), 0);
    EXPECT_GT(theme.terms_size(), 0);
    int64_t by_region = 0;
    for (const auto& c : theme.by_region()) by_region += c.count();
    EXPECT_EQ(by_region, theme.brief().mentions());
    std::set<std::string> keys;
    for (const auto& task : theme.tasks()) keys.insert(task.task_key());
    EXPECT_EQ(keys, keys_by_theme[t.id()]) << t.label();
    with_assets += theme.linked_assets_size() > 0;
    with_proof += theme.proof_points_size() > 0;
    if (t.label() == "crm / acme / match") {
      ASSERT_EQ(theme.linked_assets_size(), 1);
      EXPECT_EQ(theme.linked_assets(0).asset_id(), "cnt-1001");
      EXPECT_TRUE(theme.linked_assets(0).stale());
    }
  }
  EXPECT_GT(with_assets, 3);
  EXPECT_GT(with_proof, 0);
}

TEST_F(ThemesServiceTest, WatchSendsASnapshotThenLiveChangesAndResumes) {
  StartServer();
  std::vector<v1::IngestRequest> records = testing::AllExampleRecords();
  const std::vector<v1::IngestRequest> first(records.begin(), records.begin() + 150);
  const std::vector<v1::IngestRequest> second(records.begin() + 150, records.end());

  // Before any record: an empty snapshot.
  std::unique_ptr<Watch> watch = StartWatch(0);
  std::vector<ThemeChange> events = watch->Next();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), ThemeChange::CAUGHT_UP);
  EXPECT_EQ(events[0].version(), 0);

  Stream(first);
  v1::ListThemesResponse listed;
  v1::ListThemesRequest request;
  request.set_page_size(500);
  ASSERT_TRUE(List(request, &listed).ok());
  const int64_t v1_version = listed.version();
  ASSERT_EQ(v1_version, 150);
  // Live changes until caught up with the first 150 records: every theme created.
  std::map<int64_t, ThemeChange> latest;
  while (latest.empty() || events.back().version() < v1_version) {
    events = watch->Next();
    ASSERT_FALSE(events.empty());
    ASSERT_EQ(events.back().kind(), ThemeChange::CAUGHT_UP);
    for (const ThemeChange& e : events) {
      if (e.kind() == ThemeChange::CAUGHT_UP) continue;
      EXPECT_NE(e.kind(), ThemeChange::SNAPSHOT);
      EXPECT_LE(e.version(), events.back().version());
      latest[e.theme_id()] = e;
    }
  }
  std::set<int64_t> live;
  for (const auto& [id, e] : latest) {
    if (e.kind() != ThemeChange::MERGED) live.insert(id);
  }
  std::set<int64_t> listed_ids;
  for (const v1::ThemeBrief& t : listed.themes()) listed_ids.insert(t.id());
  EXPECT_EQ(live, listed_ids);
  // Mentions change only with the theme; a label weighs terms against the whole initiative
  // and may drift without an event (docs/api.md), so only its presence is checked.
  for (const v1::ThemeBrief& t : listed.themes()) {
    EXPECT_FALSE(latest[t.id()].label().empty());
    EXPECT_EQ(latest[t.id()].mentions(), t.mentions());
  }

  // Resume from v1 on another stream: only what changed after it.
  Stream(second);
  std::unique_ptr<Watch> resumed = StartWatch(v1_version);
  ASSERT_TRUE(List(request, &listed).ok());
  std::vector<ThemeChange> after;
  while (after.empty() || after.back().version() < listed.version()) {
    std::vector<ThemeChange> more = resumed->Next();
    ASSERT_FALSE(more.empty());
    after.insert(after.end(), more.begin(), more.end());
  }
  int created = 0, updated = 0;
  for (const ThemeChange& e : after) {
    EXPECT_GT(e.version(), v1_version);
    EXPECT_NE(e.kind(), ThemeChange::SNAPSHOT);
    created += e.kind() == ThemeChange::CREATED;
    updated += e.kind() == ThemeChange::UPDATED;
    if (e.kind() == ThemeChange::UPDATED) EXPECT_TRUE(live.count(e.theme_id())) << e.theme_id();
  }
  EXPECT_GT(created, 0);
  EXPECT_GT(updated, 0);

  // A fresh watch starts with a snapshot of exactly the listed themes.
  std::unique_ptr<Watch> fresh = StartWatch(0);
  events = fresh->Next();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind(), ThemeChange::CAUGHT_UP);
  EXPECT_EQ(events.back().version(), listed.version());
  std::set<int64_t> snapshot;
  for (const ThemeChange& e : events) {
    if (e.kind() == ThemeChange::SNAPSHOT) snapshot.insert(e.theme_id());
  }
  listed_ids.clear();
  for (const v1::ThemeBrief& t : listed.themes()) listed_ids.insert(t.id());
  EXPECT_EQ(snapshot, listed_ids);
}

TEST_F(ThemesServiceTest, MergedIdsResolveToTheSurvivorAndAreWatched) {
  // Merge checks after every document with a low threshold: the example merges a lot.
  pipeline::ModelOptions model;
  model.clusterer.merge_interval = 1;
  model.clusterer.merge_threshold = 0.2;
  StartServer(model);
  std::unique_ptr<Watch> watch = StartWatch(0);
  ASSERT_EQ(watch->Next().size(), 1u);
  Stream(testing::AllExampleRecords());
  v1::ListThemesRequest request;
  request.set_page_size(500);
  v1::ListThemesResponse listed;
  ASSERT_TRUE(List(request, &listed).ok());
  std::map<int64_t, int64_t> merged;  // id -> merged_into, as watched.
  std::vector<ThemeChange> events;
  while (events.empty() || events.back().version() < listed.version()) {
    events = watch->Next();
    ASSERT_FALSE(events.empty());
    for (const ThemeChange& e : events) {
      if (e.kind() == ThemeChange::MERGED) merged[e.theme_id()] = e.merged_into();
    }
  }
  ASSERT_FALSE(merged.empty());
  for (const auto& [id, into] : merged) {
    v1::GetThemeResponse got;
    ASSERT_TRUE(Get(id, &got).ok()) << id;
    EXPECT_TRUE(got.merged());
    EXPECT_EQ(got.requested_id(), id);
    // The survivor: `into`, or where `into` went later.
    int64_t survivor = into;
    while (merged.count(survivor)) survivor = merged[survivor];
    EXPECT_EQ(got.theme().brief().id(), survivor);
  }
}

TEST_F(ThemesServiceTest, AWatcherThatNeverReadsDoesNotHoldUpIngest) {
  StartServer();
  // Three watchers that never read a single event.
  std::vector<std::unique_ptr<Watch>> stalled;
  for (int i = 0; i < 3; ++i) stalled.push_back(StartWatch(0));
  Stream(testing::AllExampleRecords());  // Every record acked and applied (asserted inside).
  v1::ListThemesResponse listed;
  v1::ListThemesRequest request;
  ASSERT_TRUE(List(request, &listed).ok());
  EXPECT_EQ(static_cast<size_t>(listed.version()), server_->ingestor().stats().accepted);
  for (auto& w : stalled) w->context.TryCancel();
}

TEST_F(ThemesServiceTest, VersionsSurviveARestart) {
  StartServer();
  std::vector<v1::IngestRequest> records = testing::AllExampleRecords();
  Stream({records.begin(), records.begin() + 200});
  v1::ListThemesRequest request;
  request.set_page_size(500);
  v1::ListThemesResponse before;
  ASSERT_TRUE(List(request, &before).ok());
  Stream({records.begin() + 200, records.end()});
  v1::ListThemesResponse end;
  ASSERT_TRUE(List(request, &end).ok());
  server_->Shutdown();
  server_.reset();

  StartServer();
  v1::ListThemesResponse restarted;
  ASSERT_TRUE(List(request, &restarted).ok());
  EXPECT_EQ(restarted.version(), end.version());
  EXPECT_EQ(restarted.themes_size(), end.themes_size());
  // Resuming from before the second half: its changes only, as stored before the restart.
  std::unique_ptr<Watch> watch = StartWatch(before.version());
  std::vector<ThemeChange> events = watch->Next();
  ASSERT_GT(events.size(), 1u);
  EXPECT_EQ(events.back().version(), end.version());
  for (const ThemeChange& e : events) {
    EXPECT_GT(e.version(), before.version());
    EXPECT_LE(e.version(), end.version());
  }
  // Themes of the first part the second half did not touch are not sent.
  EXPECT_LT(events.size() - 1, static_cast<size_t>(end.themes_size()));
}

TEST_F(ThemesServiceTest, ContactDataInQuotesIsMaskedUnlessTurnedOff) {
  const std::string text =
      "Buyer wants monthly billing; reach Ana at ana.diaz@redwood.example or +1 415 555 0133.";
  std::vector<v1::IngestRequest> records;
  for (int i = 0; i < 3; ++i) {
    v1::IngestRequest r = testing::Feedback(i);
    r.mutable_feedback_event()->set_text(text);
    records.push_back(r);
  }
  for (bool redact : {true, false}) {
    SCOPED_TRACE(redact);
    StartServer({}, redact);
    Stream(records);
    v1::ListThemesRequest request;
    v1::ListThemesResponse listed;
    ASSERT_TRUE(List(request, &listed).ok());
    ASSERT_EQ(listed.themes_size(), 1);
    v1::GetThemeResponse got;
    ASSERT_TRUE(Get(listed.themes(0).id(), &got).ok());
    ASSERT_GT(got.theme().quotes_size(), 0);
    grpc::ClientContext context;
    v1::GetBoardRequest board_request;
    board_request.set_initiative(kInitiative);
    board_request.set_as_of(kAsOf);
    v1::GetBoardResponse board;
    ASSERT_TRUE(board_->GetBoard(&context, board_request, &board).ok());
    if (redact) {
      EXPECT_EQ(got.theme().quotes(0).text(),
                "Buyer wants monthly billing; reach Ana at [email] or [phone].");
      EXPECT_THAT(board.board_markdown(), HasSubstr("reach Ana at [email] or [phone]."));
      EXPECT_THAT(board.board_markdown(), Not(HasSubstr("redwood.example")));
    } else {
      EXPECT_EQ(got.theme().quotes(0).text(), text);
      EXPECT_THAT(board.board_markdown(), HasSubstr("ana.diaz@redwood.example"));
    }
    server_->Shutdown();
    server_.reset();
    std::filesystem::remove_all(dir_.Sub("data"));
  }
}

}  // namespace
}  // namespace fieldloop
