// Deadlines on the business calendar: working hours, weekends, holidays, 调休 workdays.
#include "workflow/calendar.hpp"

#include <gtest/gtest.h>

using kefu::workflow::BusinessCalendar;
using kefu::workflow::SlaUnit;

namespace {
// 2026-12-04 is a Friday. Local (UTC+8) 2026-12-04 10:00 is 02:00 UTC.
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kFri10 = 1'796'349'600'000 - 0;  // 2026-12-04T02:00:00Z
}  // namespace

TEST(BusinessCalendar, KnowsWorkingDaysHolidaysAndMadeUpWorkdays) {
  BusinessCalendar cal({20261207}, {20261205});
  EXPECT_EQ(cal.local_date(kFri10), 20261204);
  EXPECT_TRUE(cal.working_day(20261204));   // Friday
  EXPECT_TRUE(cal.working_day(20261205));   // Saturday, made a workday (调休)
  EXPECT_FALSE(cal.working_day(20261206));  // Sunday
  EXPECT_FALSE(cal.working_day(20261207));  // Monday, a holiday
  EXPECT_TRUE(cal.working_day(20261208));
}

TEST(BusinessCalendar, BusinessHoursSkipNightsWeekendsAndHolidays) {
  BusinessCalendar plain({}, {});
  // Friday 10:00 + 8 business hours (9-17) = Monday 10:00.
  EXPECT_EQ(plain.deadline(kFri10, 8, SlaUnit::business_hours), kFri10 + 3 * 24 * kHour);
  BusinessCalendar cal({20261207}, {20261205});
  // With Saturday worked and Monday off: Saturday 10:00.
  EXPECT_EQ(cal.deadline(kFri10, 8, SlaUnit::business_hours), kFri10 + 24 * kHour);
  EXPECT_EQ(cal.business_between(kFri10, kFri10 + 24 * kHour), 8 * kHour);
  // Starting at night counts from the next opening: Friday 20:00 + 1h = Saturday 10:00.
  EXPECT_EQ(cal.deadline(kFri10 + 10 * kHour, 1, SlaUnit::business_hours), kFri10 + 24 * kHour);
  // Calendar days ignore the calendar: 15 days are 15 days.
  EXPECT_EQ(cal.deadline(kFri10, 15, SlaUnit::calendar_days), kFri10 + 15 * 24 * kHour);
}

TEST(BusinessCalendar, APausedClockResumesWithWhatWasLeft) {
  BusinessCalendar cal({}, {});
  int64_t due = cal.deadline(kFri10, 4, SlaUnit::business_hours);  // Friday 14:00
  int64_t left = cal.remaining(kFri10 + kHour, due, SlaUnit::business_hours);
  EXPECT_EQ(left, 3 * kHour);
  // Paused from Friday 11:00 to Monday 09:00: due Monday 12:00.
  EXPECT_EQ(cal.deadline_after(kFri10 + 71 * kHour, left, SlaUnit::business_hours),
            kFri10 + 74 * kHour);
}
