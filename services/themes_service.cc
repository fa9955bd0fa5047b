#include "services/themes_service.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "pipeline/record_validator.h"
#include "services/board_keeper.h"
#include "services/materializer.h"
#include "services/rpc_conversions.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::ThemeChange;

// A ranked or emerging theme, with the list it is on.
struct Listed {
  const pipeline::PrioritizedTheme* theme;
  const char* list;  // "global", "regional", "emerging".
};

std::vector<Listed> Everything(const pipeline::PrioritizedThemes& themes) {
  std::vector<Listed> out;
  for (const auto& t : themes.global) out.push_back({&t, "global"});
  for (const auto& t : themes.regional) out.push_back({&t, "regional"});
  for (const auto& t : themes.emerging) out.push_back({&t, "emerging"});
  return out;
}

void SetTime(int64_t unix_seconds, google::protobuf::Timestamp* out) {
  out->set_seconds(unix_seconds);
}

void FillBrief(const Listed& l, fieldloop::v1::ThemeBrief* out) {
  const pipeline::PrioritizedTheme& p = *l.theme;
  out->set_id(p.theme.id);
  out->set_label(p.theme.label);
  out->set_mentions(p.theme.mentions);
  out->set_score(p.score);
  out->set_rank_list(l.list);
  out->set_concentrated_in(p.concentrated_in);
  SetTime(p.theme.first_seen, out->mutable_first_seen());
  SetTime(p.theme.last_seen, out->mutable_last_seen());
  out->set_why(p.why);
}

template <typename Repeated>
void FillCounts(const std::map<std::string, int64_t>& counts, Repeated* out) {
  for (const auto& [name, n] : counts) {
    auto* c = out->Add();
    c->set_name(name);
    c->set_count(n);
  }
}

// The sort key of a theme under `order` (larger first; ties by ascending id).
double KeyOf(const Listed& l, fieldloop::v1::ThemeOrder order) {
  switch (order) {
    case fieldloop::v1::THEME_ORDER_MENTIONS:
      return static_cast<double>(l.theme->theme.mentions);
    case fieldloop::v1::THEME_ORDER_RECENCY:
      return static_cast<double>(l.theme->theme.last_seen);
    default:
      return l.theme->score;
  }
}

// A page token: where the last page ended and the query it belongs to. Opaque to clients
// (web-safe base64 of "v1|<order>|<key %a>|<id>|<as_of>|<filters>").
struct PageToken {
  int order = 0;
  double key = 0;
  int64_t id = 0;
  std::string as_of;    // The as_of of the first page, kept for the following ones.
  std::string filters;  // Region, segment, source and seen_since of the query.
};

std::string FiltersOf(const fieldloop::v1::ListThemesRequest& r) {
  return absl::StrCat(r.region(), "\x1f", r.segment(), "\x1f", r.source(), "\x1f",
                      r.has_seen_since() ? absl::StrCat(r.seen_since().seconds()) : "");
}

std::string EncodeToken(const PageToken& t) {
  return absl::WebSafeBase64Escape(absl::StrCat("v1|", t.order, "|", absl::StrFormat("%a", t.key),
                                                "|", t.id, "|", t.as_of, "|", t.filters));
}

absl::StatusOr<PageToken> DecodeToken(const std::string& token) {
  const absl::Status bad = absl::InvalidArgumentError("page_token: not a token of ListThemes");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return bad;
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 5));
  if (parts.size() != 6 || parts[0] != "v1") return bad;
  PageToken t;
  char* end = nullptr;
  t.key = std::strtod(parts[2].c_str(), &end);
  if (!absl::SimpleAtoi(parts[1], &t.order) || end == parts[2].c_str() || *end != '\0' ||
      !absl::SimpleAtoi(parts[3], &t.id)) {
    return bad;
  }
  t.as_of = parts[4];
  t.filters = parts[5];
  return t;
}

}  // namespace

