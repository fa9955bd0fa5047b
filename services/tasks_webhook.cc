#include "services/tasks_webhook.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fieldloop::services {
namespace {

// Appends `s` as a JSON string. Task text is valid UTF-8 (records and edits are validated),
// so only quotes, backslashes and control characters need escapes.
void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

// Appends `"name":"value"`.
void AppendField(absl::string_view name, absl::string_view value, std::string* out) {
  AppendJsonString(name, out);
  out->push_back(':');
  AppendJsonString(value, out);
}

// Appends `"name":value`.
void AppendNumberField(absl::string_view name, int64_t value, std::string* out) {
  AppendJsonString(name, out);
  absl::StrAppend(out, ":", value);
}

// Statuses a later attempt may change: timeouts, "too early", rate limits, server errors.
bool Retryable(long http_status) {
  return http_status == 408 || http_status == 425 || http_status == 429 ||
         (http_status >= 500 && http_status <= 599);
}

// A curl URL handle freed on scope exit.
struct UrlHandle {
  CURLU* h = curl_url();
  ~UrlHandle() { curl_url_cleanup(h); }
  // The part, "" when absent.
  std::string Get(CURLUPart part) const {
    char* value = nullptr;
    if (curl_url_get(h, part, &value, 0) != CURLUE_OK || value == nullptr) return "";
    std::string out(value);
    curl_free(value);
    return out;
  }
};

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

absl::StatusOr<std::string> CheckWebhookUrl(absl::string_view url) {
  GlobalInitOnce();
  const std::string text(url);
  if (text.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("URL must not contain a NUL byte");
  }
  UrlHandle u;
  if (u.h == nullptr) return absl::InternalError("libcurl cannot parse URLs (out of memory)");
  // No scheme guessing: "hooks.example.com/x" is an error, not http.
  if (const CURLUcode rc = curl_url_set(u.h, CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a URL with a scheme and a host, e.g. https://hooks.example.com/fieldloop (libcurl: ",
        curl_url_strerror(rc), ")"));
  }
  const std::string scheme = u.Get(CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("URL scheme '", scheme, "' is not http or https"));
  }
  const std::string host = u.Get(CURLUPART_HOST);
  if (host.empty()) return absl::InvalidArgumentError("URL has no host");
  const std::string port = u.Get(CURLUPART_PORT);  // Only when written in the URL.
  return absl::StrCat(scheme, "://", host, port.empty() ? "" : ":", port, u.Get(CURLUPART_PATH));
}

std::string TaskJson(const pipeline::RefreshTask& task) {
  std::string out;
  out.reserve(256 + task.reason.size() + task.theme.size() + task.asset.size());
  out.push_back('{');
  AppendField("task_key", task.task_key, &out);
  out.push_back(',');
  AppendNumberField("theme_id", task.theme_id, &out);
  out.push_back(',');
  AppendField("theme", task.theme, &out);
  out.push_back(',');
  AppendField("asset_id", task.asset_id, &out);
  out.push_back(',');
  AppendField("asset", task.asset, &out);
  out.push_back(',');
  AppendField("action", task.action, &out);
  out.push_back(',');
  AppendField("format", task.format, &out);
  out.push_back(',');
  AppendField("owner", task.owner, &out);
  out.push_back(',');
  AppendField("due", task.due, &out);
  out.push_back(',');
  AppendField("priority", task.priority, &out);
  out.push_back(',');
  AppendField("status", task.status, &out);
  out.push_back(',');
  AppendNumberField("evidence_count", task.evidence_count, &out);
  out.push_back(',');
  AppendField("reason", task.reason, &out);
  out.push_back('}');
  return out;
}

std::string TaskFingerprint(absl::string_view task_json) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64 offset basis.
  for (const char c : task_json) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;  // FNV-1a 64 prime.
  }
  return absl::StrFormat("%016x", hash);
}

std::string TasksPayload(absl::string_view initiative, absl::CivilDay as_of,
                         const std::vector<std::string>& task_jsons) {
  size_t size = 128 + initiative.size();
  for (const std::string& t : task_jsons) size += t.size() + 1;
  std::string out;
  out.reserve(size);
  out.push_back('{');
  AppendNumberField("schema_version", kTasksWebhookSchemaVersion, &out);
  out.push_back(',');
  AppendField("initiative", initiative, &out);
  out.push_back(',');
  AppendField("as_of", absl::FormatCivilTime(as_of), &out);
  out.append(",\"tasks\":[");
  for (size_t i = 0; i < task_jsons.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(task_jsons[i]);
  }
  out.append("]}");
  return out;
}

