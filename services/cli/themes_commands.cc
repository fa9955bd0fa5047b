#include "services/cli/themes_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "pipeline/record_validator.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"

namespace fieldloop::cli {
namespace {

using fieldloop::v1::ThemeChange;

std::string Json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

std::string Day(const google::protobuf::Timestamp& t) {
  return absl::FormatCivilTime(
      absl::ToCivilDay(absl::FromUnixSeconds(t.seconds()), absl::UTCTimeZone()));
}

// Checks what every command needs; returns a stub, or nullptr after printing why.
std::unique_ptr<fieldloop::v1::Themes::Stub> ThemesStub(const char* command, const ThemesOptions& o,
                                                        std::FILE* err) {
  if (o.server.empty() || o.initiative.empty()) {
    std::fprintf(err, "fieldloop %s: --server HOST:PORT and --initiative NAME are required\n",
                 command);
    return nullptr;
  }
  if (!o.as_of.empty() && !pipeline::ParseDay(o.as_of).ok()) {
    std::fprintf(err, "fieldloop %s: --as_of '%s' is not a date YYYY-MM-DD\n", command,
                 o.as_of.c_str());
    return nullptr;
  }
  auto channel = Connect(command, o.server, o.connect_timeout_s, err, o.transport);
  return channel == nullptr ? nullptr : fieldloop::v1::Themes::NewStub(channel);
}

int Refused(const char* command, const grpc::Status& s, std::FILE* err) {
  std::fprintf(err, "fieldloop %s: %s\n", command, s.error_message().c_str());
  return 2;
}

void PrintCounts(const char* name,
                 const google::protobuf::RepeatedPtrField<fieldloop::v1::NamedCount>& counts,
                 std::FILE* out) {
  if (counts.empty()) return;
  std::vector<std::string> parts;
  for (const auto& c : counts) parts.push_back(absl::StrCat(c.name(), " ", c.count()));
  std::fprintf(out, "%-12s %s\n", name, absl::StrJoin(parts, ", ").c_str());
}

}  // namespace

int RunListThemes(const ThemesOptions& o, std::FILE* out, std::FILE* err) {
  fieldloop::v1::ListThemesRequest request;
  if (o.order == "priority") {
    request.set_order(fieldloop::v1::THEME_ORDER_PRIORITY);
  } else if (o.order == "mentions") {
    request.set_order(fieldloop::v1::THEME_ORDER_MENTIONS);
  } else if (o.order == "recency") {
    request.set_order(fieldloop::v1::THEME_ORDER_RECENCY);
  } else {
    std::fprintf(err, "fieldloop themes: --order '%s' is not priority, mentions or recency\n",
                 o.order.c_str());
    return 1;
  }
  if (o.limit < 0) {
    std::fprintf(err, "fieldloop themes: --limit must be 0 (all) or more\n");
    return 1;
  }
  if (!o.since.empty()) {
    absl::StatusOr<absl::CivilDay> day = pipeline::ParseDay(o.since);
    if (!day.ok()) {
      std::fprintf(err, "fieldloop themes: --since '%s' is not a date YYYY-MM-DD\n",
                   o.since.c_str());
      return 1;
    }
    request.mutable_seen_since()->set_seconds(
        absl::ToUnixSeconds(absl::FromCivil(*day, absl::UTCTimeZone())));
  }
  auto stub = ThemesStub("themes", o, err);
  if (stub == nullptr) return 1;
  request.set_initiative(o.initiative);
  request.set_region(o.region);
  request.set_segment(o.segment);
  request.set_source(o.source);
  request.set_as_of(o.as_of);
  int printed = 0;
  int64_t total = 0;
  if (!o.json) {
    std::fprintf(out, "%6s  %-8s  %6s  %8s  %-10s  %s\n", "id", "list", "score", "mentions",
                 "last seen", "theme");
  }
  while (true) {
    const int left = o.limit == 0 ? 500 : o.limit - printed;
    request.set_page_size(std::min(left, 500));
    grpc::ClientContext context;
    fieldloop::v1::ListThemesResponse page;
    grpc::Status s = stub->ListThemes(&context, request, &page);
    if (!s.ok()) return Refused("themes", s, err);
    total = page.total();
    for (const fieldloop::v1::ThemeBrief& t : page.themes()) {
      if (o.json) {
        std::fprintf(out, "%s\n", Json(t).c_str());
      } else {
        std::fprintf(out, "%6lld  %-8s  %6.2f  %8lld  %-10s  %s\n", static_cast<long long>(t.id()),
                     t.rank_list().c_str(), t.score(), static_cast<long long>(t.mentions()),
                     Day(t.last_seen()).c_str(), t.label().c_str());
      }
      ++printed;
    }
    if (page.next_page_token().empty() || (o.limit > 0 && printed >= o.limit)) break;
    request.set_page_token(page.next_page_token());
    request.clear_as_of();  // The token keeps the first page's.
  }
  if (!o.json) {
    std::fprintf(out, "%d of %lld themes%s\n", printed, static_cast<long long>(total),
                 printed < total ? " (--limit 0 lists all)" : "");
  }
  return 0;
}

int RunGetTheme(const ThemesOptions& o, std::FILE* out, std::FILE* err) {
  if (o.theme_id < 0) {
    std::fprintf(err, "fieldloop theme: a theme id (0 or more) is required\n");
    return 1;
  }
  auto stub = ThemesStub("theme", o, err);
  if (stub == nullptr) return 1;
  fieldloop::v1::GetThemeRequest request;
  request.set_initiative(o.initiative);
  request.set_theme_id(o.theme_id);
  request.set_as_of(o.as_of);
  grpc::ClientContext context;
  fieldloop::v1::GetThemeResponse response;
  grpc::Status s = stub->GetTheme(&context, request, &response);
  if (!s.ok()) return Refused("theme", s, err);
  if (o.json) {
    std::fprintf(out, "%s\n", Json(response).c_str());
    return 0;
  }
  const fieldloop::v1::Theme& t = response.theme();
  const fieldloop::v1::ThemeBrief& b = t.brief();
  if (response.merged()) {
    std::fprintf(out, "theme %lld was merged into theme %lld\n",
                 static_cast<long long>(response.requested_id()), static_cast<long long>(b.id()));
  }
  std::fprintf(out, "theme %lld: %s\n", static_cast<long long>(b.id()), b.label().c_str());
  std::fprintf(out, "%-12s %s%s%s, score %.2f\n", "list", b.rank_list().c_str(),
               b.concentrated_in().empty() ? "" : ", ", b.concentrated_in().c_str(), b.score());
  std::fprintf(out, "%-12s %s\n", "why", b.why().c_str());
  std::fprintf(out, "%-12s %s to %s\n", "seen", Day(b.first_seen()).c_str(),
               Day(b.last_seen()).c_str());
  PrintCounts("regions", t.by_region(), out);
  PrintCounts("segments", t.by_segment(), out);
  PrintCounts("sources", t.by_source(), out);
  PrintCounts("quarters", t.by_quarter(), out);
  if (t.objections() > 0 || t.lost_deals() > 0 || t.won_deals() > 0) {
    std::fprintf(out, "%-12s %lld objections, %lld lost deals (%.0f at stake), %lld won\n",
                 "win/loss", static_cast<long long>(t.objections()),
                 static_cast<long long>(t.lost_deals()), t.amount_at_stake(),
                 static_cast<long long>(t.won_deals()));
  }
  PrintCounts("competitors", t.competitors(), out);
  if (!t.recurring_quarters().empty()) {
    std::fprintf(out, "%-12s %s\n", "recurring",
                 absl::StrJoin(t.recurring_quarters(), ", ").c_str());
  }
  for (const auto& a : t.linked_assets()) {
    std::fprintf(out, "%-12s %s (%s, %s, updated %s, owner %s)\n", "asset", a.title().c_str(),
                 a.asset_id().c_str(), a.stale() ? "stale" : "fresh", a.last_updated().c_str(),
                 a.owner().c_str());
  }
  for (const auto& task : t.tasks()) {
    std::fprintf(out, "%-12s %s [%s] %s %s: %s (owner %s, due %s, %s)\n", "task",
                 task.task_key().c_str(), task.priority().c_str(), task.action().c_str(),
                 task.format().c_str(), task.asset().c_str(), task.owner().c_str(),
                 task.due().c_str(), task.status().c_str());
  }
  for (const auto& p : t.proof_points()) {
    std::fprintf(out, "%-12s %s (%s)\n", p.customer_story() ? "story" : "proof point",
                 p.text().c_str(), p.record_id().c_str());
  }
  for (const auto& q : t.quotes()) {
    std::fprintf(out, "%-12s \"%s\" (%s)\n", "quote", q.text().c_str(), q.record_id().c_str());
  }
  return 0;
}

int RunWatchThemes(const ThemesOptions& o, std::FILE* out, std::FILE* err) {
  if (o.from_version < 0) {
    std::fprintf(err, "fieldloop watch: --from_version must be 0 or more\n");
    return 1;
  }
  auto stub = ThemesStub("watch", o, err);
  if (stub == nullptr) return 1;
  fieldloop::v1::WatchThemesRequest request;
  request.set_initiative(o.initiative);
  request.set_from_version(o.from_version);
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<ThemeChange>> reader = stub->WatchThemes(&context, request);
  ThemeChange change;
  while (reader->Read(&change)) {
    if (o.json) {
      std::fprintf(out, "%s\n", Json(change).c_str());
    } else if (change.kind() == ThemeChange::CAUGHT_UP) {
      std::fprintf(out, "v%lld caught up\n", static_cast<long long>(change.version()));
    } else if (change.kind() == ThemeChange::MERGED) {
      std::fprintf(out, "v%lld MERGED   %lld into %lld\n", static_cast<long long>(change.version()),
                   static_cast<long long>(change.theme_id()),
                   static_cast<long long>(change.merged_into()));
    } else {
      std::fprintf(out, "v%lld %-8s %lld %s (%lld %s)\n", static_cast<long long>(change.version()),
                   ThemeChange::Kind_Name(change.kind()).c_str(),
                   static_cast<long long>(change.theme_id()), change.label().c_str(),
                   static_cast<long long>(change.mentions()),
                   change.mentions() == 1 ? "mention" : "mentions");
    }
    std::fflush(out);
  }
  grpc::Status s = reader->Finish();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::fprintf(err, "fieldloop watch: the server ended the watch: %s\n",
                 s.error_message().c_str());
    return 0;
  }
  if (!s.ok()) return Refused("watch", s, err);
  return 0;
}

}  // namespace fieldloop::cli
