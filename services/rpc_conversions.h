// What every gRPC service of fieldloopd converts at its boundary: absl statuses to gRPC
// statuses (same code, same message), and a request's as_of text to a day.
#ifndef FIELDLOOP_SERVICES_RPC_CONVERSIONS_H_
#define FIELDLOOP_SERVICES_RPC_CONVERSIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "grpcpp/grpcpp.h"
#include "pipeline/record_validator.h"
#include "services/clock.h"

namespace fieldloop::services {

// `s` as a gRPC status: absl and gRPC share the canonical codes.
inline grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

// The day of a request's `as_of` (YYYY-MM-DD); empty means today (UTC) on `clock`.
// InvalidArgument "as_of: ..." for anything else.
inline absl::StatusOr<absl::CivilDay> AsOfDay(const std::string& as_of, const Clock& clock) {
  if (as_of.empty()) return absl::ToCivilDay(clock.Now(), absl::UTCTimeZone());
  absl::StatusOr<absl::CivilDay> day = pipeline::ParseDay(as_of);
  if (!day.ok()) return absl::InvalidArgumentError(absl::StrCat("as_of: ", day.status().message()));
  return day;
}

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_RPC_CONVERSIONS_H_