// One reused libcurl easy handle (keeps the connection alive between requests) driven by a
// multi handle, so that Stop can wake a request in flight (curl_multi_wakeup).
class TasksWebhook::Transport {
 public:
  struct Result {
    long http_status = 0;  // 0 when no answer.
    std::string error;     // Why there is no answer; empty when there is one.
    bool cut_off = false;  // Abandoned at shutdown.
  };

  static absl::StatusOr<std::unique_ptr<Transport>> Create(const TasksWebhookOptions& options) {
    GlobalInitOnce();
    std::unique_ptr<Transport> t(new Transport());
    t->easy_ = curl_easy_init();
    t->multi_ = curl_multi_init();
    if (t->easy_ == nullptr || t->multi_ == nullptr) {
      return absl::InternalError("libcurl: cannot create a handle");
    }
    t->headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
    // No "Expect: 100-continue" round trip before larger bodies.
    if (t->headers_ != nullptr) t->headers_ = curl_slist_append(t->headers_, "Expect:");
    if (t->headers_ == nullptr) return absl::InternalError("libcurl: out of memory");
    CURL* e = t->easy_;
    bool ok =
        curl_easy_setopt(e, CURLOPT_URL, options.url.c_str()) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(absl::ToInt64Milliseconds(options.connect_timeout))) ==
            CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                         static_cast<long>(absl::ToInt64Milliseconds(options.request_timeout))) ==
            CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_POST, 1L) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers_) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_USERAGENT, "fieldloopd") == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &DiscardBody) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_) == CURLE_OK;
    if (!ok) return absl::InternalError("libcurl: cannot set the request options");
    return t;
  }

  ~Transport() {
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    curl_slist_free_all(headers_);
  }

  // POSTs `body`; returns the HTTP status or why there is none. Abandons the request when
  // the time `cut_off_at()` returns has passed (asked again after each Wake).
  Result Post(const std::string& body, const std::function<absl::Time()>& cut_off_at) {
    Result result;
    error_[0] = '\0';
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (CURLMcode mc = curl_multi_add_handle(multi_, easy_); mc != CURLM_OK) {
      result.error = curl_multi_strerror(mc);
      return result;
    }
    int running = 1;
    while (true) {
      if (CURLMcode mc = curl_multi_perform(multi_, &running); mc != CURLM_OK) {
        result.error = curl_multi_strerror(mc);
        break;
      }
      if (running == 0) break;
      const absl::Time cut_off = cut_off_at();
      const absl::Time now = absl::Now();
      if (now >= cut_off) {
        result.cut_off = true;
        break;
      }
      // libcurl enforces the request's own timeouts; this bounds how late a cut-off is seen.
      const absl::Duration left = cut_off - now;
      const int wait_ms =
          left >= absl::Seconds(1) ? 1000 : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
      curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
    }
    if (!result.cut_off && result.error.empty()) {
      CURLcode code = CURLE_OK;
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg == CURLMSG_DONE) code = msg->data.result;
      }
      if (code != CURLE_OK) {
        // libcurl's messages name the host and port, never the URL's user or password.
        result.error = error_[0] != '\0' ? error_ : curl_easy_strerror(code);
      } else {
        curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &result.http_status);
      }
    }
    curl_multi_remove_handle(multi_, easy_);
    return result;
  }

  // Makes a Post in progress look at its cut-off time now. Thread-safe.
  void Wake() { curl_multi_wakeup(multi_); }

 private:
  Transport() = default;

  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  char error_[CURL_ERROR_SIZE] = {};
};

absl::StatusOr<std::unique_ptr<TasksWebhook>> TasksWebhook::Start(TasksWebhookOptions options,
                                                                  MarkDelivered mark_delivered) {
  absl::StatusOr<std::string> display = CheckWebhookUrl(options.url);
  if (!display.ok()) return display.status();
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("tasks webhook: timeouts must be more than 0");
  }
  if (options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "tasks webhook: initial_backoff must be more than 0 and at most max_backoff");
  }
  if (options.max_queued_tasks < 1 || options.max_tasks_per_post < 1) {
    return absl::InvalidArgumentError(
        "tasks webhook: max_queued_tasks and max_tasks_per_post must be at least 1");
  }
  if (mark_delivered == nullptr) {
    return absl::InvalidArgumentError("tasks webhook: mark_delivered is required");
  }
  absl::StatusOr<std::unique_ptr<Transport>> transport = Transport::Create(options);
  if (!transport.ok()) return transport.status();
  std::unique_ptr<TasksWebhook> webhook(new TasksWebhook(
      std::move(options), std::move(*display), std::move(mark_delivered), std::move(*transport)));
  webhook->sender_ = std::thread([w = webhook.get()] { w->Run(); });
  return webhook;
}

