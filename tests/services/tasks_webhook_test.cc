// The tasks webhook: URL checks and the JSON of a task on their own, then through a real
// server on 127.0.0.1:0 with a real RocksDB posting to a real HTTP receiver
// (tests/testing/http_receiver.h): the first materialization sends every task, an unchanged
// one nothing, an edit only its task; failures are retried; a receiver that never answers
// or is down holds up neither Materialize nor ingest; a restart sends nothing delivered and
// everything that was not.
#include "services/tasks_webhook.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pipeline/record_files.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/example_records.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/files.h"
#include "tests/testing/http_receiver.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInitiative[] = "q3-push";
constexpr char kAsOf[] = "2026-11-25";
// Long enough never to be reached when things work; a failure, not a pass, when it is.
constexpr absl::Duration kPatience = absl::Seconds(60);

// The CSV columns, in CSV order: every task object has exactly these.
const std::vector<std::string>& CsvColumns() {
  static const auto* columns =
      new std::vector<std::string>(absl::StrSplit(pipeline::kRefreshPlanHeader, ','));
  return *columns;
}

// `json` parsed as a JSON object; fails the test when it is not one.
Struct ParseJson(const std::string& json) {
  Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return parsed;
}

// The task objects of a request body, by task_key.
std::map<std::string, Struct> TasksOf(const Struct& body) {
  std::map<std::string, Struct> tasks;
  for (const Value& task : body.fields().at("tasks").list_value().values()) {
    tasks[task.struct_value().fields().at("task_key").string_value()] = task.struct_value();
  }
  return tasks;
}

pipeline::RefreshTask SampleTask() {
  pipeline::RefreshTask task;
  task.task_key = "7/cnt-1006";
  task.theme_id = 7;
  task.theme = "pricing \"vs\" Acme";
  task.asset_id = "cnt-1006";
  task.asset = "Acme battlecard\tv2";
  task.action = "refresh";
  task.format = "battlecard";
  task.owner = "Zoë O'Brien";
  task.due = "2026-12-09";
  task.priority = "P1";
  task.status = "in_progress";
  task.evidence_count = 12;
  task.reason = "stale: 120 days vs 90\nwhy: 12 mentions \\ 3 lost deals\x01";
  return task;
}

TEST(WebhookUrl, HttpAndHttpsWithAHostAreAcceptedAndLoggedWithoutSecrets) {
  absl::StatusOr<std::string> plain = services::CheckWebhookUrl("http://127.0.0.1:8080/hooks");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, "http://127.0.0.1:8080/hooks");
  absl::StatusOr<std::string> secret = services::CheckWebhookUrl(
      "https://fieldloop:s3cret@hooks.example.com/tasks?token=t0ken#frag");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "https://hooks.example.com/tasks");
}

TEST(WebhookUrl, OtherSchemesAndUrlsWithoutAHostAreRefusedWithoutEchoingSecrets) {
  for (const std::string bad :
       {"", "hooks.example.com/tasks", "ftp://hooks.example.com/tasks", "file:///etc/passwd",
        "http://", "https://user:s3cret@/tasks", "https://user:s3cret@", "not a url",
        "gopher://user:s3cret@hooks.example.com/"}) {
    absl::StatusOr<std::string> checked = services::CheckWebhookUrl(bad);
    ASSERT_FALSE(checked.ok()) << bad;
    EXPECT_EQ(checked.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(checked.status().message()), Not(HasSubstr("s3cret"))) << bad;
  }
}

TEST(TaskJson, HoldsEveryCsvColumnInOrderAndParsesBackToTheSameValues) {
  const pipeline::RefreshTask task = SampleTask();
  const std::string json = services::TaskJson(task);
  const Struct parsed = ParseJson(json);
  ASSERT_EQ(static_cast<size_t>(parsed.fields().size()), CsvColumns().size()) << json;
  size_t at = 0;
  for (const std::string& column : CsvColumns()) {
    const size_t found = json.find("\"" + column + "\":");
    ASSERT_NE(found, std::string::npos) << column;
    EXPECT_GE(found, at) << column << " is out of CSV order in " << json;
    at = found;
  }
  const auto& f = parsed.fields();
  EXPECT_EQ(f.at("task_key").string_value(), task.task_key);
  EXPECT_EQ(f.at("theme_id").kind_case(), Value::kNumberValue);
  EXPECT_EQ(f.at("theme_id").number_value(), 7);
  EXPECT_EQ(f.at("theme").string_value(), task.theme);
  EXPECT_EQ(f.at("asset_id").string_value(), task.asset_id);
  EXPECT_EQ(f.at("asset").string_value(), task.asset);
  EXPECT_EQ(f.at("action").string_value(), task.action);
  EXPECT_EQ(f.at("format").string_value(), task.format);
  EXPECT_EQ(f.at("owner").string_value(), task.owner);
  EXPECT_EQ(f.at("due").string_value(), task.due);
  EXPECT_EQ(f.at("priority").string_value(), task.priority);
  EXPECT_EQ(f.at("status").string_value(), task.status);
  EXPECT_EQ(f.at("evidence_count").kind_case(), Value::kNumberValue);
  EXPECT_EQ(f.at("evidence_count").number_value(), 12);
  EXPECT_EQ(f.at("reason").string_value(), task.reason);
}

