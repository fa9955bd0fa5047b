// Access control of fieldloopd: bearer tokens from a tokens file (--auth_tokens), each with
// a role and the initiatives it may touch (docs/operations.md, "Access control and TLS").
//
// The tokens file holds one token per line, fields separated by spaces or tabs:
//
//   # sha256 of the token (lowercase hex)                          name        role initiatives
//   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 crm-export  producer
//   q3-push,q4-launch 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752 board-bot
//   reader    *
//
// The hash is the SHA-256 of the token's bytes in lowercase hex: `printf %s "$TOKEN" |
// sha256sum`. The file never holds a token itself. Blank lines and lines starting with `#`
// are ignored. Names are [A-Za-z0-9._-]{1,64}, unique, and labels (never 32 letters or
// digits in a row, which would look like a token or hash); roles are producer, reader or
// admin; initiatives are `*` (every initiative) or a comma-separated list of initiative
// names.
//
// Roles (what Permission each grants, on the initiatives of its line):
//   producer: kIngest, kWaitApplied.
//   reader:   kRead (every Board and Themes call), kWaitApplied.
//   admin:    all of the above, and kAdmin (Admin.Backup, Admin.Forget).
//
// A call carries its token as `authorization: Bearer <token>` metadata. The token is never
// logged, echoed in an error or kept after the call: only its hash is compared (and kept by
// an open Ingest stream, to look its token up again after a reload).
//
// Reloading (Authorizer::ReplaceTokens; fieldloopd does it on SIGHUP) puts a new table in
// force at once and atomically. A short call admitted before keeps running; every call
// admitted after it, every further record of an Ingest stream opened before it, and every
// further change (or idle wake-up, at least once a second) of a Themes.WatchThemes opened
// before it (Refresh) is checked against the new table.
#ifndef FIELDLOOP_SERVICES_AUTH_H_
#define FIELDLOOP_SERVICES_AUTH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "services/event_log.h"
#include "services/metrics.h"

namespace fieldloop::services {

enum class Role { kProducer, kReader, kAdmin };

// "producer", "reader" or "admin".
absl::string_view RoleName(Role role);

// What a call needs of its caller's role.
enum class Permission {
  kIngest,       // Ingest.Stream.
  kRead,         // Board.* and Themes.* (including task edits and materializations).
  kWaitApplied,  // Ingest.WaitApplied: producers and readers both wait for themes.
  kAdmin,        // Admin.*.
};

// True if `role` grants `permission` (the table above).
bool Grants(Role role, Permission permission);

// One line of the tokens file.
struct TokenGrant {
  // Who holds the token (logs and metrics may show it; it is not a secret).
  std::string name;
  Role role = Role::kReader;
  // `*`: every initiative, present and future.
  bool all_initiatives = false;
  // The initiatives of the line when not all_initiatives; sorted, no duplicates.
  std::vector<std::string> initiatives;

  // True if the grant covers `initiative`.
  bool Covers(absl::string_view initiative) const;
};

// Grants by the token's SHA-256 in lowercase hex.
using TokenTable = absl::flat_hash_map<std::string, TokenGrant>;

// Lowercase hex SHA-256 of `token`'s bytes, as the tokens file holds it.
std::string TokenHash(absl::string_view token);

// Parses a tokens file's contents. Returns InvalidArgument naming `source`, the line number
// and the field at fault ("tokens.txt:3: role 'writer' must be producer, reader or admin")
// for a malformed line, a duplicate hash or name, or a file without any token. A name with
// 32 or more letters and digits in a row (a token or a hash, such as the line's own) is
// malformed: "tokens.txt:3: the name looks like a token or hash; ...", without quoting it.
//
// The messages reach logs (a failed reload on SIGHUP is logged), and a field may hold a
// token pasted by mistake, so they quote a field (or one initiative of the list) back only
// when it is at most 11 characters long, and otherwise give only its length ("name (70
// characters, not quoted) must be ..."): no token, nor 12 characters of one in a row, is
// ever quoted. The hash field is never quoted. A name is quoted whole only once it is valid
// (a duplicate name), as names are not secrets.
absl::StatusOr<TokenTable> ParseTokens(absl::string_view contents, absl::string_view source);

// Reads and parses the tokens file at `path`. NotFound / PermissionDenied (naming the
// path) when it cannot be read, otherwise as ParseTokens.
absl::StatusOr<TokenTable> ReadTokensFile(const std::string& path);

// What replacing the tokens changed, by token name, each list sorted.
struct TokenChanges {
  // Tokens in force after the replacement.
  size_t tokens = 0;
  // Names only in the new table.
  std::vector<std::string> added;
  // Names only in the old table.
  std::vector<std::string> removed;
  // Names in both whose token (hash), role or initiatives differ.
  std::vector<std::string> changed;
};

// The caller of one call, once authenticated. Without access control (no tokens file) it
// covers everything. Holds its grant as it was when admitted (or last refreshed): a reload
// does not change it, and keeps it valid.
class Caller {
 public:
  // A caller without access control: covers every initiative.
  Caller() = default;