TasksWebhook::TasksWebhook(TasksWebhookOptions options, std::string display_url,
                           MarkDelivered mark_delivered, std::unique_ptr<Transport> transport)
    : options_(std::move(options)),
      display_url_(std::move(display_url)),
      mark_delivered_(std::move(mark_delivered)),
      transport_(std::move(transport)) {}

TasksWebhook::~TasksWebhook() { Stop(); }

void TasksWebhook::OnPlanWritten(const std::string& initiative, absl::CivilDay as_of,
                                 const std::vector<pipeline::RefreshTask>& tasks,
                                 const pipeline::TaskRecords& records) {
  if (tasks.empty()) return;
  std::vector<std::pair<const pipeline::RefreshTask*, Queued>> current;
  current.reserve(tasks.size());
  for (const pipeline::RefreshTask& task : tasks) {
    Queued q;
    q.json = TaskJson(task);
    q.fingerprint = TaskFingerprint(q.json);
    current.emplace_back(&task, std::move(q));
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  const auto delivered_here = delivered_.find(initiative);
  auto pending = pending_.find(initiative);
  for (auto& [task, q] : current) {
    const std::string& key = task->task_key;
    // What the receiver holds once the request in flight, if any, is answered.
    const std::string* expected = nullptr;
    if (in_flight_initiative_ == initiative) {
      if (auto it = in_flight_.find(key); it != in_flight_.end()) expected = &it->second;
    }
    if (expected == nullptr && delivered_here != delivered_.end()) {
      if (auto it = delivered_here->second.find(key); it != delivered_here->second.end()) {
        expected = &it->second;
      }
    }
    if (expected == nullptr) {
      if (auto it = records.find(key); it != records.end()) {
        expected = &it->second.delivered_fingerprint();
      }
    }
    const bool same = expected != nullptr && *expected == q.fingerprint;
    if (pending != pending_.end()) {
      if (auto it = pending->second.tasks.find(key); it != pending->second.tasks.end()) {
        if (same) {  // The queued version is outdated and the receiver has this one.
          pending->second.tasks.erase(it);
          --queued_;
        } else {
          it->second = std::move(q);  // Coalesced: the newer version replaces it.
        }
        continue;
      }
    }
    if (same) continue;
    if (Full()) {
      ++stats_.tasks_left_out;
      continue;
    }
    if (pending == pending_.end()) {
      pending = pending_.emplace(initiative, Pending{}).first;
      pending->second.turn = next_turn_++;
    }
    pending->second.tasks.emplace(key, std::move(q));
    ++queued_;
  }
  if (pending != pending_.end()) {
    pending->second.as_of = as_of;
    if (pending->second.tasks.empty()) pending_.erase(pending);
  }
}

bool TasksWebhook::TakeBatch(Batch* batch) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !pending_.empty(); };
  mu_.Await(absl::Condition(&ready));
  if (stopping_) return false;
  auto first = std::min_element(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
    return a.second.turn < b.second.turn;
  });
  batch->initiative = first->first;
  batch->as_of = first->second.as_of;
  batch->tasks.clear();
  std::map<std::string, Queued>& tasks = first->second.tasks;
  while (!tasks.empty() && batch->tasks.size() < options_.max_tasks_per_post) {
    auto node = tasks.extract(tasks.begin());
    in_flight_[node.key()] = node.mapped().fingerprint;
    batch->tasks.insert(std::move(node));
    --queued_;
  }
  in_flight_initiative_ = batch->initiative;
  if (tasks.empty()) pending_.erase(first);
  return true;
}

void TasksWebhook::Requeue(Batch batch) {
  auto [it, inserted] = pending_.try_emplace(batch.initiative);
  Pending& pending = it->second;
  if (inserted) pending.as_of = batch.as_of;  // Else a newer materialization set it.
  pending.turn = next_turn_++;                // Other initiatives go first.
  for (auto& [key, q] : batch.tasks) {
    if (pending.tasks.count(key) > 0) continue;  // A newer version is queued.
    if (Full()) {
      ++stats_.tasks_left_out;
      continue;
    }
    pending.tasks.emplace(key, std::move(q));
    ++queued_;
  }
  if (pending.tasks.empty()) pending_.erase(it);
}

