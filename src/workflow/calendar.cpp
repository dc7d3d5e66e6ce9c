#include "workflow/calendar.hpp"

#include <algorithm>
#include <chrono>

namespace kefu::workflow {

namespace {

constexpr int64_t kDay = 86'400'000;

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

int yyyymmdd_of_day(int64_t day) {  // days since the epoch
  using namespace std::chrono;
  year_month_day d{sys_days{days{day}}};
  return int(d.year()) * 10000 + int(unsigned(d.month())) * 100 + int(unsigned(d.day()));
}

int weekday_of_day(int64_t day) {  // 1 = Monday .. 7 = Sunday; 1970-01-01 was a Thursday
  return int(((day % 7) + 7 + 3) % 7) + 1;
}

}  // namespace

bool parse_sla_unit(const std::string& s, SlaUnit& out) {
  if (s == "business_hours")
    out = SlaUnit::business_hours;
  else if (s == "calendar_days")
    out = SlaUnit::calendar_days;
  else
    return false;
  return true;
}

const char* to_string(SlaUnit u) {
  return u == SlaUnit::business_hours ? "business_hours" : "calendar_days";
}

bool BusinessCalendar::working_day(int date) const {
  if (holidays_.count(date)) return false;
  if (workdays_.count(date)) return true;
  using namespace std::chrono;
  year_month_day ymd{year{date / 10000}, month{unsigned(date / 100 % 100)},
                     day{unsigned(date % 100)}};
  int64_t d = sys_days{ymd}.time_since_epoch().count();
  return weekday_of_day(d) <= 5;
}

int BusinessCalendar::local_date(int64_t utc_ms) const {
  return yyyymmdd_of_day(floor_div(utc_ms + offset_ms_, kDay));
}

int64_t BusinessCalendar::add_business(int64_t from, int64_t left) const {
  if (day_ms() <= 0) return from + left;
  int64_t local = from + offset_ms_;
  int64_t day = floor_div(local, kDay);
  int64_t t = local - day * kDay;  // ms into the local day
  // At most a few years of days: a deadline beyond that is a configuration error, not a loop.
  for (int guard = 0; guard < 3660; ++guard, ++day, t = 0) {
    if (!working_day(yyyymmdd_of_day(day))) continue;
    int64_t open = int64_t(start_) * 60'000, close = int64_t(end_) * 60'000;
    int64_t begin = std::max(t, open);
    if (begin >= close) continue;
    if (left == 0) return day * kDay + begin - offset_ms_;
    if (begin + left <= close) return day * kDay + begin + left - offset_ms_;
    left -= close - begin;
  }
  return from + left;
}

int64_t BusinessCalendar::business_between(int64_t a, int64_t b) const {
  if (b <= a) return 0;
  int64_t total = 0;
  int64_t la = a + offset_ms_, lb = b + offset_ms_;
  int64_t open = int64_t(start_) * 60'000, close = int64_t(end_) * 60'000;
  for (int64_t day = floor_div(la, kDay), last = floor_div(lb, kDay), guard = 0;
       day <= last && guard < 3660; ++day, ++guard) {
    if (!working_day(yyyymmdd_of_day(day))) continue;
    int64_t s = std::max(day * kDay + open, la), e = std::min(day * kDay + close, lb);
    if (e > s) total += e - s;
  }
  return total;
}

int64_t BusinessCalendar::deadline(int64_t from, double amount, SlaUnit unit) const {
  if (unit == SlaUnit::calendar_days) return from + int64_t(amount * double(kDay));
  return add_business(from, int64_t(amount * 3'600'000.0));
}

int64_t BusinessCalendar::remaining(int64_t at, int64_t due, SlaUnit unit) const {
  if (unit == SlaUnit::calendar_days) return std::max<int64_t>(0, due - at);
  return business_between(at, due);
}

int64_t BusinessCalendar::deadline_after(int64_t from, int64_t remaining_ms, SlaUnit unit) const {
  if (unit == SlaUnit::calendar_days) return from + remaining_ms;
  return add_business(from, remaining_ms);
}

}  // namespace kefu::workflow