TEST(TaskJson, PayloadCarriesSchemaVersionInitiativeAndAsOf) {
  const std::string body = services::TasksPayload(kInitiative, absl::CivilDay(2026, 11, 25),
                                                  {services::TaskJson(SampleTask())});
  const Struct parsed = ParseJson(body);
  EXPECT_EQ(parsed.fields().at("schema_version").number_value(),
            services::kTasksWebhookSchemaVersion);
  EXPECT_EQ(parsed.fields().at("initiative").string_value(), kInitiative);
  EXPECT_EQ(parsed.fields().at("as_of").string_value(), kAsOf);
  EXPECT_EQ(TasksOf(parsed).count("7/cnt-1006"), 1u);
}

TEST(TaskFingerprint, IsFnv1a64InHexAndFollowsEveryField) {
  EXPECT_EQ(services::TaskFingerprint(""), "cbf29ce484222325");
  EXPECT_EQ(services::TaskFingerprint("a"), "af63dc4c8601ec8c");
  const pipeline::RefreshTask task = SampleTask();
  const std::string base = services::TaskFingerprint(services::TaskJson(task));
  EXPECT_EQ(services::TaskFingerprint(services::TaskJson(task)), base);
  pipeline::RefreshTask changed = task;
  changed.status = "done";
  EXPECT_NE(services::TaskFingerprint(services::TaskJson(changed)), base);
  changed = task;
  changed.reason += " ";
  EXPECT_NE(services::TaskFingerprint(services::TaskJson(changed)), base);
}

// A TasksWebhook of its own, posting to `receiver`, that records what it marks delivered.
class Standalone {
 public:
  explicit Standalone(const testing::HttpReceiver& receiver, size_t max_queued_tasks = 100) {
    services::TasksWebhookOptions options;
    options.url = receiver.Url("/hooks/tasks");
    options.initial_backoff = absl::Milliseconds(10);
    options.max_backoff = absl::Milliseconds(40);
    options.shutdown_grace = absl::Milliseconds(50);
    options.max_queued_tasks = max_queued_tasks;
    auto webhook = services::TasksWebhook::Start(
        options, [this](const std::string&, const std::map<std::string, std::string>& marked) {
          absl::MutexLock lock(&mu_);
          for (const auto& [key, fingerprint] : marked) marked_[key] = fingerprint;
          return absl::OkStatus();
        });
    EXPECT_TRUE(webhook.ok()) << webhook.status();
    webhook_ = std::move(*webhook);
  }

  services::TasksWebhook& webhook() { return *webhook_; }
  // Task records as a store would hold them after the marks so far.
  pipeline::TaskRecords Records() {
    absl::MutexLock lock(&mu_);
    pipeline::TaskRecords records;
    for (const auto& [key, fingerprint] : marked_) {
      records[key].set_task_key(key);
      records[key].set_delivered_fingerprint(fingerprint);
    }
    return records;
  }
  size_t Marked() {
    absl::MutexLock lock(&mu_);
    return marked_.size();
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> marked_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<services::TasksWebhook> webhook_;  // Stopped before marked_ goes.
};

pipeline::RefreshTask Task(const std::string& key, const std::string& status) {
  pipeline::RefreshTask task = SampleTask();
  task.task_key = key;
  task.status = status;
  return task;
}

TEST(TasksWebhookQueue, AFullQueueCoalescesPerKeyAndLeavesNewKeysForTheNextMaterialization) {
  testing::HttpReceiver receiver;
  receiver.Hold();
  Standalone s(receiver, /*max_queued_tasks=*/2);
  const absl::CivilDay day(2026, 11, 25);
  s.webhook().OnPlanWritten(kInitiative, day, {Task("1/a", "open")}, {});
  ASSERT_TRUE(receiver.AwaitRequests(1, kPatience));  // In flight, not answered.

  // 1/a is in flight as it is: not queued again. 2/b and 3/c fill the queue; 4/d is left out.
  s.webhook().OnPlanWritten(
      kInitiative, day,
      {Task("1/a", "open"), Task("2/b", "open"), Task("3/c", "open"), Task("4/d", "open")}, {});
  EXPECT_EQ(s.webhook().stats().tasks_left_out, 1u);
  // A newer version of a queued task takes its place, although the queue is full.
  s.webhook().OnPlanWritten(kInitiative, day + 1, {Task("2/b", "done")}, {});
  EXPECT_EQ(s.webhook().stats().tasks_left_out, 1u);
  EXPECT_EQ(s.Marked(), 0u);  // Nothing answered, nothing marked.

  receiver.Release();
  ASSERT_TRUE(s.webhook().WaitIdle(kPatience));
  std::vector<testing::HttpRequest> requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(TasksOf(ParseJson(requests[0].body)).count("1/a"), 1u);
  const Struct second = ParseJson(requests[1].body);
  EXPECT_EQ(second.fields().at("as_of").string_value(), "2026-11-26");
  const std::map<std::string, Struct> tasks = TasksOf(second);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks.at("2/b").fields().at("status").string_value(), "done");
  EXPECT_EQ(tasks.count("3/c"), 1u);
  EXPECT_EQ(s.Marked(), 3u);

