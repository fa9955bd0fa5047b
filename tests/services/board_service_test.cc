// Board service through a real server on 127.0.0.1:0 with a real RocksDB: Materialize after
// streaming the example initiative, GetBoard, people's edits (UpdateTask, ImportPlan)
// across regeneration, history copies, the stub, hostile initiative names and the schedule.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pipeline/record_files.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/example_records.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/files.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop {
namespace {

using ::testing::HasSubstr;

constexpr char kInitiative[] = "q3-push";

using testing::ReadFile;

// CSV rows split naively (the example plan's key, owner, due and status cells hold no
// commas; the reason cell may, so only leading cells are used).
std::vector<std::vector<std::string>> PlanRows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  for (absl::string_view line : absl::StrSplit(csv, "\r\n", absl::SkipEmpty())) {
    rows.push_back(absl::StrSplit(line, ','));
  }
  return rows;
}

class BoardServiceTest : public ::testing::Test {
 protected:
  void StartServer(services::ScheduleSpec schedule = {}) {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.schedule = schedule;
    options.clock = &clock_;
    auto server = services::FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    board_ = v1::Board::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  void StreamExamples() {
    testing::StreamResult result =
        testing::StreamAll(server_->address(), testing::AllExampleRecords());
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    for (const auto& ack : result.acks) ASSERT_EQ(ack.status(), v1::ACK_STATUS_ACCEPTED);
    accepted_ = result.acks.size();
  }

  grpc::Status Materialize(const std::string& initiative, const std::string& as_of,
                           v1::MaterializeResponse* response, bool keep_history = false) {
    grpc::ClientContext context;
    v1::MaterializeRequest request;
    request.set_initiative(initiative);
    request.set_as_of(as_of);
    request.set_keep_history(keep_history);
    return board_->Materialize(&context, request, response);
  }

  grpc::Status UpdateTask(const v1::UpdateTaskRequest& request, v1::UpdateTaskResponse* response) {
    grpc::ClientContext context;
    return board_->UpdateTask(&context, request, response);
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 15, 0), absl::UTCTimeZone())};
  std::unique_ptr<services::FieldloopServer> server_;
  std::unique_ptr<v1::Board::Stub> board_;
  size_t accepted_ = 0;
};

TEST_F(BoardServiceTest, MaterializeAfterStreamingExamplesWritesBothFiles) {
  StartServer();
  StreamExamples();
  v1::MaterializeResponse m;
  grpc::Status s = Materialize(kInitiative, "2026-11-25", &m);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string sales = dir_.Sub("out/specs/projects/q3-push/sales");
  EXPECT_EQ(m.board_path(), sales + "/enablement_feedback.md");
  EXPECT_EQ(m.plan_path(), sales + "/content_refresh.csv");
  EXPECT_FALSE(m.stub());
  EXPECT_EQ(m.applied_sequence(), accepted_);  // Waited until every acked record applied.
  EXPECT_GT(m.tasks(), 0);
  const std::string board = ReadFile(m.board_path());
  const std::string plan = ReadFile(m.plan_path());
  EXPECT_THAT(board, HasSubstr("# Enablement action board: q3-push"));
  EXPECT_EQ(plan.substr(0, plan.find("\r\n")),
            "task_key,theme_id,theme,asset_id,asset,action,format,owner,due,priority,status,"
            "evidence_count,reason");
  EXPECT_EQ(static_cast<int>(PlanRows(plan).size()) - 1, m.tasks());

  // GetBoard returns the same content without writing.
  grpc::ClientContext context;
  v1::GetBoardRequest get;
  get.set_initiative(kInitiative);
  get.set_as_of("2026-11-25");
  v1::GetBoardResponse got;
  ASSERT_TRUE(board_->GetBoard(&context, get, &got).ok());
  EXPECT_EQ(got.board_markdown(), board);
  EXPECT_EQ(got.plan_csv(), plan);

  // Same state and as_of: byte-identical files.
  v1::MaterializeResponse again;
  ASSERT_TRUE(Materialize(kInitiative, "2026-11-25", &again).ok());
  EXPECT_EQ(ReadFile(again.board_path()), board);
  EXPECT_EQ(ReadFile(again.plan_path()), plan);
}

