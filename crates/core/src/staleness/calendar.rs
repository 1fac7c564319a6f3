//! Business days: the days of the playbook's work week that are not its holidays. Idle time, the
//! re-notify interval and the day a deal starts rotting are all counted in them, so a weekend or
//! a bank holiday never makes a deal rot.

use std::collections::BTreeSet;

use time::{Date, Duration, Weekday};

use crate::playbook::Staleness;

/// The working calendar of a playbook's `[staleness]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Working days, indexed by [`Weekday::number_days_from_monday`].
    working: [bool; 7],
    holidays: BTreeSet<Date>,
}

impl Calendar {
    /// The calendar `staleness` describes.
    pub fn of(staleness: &Staleness) -> Calendar {
        Calendar::new(staleness.working_days(), staleness.holiday_dates())
    }

    /// A calendar working on `days`, except on `holidays`.
    pub fn new(days: impl IntoIterator<Item = Weekday>, holidays: BTreeSet<Date>) -> Calendar {
        let mut working = [false; 7];
        for day in days {
            working[usize::from(day.number_days_from_monday())] = true;
        }
        Calendar { working, holidays }
    }

    /// How many working days a week has.
    fn days_a_week(&self) -> u32 {
        self.working.iter().filter(|w| **w).count() as u32
    }

    /// Whether `day` is a business day.
    pub fn is_business_day(&self, day: Date) -> bool {
        self.working[usize::from(day.weekday().number_days_from_monday())]
            && !self.holidays.contains(&day)
    }

    /// The business days after `from` up to and including `to`: 0 when `to` is not after
    /// `from`. A deal last touched on a Friday has been idle 1 business day on Monday.
    pub fn business_days_between(&self, from: Date, to: Date) -> u32 {
        if to <= from {
            return 0;
        }
        let days = (to - from).whole_days();
        let (weeks, rest) = (days / 7, days % 7);
        let mut count = u32::try_from(weeks).unwrap_or(u32::MAX / 7) * self.days_a_week();
        let mut day = from;
        for _ in 0..rest {
            day = day.next_day().unwrap_or(day);
            if self.working[usize::from(day.weekday().number_days_from_monday())] {
                count += 1;
            }
        }
        let holidays = self
            .holidays
            .range(from.next_day().unwrap_or(from)..=to)
            .filter(|h| self.working[usize::from(h.weekday().number_days_from_monday())])
            .count() as u32;
        count.saturating_sub(holidays)
    }

    /// The `n`th business day after `from` (`n` ≥ 1); `None` for a calendar without working
    /// days, or past the end of time.
    pub fn add_business_days(&self, from: Date, n: u32) -> Option<Date> {
        if self.days_a_week() == 0 {
            return None;
        }
        // Whole weeks first, then day by day: at most a week of days and the holidays in between.
        let weeks = n.saturating_sub(1) / self.days_a_week();
        let mut day = from.checked_add(Duration::weeks(i64::from(weeks)))?;
        let mut left = n - self.business_days_between(from, day);
        while left > 0 {
            day = day.next_day()?;
            if self.is_business_day(day) {
                left -= 1;
            }
        }
        Some(day)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn mon_to_fri(holidays: &[Date]) -> Calendar {
        use Weekday::*;
        Calendar::new(
            [Monday, Tuesday, Wednesday, Thursday, Friday],
            holidays.iter().copied().collect(),
        )
    }

    #[test]
    fn weekends_are_not_business_days() {
        let cal = mon_to_fri(&[]);
        // Friday 2026-11-06 → Monday 2026-11-09: one business day (Monday).
        assert_eq!(
            cal.business_days_between(date!(2026 - 11 - 06), date!(2026 - 11 - 09)),
            1
        );
        assert_eq!(
            cal.business_days_between(date!(2026 - 11 - 06), date!(2026 - 11 - 08)),
            0
        );
        // Two whole weeks are ten business days, whichever day they start on.
        for start in 2..=8 {
            let from = Date::from_calendar_date(2026, time::Month::November, start).unwrap();
            assert_eq!(
                cal.business_days_between(from, from + Duration::weeks(2)),
                10
            );
        }
        assert_eq!(
            cal.business_days_between(date!(2026 - 11 - 09), date!(2026 - 11 - 09)),
            0
        );
        assert_eq!(
            cal.business_days_between(date!(2026 - 11 - 09), date!(2026 - 11 - 02)),
            0
        );
    }

    #[test]
    fn a_deal_idle_over_a_long_weekend_has_been_idle_one_business_day() {
        // Good Friday and Easter Monday 2027: last call on Thursday, back at work on Tuesday.
        let cal = mon_to_fri(&[date!(2027 - 03 - 26), date!(2027 - 03 - 29)]);
        assert_eq!(
            cal.business_days_between(date!(2027 - 03 - 25), date!(2027 - 03 - 29)),
            0
        );
        assert_eq!(
            cal.business_days_between(date!(2027 - 03 - 25), date!(2027 - 03 - 30)),
            1
        );
        assert_eq!(
            cal.add_business_days(date!(2027 - 03 - 25), 1),
            Some(date!(2027 - 03 - 30))
        );
    }

    #[test]
    fn holidays_on_a_weekend_or_outside_the_range_change_nothing() {
        let plain = mon_to_fri(&[]);
        let with = mon_to_fri(&[
            date!(2026 - 11 - 07),
            date!(2026 - 11 - 02),
            date!(2026 - 12 - 25),
        ]);
        let (from, to) = (date!(2026 - 11 - 02), date!(2026 - 11 - 20));
        // The 2nd is `from` itself (not counted either way), the 7th a Saturday.
        assert_eq!(
            with.business_days_between(from, to),
            plain.business_days_between(from, to)
        );
        assert_eq!(
            with.business_days_between(from, date!(2026 - 12 - 31)),
            plain.business_days_between(from, date!(2026 - 12 - 31)) - 1
        );
    }

    #[test]
    fn adding_business_days_is_the_inverse_of_counting_them() {
        let cal = mon_to_fri(&[date!(2026 - 12 - 25), date!(2027 - 01 - 01)]);
        let from = date!(2026 - 12 - 18);
        for n in 1..40 {
            let day = cal.add_business_days(from, n).unwrap();
            assert!(cal.is_business_day(day), "{day}");
            assert_eq!(cal.business_days_between(from, day), n, "{n} → {day}");
        }
        assert_eq!(cal.add_business_days(from, 5), Some(date!(2026 - 12 - 28)));
    }

    #[test]
    fn a_six_day_week_counts_saturdays() {
        use Weekday::*;
        let cal = Calendar::new(
            [Monday, Tuesday, Wednesday, Thursday, Friday, Saturday],
            BTreeSet::new(),
        );
        assert_eq!(
            cal.business_days_between(date!(2026 - 11 - 06), date!(2026 - 11 - 09)),
            2
        );
        assert_eq!(
            Calendar::new([], BTreeSet::new()).add_business_days(date!(2026 - 11 - 06), 1),
            None
        );
    }
}