void TasksWebhook::Run() {
  int failures = 0;  // In a row.
  Batch batch;
  while (TakeBatch(&batch)) {
    std::vector<std::string> jsons;
    jsons.reserve(batch.tasks.size());
    for (const auto& [key, q] : batch.tasks) jsons.push_back(q.json);
    const Transport::Result result =
        transport_->Post(TasksPayload(batch.initiative, batch.as_of, jsons), [this] {
          absl::MutexLock lock(&mu_);
          return cut_off_at_;
        });
    const size_t n = batch.tasks.size();
    if (result.error.empty() && !result.cut_off && result.http_status >= 200 &&
        result.http_status <= 299) {
      std::map<std::string, std::string> fingerprints;
      for (const auto& [key, q] : batch.tasks) fingerprints[key] = q.fingerprint;
      {
        absl::MutexLock lock(&mu_);
        std::map<std::string, std::string>& delivered = delivered_[batch.initiative];
        for (const auto& [key, fingerprint] : fingerprints) delivered[key] = fingerprint;
        ++stats_.requests_delivered;
        stats_.tasks_delivered += n;
      }
      if (EventLog* log = options_.log; log != nullptr) {
        if (failures > 0) {
          log->Info("webhook", "%s: delivered %d tasks of %s (HTTP %d) after %d failed attempts",
                    display_url_, n, batch.initiative, result.http_status, failures);
        } else {
          log->Debug("webhook", "%s: delivered %d tasks of %s (HTTP %d)", display_url_, n,
                     batch.initiative, result.http_status);
        }
      }
      failures = 0;
      if (absl::Status s = mark_delivered_(batch.initiative, fingerprints); !s.ok()) {
        if (options_.log != nullptr) {
          options_.log->Warning("webhook",
                                "%s: %d tasks of %s delivered but not marked (%s); they are sent "
                                "again after a restart",
                                display_url_, n, batch.initiative, s.message());
        }
      }
      absl::MutexLock lock(&mu_);
      in_flight_.clear();
      in_flight_initiative_.clear();
      continue;
    }
    const std::string why = !result.error.empty() ? result.error
                            : result.cut_off      ? std::string("cut off at shutdown")
                                                  : absl::StrCat("HTTP ", result.http_status);
    absl::MutexLock lock(&mu_);
    in_flight_.clear();
    in_flight_initiative_.clear();
    ++stats_.requests_failed;
    if (!result.cut_off && result.error.empty() && !Retryable(result.http_status)) {
      stats_.tasks_not_retried += n;
      failures = 0;
      if (options_.log != nullptr) {
        options_.log->Warning("webhook",
                              "%s: POST of %d tasks of %s answered %s, not retried; they are sent "
                              "again after the next materialization of %s",
                              display_url_, n, batch.initiative, why, batch.initiative);
      }
      continue;
    }
    const std::string initiative = batch.initiative;
    Requeue(std::move(batch));
    if (stopping_) continue;
    ++failures;
    absl::Duration backoff = options_.initial_backoff;
    for (int i = 1; i < failures && backoff < options_.max_backoff; ++i) backoff *= 2;
    backoff = std::min(backoff, options_.max_backoff);
    // The backoff spaces attempts out; logging only the 1st, 2nd, 4th, ... failure of a run
    // keeps a receiver that is down for a day to a few lines.
    const LogLevel level = IsLoggedRepeat(failures) ? LogLevel::kWarning : LogLevel::kDebug;
    if (options_.log != nullptr && options_.log->Enabled(level)) {
      options_.log->Write(
          level, "webhook",
          absl::StrFormat("%s: POST of %d tasks of %s failed (%s; %d failures in a row); "
                          "retrying in %s",
                          display_url_, n, initiative, why, failures,
                          absl::FormatDuration(backoff)));
    }
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
  }
}

bool TasksWebhook::WaitIdle(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return pending_.empty() && in_flight_.empty();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

void TasksWebhook::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (joined_) return;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    cut_off_at_ = absl::Now() + options_.shutdown_grace;
  }
  transport_->Wake();
  if (sender_.joinable()) sender_.join();
  joined_ = true;
  absl::MutexLock lock(&mu_);
  if (queued_ > 0 && options_.log != nullptr) {
    options_.log->Warning("webhook",
                          "%s: stopped with %d tasks not delivered; they are sent after the next "
                          "materialization of their initiative",
                          display_url_, queued_);
  }
  pending_.clear();
  queued_ = 0;
}

TasksWebhookStats TasksWebhook::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace fieldloop::services
