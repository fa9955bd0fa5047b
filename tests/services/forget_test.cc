// Admin.Forget through real servers on 127.0.0.1:0 with real RocksDB stores: forgetting a rep
// or a record removes it from the store and from theme state (counts, quotes, terms), so the
// next board, plan, ListThemes and GetTheme no longer show it, also after a restart; bad
// requests are refused naming the field, and unknown ids remove nothing; people's task edits
// stay on the themes they were made for though the rebuild gives the themes new ids.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pipeline/csv_reader.h"
#include "pipeline/input_counts.h"
#include "pipeline/theme_model.h"
#include "proto/fieldloop/v1/admin.grpc.pb.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "services/server.h"
#include "storage/store.h"
#include "tests/testing/example_records.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/files.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInitiative[] = "q3-push";
constexpr char kAsOf[] = "2026-11-25";
constexpr char kRep[] = "rep-quokka";
// The rep's distinctive word: in every text of the rep's records and nowhere else.
constexpr char kTerm[] = "quokka";
// The rep's onboarding row shows on the board as a ramp risk of this cohort.
constexpr char kCohortLine[] = "Cohort 2026-10 (LATAM";

// Records of kRep: five feedback events (fb-forget-1..5), a call transcript (ct-forget-1)
// and a per-rep onboarding metric row.
std::vector<v1::IngestRequest> RepRecords() {
  std::vector<v1::IngestRequest> out;
  const char* texts[] = {
      "Buyer asked again about quokka sandbox licensing for their pilot team",
      "Quokka sandbox licensing blocks the pilot; procurement wants per-seat quokka terms",
      "They need quokka sandbox licensing sorted before the pilot starts",
      "Another prospect stuck on quokka sandbox licensing for the pilot",
      "Pilot delayed: quokka sandbox licensing still unclear to the buyer",
  };
  for (int i = 0; i < 5; ++i) {
    v1::IngestRequest r;
    v1::FeedbackEvent* e = r.mutable_feedback_event();
    e->set_id(absl::StrCat("fb-forget-", i + 1));
    e->set_initiative(kInitiative);
    e->set_source(v1::SOURCE_CALL);
    e->set_rep_id(kRep);
    e->set_region("LATAM");
    e->set_segment("SMB");
    e->mutable_occurred_at()->set_seconds(1794000000 + i * 86400);  // 2026-11-06 on.
    e->set_text(texts[i]);
    // A theme of their own: the board shows it (label, quotes, record ids).
    e->set_theme_tag("quokka-licensing");
    out.push_back(r);
  }
  v1::IngestRequest t;
  v1::CallTranscript* c = t.mutable_call_transcript();
  c->set_id("ct-forget-1");
  c->set_initiative(kInitiative);
  c->set_rep_id(kRep);
  c->set_region("LATAM");
  c->set_segment("SMB");
  c->mutable_occurred_at()->set_seconds(1794100000);
  v1::Utterance* u = c->add_utterances();
  u->set_speaker(v1::SPEAKER_BUYER);
  u->set_text("We cannot start the pilot without quokka sandbox licensing for every seat.");
  out.push_back(t);
  v1::IngestRequest m;
  v1::OnboardingMetric* o = m.mutable_onboarding_metric();
  o->set_initiative(kInitiative);
  o->set_cohort("2026-10");
  o->set_rep_id(kRep);
  o->set_region("LATAM");
  o->set_segment("SMB");
  o->set_period("2026-Q4");
  o->set_reps(1);
  o->set_ramp_days(200);
  o->set_ramp_target_days(90);
  o->set_cert_pass_rate(0.4);
  o->set_call_quality(40);
  out.push_back(m);
  return out;
}