  // True if the caller may touch `initiative` (always without access control).
  bool Covers(absl::string_view initiative) const {
    return grant_ == nullptr || grant_->Covers(initiative);
  }
  // True if the caller may touch every initiative.
  bool CoversAll() const { return grant_ == nullptr || grant_->all_initiatives; }
  // The token's name; "anonymous" without access control.
  absl::string_view name() const {
    return grant_ != nullptr ? absl::string_view(grant_->name) : absl::string_view("anonymous");
  }

 private:
  friend class Authorizer;
  Caller(std::shared_ptr<const TokenGrant> grant, std::string token_hash, uint64_t generation)
      : grant_(std::move(grant)), token_hash_(std::move(token_hash)), generation_(generation) {}

  // nullptr without access control. Shares ownership of the table it is part of, so that
  // a reload replacing that table leaves it valid.
  std::shared_ptr<const TokenGrant> grant_;
  std::string token_hash_;   // To find the token again in a reloaded table.
  uint64_t generation_ = 0;  // Authorizer's table generation `grant_` was found in.
};

// Checks the bearer token of each call against a TokenTable. Every failure is counted in
// the metrics (fieldloop_auth_failures_total{code, method}) and, rate-limited, logged at
// WARNING with the method, the peer and, for a known token, its name; never the token or
// its hash. Thread-safe. Whether tokens are checked is fixed at construction; the table
// can be replaced (ReplaceTokens) while calls are being checked.
//
// `method` arguments are the "Service.Method" label of the call, e.g. "Board.GetBoard".
class Authorizer {
 public:
  // No access control: every call is allowed.
  Authorizer() = default;
  // Access control by `tokens`. `metrics` and `log` (either may be nullptr) must outlive
  // this object.
  Authorizer(TokenTable tokens, ServerMetrics* metrics, EventLog* log);
  Authorizer(const Authorizer&) = delete;
  Authorizer& operator=(const Authorizer&) = delete;

  // True when tokens are checked.
  bool enabled() const { return enabled_; }

  // The number of tokens in force; 0 without access control.
  size_t token_count() const ABSL_LOCKS_EXCLUDED(mu_);

  // Puts `tokens` in force instead of the current table, atomically: a check that starts
  // after this returns sees only `tokens`, one that started before sees only the old table.
  // Callers admitted before keep their grants until Refresh. Returns what changed, by name;
  // FailedPrecondition (and changes nothing) without access control: a server started
  // without tokens does not get them by a replacement.
  absl::StatusOr<TokenChanges> ReplaceTokens(TokenTable tokens) ABSL_LOCKS_EXCLUDED(mu_);

  // Authenticates the call and checks that its role grants `permission`. OK with the
  // caller in `*caller`; UNAUTHENTICATED when the metadata holds no bearer token or an
  // unknown one; PERMISSION_DENIED when the role does not grant `permission`.
  grpc::Status Admit(const grpc::ServerContextBase& context, absl::string_view method,
                     Permission permission, Caller* caller) const ABSL_LOCKS_EXCLUDED(mu_);

