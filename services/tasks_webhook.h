// TasksWebhook: pushes refresh-plan tasks to a project tool. After each materialization
// (BoardKeeper, through PlanObserver) it POSTs, as JSON, the tasks that are new or changed
// since they were last delivered, from a background thread. Schema and rules:
// docs/formats.md ("Tasks webhook"); the flag: docs/operations.md (--tasks_webhook).
//
// The contract:
// - One request per initiative holds up to `max_tasks_per_post` tasks, each a JSON object
//   with every CSV column (TaskJson), under {"schema_version", "initiative", "as_of",
//   "tasks"} (TasksPayload). Receivers upsert by `task_key`.
// - New or changed: a task is sent when the fingerprint of its JSON object (TaskFingerprint)
//   differs from the `delivered_fingerprint` of its stored TaskRecord
//   (pipeline/task_state.proto). That field is set, through `MarkDelivered`, only after the
//   receiver answered 2xx, so a restart neither re-sends delivered tasks nor forgets
//   undelivered ones (they are sent after the next materialization of their initiative).
//   Delivery is at least once: a request answered 2xx whose mark could not be stored, or
//   cut off at shutdown after the receiver took it, is sent again.
// - OnPlanWritten never blocks on the network: it only queues. The queue holds at most
//   `max_queued_tasks` tasks, coalesced per (initiative, task_key): a newer version of a
//   queued task replaces it (the request carries the latest as_of). When the queue is full,
//   tasks of keys not yet queued are left out and counted in `tasks_left_out`; they are not
//   marked delivered, so the next materialization of their initiative queues them again.
// - Failures (no connection, timeouts, HTTP 408, 425, 429 and 5xx) are retried without end,
//   the wait doubling from `initial_backoff` up to `max_backoff`; the failed tasks go back to
//   the queue, where newer versions replace them. Any other answer (3xx, other 4xx) is not
//   retried: the tasks stay undelivered until the next materialization queues them again.
// - Stop (also the destructor): queues nothing more, lets a request in flight finish for up
//   to `shutdown_grace` and then cuts it off, and drops what is queued (a WARNING in the
//   event log with its count). Nothing dropped was marked delivered.
// - Logging (`log`): the URL only as display_url(), never its user, password or query. A
//   failed request is a WARNING, in a run of failures only the 1st, 2nd, 4th, 8th, ... (the
//   others DEBUG), and the first delivery after a run is an INFO line; each delivery is
//   DEBUG. An answer not retried and a delivery that could not be marked are WARNINGs.
#ifndef FIELDLOOP_SERVICES_TASKS_WEBHOOK_H_
#define FIELDLOOP_SERVICES_TASKS_WEBHOOK_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "pipeline/refresh_plan.h"
#include "services/event_log.h"
#include "services/plan_observer.h"

namespace fieldloop::services {

// The value of "schema_version" in every request. Raised when a field changes meaning or is
// removed; adding a field does not raise it.
inline constexpr int kTasksWebhookSchemaVersion = 1;

struct TasksWebhookOptions {
  // Where tasks are POSTed: an http:// or https:// URL with a host (user:password@ in it is
  // sent as HTTP basic auth). Empty: the webhook is off.
  // Default: empty.
  std::string url;
  // Longest wait for a connection (TCP and TLS), per request.
  // Default: 5 s.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Longest time for a whole request, connection and answer included.
  // Default: 30 s.
  absl::Duration request_timeout = absl::Seconds(30);
  // Wait after the first failed request; doubled after each further failure in a row.
  // Default: 1 s.
  absl::Duration initial_backoff = absl::Seconds(1);
  // Longest wait between attempts.
  // Default: 5 minutes.
  absl::Duration max_backoff = absl::Minutes(5);
  // Most tasks kept queued (coalesced per initiative and task key). At least 1.
  // Default: 10000.
  size_t max_queued_tasks = 10000;
  // Most tasks in one request; more are sent in further requests. At least 1.
  // Default: 500.
  size_t max_tasks_per_post = 500;
  // How long Stop lets a request in flight finish before cutting it off.
  // Default: 1 s.
  absl::Duration shutdown_grace = absl::Seconds(1);
  // Where deliveries and failures are logged (see the contract above); must outlive the
  // webhook. Default: nullptr (nothing logged).
  EventLog* log = nullptr;
};

// Returns `url` as it may be logged: scheme, host, port and path, without user, password,
// query or fragment ("https://hooks.example.com/fieldloop"). InvalidArgument, naming the
// rule but not the URL's secrets, when `url` does not parse, its scheme is not http or
// https, or it has no host.
absl::StatusOr<std::string> CheckWebhookUrl(absl::string_view url);

// The JSON object of one task: every CSV column in CSV order, theme_id and evidence_count
// as numbers, the rest as strings; compact, no spaces. Same task, same bytes.
std::string TaskJson(const pipeline::RefreshTask& task);

// The fingerprint of a TaskJson: FNV-1a 64 of its bytes as 16 lowercase hex digits. Stable
// across builds and restarts (it is stored).
std::string TaskFingerprint(absl::string_view task_json);

// A request body: {"schema_version":1,"initiative":...,"as_of":"YYYY-MM-DD","tasks":[...]}
// with `task_jsons` (TaskJson objects) in the given order.
std::string TasksPayload(absl::string_view initiative, absl::CivilDay as_of,
                         const std::vector<std::string>& task_jsons);

struct TasksWebhookStats {
  uint64_t requests_delivered = 0;  // Answered 2xx.
  uint64_t requests_failed = 0;     // Any other outcome, each attempt counted.
  uint64_t tasks_delivered = 0;     // Tasks in requests answered 2xx.
  uint64_t tasks_left_out = 0;      // Not queued because the queue was full.
  uint64_t tasks_not_retried = 0;   // In requests answered with a status not retried.
};

class TasksWebhook : public PlanObserver {
 public:
  // Stores the fingerprints (task key -> TaskFingerprint) of tasks of `initiative` just
  // delivered. Called from the sender thread, with no lock of the webhook held; an error is
  // logged and the tasks count as delivered for the rest of this process.
  using MarkDelivered = std::function<absl::Status(
      const std::string& initiative, const std::map<std::string, std::string>& fingerprints)>;