TEST_F(BoardServiceTest, BadInitiativeNamesWriteNothing) {
  StartServer();
  StreamExamples();
  for (const std::string bad : {"../escape", "a/b", "", "..", "Q3", "/etc"}) {
    v1::MaterializeResponse m;
    grpc::Status s = Materialize(bad, "2026-11-25", &m);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
  }
  v1::MaterializeResponse m;
  EXPECT_EQ(Materialize("no-such-initiative", "2026-11-25", &m).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Materialize(kInitiative, "2026-13-01", &m).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("out")));
}

TEST_F(BoardServiceTest, NoFeedbackGivesAStubBoardAndNoPlan) {
  StartServer();
  v1::IngestRequest asset;
  auto* a = asset.mutable_content_asset();
  a->set_asset_id("cnt-1");
  a->set_initiative("assets-only");
  a->set_title("Pricing deck");
  a->set_type(v1::ASSET_TYPE_DECK);
  a->set_owner("pmm@example.com");
  a->set_last_updated("2026-01-01");
  testing::StreamResult r = testing::StreamAll(server_->address(), {asset});
  ASSERT_EQ(r.acks.size(), 1u);
  ASSERT_EQ(r.acks[0].status(), v1::ACK_STATUS_ACCEPTED) << r.acks[0].message();
  v1::MaterializeResponse m;
  ASSERT_TRUE(Materialize("assets-only", "2026-11-25", &m).ok());
  EXPECT_TRUE(m.stub());
  EXPECT_TRUE(m.plan_path().empty());
  EXPECT_FALSE(
      std::filesystem::exists(dir_.Sub("out/specs/projects/assets-only/sales/"
                                       "content_refresh.csv")));
  EXPECT_THAT(ReadFile(m.board_path()), HasSubstr("No content refresh plan was generated."));
}

