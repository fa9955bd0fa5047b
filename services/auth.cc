#include "services/auth.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "pipeline/record_validator.h"

namespace fieldloop::services {
namespace {

constexpr size_t kHashHexLength = 64;
constexpr size_t kMaxNameLength = 64;

bool IsHashHex(absl::string_view field) {
  return field.size() == kHashHexLength && std::all_of(field.begin(), field.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Longest field an error message quotes back. Tokens are longer (fieldloop's are 64 hex
// digits), so a token pasted into the wrong field is never echoed, nor a long part of it.
constexpr size_t kMaxQuotedLength = 11;
// A name with this many letters and digits in a row looks like a token or a hash.
constexpr size_t kMaxNameAlnumRun = 32;

// `field` quoted ('role') when at most kMaxQuotedLength long, else only its length.
std::string Quoted(absl::string_view field) {
  if (field.size() <= kMaxQuotedLength) return absl::StrCat("'", absl::CEscape(field), "'");
  return absl::StrCat("(", field.size(), " characters, not quoted)");
}

// True if `name` has kMaxNameAlnumRun letters or digits in a row: a token or a hash, not a
// label (labels such as crm-export have separators).
bool LooksLikeCredential(absl::string_view name) {
  size_t run = 0;
  for (char c : name) {
    run = absl::ascii_isalnum(static_cast<unsigned char>(c)) ? run + 1 : 0;
    if (run >= kMaxNameAlnumRun) return true;
  }
  return false;
}

bool IsValidName(absl::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                  c == '-';
         });
}

// The token of `authorization: Bearer <token>` metadata; empty when there is none.
absl::string_view BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return {};
  absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  return absl::StripAsciiWhitespace(value.substr(kScheme.size()));
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kProducer:
      return "producer";
    case Role::kReader:
      return "reader";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

bool Grants(Role role, Permission permission) {
  if (role == Role::kAdmin) return true;
  switch (permission) {
    case Permission::kIngest:
      return role == Role::kProducer;
    case Permission::kRead:
      return role == Role::kReader;
    case Permission::kWaitApplied:
      return role == Role::kProducer || role == Role::kReader;
    case Permission::kAdmin:
      return false;
  }
  return false;
}

bool TokenGrant::Covers(absl::string_view initiative) const {
  return all_initiatives || std::binary_search(initiatives.begin(), initiatives.end(), initiative);
}

std::string TokenHash(absl::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return std::string();  // Matches no line of a tokens file.
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

absl::StatusOr<TokenTable> ParseTokens(absl::string_view contents, absl::string_view source) {
  TokenTable table;
  absl::flat_hash_set<std::string> names;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": ", what));
    };
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 4) {
      return error(absl::StrCat("expected 4 fields (sha256-hex name role initiatives), found ",
                                fields.size()));
    }
    if (!IsHashHex(fields[0])) {
      // Not quoted: it may be a token pasted where its hash belongs.
      return error(
          "hash: the first field must be the token's SHA-256 as 64 lowercase hex digits "
          "(printf %s \"$TOKEN\" | sha256sum), not the token itself");
    }
    TokenGrant grant;
    if (fields[1] == fields[0] || LooksLikeCredential(fields[1])) {
      // Not quoted: it may be the token itself.
      return error(
          "the name looks like a token or hash; names are labels such as crm-export (the "
          "token never goes in the file, only its hash in the first field)");
    }
    if (!IsValidName(fields[1])) {
      return error(
          absl::StrCat("name ", Quoted(fields[1]), " must be 1 to 64 of A-Z a-z 0-9 . _ -"));
    }
    grant.name = std::string(fields[1]);
    if (fields[2] == "producer") {
      grant.role = Role::kProducer;
    } else if (fields[2] == "reader") {
      grant.role = Role::kReader;
    } else if (fields[2] == "admin") {
      grant.role = Role::kAdmin;
    } else {
      return error(absl::StrCat("role ", Quoted(fields[2]), " must be producer, reader or admin"));
    }
    if (fields[3] == "*") {
      grant.all_initiatives = true;
    } else {
      for (absl::string_view initiative : absl::StrSplit(fields[3], ',')) {
        if (!pipeline::IsValidInitiative(initiative)) {
          return error(absl::StrCat("initiatives: ", Quoted(initiative),
                                    " is not an initiative name ([a-z0-9][a-z0-9._-]{0,63}); "
                                    "list them separated by commas, or write * for all"));
        }
        grant.initiatives.emplace_back(initiative);
      }
      std::sort(grant.initiatives.begin(), grant.initiatives.end());
      grant.initiatives.erase(std::unique(grant.initiatives.begin(), grant.initiatives.end()),
                              grant.initiatives.end());
    }
    if (!names.insert(grant.name).second) {
      return error(absl::StrCat("name '", grant.name, "' is already used by an earlier line"));
    }
    if (!table.emplace(std::string(fields[0]), std::move(grant)).second) {
      return error("hash: the same token hash is on an earlier line");
    }
  }
  if (table.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": no token (every line is blank or a comment); an empty tokens "
                     "file would lock every caller out"));
  }
  return table;
}

