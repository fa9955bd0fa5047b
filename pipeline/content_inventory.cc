#include "pipeline/content_inventory.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "pipeline/record_files.h"
#include "pipeline/record_validator.h"

namespace fieldloop::pipeline {
namespace {

std::string TypeWords(fieldloop::v1::AssetType type) {
  switch (type) {
    case fieldloop::v1::ASSET_TYPE_DECK:
      return "deck";
    case fieldloop::v1::ASSET_TYPE_BATTLECARD:
      return "battlecard competitor";
    case fieldloop::v1::ASSET_TYPE_ONE_PAGER:
      return "one pager";
    case fieldloop::v1::ASSET_TYPE_PLAY:
      return "play";
    case fieldloop::v1::ASSET_TYPE_SNIPPET:
      return "snippet talk track";
    case fieldloop::v1::ASSET_TYPE_VIDEO:
      return "video";
    case fieldloop::v1::ASSET_TYPE_MODULE:
      return "onboarding module training";
    default:
      return "";
  }
}

}  // namespace

absl::Status FreshnessWindows::Override(absl::string_view spec) {
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(entry, '=');
    std::optional<fieldloop::v1::AssetType> type = AssetTypeFromName(kv.first);
    int value = 0;
    if (!type || !absl::SimpleAtoi(kv.second, &value) || value <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "freshness window '", entry,
          "': want TYPE=DAYS with TYPE one of deck, battlecard, one-pager, play, snippet, "
          "video, module, other and DAYS a positive whole number"));
    }
    days[*type] = value;
  }
  return absl::OkStatus();
}

int FreshnessWindows::For(fieldloop::v1::AssetType type) const {
  auto it = days.find(type);
  return it == days.end() ? fallback_days : it->second;
}

absl::StatusOr<AssetFreshness> Freshness(const fieldloop::v1::ContentAsset& asset,
                                         absl::CivilDay as_of, const FreshnessWindows& windows) {
  absl::StatusOr<absl::CivilDay> updated = ParseDay(asset.last_updated());
  if (!updated.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "content_asset '", asset.asset_id(), "': last_updated: ", updated.status().message()));
  }
  AssetFreshness f;
  f.asset_id = asset.asset_id();
  f.age_days = static_cast<int>(as_of - *updated);
  f.window_days = windows.For(asset.type());
  f.stale = f.age_days > f.window_days;
  return f;
}

std::vector<std::string> AssetStems(const fieldloop::v1::ContentAsset& asset,
                                    TextNormalizer& normalizer) {
  std::string text = asset.title();
  for (const std::string& tag : asset.tags()) {
    // Tags are often squeezed: "soc2" is about SOC 2.
    absl::StrAppend(&text, " ");
    for (size_t i = 0; i < tag.size(); ++i) {
      if (i > 0 && absl::ascii_isalpha(tag[i - 1]) && absl::ascii_isdigit(tag[i])) text += ' ';
      text += tag[i];
    }
  }
  absl::StrAppend(&text, " ", TypeWords(asset.type()));
  return TextStems(text, normalizer);
}

std::vector<std::string> TextStems(absl::string_view text, TextNormalizer& normalizer) {
  std::vector<std::string> stems;
  for (const Term& t : normalizer.Normalize(text)) stems.push_back(t.stem);
  std::sort(stems.begin(), stems.end());
  stems.erase(std::unique(stems.begin(), stems.end()), stems.end());
  return stems;
}

namespace {

std::pair<double, int> Shared(const std::vector<std::string>& asset_stems,
                              const std::vector<std::pair<std::string, double>>& theme_terms) {
  double total = 0, covered = 0;
  int shared = 0;
  for (const auto& [stem, weight] : theme_terms) {
    const double w = std::max(weight, 0.0);
    total += w;
    if (std::binary_search(asset_stems.begin(), asset_stems.end(), stem)) {
      covered += w;
      ++shared;
    }
  }
  return {total > 0 ? covered / total : 0.0, shared};
}

}  // namespace

double Coverage(const std::vector<std::string>& asset_stems,
                const std::vector<std::pair<std::string, double>>& theme_terms) {
  return Shared(asset_stems, theme_terms).first;
}

std::optional<double> Covers(const std::vector<std::string>& asset_stems,
                             const std::vector<std::pair<std::string, double>>& theme_terms) {
  const auto [coverage, shared] = Shared(asset_stems, theme_terms);
  if (coverage < kCoverageThreshold || shared < kMinSharedTerms) return std::nullopt;
  return coverage;
}

}  // namespace fieldloop::pipeline