  // The next materialization, with the records as now stored, sends only the one left out.
  s.webhook().OnPlanWritten(
      kInitiative, day + 1,
      {Task("1/a", "open"), Task("2/b", "done"), Task("3/c", "open"), Task("4/d", "open")},
      s.Records());
  ASSERT_TRUE(s.webhook().WaitIdle(kPatience));
  requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 3u);
  const std::map<std::string, Struct> third = TasksOf(ParseJson(requests[2].body));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third.begin()->first, "4/d");
}

TEST(TasksWebhookQueue, StopCutsOffARequestNeverAnsweredAndMarksNothing) {
  testing::HttpReceiver receiver;
  receiver.Hold();
  Standalone s(receiver);
  s.webhook().OnPlanWritten(kInitiative, absl::CivilDay(2026, 11, 25), {Task("1/a", "open")}, {});
  ASSERT_TRUE(receiver.AwaitRequests(1, kPatience));
  s.webhook().Stop();  // Returns while the receiver still holds the request.
  EXPECT_EQ(receiver.Requests()[0].answered, 0);
  EXPECT_EQ(s.Marked(), 0u);
  EXPECT_EQ(s.webhook().stats().requests_delivered, 0u);
  // Stopped: later plans are ignored.
  s.webhook().OnPlanWritten(kInitiative, absl::CivilDay(2026, 11, 26), {Task("2/b", "open")}, {});
  EXPECT_TRUE(s.webhook().WaitIdle(absl::ZeroDuration()));
}

// The task keys of a plan CSV (the first cell of each row after the header).
std::set<std::string> PlanKeys(const std::string& csv) {
  std::set<std::string> keys;
  bool header = true;
  for (absl::string_view line : absl::StrSplit(csv, "\r\n", absl::SkipEmpty())) {
    if (header) {
      header = false;
      continue;
    }
    keys.insert(std::string(line.substr(0, line.find(','))));
  }
  return keys;
}

class TasksWebhookServerTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& url) {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.clock = &clock_;
    options.tasks_webhook.url = url;
    options.tasks_webhook.initial_backoff = absl::Milliseconds(10);
    options.tasks_webhook.max_backoff = absl::Milliseconds(40);
    options.tasks_webhook.shutdown_grace = absl::Milliseconds(100);
    auto server = services::FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_NE(server_->tasks_webhook(), nullptr);
    board_ = v1::Board::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  void StopServer() {
    board_.reset();
    server_.reset();
  }

  void StreamExamples() {
    const std::vector<v1::IngestRequest> records = testing::AllExampleRecords();
    testing::StreamResult result = testing::StreamAll(server_->address(), records);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    ASSERT_EQ(result.acks.size(), records.size());
    for (const auto& ack : result.acks) ASSERT_EQ(ack.status(), v1::ACK_STATUS_ACCEPTED);
  }