  // Brings `*caller`, admitted earlier for `permission` of `method`, up to date with the
  // tokens in force, for a long call that checks its caller again as it goes (each record
  // of an Ingest stream, each change and idle wake-up of a Themes.WatchThemes). OK when the tokens
  // were not replaced since `*caller` was admitted or refreshed (one atomic load), or when its
  // token is still in force with a role that grants `permission`: `*caller` then has the token's
  // current grant (its initiatives may have changed). PermissionDenied, naming the token's name,
  // when the token is no longer in force or its role no longer grants `permission`; `*caller` is
  // left as it was (and must not be trusted), so the next Refresh looks again. Neither counts nor
  // logs a failure: the call reports it, and counts it with CountDenied. OK without access control.
  absl::Status Refresh(absl::string_view method, Permission permission, Caller* caller) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Admit, then PERMISSION_DENIED unless the caller covers `initiative`. The usual check of
  // a call that names its initiative, one line in a handler:
  //   if (grpc::Status s = CheckAccess(authz_, *context, "Board.GetBoard", Permission::kRead,
  //                                    request->initiative()); !s.ok()) return s;
  // When OK and `caller` is not nullptr, `*caller` is the admitted caller, for a long call
  // to Refresh as it goes (Themes.WatchThemes); otherwise `*caller` must not be trusted.
  grpc::Status Check(const grpc::ServerContextBase& context, absl::string_view method,
                     Permission permission, absl::string_view initiative,
                     Caller* caller = nullptr) const;

  // Admit, then PERMISSION_DENIED unless the caller covers every initiative (`*`): for calls
  // that act on all of them (Admin.Backup).
  grpc::Status CheckAll(const grpc::ServerContextBase& context, absl::string_view method,
                        Permission permission) const;

  // Counts a refusal decided by the caller of Admit or Refresh (a record of Ingest.Stream for
  // an initiative outside the producer's scope, or refused by Refresh; a Themes.WatchThemes
  // ended by a reload) as permission_denied of `method`.
  void CountDenied(absl::string_view method) const;

 private:
  grpc::Status Fail(grpc::StatusCode code, absl::string_view method,
                    const grpc::ServerContextBase& context, absl::string_view who,
                    std::string message) const;

  // The grant of the token with hash `hash` in the table in force (nullptr when there is
  // none), and that table's generation.
  std::shared_ptr<const TokenGrant> Find(const std::string& hash, uint64_t* generation) const
      ABSL_LOCKS_EXCLUDED(mu_);

  bool enabled_ = false;
  mutable absl::Mutex mu_;
  // The table in force; nullptr without access control. Replaced whole, never changed:
  // grants handed out keep the table they belong to alive.
  std::shared_ptr<const TokenTable> tokens_ ABSL_GUARDED_BY(mu_);
  // Bumped by each ReplaceTokens, under mu_, with tokens_. Read without mu_ by Refresh to
  // learn cheaply that nothing changed.
  std::atomic<uint64_t> generation_{0};
  ServerMetrics* metrics_ = nullptr;
  EventLog* log_ = nullptr;
  mutable std::atomic<uint64_t> failures_{0};  // For the log's rate limit.
};

// `authorizer->Check(...)`, or OK (with an unrestricted `*caller`, when given) when
// `authorizer` is nullptr (a service built without access control, as in unit tests).
inline grpc::Status CheckAccess(const Authorizer* authorizer,
                                const grpc::ServerContextBase& context, absl::string_view method,
                                Permission permission, absl::string_view initiative,
                                Caller* caller = nullptr) {
  if (authorizer == nullptr) {
    if (caller != nullptr) *caller = Caller();
    return grpc::Status::OK;
  }
  return authorizer->Check(context, method, permission, initiative, caller);
}

// `authorizer->CheckAll(...)`, or OK when `authorizer` is nullptr.
inline grpc::Status CheckAccessAll(const Authorizer* authorizer,
                                   const grpc::ServerContextBase& context, absl::string_view method,
                                   Permission permission) {
  return authorizer == nullptr ? grpc::Status::OK
                               : authorizer->CheckAll(context, method, permission);
}

// `authorizer->Admit(...)`, or OK with an unrestricted caller when `authorizer` is nullptr.
inline grpc::Status AdmitCaller(const Authorizer* authorizer,
                                const grpc::ServerContextBase& context, absl::string_view method,
                                Permission permission, Caller* caller) {
  if (authorizer == nullptr) {
    *caller = Caller();
    return grpc::Status::OK;
  }
  return authorizer->Admit(context, method, permission, caller);
}

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_AUTH_H_
