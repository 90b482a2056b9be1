//! Dates and times as they are written in Vietnam: day first, "Thứ Năm, 26/11/2026",
//! and the 24-hour clock, "08:05".

use time::{Date, OffsetDateTime, UtcOffset, Weekday};

/// "08:05": the clock at `at` in the office's `offset`.
pub fn hour_minute(at: OffsetDateTime, offset: UtcOffset) -> String {
    let local = at.to_offset(offset);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// "26/11/2026".
pub fn day_month_year(date: Date) -> String {
    format!(
        "{:02}/{:02}/{}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

/// "Thứ Năm".
pub fn weekday_vi(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Thứ Hai",
        Weekday::Tuesday => "Thứ Ba",
        Weekday::Wednesday => "Thứ Tư",
        Weekday::Thursday => "Thứ Năm",
        Weekday::Friday => "Thứ Sáu",
        Weekday::Saturday => "Thứ Bảy",
        Weekday::Sunday => "Chủ Nhật",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_the_offices_own() {
        let at = time::macros::datetime!(2026-11-26 01:05 UTC);
        assert_eq!(hour_minute(at, time::macros::offset!(+7)), "08:05");
    }
    use time::macros::date;

    #[test]
    fn dates_are_written_day_first_with_the_vietnamese_weekday() {
        let day = date!(2026 - 03 - 05);
        assert_eq!(day_month_year(day), "05/03/2026");
        assert_eq!(weekday_vi(day.weekday()), "Thứ Năm");
        assert_eq!(weekday_vi(Weekday::Sunday), "Chủ Nhật");
    }
}