// A feedback event with a theme of its own (its tag), streamed before everything else: it
// creates theme 0, so a rebuild without it would give every later theme another id (one
// less).
v1::IngestRequest EarlyRecord() {
  v1::IngestRequest r;
  v1::FeedbackEvent* e = r.mutable_feedback_event();
  e->set_id("fb-early-1");
  e->set_initiative(kInitiative);
  e->set_source(v1::SOURCE_CALL);
  e->set_rep_id("rep-early");
  e->set_region("EMEA");
  e->set_segment("SMB");
  e->mutable_occurred_at()->set_seconds(1793000000);
  // No word of it is in another record, so no other document joins its theme.
  e->set_text("Walrus zeppelin marmalade xylophone");
  e->set_theme_tag("walrus-rollout");
  return r;
}

// The rows of a plan CSV as column name -> cell.
std::vector<std::map<std::string, std::string>> PlanRows(const std::string& csv) {
  const pipeline::CsvTable table = pipeline::SplitCsv(csv);
  EXPECT_TRUE(table.status.ok()) << table.status;
  std::vector<std::map<std::string, std::string>> out;
  if (table.rows.empty()) return out;
  const std::vector<std::string>& header = table.rows[0].fields;
  for (size_t r = 1; r < table.rows.size(); ++r) {
    std::map<std::string, std::string>& row = out.emplace_back();
    for (size_t c = 0; c < header.size() && c < table.rows[r].fields.size(); ++c) {
      row[pipeline::ColumnName(header[c])] = table.rows[r].fields[c];
    }
  }
  return out;
}

// The part of a task key after the theme id ("/new", "/<asset_id>").
std::string TaskOfKey(const std::string& key) { return key.substr(key.find('/')); }

// Documents (so theme mentions) the records give (pipeline/theme_model.h).
int64_t DocumentsIn(const std::vector<v1::IngestRequest>& records) {
  int64_t n = 0;
  for (const v1::IngestRequest& r : records) n += pipeline::DocumentsOf(r).size();
  return n;
}

