// Content inventory analysis: how fresh each asset is and which themes it covers. Pure:
// the date is a parameter (as_of), never read from a clock. Rules in docs/analysis.md.
#ifndef FIELDLOOP_PIPELINE_CONTENT_INVENTORY_H_
#define FIELDLOOP_PIPELINE_CONTENT_INVENTORY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "pipeline/text_normalizer.h"
#include "proto/fieldloop/v1/records.pb.h"

namespace fieldloop::pipeline {

// How long an asset of each type stays fresh, in days since last_updated.
struct FreshnessWindows {
  // Default windows (docs/analysis.md): battlecards and snippets go stale fastest because
  // competitors and objections move; videos slowest because they are costly to redo.
  std::map<fieldloop::v1::AssetType, int> days = {
      {fieldloop::v1::ASSET_TYPE_DECK, 180},      {fieldloop::v1::ASSET_TYPE_BATTLECARD, 90},
      {fieldloop::v1::ASSET_TYPE_ONE_PAGER, 180}, {fieldloop::v1::ASSET_TYPE_PLAY, 180},
      {fieldloop::v1::ASSET_TYPE_SNIPPET, 90},    {fieldloop::v1::ASSET_TYPE_VIDEO, 365},
      {fieldloop::v1::ASSET_TYPE_MODULE, 180},    {fieldloop::v1::ASSET_TYPE_OTHER, 180}};
  // Window for a type missing from `days`. Default: 180.
  int fallback_days = 180;

  // Overrides windows from "type=days,type=days" with CSV type names (deck, battlecard,
  // one-pager, play, snippet, video, module, other). InvalidArgument naming the bad entry.
  absl::Status Override(absl::string_view spec);

  int For(fieldloop::v1::AssetType type) const;
};

struct AssetFreshness {
  std::string asset_id;
  int age_days = 0;     // as_of - last_updated; negative when dated in the future.
  int window_days = 0;  // The window of its type.
  bool stale = false;   // age_days > window_days.
};

// Freshness of `asset` on `as_of`. InvalidArgument when last_updated does not parse.
absl::StatusOr<AssetFreshness> Freshness(const fieldloop::v1::ContentAsset& asset,
                                         absl::CivilDay as_of, const FreshnessWindows& windows);

// The stems of `text`, normalized like feedback text. Sorted, unique.
std::vector<std::string> TextStems(absl::string_view text, TextNormalizer& normalizer);

// The stems an asset is about: its title, its tags (split on ':', '-', '_' and spaces by the
// normalizer, and between a letter and a digit: "soc2" is "soc 2") and its type's name,
// normalized like feedback text. Sorted, unique.
std::vector<std::string> AssetStems(const fieldloop::v1::ContentAsset& asset,
                                    TextNormalizer& normalizer);

// How well an asset covers a theme: the weight share of the theme's top terms (stem,
// weight; as ThemeClusterer::TopTerms gives them) that the asset's stems contain.
// 0 when the theme has no terms.
double Coverage(const std::vector<std::string>& asset_stems,
                const std::vector<std::pair<std::string, double>>& theme_terms);

// An asset covers a theme when Coverage >= kCoverageThreshold and it shares at least
// kMinSharedTerms of the theme's top terms (one shared generic word is not coverage).
// Returns the Coverage when it covers, nullopt otherwise.
inline constexpr double kCoverageThreshold = 0.2;
inline constexpr int kMinSharedTerms = 2;
std::optional<double> Covers(const std::vector<std::string>& asset_stems,
                             const std::vector<std::pair<std::string, double>>& theme_terms);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_CONTENT_INVENTORY_H_
