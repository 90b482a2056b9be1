//! Dates and times as they are written in Vietnam: day first, "Thứ Năm, 26/11/2026",
//! and the 24-hour clock, "08:05".

use time::{Date, OffsetDateTime, UtcOffset, Weekday};

/// When the office opens again, as a citizen reads it after "mở lại lúc": "13:30" today,
/// "7:30 27/11" on another day. Both times in the office's offset.
pub fn reopening(next: OffsetDateTime, now: OffsetDateTime) -> String {
    let hm = format!("{}:{:02}", next.hour(), next.minute());
    if next.date() == now.date() {
        hm
    } else {
        format!("{hm} {:02}/{:02}", next.day(), u8::from(next.month()))
    }
}

/// "08:05": the clock at `at` in the office's `offset`.
pub fn hour_minute(at: OffsetDateTime, offset: UtcOffset) -> String {
    let local = at.to_offset(offset);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// How long something took, to the minute: "4 phút", "1 giờ 05 phút"; a negative span
/// (a clock set back) is "0 phút".
pub fn duration_words(span: time::Duration) -> String {
    let minutes = span.whole_minutes().max(0);
    if minutes < 60 {
        format!("{minutes} phút")
    } else {
        format!("{} giờ {:02} phút", minutes / 60, minutes % 60)
    }
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
    fn durations_read_in_minutes_then_hours_and_never_below_zero() {
        use time::Duration;
        assert_eq!(duration_words(Duration::seconds(59)), "0 phút");
        assert_eq!(duration_words(Duration::minutes(4)), "4 phút");
        assert_eq!(duration_words(Duration::minutes(59)), "59 phút");
        assert_eq!(duration_words(Duration::minutes(65)), "1 giờ 05 phút");
        assert_eq!(duration_words(Duration::minutes(-3)), "0 phút");
    }

    #[test]
    fn reopening_names_the_day_only_when_it_is_not_today() {
        let now = time::macros::datetime!(2026-11-26 12:00 +7);
        let after_lunch = time::macros::datetime!(2026-11-26 13:30 +7);
        let tomorrow = time::macros::datetime!(2026-11-27 07:30 +7);
        assert_eq!(reopening(after_lunch, now), "13:30");
        assert_eq!(reopening(tomorrow, now), "7:30 27/11");
    }

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