absl::StatusOr<TokenTable> ReadTokensFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string message =
        absl::StrCat("--auth_tokens: cannot read '", path, "': ", std::strerror(error));
    return error == EACCES ? absl::PermissionDeniedError(message) : absl::NotFoundError(message);
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return ParseTokens(contents.str(), path);
}

Authorizer::Authorizer(TokenTable tokens, ServerMetrics* metrics, EventLog* log)
    : enabled_(true),
      tokens_(std::make_shared<const TokenTable>(std::move(tokens))),
      metrics_(metrics),
      log_(log) {}

size_t Authorizer::token_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return tokens_ != nullptr ? tokens_->size() : 0;
}

absl::StatusOr<TokenChanges> Authorizer::ReplaceTokens(TokenTable tokens) {
  if (!enabled_) {
    return absl::FailedPreconditionError(
        "access control is off (no --auth_tokens at start): there are no tokens to replace");
  }
  auto replacement = std::make_shared<const TokenTable>(std::move(tokens));
  std::shared_ptr<const TokenTable> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::exchange(tokens_, replacement);
    generation_.fetch_add(1, std::memory_order_release);
  }
  // By name: a token's line is its name's; a new hash under the same name is a new token.
  absl::flat_hash_map<absl::string_view, std::pair<absl::string_view, const TokenGrant*>> before;
  for (const auto& [hash, grant] : *old) before[grant.name] = {hash, &grant};
  TokenChanges changes;
  changes.tokens = replacement->size();
  for (const auto& [hash, grant] : *replacement) {
    auto it = before.find(grant.name);
    if (it == before.end()) {
      changes.added.push_back(grant.name);
      continue;
    }
    const TokenGrant& was = *it->second.second;
    if (it->second.first != hash || was.role != grant.role ||
        was.all_initiatives != grant.all_initiatives || was.initiatives != grant.initiatives) {
      changes.changed.push_back(grant.name);
    }
    before.erase(it);
  }
  for (const auto& [name, unused] : before) changes.removed.emplace_back(name);
  for (auto* names : {&changes.added, &changes.removed, &changes.changed}) {
    std::sort(names->begin(), names->end());
  }
  return changes;
}

std::shared_ptr<const TokenGrant> Authorizer::Find(const std::string& hash,
                                                   uint64_t* generation) const {
  absl::ReaderMutexLock lock(&mu_);
  *generation = generation_.load(std::memory_order_relaxed);
  auto it = tokens_->find(hash);
  if (it == tokens_->end()) return nullptr;
  return std::shared_ptr<const TokenGrant>(tokens_, &it->second);  // Keeps the table alive.
}