  // Board.Materialize of the example as of kAsOf; fails the test unless OK. The deadline
  // only turns a Materialize that waits for the receiver into a failure instead of a hang.
  v1::MaterializeResponse Materialize() {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kPatience));
    v1::MaterializeRequest request;
    request.set_initiative(kInitiative);
    request.set_as_of(kAsOf);
    v1::MaterializeResponse response;
    grpc::Status s = board_->Materialize(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  void UpdateStatus(const std::string& key, const std::string& status) {
    grpc::ClientContext context;
    v1::UpdateTaskRequest request;
    request.set_initiative(kInitiative);
    request.set_task_key(key);
    request.set_status(status);
    v1::UpdateTaskResponse response;
    grpc::Status s = board_->UpdateTask(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Waits until the webhook has nothing queued or in flight (deliveries marked).
  void AwaitIdle() { ASSERT_TRUE(server_->tasks_webhook()->WaitIdle(kPatience)); }

  testing::TempDir dir_;
  testing::FakeClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 15, 0), absl::UTCTimeZone())};
  std::unique_ptr<services::FieldloopServer> server_;
  std::unique_ptr<v1::Board::Stub> board_;
};

TEST_F(TasksWebhookServerTest, FirstMaterializationPostsEveryTaskOnceWithItsKey) {
  testing::HttpReceiver receiver;
  StartServer(receiver.Url("/hooks/tasks"));
  StreamExamples();
  const v1::MaterializeResponse m = Materialize();
  ASSERT_GT(m.tasks(), 0);
  AwaitIdle();

  const std::vector<testing::HttpRequest> requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const testing::HttpRequest& post = requests[0];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.path, "/hooks/tasks");
  EXPECT_EQ(post.headers.at("content-type"), "application/json");
  EXPECT_EQ(post.answered, 200);
  const Struct body = ParseJson(post.body);
  EXPECT_EQ(body.fields().at("schema_version").number_value(), 1);
  EXPECT_EQ(body.fields().at("initiative").string_value(), kInitiative);
  EXPECT_EQ(body.fields().at("as_of").string_value(), kAsOf);
  const std::map<std::string, Struct> tasks = TasksOf(body);
  EXPECT_EQ(static_cast<int>(tasks.size()), m.tasks());
  std::set<std::string> keys;
  for (const auto& [key, task] : tasks) {
    keys.insert(key);
    EXPECT_EQ(static_cast<size_t>(task.fields().size()), CsvColumns().size()) << key;
    for (const std::string& column : CsvColumns()) {
      EXPECT_EQ(task.fields().count(column), 1u) << key << " has no " << column;
    }
  }
  EXPECT_EQ(keys, PlanKeys(testing::ReadFile(m.plan_path())));
  const services::TasksWebhookStats stats = server_->tasks_webhook()->stats();
  EXPECT_EQ(stats.requests_delivered, 1u);
  EXPECT_EQ(stats.tasks_delivered, static_cast<uint64_t>(m.tasks()));
  EXPECT_EQ(stats.requests_failed, 0u);
}

TEST_F(TasksWebhookServerTest, UnchangedPlanPostsNothing) {
  testing::HttpReceiver receiver;
  StartServer(receiver.Url("/hooks/tasks"));
  StreamExamples();
  Materialize();
  AwaitIdle();
  ASSERT_EQ(receiver.Requests().size(), 1u);
  Materialize();
  AwaitIdle();
  EXPECT_EQ(receiver.Requests().size(), 1u);
}

TEST_F(TasksWebhookServerTest, AnEditedTaskIsPostedAlone) {
  testing::HttpReceiver receiver;
  StartServer(receiver.Url("/hooks/tasks"));
  StreamExamples();
  const v1::MaterializeResponse m = Materialize();
  AwaitIdle();
  const std::string key = *PlanKeys(testing::ReadFile(m.plan_path())).begin();
  UpdateStatus(key, "in_progress");
  Materialize();
  AwaitIdle();

  const std::vector<testing::HttpRequest> requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 2u);
  const std::map<std::string, Struct> tasks = TasksOf(ParseJson(requests[1].body));
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks.begin()->first, key);
  EXPECT_EQ(tasks.begin()->second.fields().at("status").string_value(), "in_progress");
}

TEST_F(TasksWebhookServerTest, FailedPostsAreRetriedUntilDelivered) {
  testing::HttpReceiver receiver;
  receiver.FailFirst(2, 503);
  StartServer(receiver.Url("/hooks/tasks"));
  StreamExamples();
  const v1::MaterializeResponse m = Materialize();
  AwaitIdle();

  const std::vector<testing::HttpRequest> requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].answered, 503);
  EXPECT_EQ(requests[1].answered, 503);
  EXPECT_EQ(requests[2].answered, 200);
  EXPECT_EQ(requests[2].body, requests[0].body);  // The same tasks, again.
  EXPECT_EQ(static_cast<int>(TasksOf(ParseJson(requests[2].body)).size()), m.tasks());
  const services::TasksWebhookStats stats = server_->tasks_webhook()->stats();
  EXPECT_EQ(stats.requests_failed, 2u);
  EXPECT_EQ(stats.requests_delivered, 1u);
  // Delivered now: nothing more to send.
  Materialize();
  AwaitIdle();
  EXPECT_EQ(receiver.Requests().size(), 3u);
}

