#include "services/board_keeper.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pipeline/plan_import.h"
#include "pipeline/record_validator.h"

namespace fieldloop::services {

BoardKeeper::BoardKeeper(storage::Store* store, ThemeApplier* applier, BoardKeeperOptions options)
    : store_(store), applier_(applier), options_(std::move(options)) {}

absl::Status CheckKnownInitiative(const storage::Store& store, const std::string& initiative) {
  if (absl::Status s = pipeline::CheckInitiative(initiative); !s.ok()) return s;
  if (store.LastSequence(initiative) == 0) {
    return absl::NotFoundError(absl::StrCat("initiative '", initiative, "' has no records"));
  }
  return absl::OkStatus();
}

absl::StatusOr<storage::SequenceNumber> BoardKeeper::CatchUp(const std::string& initiative) {
  if (absl::Status s = CheckKnownInitiative(*store_, initiative); !s.ok()) return s;
  return applier_->WaitApplied(initiative, store_->LastSequence(initiative),
                               absl::Now() + options_.apply_timeout);
}

ThemeView ViewOf(const ThemeApplier& applier, const std::string& initiative) {
  ThemeApplier::Snapshot snapshot = applier.SummariesAndInputs(initiative);
  return ThemeView{
      std::move(snapshot.summaries),
      [&applier, initiative](pipeline::ThemeId id) { return applier.ResolveTheme(initiative, id); },
      std::move(snapshot.inputs)};
}

absl::StatusOr<Materialized> BoardKeeper::Materialize(const std::string& initiative,
                                                      absl::CivilDay as_of, bool keep_history) {
  return MaterializeFor(initiative, as_of, keep_history, MaterializeTrigger::kRequest);
}

absl::StatusOr<Materialized> BoardKeeper::MaterializeFor(const std::string& initiative,
                                                         absl::CivilDay as_of, bool keep_history,
                                                         MaterializeTrigger trigger) {
  const absl::Time start = absl::Now();
  const char* const trigger_name = trigger == MaterializeTrigger::kSchedule ? "schedule"
                                   : keep_history                           ? "snapshot"
                                                                            : "request";
  const auto count = [&](const absl::Status& status) {
    if (options_.metrics != nullptr) {
      options_.metrics->RecordMaterialization(trigger, status.ok(), absl::Now() - start);
    }
    if (options_.log != nullptr && !status.ok()) {
      options_.log->Warning("board", "materializing %s as of %s (%s) failed after %.3fs: %s",
                            initiative, absl::FormatCivilTime(as_of), trigger_name,
                            absl::ToDoubleSeconds(absl::Now() - start), status.ToString());
    }
  };
  // The theme state cannot catch up and the task records cannot be written while the store
  // cannot write (disk full): say so now rather than at the end of the wait.
  if (CheckKnownInitiative(*store_, initiative).ok()) {
    if (absl::Status writable = store_->WriteHealth(); !writable.ok()) {
      absl::Status status = absl::UnavailableError(
          absl::StrCat("the server cannot write now, retry later: ", writable.message()));
      count(status);
      return status;
    }
  }
  absl::StatusOr<storage::SequenceNumber> applied = CatchUp(initiative);
  if (!applied.ok()) {
    // A bad name or an initiative without records is a bad request, not a failed run.
    if (!absl::IsInvalidArgument(applied.status()) && !absl::IsNotFound(applied.status())) {
      count(applied.status());
    }
    return applied.status();
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<MaterializeResult> result =
      services::Materialize(*store_, initiative, ViewOf(*applier_, initiative), as_of,
                            options_.output_root, keep_history, options_.redact_pii);
  count(result.status());
  if (!result.ok()) return result.status();
  if (options_.log != nullptr && options_.log->Enabled(LogLevel::kInfo)) {
    std::string line = absl::StrFormat(
        "materialized %s as of %s (%s, up to sequence %d): %d themes, %d tasks in %.3fs; "
        "board %s",
        initiative, absl::FormatCivilTime(as_of), trigger_name, *applied, result->themes,
        result->tasks.size(), absl::ToDoubleSeconds(absl::Now() - start), result->paths.board);
    absl::StrAppend(&line, result->stub ? ", stub (no feedback), no plan"
                                        : absl::StrCat(", plan ", result->paths.plan));
    if (!result->history_board.empty()) {
      absl::StrAppend(&line, ", history ", result->history_board);
    }
    options_.log->Write(LogLevel::kInfo, "board", line);
  }
  materialized_[initiative] = *applied;
  if (options_.plan_observer != nullptr) {
    // Unreadable records count as never delivered: tasks are sent again rather than lost.
    absl::StatusOr<pipeline::TaskRecords> records = ReadTaskRecords(*store_, initiative);
    options_.plan_observer->OnPlanWritten(initiative, as_of, result->tasks,
                                          records.ok() ? *records : pipeline::TaskRecords{});
  }
  return Materialized{std::move(*result), *applied};
}

absl::StatusOr<Rendered> BoardKeeper::Render(const std::string& initiative, absl::CivilDay as_of) {
  absl::StatusOr<storage::SequenceNumber> applied = CatchUp(initiative);
  if (!applied.ok()) return applied.status();
  absl::StatusOr<RenderedOutputs> outputs =
      RenderOutputs(*store_, initiative, ViewOf(*applier_, initiative), as_of, options_.output_root,
                    options_.redact_pii);
  if (!outputs.ok()) return outputs.status();
  return Rendered{std::move(*outputs), *applied};
}

std::vector<std::string> BoardKeeper::MaterializeChanged(
    absl::CivilDay as_of, std::map<std::string, absl::Status>* errors) {
  std::vector<std::string> done;
  for (const std::string& initiative : store_->Initiatives()) {
    {
      absl::MutexLock lock(&mu_);
      auto it = materialized_.find(initiative);
      if (it != materialized_.end() && it->second == store_->LastSequence(initiative)) continue;
    }
    absl::StatusOr<Materialized> m =
        MaterializeFor(initiative, as_of, /*keep_history=*/false, MaterializeTrigger::kSchedule);
    if (m.ok()) {
      done.push_back(initiative);
    } else if (errors != nullptr) {
      (*errors)[initiative] = m.status();
    }
  }
  return done;
}

absl::StatusOr<state::TaskRecord> BoardKeeper::UpdateTask(const std::string& initiative,
                                                          const pipeline::TaskEdit& edit) {
  if (absl::Status s = pipeline::CheckInitiative(initiative); !s.ok()) return s;
  if (absl::Status s = pipeline::ValidateTaskEdit(edit); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<pipeline::TaskRecords> records = ReadTaskRecords(*store_, initiative);
  if (!records.ok()) return records.status();
  auto it = records->find(edit.task_key);
  if (it == records->end()) {
    return absl::NotFoundError(absl::StrCat("task_key: no task '", edit.task_key,
                                            "' in a materialized plan of '", initiative, "'"));
  }
  pipeline::ApplyTaskEdit(edit, /*only_changes=*/false, &it->second);
  if (absl::Status s = store_->PutTasks(initiative, {{it->first, it->second.SerializeAsString()}});
      !s.ok()) {
    return s;
  }
  return it->second;
}

absl::Status BoardKeeper::MarkDelivered(const std::string& initiative,
                                        const std::map<std::string, std::string>& fingerprints) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<pipeline::TaskRecords> records = ReadTaskRecords(*store_, initiative);
  if (!records.ok()) return records.status();
  std::vector<std::pair<std::string, std::string>> puts;
  for (const auto& [key, fingerprint] : fingerprints) {
    auto it = records->find(key);
    if (it == records->end()) continue;
    it->second.set_delivered_fingerprint(fingerprint);
    puts.emplace_back(key, it->second.SerializeAsString());
  }
  if (puts.empty()) return absl::OkStatus();
  return store_->PutTasks(initiative, puts);
}

absl::StatusOr<ImportSummary> BoardKeeper::ImportPlan(const std::string& initiative,
                                                      absl::string_view csv) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ImportSummary> summary = ImportPlanCsv(*store_, initiative, csv);
  if (summary.ok() && options_.log != nullptr) {
    options_.log->Info(
        "board", "imported a plan of %s: %d rows, %d tasks updated, %d unchanged, %d skipped",
        initiative, summary->rows, summary->updated, summary->unchanged, summary->errors.size());
  }
  return summary;
}

absl::StatusOr<ImportSummary> ImportPlanCsv(storage::Store& store, const std::string& initiative,
                                            absl::string_view csv) {
  if (absl::Status s = pipeline::CheckInitiative(initiative); !s.ok()) return s;
  absl::StatusOr<pipeline::ParsedPlan> parsed = pipeline::ParsePlanCsv(csv);
  if (!parsed.ok()) return parsed.status();
  ImportSummary summary;
  std::set<int> bad_lines;
  for (const auto& e : parsed->errors) bad_lines.insert(e.line);
  summary.rows = static_cast<int>(parsed->edits.size() + bad_lines.size());
  for (const auto& e : parsed->errors) {
    summary.errors.push_back(absl::StrCat("line ", e.line, ": ", e.field, ": ", e.message));
  }
  absl::StatusOr<pipeline::TaskRecords> records = ReadTaskRecords(store, initiative);
  if (!records.ok()) return records.status();
  std::vector<std::pair<std::string, std::string>> puts;
  for (const pipeline::PlanEdit& row : parsed->edits) {
    const pipeline::TaskEdit edit{row.task_key, row.status, row.owner, row.due};
    auto it = records->find(row.task_key);
    absl::Status valid = pipeline::ValidateTaskEdit(edit);
    if (valid.ok() && it == records->end()) {
      valid = absl::NotFoundError(
          absl::StrCat("task_key: no task '", row.task_key, "' in a materialized plan"));
    }
    if (!valid.ok()) {
      summary.errors.push_back(absl::StrCat("line ", row.line, ": ", valid.message()));
      continue;
    }
    if (pipeline::ApplyTaskEdit(edit, /*only_changes=*/true, &it->second)) {
      ++summary.updated;
      puts.emplace_back(it->first, it->second.SerializeAsString());
    } else {
      ++summary.unchanged;
    }
  }
  if (!puts.empty()) {
    if (absl::Status s = store.PutTasks(initiative, puts); !s.ok()) return s;
  }
  return summary;
}

}  // namespace fieldloop::services