grpc::Status ThemesService::ListThemes(grpc::ServerContext* context,
                                       const fieldloop::v1::ListThemesRequest* request,
                                       fieldloop::v1::ListThemesResponse* response) {
  if (grpc::Status s = CheckAccess(authorizer_, *context, "Themes.ListThemes", Permission::kRead,
                                   request->initiative());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckKnownInitiative(*store_, request->initiative()); !s.ok())
    return ToGrpc(s);
  const int page_size = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
  if (page_size < 1 || page_size > kMaxPageSize) {
    return ToGrpc(absl::InvalidArgumentError(
        absl::StrCat("page_size: ", request->page_size(), " is not in 1..", kMaxPageSize)));
  }
  const std::string filters = FiltersOf(*request);
  std::optional<PageToken> after;
  std::string as_of_text = request->as_of();
  if (!request->page_token().empty()) {
    absl::StatusOr<PageToken> token = DecodeToken(request->page_token());
    if (!token.ok()) return ToGrpc(token.status());
    if (token->order != static_cast<int>(request->order()) || token->filters != filters ||
        (!as_of_text.empty() && as_of_text != token->as_of)) {
      return ToGrpc(absl::InvalidArgumentError(
          "page_token: from a query with other filters, order or as_of"));
    }
    as_of_text = token->as_of;
    after = *token;
  }
  absl::StatusOr<absl::CivilDay> as_of = AsOfDay(as_of_text, *clock_);
  if (!as_of.ok()) return ToGrpc(as_of.status());

  // The version first: the themes read next reflect at least it.
  const int64_t version = feed_->Version(request->initiative());
  absl::StatusOr<pipeline::BoardInputs> in =
      AnalyzeInitiative(*store_, request->initiative(), ViewOf(*applier_, request->initiative()),
                        *as_of, nullptr, redact_pii_);
  if (!in.ok()) return ToGrpc(in.status());

  std::vector<Listed> themes;
  for (const Listed& l : Everything(in->themes)) {
    const pipeline::ThemeSummary& t = l.theme->theme;
    if (!request->region().empty() && pipeline::CountOf(t.by_region, request->region()) == 0)
      continue;
    if (!request->segment().empty() && pipeline::CountOf(t.by_segment, request->segment()) == 0)
      continue;
    if (!request->source().empty() && pipeline::CountOf(t.by_source, request->source()) == 0)
      continue;
    if (request->has_seen_since() && t.last_seen < request->seen_since().seconds()) continue;
    themes.push_back(l);
  }
  const fieldloop::v1::ThemeOrder order = request->order();
  auto before = [order](const Listed& a, const Listed& b) {
    const double ka = KeyOf(a, order), kb = KeyOf(b, order);
    return ka != kb ? ka > kb : a.theme->theme.id < b.theme->theme.id;
  };
  std::sort(themes.begin(), themes.end(), before);
  response->set_total(static_cast<int64_t>(themes.size()));
  response->set_version(version);

  auto it = themes.begin();
  if (after) {
    it = std::find_if(themes.begin(), themes.end(), [&](const Listed& l) {
      const double k = KeyOf(l, order);
      return k < after->key || (k == after->key && l.theme->theme.id > after->id);
    });
  }
  for (int n = 0; it != themes.end() && n < page_size; ++it, ++n) {
    FillBrief(*it, response->add_themes());
  }
  if (it != themes.end()) {
    const Listed& last = *(it - 1);
    response->set_next_page_token(
        EncodeToken({static_cast<int>(order), KeyOf(last, order), last.theme->theme.id,
                     absl::FormatCivilTime(*as_of), filters}));
  }
  return grpc::Status::OK;
}

