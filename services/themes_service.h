// ThemesService: the fieldloop.v1.Themes gRPC service (proto/fieldloop/v1/themes.proto):
// current themes for other services. ListThemes and GetTheme analyze the initiative as the
// board does (services/materializer.h, AnalyzeInitiative) without waiting for the applier
// to catch up: they answer with the themes as applied, and the version they were read at.
// WatchThemes streams the ThemeFeed. Synchronous handlers: a watcher holds one gRPC server
// thread and never the applier; a watcher that does not read only fills its own stream.
// A watch checks its caller again (Authorizer::Refresh) before each change and at least
// once a second while idle: once a reload of the tokens takes reading its initiative from
// the token, it ends with PERMISSION_DENIED.
#ifndef FIELDLOOP_SERVICES_THEMES_SERVICE_H_
#define FIELDLOOP_SERVICES_THEMES_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "services/auth.h"
#include "services/clock.h"
#include "services/metrics.h"
#include "services/theme_applier.h"
#include "services/theme_feed.h"
#include "storage/store.h"

namespace fieldloop::services {

class ThemesService final : public fieldloop::v1::Themes::Service {
 public:
  // Every pointer must outlive the service; `clock` gives today's date when as_of is empty.
  // With `redact_pii`, quotes and proof points are masked as on the board. Every call needs
  // Permission::kRead on its initiative from `authorizer` (nullptr: no access control).
  ThemesService(const storage::Store* store, const ThemeApplier* applier, ThemeFeed* feed,
                const Clock* clock, bool redact_pii = true, const Authorizer* authorizer = nullptr)
      : store_(store),
        applier_(applier),
        feed_(feed),
        clock_(clock),
        redact_pii_(redact_pii),
        authorizer_(authorizer) {}

  grpc::Status ListThemes(grpc::ServerContext* context,
                          const fieldloop::v1::ListThemesRequest* request,
                          fieldloop::v1::ListThemesResponse* response) override;
  grpc::Status GetTheme(grpc::ServerContext* context, const fieldloop::v1::GetThemeRequest* request,
                        fieldloop::v1::GetThemeResponse* response) override;
  grpc::Status WatchThemes(grpc::ServerContext* context,
                           const fieldloop::v1::WatchThemesRequest* request,
                           grpc::ServerWriter<fieldloop::v1::ThemeChange>* writer) override;

  // Caps the WatchThemes calls open at once at `max_watchers` (each holds a server thread):
  // one more ends at once with RESOURCE_EXHAUSTED naming --max_watchers, counted in
  // `metrics` (nullptr: not counted; must outlive the service). Call before serving.
  // Default: 32, not counted.
  void LimitWatchers(int max_watchers, ServerMetrics* metrics) {
    max_watchers_ = max_watchers;
    metrics_ = metrics;
  }

  // Themes per page when a ListThemes request asks for none, and the most it may ask for.
  static constexpr int kDefaultPageSize = 50;
  static constexpr int kMaxPageSize = 500;

 private:
  const storage::Store* const store_;
  const ThemeApplier* const applier_;
  ThemeFeed* const feed_;
  const Clock* const clock_;
  const bool redact_pii_;
  int max_watchers_ = 32;
  ServerMetrics* metrics_ = nullptr;
  std::atomic<int> watchers_{0};        // WatchThemes calls in progress.
  const Authorizer* const authorizer_;  // nullptr: no access control.
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_THEMES_SERVICE_H_
