#pragma once
// CSV and XLSX export, CSV import. Import validates every row; by default one bad row
// means nothing is written and every bad row is reported; with mode=valid the good rows
// are written (each in its own savepoint) and the bad ones reported.
#include <string>
#include <string_view>
#include <vector>

#include "meta/review.hpp"

namespace kefu::meta {

std::vector<std::vector<std::string>> parse_csv(std::string_view text);  // 400 malformed_csv
std::string export_csv(const Entity& e, const json::array& rows);
std::string export_xlsx(const Entity& e, const json::array& rows);

struct ImportResult {
  int64_t written = 0;
  int64_t submitted = 0;  // change requests, for reviewed entities
  json::array errors;     // {"row": n, "field": ..., "code": ..., "message": ...}
  bool rejected = false;  // all-or-nothing import with errors: nothing was written
};

ImportResult import_csv(const Repository& repo, const ReviewService& reviews, const Entity& e, const Principal& who,
                        const audit::Actor& actor, std::string_view csv, bool all_or_nothing);

}  // namespace kefu::meta
