// ThemesService: the fieldloop.v1.Themes gRPC service (proto/fieldloop/v1/themes.proto):
// current themes for other services. ListThemes and GetTheme analyze the initiative as the
// board does (services/materializer.h, AnalyzeInitiative) without waiting for the applier
// to catch up: they answer with the themes as applied, and the version they were read at.
// WatchThemes streams the ThemeFeed. Synchronous handlers: a watcher holds one gRPC server
// thread and never the applier; a watcher that does not read only fills its own stream.
#ifndef FIELDLOOP_SERVICES_THEMES_SERVICE_H_
#define FIELDLOOP_SERVICES_THEMES_SERVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "services/clock.h"
#include "services/theme_applier.h"
#include "services/theme_feed.h"
#include "storage/store.h"

namespace fieldloop::services {

class ThemesService final : public fieldloop::v1::Themes::Service {
 public:
  // Every pointer must outlive the service; `clock` gives today's date when as_of is empty.
  // With `redact_pii`, quotes and proof points are masked as on the board.
  ThemesService(const storage::Store* store, const ThemeApplier* applier, ThemeFeed* feed,
                const Clock* clock, bool redact_pii = true)
      : store_(store), applier_(applier), feed_(feed), clock_(clock), redact_pii_(redact_pii) {}

  grpc::Status ListThemes(grpc::ServerContext* context,
                          const fieldloop::v1::ListThemesRequest* request,
                          fieldloop::v1::ListThemesResponse* response) override;
  grpc::Status GetTheme(grpc::ServerContext* context, const fieldloop::v1::GetThemeRequest* request,
                        fieldloop::v1::GetThemeResponse* response) override;
  grpc::Status WatchThemes(grpc::ServerContext* context,
                           const fieldloop::v1::WatchThemesRequest* request,
                           grpc::ServerWriter<fieldloop::v1::ThemeChange>* writer) override;

  // Themes per page when a ListThemes request asks for none, and the most it may ask for.
  static constexpr int kDefaultPageSize = 50;
  static constexpr int kMaxPageSize = 500;

 private:
  const storage::Store* const store_;
  const ThemeApplier* const applier_;
  ThemeFeed* const feed_;
  const Clock* const clock_;
  const bool redact_pii_;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_THEMES_SERVICE_H_