grpc::Status ThemesService::GetTheme(grpc::ServerContext* context,
                                     const fieldloop::v1::GetThemeRequest* request,
                                     fieldloop::v1::GetThemeResponse* response) {
  if (grpc::Status s = CheckAccess(authorizer_, *context, "Themes.GetTheme", Permission::kRead,
                                   request->initiative());
      !s.ok()) {
    return s;
  }
  const std::string& initiative = request->initiative();
  if (absl::Status s = CheckKnownInitiative(*store_, initiative); !s.ok()) return ToGrpc(s);
  absl::StatusOr<absl::CivilDay> as_of = AsOfDay(request->as_of(), *clock_);
  if (!as_of.ok()) return ToGrpc(as_of.status());
  const absl::Status missing = absl::NotFoundError(
      absl::StrCat("theme ", request->theme_id(), " of '", initiative, "': no such theme"));
  const pipeline::ThemeId id = applier_->ResolveTheme(initiative, request->theme_id());
  if (request->theme_id() < 0 || id < 0) return ToGrpc(missing);
  const int64_t version = feed_->Version(initiative);
  absl::StatusOr<pipeline::BoardInputs> in = AnalyzeInitiative(
      *store_, initiative, ViewOf(*applier_, initiative), *as_of, nullptr, redact_pii_);
  if (!in.ok()) return ToGrpc(in.status());
  std::vector<Listed> all = Everything(in->themes);
  auto found = std::find_if(all.begin(), all.end(),
                            [id](const Listed& l) { return l.theme->theme.id == id; });
  if (found == all.end()) return ToGrpc(missing);

  response->set_requested_id(request->theme_id());
  response->set_merged(id != request->theme_id());
  response->set_version(version);
  const pipeline::ThemeSummary& t = found->theme->theme;
  fieldloop::v1::Theme* out = response->mutable_theme();
  FillBrief(*found, out->mutable_brief());
  for (const auto& [stem, weight] : t.stems) {
    auto* term = out->add_terms();
    term->set_stem(stem);
    term->set_weight(weight);
  }
  FillCounts(t.by_region, out->mutable_by_region());
  FillCounts(t.by_segment, out->mutable_by_segment());
  FillCounts(t.by_source, out->mutable_by_source());
  FillCounts(t.by_quarter, out->mutable_by_quarter());
  for (const pipeline::Quote& q : t.quotes) {
    auto* quote = out->add_quotes();
    quote->set_record_id(q.record_id);
    quote->set_text(q.text);
  }
  out->set_objections(t.objections);
  out->set_lost_deals(t.lost_deals);
  out->set_won_deals(t.won_deals);
  out->set_amount_at_stake(t.amount_at_stake);
  FillCounts(t.competitors, out->mutable_competitors());
  if (auto p = in->proof_points.find(id); p != in->proof_points.end()) {
    for (const pipeline::ProofPoint& pp : p->second) {
      auto* proof = out->add_proof_points();
      proof->set_record_id(pp.record_id);
      proof->set_text(pp.text);
      proof->set_won(pp.won);
      proof->set_customer_story(pp.customer_story);
    }
  }
  for (const std::string& q : found->theme->recurring_quarters) out->add_recurring_quarters(q);
  if (auto a = in->linked_assets.find(id); a != in->linked_assets.end()) {
    for (const pipeline::LinkedAsset& asset : a->second) {
      auto* linked = out->add_linked_assets();
      linked->set_asset_id(asset.asset_id);
      linked->set_title(asset.title);
      linked->set_owner(asset.owner);
      linked->set_last_updated(asset.last_updated);
      linked->set_stale(asset.freshness.stale);
    }
  }
  for (const pipeline::RefreshTask& task : in->tasks) {
    if (task.theme_id != id) continue;
    auto* planned = out->add_tasks();
    planned->set_task_key(task.task_key);
    planned->set_action(task.action);
    planned->set_asset_id(task.asset_id);
    planned->set_asset(task.asset);
    planned->set_format(task.format);
    planned->set_owner(task.owner);
    planned->set_due(task.due);
    planned->set_priority(task.priority);
    planned->set_status(task.status);
  }
  out->set_tagged(t.tagged);
  return grpc::Status::OK;
}