class ForgetTest : public ::testing::Test {
 protected:
  std::unique_ptr<services::FieldloopServer> Start() {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.clock = &clock_;
    auto server = services::FieldloopServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  // Streams the example records and RepRecords() and waits until they are applied.
  static void IngestAll(const services::FieldloopServer& server) {
    std::vector<v1::IngestRequest> records = testing::AllExampleRecords();
    for (v1::IngestRequest& r : RepRecords()) records.push_back(std::move(r));
    testing::StreamResult result = testing::StreamAll(server.address(), records);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    ASSERT_EQ(result.acks.size(), records.size());
    for (const v1::IngestAck& ack : result.acks) {
      ASSERT_EQ(ack.status(), v1::ACK_STATUS_ACCEPTED) << ack.DebugString();
    }
    grpc::Status applied = testing::WaitApplied(server.address(), kInitiative);
    ASSERT_TRUE(applied.ok()) << applied.error_message();
  }

  static grpc::Status Forget(const services::FieldloopServer& server,
                             const v1::ForgetRequest& request, v1::ForgetResponse* response) {
    auto stub = v1::Admin::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    return stub->Forget(&context, request, response);
  }

  static v1::GetBoardResponse GetBoard(const services::FieldloopServer& server) {
    auto stub = v1::Board::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::GetBoardRequest request;
    request.set_initiative(kInitiative);
    request.set_as_of(kAsOf);
    v1::GetBoardResponse response;
    grpc::Status s = stub->GetBoard(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  // Every live theme of the initiative in full (ListThemes, then GetTheme of each).
  static std::vector<v1::Theme> AllThemes(const services::FieldloopServer& server) {
    auto stub = v1::Themes::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    std::vector<v1::Theme> out;
    std::string token;
    do {
      grpc::ClientContext context;
      v1::ListThemesRequest request;
      request.set_initiative(kInitiative);
      request.set_as_of(kAsOf);
      request.set_page_size(500);
      request.set_page_token(token);
      v1::ListThemesResponse response;
      grpc::Status s = stub->ListThemes(&context, request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return out;
      for (const v1::ThemeBrief& brief : response.themes()) {
        grpc::ClientContext theme_context;
        v1::GetThemeRequest get;
        get.set_initiative(kInitiative);
        get.set_theme_id(brief.id());
        get.set_as_of(kAsOf);
        v1::GetThemeResponse theme;
        grpc::Status g = stub->GetTheme(&theme_context, get, &theme);
        EXPECT_TRUE(g.ok()) << g.error_message();
        EXPECT_EQ(theme.theme().brief().mentions(), brief.mentions());
        out.push_back(theme.theme());
      }
      token = response.next_page_token();
    } while (!token.empty());
    return out;
  }

  // Themes.GetTheme of `id` as of kAsOf.
  static grpc::Status GetTheme(const services::FieldloopServer& server, int64_t id,
                               v1::GetThemeResponse* response) {
    auto stub = v1::Themes::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::GetThemeRequest request;
    request.set_initiative(kInitiative);
    request.set_theme_id(id);
    request.set_as_of(kAsOf);
    return stub->GetTheme(&context, request, response);
  }

  // Record ids of the quotes of a theme: what it is made of, whatever its id.
  static std::set<std::string> QuoteIds(const v1::Theme& theme) {
    std::set<std::string> out;
    for (const v1::ThemeQuote& q : theme.quotes()) out.insert(q.record_id());
    return out;
  }

  // Board.Materialize as of kAsOf; returns the plan CSV written.
  static std::string MaterializePlan(const services::FieldloopServer& server) {
    auto stub = v1::Board::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::MaterializeRequest request;
    request.set_initiative(kInitiative);
    request.set_as_of(kAsOf);
    v1::MaterializeResponse written;
    grpc::Status s = stub->Materialize(&context, request, &written);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok() ? testing::ReadFile(written.plan_path()) : "";
  }

  static int64_t Mentions(const std::vector<v1::Theme>& themes) {
    int64_t n = 0;
    for (const v1::Theme& t : themes) n += t.brief().mentions();
    return n;
  }

  // Everything a reader can see of the themes, lower-cased: labels, quotes with their
  // record ids, terms.
  static std::string ThemeText(const std::vector<v1::Theme>& themes) {
    std::string out;
    for (const v1::Theme& t : themes) {
      absl::StrAppend(&out, t.brief().label(), "\n", t.brief().why(), "\n");
      for (const v1::ThemeQuote& q : t.quotes()) {
        absl::StrAppend(&out, q.record_id(), " ", q.text(), "\n");
      }
      for (const v1::ThemeProofPoint& p : t.proof_points()) {
        absl::StrAppend(&out, p.record_id(), " ", p.text(), "\n");
      }
      for (const v1::ThemeTerm& term : t.terms()) absl::StrAppend(&out, term.stem(), "\n");
    }
    return absl::AsciiStrToLower(out);
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 15, 0), absl::UTCTimeZone())};
};

TEST_F(ForgetTest, ForgettingARepRemovesItsRecordsFromBoardPlanAndThemesForGood) {
  std::unique_ptr<services::FieldloopServer> server = Start();
  ASSERT_NE(server, nullptr);
  IngestAll(*server);

  // Before: the rep's word, record ids and ramp row show.
  const v1::GetBoardResponse before = GetBoard(*server);
  const std::string board_before = absl::AsciiStrToLower(before.board_markdown());
  ASSERT_THAT(board_before, HasSubstr(kTerm));
  ASSERT_THAT(board_before, HasSubstr("fb-forget-"));
  ASSERT_THAT(before.board_markdown(), HasSubstr(kCohortLine));
  const std::vector<v1::Theme> themes_before = AllThemes(*server);
  ASSERT_THAT(ThemeText(themes_before), HasSubstr(kTerm));
  ASSERT_THAT(ThemeText(themes_before), HasSubstr("fb-forget-"));

  v1::ForgetRequest request;
  request.set_initiative(kInitiative);
  request.set_rep_id(kRep);
  v1::ForgetResponse response;
  grpc::Status s = Forget(*server, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.feedback_events(), 5);
  EXPECT_EQ(response.call_transcripts(), 1);
  EXPECT_EQ(response.onboarding_metrics(), 1);
  EXPECT_EQ(response.win_loss_notes(), 0);
  EXPECT_EQ(response.content_assets(), 0);
  EXPECT_EQ(response.themes_before(), static_cast<int64_t>(themes_before.size()));
  EXPECT_GT(response.version(), 0);

  // The theme mentions drop by the documents of the forgotten records, and nothing of them
  // is left anywhere a reader looks.
  auto expect_forgotten = [&](const services::FieldloopServer& srv) {
    const std::vector<v1::Theme> themes = AllThemes(srv);
    EXPECT_EQ(static_cast<int64_t>(themes.size()), response.themes_after());
    EXPECT_EQ(Mentions(themes), Mentions(themes_before) - DocumentsIn(RepRecords()));
    EXPECT_THAT(ThemeText(themes), Not(HasSubstr(kTerm)));
    EXPECT_THAT(ThemeText(themes), Not(HasSubstr("fb-forget-")));
    EXPECT_THAT(ThemeText(themes), Not(HasSubstr("ct-forget-")));
    const v1::GetBoardResponse board = GetBoard(srv);
    EXPECT_FALSE(board.stub());
    EXPECT_THAT(absl::AsciiStrToLower(board.board_markdown()), Not(HasSubstr(kTerm)));
    EXPECT_THAT(board.board_markdown(), Not(HasSubstr("fb-forget-")));
    EXPECT_THAT(board.board_markdown(), Not(HasSubstr("ct-forget-")));
    EXPECT_THAT(board.board_markdown(), Not(HasSubstr(kCohortLine)));
    EXPECT_THAT(absl::AsciiStrToLower(board.plan_csv()), Not(HasSubstr(kTerm)));
    EXPECT_THAT(board.plan_csv(), Not(HasSubstr("fb-forget-")));
    EXPECT_EQ(board.applied_sequence(), static_cast<uint64_t>(response.version()));
  };
  expect_forgotten(*server);

  // Board.Materialize writes files without them.
  {
    auto stub = v1::Board::NewStub(
        grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::MaterializeRequest materialize;
    materialize.set_initiative(kInitiative);
    materialize.set_as_of(kAsOf);
    v1::MaterializeResponse written;
    grpc::Status m = stub->Materialize(&context, materialize, &written);
    ASSERT_TRUE(m.ok()) << m.error_message();
    EXPECT_THAT(absl::AsciiStrToLower(testing::ReadFile(written.board_path())),
                Not(HasSubstr(kTerm)));
    EXPECT_THAT(absl::AsciiStrToLower(testing::ReadFile(written.plan_path())),
                Not(HasSubstr(kTerm)));
  }

  // Forgetting again finds nothing and writes nothing.
  v1::ForgetResponse again;
  s = Forget(*server, request, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.feedback_events() + again.call_transcripts() + again.onboarding_metrics(), 0);
  EXPECT_EQ(again.version(), 0);

  // After a restart on the same directory they stay gone.
  server.reset();
  server = Start();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(testing::WaitApplied(server->address(), kInitiative).ok());
  expect_forgotten(*server);
  server.reset();

  // Nothing of them is left in the store: no record naming the rep, and no byte of its word
  // or record ids in the theme state (quotes, record ids, terms).
  auto store = storage::Store::Open(dir_.Sub("data"), storage::StoreOptions());
  ASSERT_TRUE(store.ok()) << store.status();
  int records = 0;
  ASSERT_TRUE((*store)
                  ->ScanEvents(kInitiative, 0,
                               [&](const storage::StoredRecord& r) {
                                 ++records;
                                 EXPECT_THAT(r.payload, Not(HasSubstr(kRep))) << r.id;
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(records, static_cast<int>(testing::AllExampleRecords().size()));
  EXPECT_EQ((*store)->LastSequence(kInitiative), static_cast<uint64_t>(response.version()));
  EXPECT_EQ(*(*store)->AppliedSequence(kInitiative), static_cast<uint64_t>(response.version()));
  int entries = 0;
  ASSERT_TRUE((*store)
                  ->ScanThemeState(kInitiative,
                                   [&](absl::string_view key, absl::string_view value) {
                                     ++entries;
                                     const std::string text = absl::AsciiStrToLower(value);
                                     EXPECT_THAT(text, Not(HasSubstr(kTerm)));
                                     EXPECT_THAT(text, Not(HasSubstr("forget-")));
                                   })
                  .ok());
  EXPECT_GT(entries, 0);
  EXPECT_EQ((*store)
                ->Lookup(kInitiative, storage::RecordKind::kFeedbackEvent, "fb-forget-1")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ForgetTest, ForgettingRecordsByIdRemovesOnlyThoseAndTheyMaybeSentAgain) {
  std::unique_ptr<services::FieldloopServer> server = Start();
  ASSERT_NE(server, nullptr);
  IngestAll(*server);
  const std::vector<v1::Theme> themes_before = AllThemes(*server);
  ASSERT_THAT(ThemeText(themes_before), HasSubstr("fb-forget-1 "));

  // A win/loss note of the example (kind given) and one of the rep's events (any kind).
  const std::vector<v1::IngestRequest> examples = testing::ExampleRecords();
  const v1::IngestRequest* note = nullptr;
  for (const v1::IngestRequest& r : examples) {
    if (r.has_win_loss_note() && r.win_loss_note().objections_size() > 0) {
      note = &r;
      break;
    }
  }
  ASSERT_NE(note, nullptr);
  v1::ForgetRequest request;
  request.set_initiative(kInitiative);
  v1::ForgetRecord* by_kind = request.add_records();
  by_kind->set_kind(v1::RECORD_KIND_WIN_LOSS_NOTE);
  by_kind->set_id(note->win_loss_note().id());
  request.add_records()->set_id("fb-forget-1");
  request.add_records()->set_id("no-such-record");
  // The right id with the wrong kind matches nothing.
  v1::ForgetRecord* wrong_kind = request.add_records();
  wrong_kind->set_kind(v1::RECORD_KIND_CALL_TRANSCRIPT);
  wrong_kind->set_id("fb-forget-2");
  v1::ForgetResponse response;
  grpc::Status s = Forget(*server, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.feedback_events(), 1);
  EXPECT_EQ(response.win_loss_notes(), 1);
  EXPECT_EQ(response.call_transcripts() + response.onboarding_metrics() + response.content_assets(),
            0);

  const std::vector<v1::Theme> themes = AllThemes(*server);
  EXPECT_EQ(Mentions(themes), Mentions(themes_before) - DocumentsIn({*note, RepRecords()[0]}));
  EXPECT_THAT(ThemeText(themes), Not(HasSubstr("fb-forget-1 ")));
  EXPECT_THAT(ThemeText(themes),
              Not(HasSubstr(absl::AsciiStrToLower(absl::StrCat(note->win_loss_note().id(), " ")))));
  // The rep's other records stay.
  EXPECT_THAT(ThemeText(themes), HasSubstr(kTerm));
  EXPECT_THAT(GetBoard(*server).board_markdown(), Not(HasSubstr("fb-forget-1)")));

  // A forgotten id sent again is a new record (producers must stop sending it).
  testing::StreamResult resent = testing::StreamAll(server->address(), {RepRecords()[0]});
  ASSERT_TRUE(resent.status.ok());
  ASSERT_EQ(resent.acks.size(), 1u);
  EXPECT_EQ(resent.acks[0].status(), v1::ACK_STATUS_ACCEPTED);
  EXPECT_EQ(resent.acks[0].sequence(), static_cast<uint64_t>(response.version()) + 1);
  ASSERT_TRUE(testing::WaitApplied(server->address(), kInitiative).ok());
  EXPECT_EQ(Mentions(AllThemes(*server)), Mentions(themes_before) - DocumentsIn({*note}));
}

TEST_F(ForgetTest, TaskEditsStayOnTheirThemesWhenForgettingChangesThemeIds) {
  std::unique_ptr<services::FieldloopServer> server = Start();
  ASSERT_NE(server, nullptr);
  std::vector<v1::IngestRequest> records = {EarlyRecord()};
  for (v1::IngestRequest& r : testing::AllExampleRecords()) records.push_back(std::move(r));
  for (v1::IngestRequest& r : RepRecords()) records.push_back(std::move(r));
  testing::StreamResult streamed = testing::StreamAll(server->address(), records);
  ASSERT_TRUE(streamed.status.ok()) << streamed.status.error_message();
  ASSERT_EQ(streamed.acks.size(), records.size());
  ASSERT_TRUE(testing::WaitApplied(server->address(), kInitiative).ok());
  v1::GetThemeResponse early;
  ASSERT_TRUE(GetTheme(*server, 0, &early).ok());
  ASSERT_EQ(early.theme().brief().label(), "walrus-rollout");

  // People edit two tasks of the plan: one of the rep's tagged theme, and the first one of
  // any other theme but theme 0's.
  auto board = v1::Board::NewStub(
      grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  struct Edited {
    std::string key;             // Before the Forget.
    std::string owner;           // The edit.
    std::set<std::string> made;  // The theme's quote record ids: what it is made of.
    std::string label;
  };
  std::vector<Edited> edited;
  const std::vector<std::map<std::string, std::string>> before = PlanRows(MaterializePlan(*server));
  const auto quokka = std::find_if(before.begin(), before.end(), [](const auto& row) {
    return row.at("theme") == "quokka-licensing";
  });
  const auto other = std::find_if(before.begin(), before.end(), [](const auto& row) {
    return row.at("theme") != "quokka-licensing" && row.at("theme") != "walrus-rollout";
  });
  ASSERT_NE(quokka, before.end()) << "the plan needs a task of quokka-licensing";
  ASSERT_NE(other, before.end()) << "the plan needs a task of another theme";
  for (const auto& row : {*quokka, *other}) {
    Edited e{
        row.at("task_key"), absl::StrCat("Owner of ", row.at("task_key")), {}, row.at("theme")};
    v1::GetThemeResponse theme;
    ASSERT_TRUE(GetTheme(*server, std::stoll(row.at("theme_id")), &theme).ok());
    e.made = QuoteIds(theme.theme());
    ASSERT_FALSE(e.made.empty());
    grpc::ClientContext context;
    v1::UpdateTaskRequest edit;
    edit.set_initiative(kInitiative);
    edit.set_task_key(e.key);
    edit.set_owner(e.owner);
    edit.set_status("in_progress");
    v1::UpdateTaskResponse response;
    grpc::Status s = board->UpdateTask(&context, edit, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    edited.push_back(std::move(e));
  }

  // Forgetting the record of theme 0 rebuilds the themes without it.
  v1::ForgetRequest request;
  request.set_initiative(kInitiative);
  request.add_records()->set_id("fb-early-1");
  v1::ForgetResponse response;
  grpc::Status s = Forget(*server, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.feedback_events(), 1);

  auto check = [&](const services::FieldloopServer& srv) {
    // Theme 0 is gone, and no new theme took its id.
    v1::GetThemeResponse gone;
    EXPECT_EQ(GetTheme(srv, 0, &gone).error_code(), grpc::StatusCode::NOT_FOUND);
    const std::vector<std::map<std::string, std::string>> after = PlanRows(MaterializePlan(srv));
    for (const Edited& e : edited) {
      SCOPED_TRACE(e.key);
      int rows = 0;
      for (const auto& row : after) {
        if (row.at("owner") != e.owner) continue;
        ++rows;
        // The same task of the same theme, under the theme's new id.
        EXPECT_EQ(row.at("status"), "in_progress");
        EXPECT_EQ(TaskOfKey(row.at("task_key")), TaskOfKey(e.key));
        EXPECT_NE(row.at("task_key"), e.key);
        EXPECT_EQ(row.at("theme"), e.label);
        v1::GetThemeResponse theme;
        ASSERT_TRUE(GetTheme(srv, std::stoll(row.at("theme_id")), &theme).ok());
        EXPECT_EQ(QuoteIds(theme.theme()), e.made);
        EXPECT_EQ(theme.theme().brief().label(), e.label);
        // The old id resolves to it.
        v1::GetThemeResponse old;
        const int64_t old_id = std::stoll(e.key.substr(0, e.key.find('/')));
        ASSERT_TRUE(GetTheme(srv, old_id, &old).ok());
        EXPECT_TRUE(old.merged());
        EXPECT_EQ(old.theme().brief().id(), theme.theme().brief().id());
      }
      EXPECT_EQ(rows, 1) << "the edit must be on exactly its own task";
    }
    // No other task took an edit.
    for (const auto& row : after) {
      if (std::none_of(edited.begin(), edited.end(),
                       [&](const Edited& e) { return row.at("owner") == e.owner; })) {
        EXPECT_NE(row.at("status"), "in_progress") << row.at("task_key");
        EXPECT_THAT(row.at("owner"), Not(HasSubstr("Owner of "))) << row.at("task_key");
      }
    }
  };
  check(*server);
  // The aliases are stored: after a restart the edits stay where they are.
  server.reset();
  server = Start();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(testing::WaitApplied(server->address(), kInitiative).ok());
  check(*server);
}

TEST_F(ForgetTest, InputCountsDropWithTheForgottenRecordsAndStaySoAfterARestart) {
  std::unique_ptr<services::FieldloopServer> server = Start();
  ASSERT_NE(server, nullptr);
  IngestAll(*server);
  // What the theme state counted, serialized ("none": no counts).
  auto inputs = [](services::FieldloopServer& srv) {
    const std::optional<state::InputCounts> counts = srv.applier().Inputs(kInitiative);
    return counts ? counts->SerializeAsString() : std::string("none");
  };
  auto counted = [](const std::vector<v1::IngestRequest>& records) {
    state::InputCounts counts;
    for (const v1::IngestRequest& r : records) pipeline::CountInput(r, &counts);
    return counts.SerializeAsString();
  };
  std::vector<v1::IngestRequest> left = testing::AllExampleRecords();
  std::vector<v1::IngestRequest> all = left;
  for (v1::IngestRequest& r : RepRecords()) all.push_back(std::move(r));
  ASSERT_EQ(inputs(*server), counted(all));
  ASSERT_THAT(GetBoard(*server).board_markdown(),
              HasSubstr("- Inputs: 247 feedback events, 71 call transcripts, 65 win/loss notes, "
                        "14 content assets, 9 onboarding metric rows."));

  // The rep's records and the first win/loss note.
  auto note = std::find_if(left.begin(), left.end(),
                           [](const v1::IngestRequest& r) { return r.has_win_loss_note(); });
  ASSERT_NE(note, left.end());
  v1::ForgetRequest request;
  request.set_initiative(kInitiative);
  request.set_rep_id(kRep);
  v1::ForgetRecord* record = request.add_records();
  record->set_id(note->win_loss_note().id());
  record->set_kind(v1::RECORD_KIND_WIN_LOSS_NOTE);
  left.erase(note);
  v1::ForgetResponse response;
  grpc::Status s = Forget(*server, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.win_loss_notes(), 1);

  auto expect_dropped = [&](services::FieldloopServer& srv) {
    EXPECT_EQ(inputs(srv), counted(left));
    EXPECT_THAT(GetBoard(srv).board_markdown(),
                HasSubstr("- Inputs: 242 feedback events, 70 call transcripts, 64 win/loss "
                          "notes, 14 content assets, 8 onboarding metric rows."));
  };
  expect_dropped(*server);
  server.reset();
  server = Start();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(testing::WaitApplied(server->address(), kInitiative).ok());
  expect_dropped(*server);
}

TEST_F(ForgetTest, BadRequestsAreRefusedNamingTheFieldAndUnknownIdsRemoveNothing) {
  std::unique_ptr<services::FieldloopServer> server = Start();
  ASSERT_NE(server, nullptr);
  IngestAll(*server);
  const int64_t mentions = Mentions(AllThemes(*server));

  struct Case {
    v1::ForgetRequest request;
    grpc::StatusCode code;
    std::string field;
  };
  std::vector<Case> cases;
  {
    Case c{{}, grpc::StatusCode::INVALID_ARGUMENT, "records or rep_id"};
    c.request.set_initiative(kInitiative);
    cases.push_back(c);
  }
  {
    Case c{{}, grpc::StatusCode::INVALID_ARGUMENT, "initiative"};
    c.request.set_initiative("Q3 Push");
    c.request.set_rep_id(kRep);
    cases.push_back(c);
  }
  {
    Case c{{}, grpc::StatusCode::INVALID_ARGUMENT, "records[1].id"};
    c.request.set_initiative(kInitiative);
    c.request.add_records()->set_id("fb-forget-1");
    c.request.add_records()->set_id("");
    cases.push_back(c);
  }
  {
    Case c{{}, grpc::StatusCode::INVALID_ARGUMENT, "records[0].kind"};
    c.request.set_initiative(kInitiative);
    v1::ForgetRecord* r = c.request.add_records();
    r->set_id("fb-forget-1");
    r->set_kind(static_cast<v1::RecordKind>(42));
    cases.push_back(c);
  }
  {
    Case c{{}, grpc::StatusCode::NOT_FOUND, "q4-nothing"};
    c.request.set_initiative("q4-nothing");
    c.request.set_rep_id(kRep);
    cases.push_back(c);
  }
  for (const Case& c : cases) {
    v1::ForgetResponse response;
    grpc::Status s = Forget(*server, c.request, &response);
    EXPECT_EQ(s.error_code(), c.code) << c.request.DebugString();
    EXPECT_THAT(s.error_message(), HasSubstr(c.field)) << c.request.DebugString();
  }

  v1::ForgetRequest unknown;
  unknown.set_initiative(kInitiative);
  unknown.add_records()->set_id("no-such-record");
  unknown.set_rep_id("rep-nobody");
  v1::ForgetResponse response;
  grpc::Status s = Forget(*server, unknown, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.feedback_events() + response.call_transcripts() + response.win_loss_notes() +
                response.content_assets() + response.onboarding_metrics(),
            0);
  EXPECT_EQ(response.version(), 0);
  // Nothing was removed.
  EXPECT_EQ(Mentions(AllThemes(*server)), mentions);
  EXPECT_THAT(GetBoard(*server).board_markdown(), HasSubstr("fb-forget-"));
}

TEST_F(ForgetTest, ForgetCommandRemovesARepAndExitsNonZeroOnBadRequests) {
  std::unique_ptr<services::FieldloopServer> server = Start();
  ASSERT_NE(server, nullptr);
  IngestAll(*server);
  const std::string fieldloop = testing::Runfile("services/cli/fieldloop");

  testing::Finished usage = testing::RunToEnd(
      {fieldloop, "forget", "--server", server->address(), "--initiative", kInitiative});
  EXPECT_EQ(usage.status, 1) << usage.output;
  EXPECT_THAT(usage.output, HasSubstr("--rep_id"));

  testing::Finished refused = testing::RunToEnd({fieldloop, "forget", "--server", server->address(),
                                                 "--initiative", "Bad Name", "--rep_id", kRep});
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("initiative"));

  testing::Finished done =
      testing::RunToEnd({fieldloop, "forget", "--server", server->address(), "--initiative",
                         kInitiative, "--rep_id", kRep, "--record_id", "wl-none"});
  EXPECT_EQ(done.status, 0) << done.output;
  EXPECT_THAT(done.output, HasSubstr("7 records removed (5 feedback events, 1 call transcripts"));
  EXPECT_THAT(done.output, Not(HasSubstr(kTerm)));
  EXPECT_THAT(absl::AsciiStrToLower(GetBoard(*server).board_markdown()), Not(HasSubstr(kTerm)));

  testing::Finished again = testing::RunToEnd({fieldloop, "forget", "--server", server->address(),
                                               "--initiative", kInitiative, "--rep_id", kRep});
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("nothing matched"));
}

}  // namespace
}  // namespace fieldloop