  // Checks `options` and starts the sender thread. InvalidArgument for a bad URL
  // (CheckWebhookUrl) or option; Internal when libcurl cannot be set up. `mark_delivered`
  // must stay callable until Stop returns.
  static absl::StatusOr<std::unique_ptr<TasksWebhook>> Start(TasksWebhookOptions options,
                                                             MarkDelivered mark_delivered);

  // Stops (see Stop).
  ~TasksWebhook() override;

  // Queues the tasks of `tasks` whose TaskFingerprint differs from the
  // delivered_fingerprint of their record in `records` (and from what this webhook has in
  // flight or delivered since it started). Never blocks on the network. Ignored after Stop.
  void OnPlanWritten(const std::string& initiative, absl::CivilDay as_of,
                     const std::vector<pipeline::RefreshTask>& tasks,
                     const pipeline::TaskRecords& records) override ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until nothing is queued or in flight; false when `timeout` passed first (for
  // example while the receiver fails). For tests and tools.
  bool WaitIdle(absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(mu_);

  // Queues nothing more, gives a request in flight up to `shutdown_grace`, drops what is
  // queued and joins the sender thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  TasksWebhookStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

  // The URL as logged (CheckWebhookUrl).
  const std::string& display_url() const { return display_url_; }

 private:
  struct Queued {
    std::string json;         // TaskJson.
    std::string fingerprint;  // TaskFingerprint(json).
  };
  struct Pending {
    uint64_t turn = 0;  // Lower goes first; a failed initiative goes to the back.
    absl::CivilDay as_of;
    std::map<std::string, Queued> tasks;  // By task key.
  };
  struct Batch {
    std::string initiative;
    absl::CivilDay as_of;
    std::map<std::string, Queued> tasks;
  };
  class Transport;  // libcurl.

  TasksWebhook(TasksWebhookOptions options, std::string display_url, MarkDelivered mark_delivered,
               std::unique_ptr<Transport> transport);

  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits for queued tasks (or Stop); moves up to max_tasks_per_post of the first
  // initiative's into `in_flight_` and returns them. False when stopping.
  bool TakeBatch(Batch* batch) ABSL_LOCKS_EXCLUDED(mu_);
  // Puts a failed batch back, behind newer versions of its tasks.
  void Requeue(Batch batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Full() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queued_ >= options_.max_queued_tasks;
  }

  const TasksWebhookOptions options_;
  const std::string display_url_;
  const MarkDelivered mark_delivered_;
  const std::unique_ptr<Transport> transport_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // When a request in flight is cut off: set by Stop.
  absl::Time cut_off_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  uint64_t next_turn_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);  // By initiative.
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;                       // Tasks in pending_.
  // The batch being sent: initiative and fingerprint per task key.
  std::string in_flight_initiative_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> in_flight_ ABSL_GUARDED_BY(mu_);
  // Fingerprints delivered by this process, by initiative and task key: a materialization
  // that read its records before the delivery was marked does not queue them again.
  std::map<std::string, std::map<std::string, std::string>> delivered_ ABSL_GUARDED_BY(mu_);
  TasksWebhookStats stats_ ABSL_GUARDED_BY(mu_);

  std::thread sender_;
  absl::Mutex stop_mu_;  // Serializes Stop.
  bool joined_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_TASKS_WEBHOOK_H_