TEST_F(BoardServiceTest, UpdateTaskEditsSurviveRegeneration) {
  StartServer();
  StreamExamples();
  v1::MaterializeResponse m;
  ASSERT_TRUE(Materialize(kInitiative, "2026-11-25", &m).ok());
  const auto rows = PlanRows(ReadFile(m.plan_path()));
  ASSERT_GE(rows.size(), 3u);
  const std::string key = rows[1][0];

  v1::UpdateTaskRequest update;
  update.set_initiative(kInitiative);
  update.set_task_key(key);
  update.set_status("in_progress");
  update.set_owner("Priya Shah");
  update.set_due("2027-03-01");
  v1::UpdateTaskResponse response;
  grpc::Status s = UpdateTask(update, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.task().status(), "in_progress");

  // A week later, the plan is regenerated: the edits stay.
  ASSERT_TRUE(Materialize(kInitiative, "2026-12-02", &m).ok());
  bool found = false;
  for (const auto& row : PlanRows(ReadFile(m.plan_path()))) {
    if (row[0] != key) continue;
    found = true;
    EXPECT_EQ(row[7], "Priya Shah");
    EXPECT_EQ(row[8], "2027-03-01");
    EXPECT_EQ(row[10], "in_progress");
  }
  EXPECT_TRUE(found);
  EXPECT_THAT(ReadFile(m.board_path()), HasSubstr("Priya Shah"));

  // Unedited tasks keep the due dates they were first given, although as_of moved a week.
  std::map<std::string, std::string> first_due;
  for (size_t i = 2; i < rows.size(); ++i) first_due[rows[i][0]] = rows[i][8];
  int kept = 0;
  for (const auto& row : PlanRows(ReadFile(m.plan_path()))) {
    auto it = first_due.find(row[0]);
    if (it == first_due.end()) continue;
    EXPECT_EQ(row[8], it->second) << row[0];
    ++kept;
  }
  EXPECT_GT(kept, 0);

  v1::UpdateTaskRequest bad = update;
  bad.set_status("finished");
  EXPECT_EQ(UpdateTask(bad, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = update;
  bad.set_task_key("9999/nothing");
  EXPECT_EQ(UpdateTask(bad, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(BoardServiceTest, ImportedPlanEditsSurviveAndKeysStayUnique) {
  StartServer();
  StreamExamples();
  v1::MaterializeResponse m;
  ASSERT_TRUE(Materialize(kInitiative, "2026-11-25", &m).ok());
  std::string csv = ReadFile(m.plan_path());
  auto rows = PlanRows(csv);
  const std::string key = rows[1][0];
  // A person marks the first task done and reassigns it; the row is also pasted twice.
  std::string first_line = csv.substr(csv.find("\r\n") + 2);
  first_line = first_line.substr(0, first_line.find("\r\n"));
  std::vector<std::string> cells = absl::StrSplit(first_line, ',');
  cells[7] = "Dana Whitfield";
  cells[10] = "done";
  const std::string edited_line = absl::StrJoin(cells, ",");
  std::string edited = csv;
  edited.replace(edited.find(first_line), first_line.size(), edited_line);
  edited += first_line + "\r\n";  // Duplicate of the same task: skipped, first row wins.

  grpc::ClientContext context;
  v1::ImportPlanRequest request;
  request.set_initiative(kInitiative);
  request.set_csv(edited);
  v1::ImportPlanResponse imported;
  grpc::Status s = board_->ImportPlan(&context, request, &imported);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(imported.updated(), 1);
  EXPECT_EQ(imported.unchanged(), m.tasks() - 1);
  ASSERT_EQ(imported.errors_size(), 1);
  EXPECT_THAT(imported.errors(0), HasSubstr("duplicate"));

  ASSERT_TRUE(Materialize(kInitiative, "2026-12-02", &m).ok());
  std::set<std::string> keys;
  for (size_t i = 1; i < PlanRows(ReadFile(m.plan_path())).size(); ++i) {
    const auto row = PlanRows(ReadFile(m.plan_path()))[i];
    EXPECT_TRUE(keys.insert(row[0]).second) << "duplicate task " << row[0];
    if (row[0] == key) {
      EXPECT_EQ(row[7], "Dana Whitfield");
      EXPECT_EQ(row[10], "done");
    }
  }
  EXPECT_TRUE(keys.count(key));

  // Importing the regenerated plan unchanged changes nothing.
  grpc::ClientContext context2;
  request.set_csv(ReadFile(m.plan_path()));
  ASSERT_TRUE(board_->ImportPlan(&context2, request, &imported).ok());
  EXPECT_EQ(imported.updated(), 0);
  EXPECT_EQ(imported.errors_size(), 0);
}

TEST_F(BoardServiceTest, KeepHistoryWritesADatedCopy) {
  StartServer();
  StreamExamples();
  v1::MaterializeResponse m;
  ASSERT_TRUE(Materialize(kInitiative, "2026-11-25", &m, /*keep_history=*/true).ok());
  const std::string week = dir_.Sub("out/specs/projects/q3-push/sales/history/2026-W48");
  EXPECT_EQ(m.history_board_path(), week + "/enablement_feedback.md");
  EXPECT_EQ(m.history_plan_path(), week + "/content_refresh.csv");
  EXPECT_EQ(ReadFile(m.history_board_path()), ReadFile(m.board_path()));
  EXPECT_EQ(ReadFile(m.history_plan_path()), ReadFile(m.plan_path()));
}

TEST_F(BoardServiceTest, ScheduleMaterializesInitiativesThatChanged) {
  services::ScheduleSpec schedule;
  schedule.every = absl::Hours(1);
  StartServer(schedule);
  StreamExamples();
  const std::string board = dir_.Sub("out/specs/projects/q3-push/sales/enablement_feedback.md");
  EXPECT_FALSE(std::filesystem::exists(board));  // Not due before 11:00.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 25, 11, 0, 1), absl::UTCTimeZone()));
  server_->scheduler()->Poke();
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (!std::filesystem::exists(board) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(std::filesystem::exists(board));
  EXPECT_THAT(ReadFile(board), HasSubstr("As of 2026-11-25."));

  // "Changed": the schedule's rule, asked directly (each call is one scheduled run).
  services::BoardKeeper& keeper = server_->board_keeper();
  const absl::CivilDay day(2026, 11, 25);
  EXPECT_TRUE(keeper.MaterializeChanged(day, nullptr).empty());  // Nothing new since.
  ASSERT_EQ(testing::StreamAll(server_->address(), {testing::Feedback(90001)}).acks.size(), 1u);
  EXPECT_THAT(keeper.MaterializeChanged(day, nullptr), ::testing::ElementsAre(kInitiative));
  EXPECT_TRUE(keeper.MaterializeChanged(day, nullptr).empty());
}

}  // namespace
}  // namespace fieldloop
