// BoardKeeper: materializes initiatives' boards and plans for the Board service and the
// server's schedule, and keeps people's task edits. Knows nothing of gRPC. Thread-safe:
// materializations and edits of all initiatives are serialized (they read and write the
// same task records), renders without writing run concurrently with them.
#ifndef FIELDLOOP_SERVICES_BOARD_KEEPER_H_
#define FIELDLOOP_SERVICES_BOARD_KEEPER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "pipeline/task_edits.h"
#include "services/event_log.h"
#include "services/materializer.h"
#include "services/metrics.h"
#include "services/plan_observer.h"
#include "services/theme_applier.h"
#include "storage/store.h"

namespace fieldloop::services {

struct BoardKeeperOptions {
  // Root under which specs/projects/<initiative>/sales/ is written.
  // Default: ./out.
  std::string output_root = "./out";
  // Longest wait for the theme state to catch up with acked records.
  // Default: 5 minutes.
  absl::Duration apply_timeout = absl::Minutes(5);
  // Where materializations (Materialize: trigger "request"; MaterializeChanged: "schedule")
  // and their durations are counted; must outlive the keeper. A bad initiative name or one
  // without records is a bad request, not counted. Default: nullptr (not counted).
  ServerMetrics* metrics = nullptr;
  // Told about every plan Materialize and MaterializeChanged write (the tasks webhook), with
  // the keeper's lock held; must outlive the keeper. Default: nullptr (nobody is told).
  PlanObserver* plan_observer = nullptr;
  // Where each materialization (INFO: initiative, as_of, trigger, themes, tasks, duration,
  // paths; WARNING when it failed, bad requests aside) and each plan import (INFO: counts)
  // are logged; must outlive the keeper. Default: nullptr (nothing logged).
  EventLog* log = nullptr;
  // Mask e-mail addresses and phone numbers in quotes and proof points
  // (pipeline/pii_redactor.h). Default: true.
  bool redact_pii = true;
};

struct Materialized {
  MaterializeResult result;
  storage::SequenceNumber applied = 0;  // Last sequence number reflected.
};

struct Rendered {
  RenderedOutputs outputs;
  storage::SequenceNumber applied = 0;
};

struct ImportSummary {
  int rows = 0, updated = 0, unchanged = 0;
  std::vector<std::string> errors;  // "line N: field: reason".
};

// Imports an edited plan CSV into the task records of `initiative` in `store`
// (pipeline/plan_import.h for the file, pipeline/task_edits.h for the rule). A row naming
// a task no materialization planned is reported and skipped. InvalidArgument for a bad
// initiative name or a file unusable as a whole. Not synchronized: BoardKeeper::ImportPlan
// is, and the one-shot `fieldloop import-plan` has the store to itself.
absl::StatusOr<ImportSummary> ImportPlanCsv(storage::Store& store, const std::string& initiative,
                                            absl::string_view csv);

// OK when `initiative` is a valid name with records in `store`: InvalidArgument for a bad
// name, NotFound ("initiative 'x' has no records") otherwise.
absl::Status CheckKnownInitiative(const storage::Store& store, const std::string& initiative);

// The theme state of `initiative` as materializing needs it, input counts included
// (ThemeApplier::Inputs; nullopt while the applier has none); `applier` must outlive the
// view's `resolve`.
ThemeView ViewOf(const ThemeApplier& applier, const std::string& initiative);

class BoardKeeper {
 public:
  // `store` and `applier` must outlive the keeper.
  BoardKeeper(storage::Store* store, ThemeApplier* applier, BoardKeeperOptions options);

  // Waits until the records of `initiative` stored when called are applied, then writes its
  // outputs (see services::Materialize). InvalidArgument for a bad name, NotFound for an
  // initiative without records, Unavailable while the store cannot write
  // (storage::Store::WriteHealth), DeadlineExceeded/FailedPrecondition from the applier.
  absl::StatusOr<Materialized> Materialize(const std::string& initiative, absl::CivilDay as_of,
                                           bool keep_history) ABSL_LOCKS_EXCLUDED(mu_);

  // As Materialize, but returns the content instead of writing or storing anything.
  absl::StatusOr<Rendered> Render(const std::string& initiative, absl::CivilDay as_of);

  // Materializes each initiative whose last sequence number differs from the one its last
  // materialization by this keeper reflected (all of them the first time). Returns the
  // initiatives done; errors are returned per initiative in `errors` (may be nullptr).
  std::vector<std::string> MaterializeChanged(absl::CivilDay as_of,
                                              std::map<std::string, absl::Status>* errors)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Applies one edit to a task of the last materialized plan. NotFound when no
  // materialization planned `edit.task_key`; InvalidArgument naming the field.
  absl::StatusOr<state::TaskRecord> UpdateTask(const std::string& initiative,
                                               const pipeline::TaskEdit& edit)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Imports an edited plan CSV (pipeline/plan_import.h, pipeline/task_edits.h).
  // InvalidArgument when the file as a whole is unusable.
  absl::StatusOr<ImportSummary> ImportPlan(const std::string& initiative, absl::string_view csv)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Sets the delivered_fingerprint of the stored task records of `initiative` named in
  // `fingerprints` (task key -> fingerprint; services/tasks_webhook.h), serialized with
  // materializations and edits. Keys without a record are skipped. Returns the store's
  // error.
  absl::Status MarkDelivered(const std::string& initiative,
                             const std::map<std::string, std::string>& fingerprints)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Initiatives with records, sorted.
  std::vector<std::string> Initiatives() const { return store_->Initiatives(); }

  const BoardKeeperOptions& options() const { return options_; }

 private:
  // Waits for the applier; returns the sequence number reflected.
  absl::StatusOr<storage::SequenceNumber> CatchUp(const std::string& initiative);
  // Materialize, counted in options_.metrics under `trigger`.
  absl::StatusOr<Materialized> MaterializeFor(const std::string& initiative, absl::CivilDay as_of,
                                              bool keep_history, MaterializeTrigger trigger)
      ABSL_LOCKS_EXCLUDED(mu_);

  storage::Store* const store_;
  ThemeApplier* const applier_;
  const BoardKeeperOptions options_;

  absl::Mutex mu_;  // Serializes materializations and edits.
  std::map<std::string, storage::SequenceNumber> materialized_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_BOARD_KEEPER_H_
