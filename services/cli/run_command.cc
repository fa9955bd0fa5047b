#include "services/cli/run_command.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pipeline/record_files.h"
#include "pipeline/record_validator.h"
#include "services/board_keeper.h"
#include "services/ingestor.h"
#include "services/materializer.h"
#include "services/theme_applier.h"
#include "storage/store.h"

namespace fieldloop::cli {

std::string OneShotDataDir(const std::string& out, const std::string& data_dir) {
  return data_dir.empty() ? out + "/.fieldloop/data" : data_dir;
}

int RunOneShot(const RunOptions& o, std::FILE* out, std::FILE* err) {
  if (!pipeline::IsValidInitiative(o.initiative)) {
    std::fprintf(err, "fieldloop run: --initiative '%s' must match [a-z0-9][a-z0-9._-]{0,63}\n",
                 o.initiative.c_str());
    return 1;
  }
  absl::CivilDay as_of = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  if (!o.as_of.empty()) {
    absl::StatusOr<absl::CivilDay> day = pipeline::ParseDay(o.as_of);
    if (!day.ok()) {
      std::fprintf(err, "fieldloop run: --as_of %s\n", std::string(day.status().message()).c_str());
      return 1;
    }
    as_of = *day;
  }
  const std::string data_dir = OneShotDataDir(o.out, o.data_dir);
  auto store = storage::Store::Open(data_dir, {});
  if (!store.ok()) {
    std::fprintf(err, "fieldloop run: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  int problems = 0;
  const absl::Time now = absl::Now();
  for (const std::string& file :
       {o.feedback_stream, o.win_loss_notes, o.content_inventory, o.onboarding_metrics}) {
    if (file.empty()) continue;
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(err, "fieldloop run: cannot read %s\n", file.c_str());
      return 1;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    std::vector<storage::RecordToAppend> batch;
    absl::Status parsed =
        pipeline::ParseRecordFile(buf.str(), o.initiative, [&](pipeline::ParsedRecord& r) {
          if (!r.ok) {
            ++problems;
            std::fprintf(err, "%s:%d: %s: %s\n", file.c_str(), r.line, r.field.c_str(),
                         r.error.c_str());
            return true;
          }
          const std::string wire = r.request.SerializeAsString();
          std::optional<pipeline::Rejection> rejection =
              pipeline::Validate(r.request, wire.size(), pipeline::ValidationLimits(), now);
          if (rejection) {
            ++problems;
            std::fprintf(err, "%s:%d: %s: %s\n", file.c_str(), r.line, rejection->field.c_str(),
                         rejection->message.c_str());
            return true;
          }
          batch.push_back(services::ToAppend(pipeline::IdentityOf(r.request), wire));
          return true;
        });
    if (!parsed.ok()) {
      std::fprintf(err, "fieldloop run: %s: %s\n", file.c_str(),
                   std::string(parsed.message()).c_str());
      return 1;
    }
    if (auto appended = (*store)->Append(batch); !appended.ok()) {
      std::fprintf(err, "fieldloop run: storing %s: %s\n", file.c_str(),
                   std::string(appended.status().message()).c_str());
      return 1;
    }
  }
  services::ThemeApplier applier(store->get());
  if (absl::Status s = applier.Start(); !s.ok()) {
    std::fprintf(err, "fieldloop run: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto applied = applier.WaitApplied(o.initiative, 0, absl::Now() + absl::Minutes(30));
  if (!applied.ok()) {
    std::fprintf(err, "fieldloop run: %s\n", std::string(applied.status().message()).c_str());
    return 1;
  }
  auto result = services::Materialize(**store, o.initiative,
                                      services::ViewOf(applier, o.initiative), as_of, o.out);
  applier.Stop();
  if (!result.ok()) {
    std::fprintf(err, "fieldloop run: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  std::fprintf(out, "board: %s%s\n", result->paths.board.c_str(),
               result->stub ? " (stub: no feedback)" : "");
  if (!result->stub) {
    std::fprintf(out, "plan:  %s (%zu tasks)\n", result->paths.plan.c_str(), result->tasks.size());
    std::fprintf(out, "top fixes:\n");
    for (size_t i = 0; i < result->tasks.size() && i < 5; ++i) {
      const auto& t = result->tasks[i];
      std::fprintf(out, "  %zu. [%s] %s %s: %s (owner %s, due %s)\n", i + 1, t.priority.c_str(),
                   t.action.c_str(), t.format.c_str(), t.theme.c_str(), t.owner.c_str(),
                   t.due.c_str());
    }
  } else {
    std::fprintf(out, "plan:  not written (no feedback)\n");
  }
  return problems > 0 ? 2 : 0;
}

}  // namespace fieldloop::cli