grpc::Status Authorizer::Fail(grpc::StatusCode code, absl::string_view method,
                              const grpc::ServerContextBase& context, absl::string_view who,
                              std::string message) const {
  const bool unauthenticated = code == grpc::StatusCode::UNAUTHENTICATED;
  if (metrics_ != nullptr) {
    metrics_->RecordAuthFailure(unauthenticated ? "unauthenticated" : "permission_denied", method);
  }
  const uint64_t n = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (log_ != nullptr && IsLoggedRepeat(n)) {
    // `message` names no token; `who` is a token's name or "a caller without a valid token".
    log_->Warning("auth", "%s refused for %s from %s: %s (%d refusals so far)", method, who,
                  context.peer(), message, n);
  }
  return grpc::Status(code, message);
}

grpc::Status Authorizer::Admit(const grpc::ServerContextBase& context, absl::string_view method,
                               Permission permission, Caller* caller) const {
  *caller = Caller();
  if (!enabled_) return grpc::Status::OK;
  const absl::string_view token = BearerToken(context);
  if (token.empty()) {
    return Fail(grpc::StatusCode::UNAUTHENTICATED, method, context, "a caller without a token",
                "no access token: send 'authorization: Bearer <token>' metadata (fieldloop: "
                "--token_file or FIELDLOOP_TOKEN)");
  }
  std::string hash = TokenHash(token);
  uint64_t generation = 0;
  std::shared_ptr<const TokenGrant> grant = Find(hash, &generation);
  if (grant == nullptr) {
    return Fail(grpc::StatusCode::UNAUTHENTICATED, method, context, "an unknown token",
                "the access token is not valid");
  }
  if (!Grants(grant->role, permission)) {
    return Fail(grpc::StatusCode::PERMISSION_DENIED, method, context, grant->name,
                absl::StrCat("token '", grant->name, "' has role ", RoleName(grant->role),
                             ", which may not call ", method));
  }
  *caller = Caller(std::move(grant), std::move(hash), generation);
  return grpc::Status::OK;
}

absl::Status Authorizer::Refresh(absl::string_view method, Permission permission,
                                 Caller* caller) const {
  if (!enabled_ || caller->generation_ == generation_.load(std::memory_order_acquire)) {
    return absl::OkStatus();
  }
  uint64_t generation = 0;
  std::shared_ptr<const TokenGrant> grant = Find(caller->token_hash_, &generation);
  if (grant == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("token '", caller->name(),
                     "' is no longer in the tokens file (it was reloaded): it may not call ",
                     method, " any more; go on with a new call and a valid token"));
  }
  if (!Grants(grant->role, permission)) {
    return absl::PermissionDeniedError(
        absl::StrCat("token '", grant->name, "' has role ", RoleName(grant->role),
                     " since the tokens file was reloaded, which may not call ", method));
  }
  caller->grant_ = std::move(grant);
  caller->generation_ = generation;
  return absl::OkStatus();
}

grpc::Status Authorizer::Check(const grpc::ServerContextBase& context, absl::string_view method,
                               Permission permission, absl::string_view initiative,
                               Caller* caller) const {
  Caller admitted;
  if (grpc::Status s = Admit(context, method, permission, &admitted); !s.ok()) return s;
  if (admitted.Covers(initiative)) {
    if (caller != nullptr) *caller = std::move(admitted);
    return grpc::Status::OK;
  }
  return Fail(grpc::StatusCode::PERMISSION_DENIED, method, context, admitted.name(),
              absl::StrCat("token '", admitted.name(), "' may not touch initiative '",
                           absl::CEscape(initiative.substr(0, 64)), "'"));
}

grpc::Status Authorizer::CheckAll(const grpc::ServerContextBase& context, absl::string_view method,
                                  Permission permission) const {
  Caller caller;
  if (grpc::Status s = Admit(context, method, permission, &caller); !s.ok()) return s;
  if (caller.CoversAll()) return grpc::Status::OK;
  return Fail(grpc::StatusCode::PERMISSION_DENIED, method, context, caller.name(),
              absl::StrCat("token '", caller.name(), "' may not call ", method,
                           ", which acts on every initiative: it needs * as its initiatives"));
}

void Authorizer::CountDenied(absl::string_view method) const {
  if (metrics_ != nullptr) metrics_->RecordAuthFailure("permission_denied", method);
}

}  // namespace fieldloop::services
