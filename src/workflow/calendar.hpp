#pragma once
// The business calendar of deadlines (SLA 时限): working days are Monday to Friday, less the
// holidays of the dictionary `holiday`, plus the weekend days made working days by 调休 (the
// dictionary `workday`), which established ticket systems cannot express. A deadline counts
// business hours within the working day, or calendar days (the complaint rules: 15 days,
// extendable to 30), as its rule says. Pure: local time is UTC + a fixed offset (China has no
// daylight saving), dates are yyyymmdd.
#include <cstdint>
#include <set>
#include <string>

namespace kefu::workflow {

enum class SlaUnit { business_hours, calendar_days };
bool parse_sla_unit(const std::string& s, SlaUnit& out);
const char* to_string(SlaUnit u);

class BusinessCalendar {
 public:
  BusinessCalendar() = default;
  BusinessCalendar(std::set<int> holidays, std::set<int> workdays, int day_start_min = 9 * 60,
                   int day_end_min = 17 * 60, int utc_offset_min = 8 * 60)
      : holidays_(std::move(holidays)),
        workdays_(std::move(workdays)),
        start_(day_start_min),
        end_(day_end_min),
        offset_ms_(int64_t(utc_offset_min) * 60'000) {}

  bool working_day(int yyyymmdd) const;
  int local_date(int64_t utc_ms) const;
  // The instant `business_ms` of working time after `from` (from itself if 0).
  int64_t add_business(int64_t from, int64_t business_ms) const;
  // Working time between two instants (0 when b <= a).
  int64_t business_between(int64_t a, int64_t b) const;
  // The deadline of `amount` units from `from`.
  int64_t deadline(int64_t from, double amount, SlaUnit unit) const;
  // What is left of a deadline at `at`, in the unit's own time (business or calendar ms);
  // a paused clock keeps this and resumes with deadline_after().
  int64_t remaining(int64_t at, int64_t due, SlaUnit unit) const;
  int64_t deadline_after(int64_t from, int64_t remaining_ms, SlaUnit unit) const;

 private:
  int64_t day_ms() const { return int64_t(end_ - start_) * 60'000; }
  std::set<int> holidays_, workdays_;
  int start_ = 9 * 60, end_ = 17 * 60;
  int64_t offset_ms_ = 8 * 3'600'000;
};

}  // namespace kefu::workflow