grpc::Status ThemesService::WatchThemes(grpc::ServerContext* context,
                                        const fieldloop::v1::WatchThemesRequest* request,
                                        grpc::ServerWriter<ThemeChange>* writer) {
  constexpr absl::string_view kMethod = "Themes.WatchThemes";
  // Who opened the watch; brought up to date with reloaded tokens by `still_allowed`.
  Caller caller;
  if (grpc::Status s = CheckAccess(authorizer_, *context, kMethod, Permission::kRead,
                                   request->initiative(), &caller);
      !s.ok()) {
    return s;
  }
  const std::string& initiative = request->initiative();
  // OK while the caller's token, as the tokens now in force have it, may still read
  // `initiative`: one atomic load unless the tokens were reloaded since the last check.
  // Otherwise the PERMISSION_DENIED that ends the watch, counted like any refusal.
  auto still_allowed = [&]() -> grpc::Status {
    if (authorizer_ == nullptr) return grpc::Status::OK;
    absl::Status current = authorizer_->Refresh(kMethod, Permission::kRead, &caller);
    if (current.ok() && caller.Covers(initiative)) return grpc::Status::OK;
    authorizer_->CountDenied(kMethod);
    return ToGrpc(current.ok()
                      ? absl::PermissionDeniedError(absl::StrCat(
                            "token '", caller.name(), "' may not read initiative '", initiative,
                            "' since the tokens file was reloaded; the watch ends"))
                      : current);
  };
  if (absl::Status s = pipeline::CheckInitiative(initiative); !s.ok()) return ToGrpc(s);
  if (request->from_version() < 0) {
    return ToGrpc(absl::InvalidArgumentError("from_version: must not be negative"));
  }
  // A slot among --max_watchers, held until this returns.
  if (watchers_.fetch_add(1) >= max_watchers_) {
    watchers_.fetch_sub(1);
    if (metrics_ != nullptr) metrics_->RecordStreamRefused(StreamRefusal::kMaxWatchers);
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("too many open watches: the server takes at most ", max_watchers_,
                     " WatchThemes calls at once (--max_watchers); retry with "
                     "backoff once one ends"));
  }
  struct Slot {
    std::atomic<int>* count;
    ~Slot() { count->fetch_sub(1); }
  } slot{&watchers_};
  // Sends `e` as `kind`, with its label and mentions when the theme is live.
  auto send = [&](const ThemeFeed::Entry& e, ThemeChange::Kind kind) {
    ThemeChange change;
    change.set_kind(kind);
    change.set_version(e.changed_at);
    change.set_theme_id(e.id);
    change.set_merged_into(e.merged_into);
    change.set_mentions(e.mentions);
    if (e.merged_into < 0 && !e.removed) {
      if (std::optional<pipeline::ThemeSummary> s = applier_->Summary(initiative, e.id)) {
        change.set_label(s->label);
        change.set_mentions(s->mentions);
      }
    }
    return writer->Write(change);
  };
  auto caught_up = [&](int64_t version) {
    ThemeChange change;
    change.set_kind(ThemeChange::CAUGHT_UP);
    change.set_version(version);
    change.set_theme_id(-1);
    change.set_merged_into(-1);
    return writer->Write(change);
  };

  int64_t cursor = request->from_version();
  if (cursor == 0) {
    const ThemeFeed::Changes all = feed_->All(initiative);
    for (const ThemeFeed::Entry& e : all.entries) {
      if (e.merged_into >= 0 || e.removed) continue;
      if (grpc::Status s = still_allowed(); !s.ok()) return s;
      if (!send(e, ThemeChange::SNAPSHOT)) return grpc::Status::OK;
    }
    cursor = all.seen;
    if (!caught_up(cursor)) return grpc::Status::OK;
  }
  constexpr size_t kBatch = 256;
  // At most one batch per kPace per watcher: changes in between coalesce in the feed, so a
  // busy initiative costs a watcher (and the server) one pass over its changed themes per
  // kPace, not one per applied batch.
  constexpr absl::Duration kPace = absl::Milliseconds(100);
  absl::Time last_batch = absl::InfinitePast();
  while (!context->IsCancelled()) {
    if (const absl::Duration wait = last_batch + kPace - absl::Now(); wait > absl::ZeroDuration()) {
      absl::SleepFor(wait);
    }
    // Wakes at least every second to notice a cancelled call or a reload of the tokens
    // that revoked the caller (still_allowed).
    const ThemeFeed::Changes changes =
        feed_->ChangedAfter(initiative, cursor, kBatch, absl::Now() + absl::Seconds(1));
    if (changes.closed) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
    }
    if (grpc::Status s = still_allowed(); !s.ok()) return s;
    if (changes.seen == cursor) continue;
    for (const ThemeFeed::Entry& e : changes.entries) {
      ThemeChange::Kind kind = ThemeChange::UPDATED;
      if (e.removed) {
        kind = ThemeChange::REMOVED;
      } else if (e.merged_into >= 0) {
        kind = ThemeChange::MERGED;
      } else if (e.created_at > cursor) {
        kind = ThemeChange::CREATED;
      }
      // Again before each change: a Write can wait long on a slow client.
      if (grpc::Status s = still_allowed(); !s.ok()) return s;
      if (!send(e, kind)) return grpc::Status::OK;
    }
    cursor = changes.seen;
    if (!caught_up(cursor)) return grpc::Status::OK;
    last_batch = absl::Now();
  }
  return grpc::Status::OK;
}

}  // namespace fieldloop::services