TEST_F(TasksWebhookServerTest, AnAnswerNotRetriedLeavesTheTasksForTheNextMaterialization) {
  testing::HttpReceiver receiver;
  receiver.FailFirst(1, 400);
  StartServer(receiver.Url("/hooks/tasks"));
  StreamExamples();
  const v1::MaterializeResponse m = Materialize();
  AwaitIdle();
  ASSERT_EQ(receiver.Requests().size(), 1u);  // 400 is not retried...
  EXPECT_EQ(server_->tasks_webhook()->stats().tasks_not_retried, static_cast<uint64_t>(m.tasks()));
  Materialize();  // ...and nothing was marked delivered: all sent again.
  AwaitIdle();
  const std::vector<testing::HttpRequest> requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].answered, 200);
  EXPECT_EQ(static_cast<int>(TasksOf(ParseJson(requests[1].body)).size()), m.tasks());
}

TEST_F(TasksWebhookServerTest, AReceiverThatNeverAnswersHoldsUpNeitherMaterializeNorIngest) {
  testing::HttpReceiver receiver;
  receiver.Hold();
  StartServer(receiver.Url("/hooks/tasks"));
  StreamExamples();
  const v1::MaterializeResponse m = Materialize();
  ASSERT_TRUE(receiver.AwaitRequests(1, kPatience));  // In the receiver, not answered.

  // While that request hangs: an edit, another materialization and more records go through.
  const std::string key = *PlanKeys(testing::ReadFile(m.plan_path())).begin();
  UpdateStatus(key, "done");
  Materialize();
  testing::StreamResult more = testing::StreamAll(server_->address(), {testing::Feedback(9001)});
  ASSERT_TRUE(more.status.ok()) << more.status.error_message();
  ASSERT_EQ(more.acks.size(), 1u);
  EXPECT_EQ(more.acks[0].status(), v1::ACK_STATUS_ACCEPTED);
  std::vector<testing::HttpRequest> requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].answered, 0);  // Still hanging when all of the above returned.
  EXPECT_EQ(server_->tasks_webhook()->stats().requests_delivered, 0u);

  // Once it answers, the edit queued meanwhile follows on its own.
  receiver.Release();
  AwaitIdle();
  requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 2u);
  const std::map<std::string, Struct> second = TasksOf(ParseJson(requests[1].body));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second.begin()->first, key);
  EXPECT_EQ(second.begin()->second.fields().at("status").string_value(), "done");
}

TEST_F(TasksWebhookServerTest, RestartSendsNothingDeliveredAndEverythingThatWasNot) {
  testing::HttpReceiver receiver;
  StartServer(receiver.Url("/hooks/tasks"));
  StreamExamples();
  const v1::MaterializeResponse m = Materialize();
  AwaitIdle();
  ASSERT_EQ(receiver.Requests().size(), 1u);
  StopServer();

  StartServer(receiver.Url("/hooks/tasks"));
  Materialize();
  AwaitIdle();
  EXPECT_EQ(receiver.Requests().size(), 1u);  // All delivered before the restart.

  // The receiver goes down: an edit cannot be delivered before the server stops.
  const std::string key = *PlanKeys(testing::ReadFile(m.plan_path())).begin();
  std::string down_url;
  {
    testing::HttpReceiver gone;
    down_url = gone.Url("/hooks/tasks");
  }
  StopServer();
  StartServer(down_url);
  UpdateStatus(key, "wont_do");
  Materialize();  // Returns although nothing listens at down_url.
  StopServer();   // The edit is dropped from the queue, not marked delivered.

  StartServer(receiver.Url("/hooks/tasks"));
  Materialize();
  AwaitIdle();
  const std::vector<testing::HttpRequest> requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 2u);
  const std::map<std::string, Struct> tasks = TasksOf(ParseJson(requests[1].body));
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks.begin()->first, key);
  EXPECT_EQ(tasks.begin()->second.fields().at("status").string_value(), "wont_do");
}

TEST(TasksWebhookServer, ABadUrlIsRefusedAtStartWithoutItsPassword) {
  testing::TempDir dir;
  services::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.Sub("data");
  options.tasks_webhook.url = "ftp://user:s3cret@hooks.example.com/tasks";
  auto server = services::FieldloopServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("--tasks_webhook"));
  EXPECT_THAT(std::string(server.status().message()), Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace fieldloop
