//! Calendar arithmetic for live dates in Europe/Berlin.
//!
//! Germany follows the EU rule since 1996: summer time (UTC+2) from the last
//! Sunday of March, 01:00 UTC, to the last Sunday of October, 01:00 UTC;
//! otherwise UTC+1. Implemented here to avoid a time-zone database dependency.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

/// Days before the live date on which the preparation module opens.
pub const PREPARATION_DAYS_BEFORE: i64 = 14;
/// Days after the live date on which the follow-up module opens.
pub const FOLLOW_UP_DAYS_AFTER: i64 = 14;
/// Live tutorials run from 09:00 to 13:00 local time.
pub const LIVE_START: (u32, u32) = (9, 0);
pub const LIVE_END: (u32, u32) = (13, 0);

/// "09:00": the start of live tutorials as pages and mails print it.
pub fn live_start_text() -> String {
    format!("{:02}:{:02}", LIVE_START.0, LIVE_START.1)
}

/// "13:00": the end of live tutorials as pages and mails print it.
pub fn live_end_text() -> String {
    format!("{:02}:{:02}", LIVE_END.0, LIVE_END.1)
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("valid month");
    let last = first_of_next - Duration::days(1);
    let back = last.weekday().num_days_from_sunday() as i64;
    last - Duration::days(back)
}

/// Offset of Europe/Berlin from UTC, in hours, at a UTC instant.
pub fn berlin_offset_hours_at_utc(utc: NaiveDateTime) -> i64 {
    let year = utc.year();
    let one_am = NaiveTime::from_hms_opt(1, 0, 0).expect("valid time");
    let start = last_sunday(year, 3).and_time(one_am);
    let end = last_sunday(year, 10).and_time(one_am);
    if utc >= start && utc < end {
        2
    } else {
        1
    }
}

/// Converts a Berlin wall-clock time to UTC (times in the autumn overlap
/// resolve to the summer-time reading; live tutorials never fall there).
pub fn berlin_to_utc(local: NaiveDateTime) -> NaiveDateTime {
    let guess = local - Duration::hours(1);
    let offset = berlin_offset_hours_at_utc(local - Duration::hours(2));
    let candidate = local - Duration::hours(offset);
    if berlin_offset_hours_at_utc(candidate) == offset {
        candidate
    } else {
        guess
    }
}

pub fn live_start_local(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(LIVE_START.0, LIVE_START.1, 0)
        .expect("valid time")
}

pub fn live_end_local(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(LIVE_END.0, LIVE_END.1, 0)
        .expect("valid time")
}

pub fn preparation_opens(date: NaiveDate) -> NaiveDate {
    date - Duration::days(PREPARATION_DAYS_BEFORE)
}

pub fn follow_up_opens(date: NaiveDate) -> NaiveDate {
    date + Duration::days(FOLLOW_UP_DAYS_AFTER)
}

const WEEKDAYS: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// `Mittwoch, 10. Februar 2027`
pub fn german_long_date(date: NaiveDate) -> String {
    format!(
        "{}, {}. {} {}",
        WEEKDAYS[date.weekday().num_days_from_monday() as usize],
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

/// `10. Februar 2027` (for facts where the weekday does not matter)
pub fn german_date(date: NaiveDate) -> String {
    format!(
        "{}. {} {}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

/// `10.02.2027`
pub fn german_short_date(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn winter_and_summer_offsets() {
        // 10 Feb 2027 09:00 CET is 08:00 UTC; 9 Jun 2027 09:00 CEST is 07:00 UTC.
        assert_eq!(
            berlin_to_utc(live_start_local(d(2027, 2, 10))),
            d(2027, 2, 10).and_hms_opt(8, 0, 0).unwrap()
        );
        assert_eq!(
            berlin_to_utc(live_start_local(d(2027, 6, 9))),
            d(2027, 6, 9).and_hms_opt(7, 0, 0).unwrap()
        );
    }

    #[test]
    fn switch_days_2027() {
        // Summer time 2027 starts 28 March and ends 31 October.
        assert_eq!(last_sunday(2027, 3), d(2027, 3, 28));
        assert_eq!(last_sunday(2027, 10), d(2027, 10, 31));
        assert_eq!(
            berlin_to_utc(live_start_local(d(2027, 3, 28))),
            d(2027, 3, 28).and_hms_opt(7, 0, 0).unwrap()
        );
        assert_eq!(
            berlin_to_utc(live_start_local(d(2027, 3, 26))),
            d(2027, 3, 26).and_hms_opt(8, 0, 0).unwrap()
        );
        assert_eq!(
            berlin_to_utc(live_start_local(d(2027, 11, 1))),
            d(2027, 11, 1).and_hms_opt(8, 0, 0).unwrap()
        );
    }

    #[test]
    fn timeline_and_german_dates() {
        assert_eq!(preparation_opens(d(2027, 2, 10)), d(2027, 1, 27));
        assert_eq!(follow_up_opens(d(2027, 2, 10)), d(2027, 2, 24));
        assert_eq!(
            german_long_date(d(2027, 2, 10)),
            "Mittwoch, 10. Februar 2027"
        );
        assert_eq!(german_short_date(d(2027, 2, 10)), "10.02.2027");
    }
}
