//! Wall-clock times as Lambda and CloudWatch Logs write them: milliseconds since the epoch, and
//! the UTC calendar date and time of day (without a date library).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since 1970-01-01 UTC, as CloudWatch Logs' timestamps count.
pub fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64)
}

/// A UTC date and time of day, to the millisecond.
pub struct UtcTime {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: u64,
    pub minute: u64,
    pub second: u64,
    pub millisecond: u32,
}

impl UtcTime {
    pub fn of(time: SystemTime) -> Self {
        let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let (days, seconds) = (since_epoch.as_secs() / 86_400, since_epoch.as_secs() % 86_400);
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month,
            day,
            hour: seconds / 3600,
            minute: seconds % 3600 / 60,
            second: seconds % 60,
            millisecond: since_epoch.subsec_millis(),
        }
    }
}

/// Days since 1970-01-01 of a UTC calendar date (the inverse of the civil date `UtcTime::of` finds).
pub const fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Today's UTC date as days since 1970-01-01.
pub fn today() -> i64 {
    (SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86_400) as i64
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        // 2024-02-29T23:59:58.250Z, a leap day.
        let time = UNIX_EPOCH + Duration::from_millis(1_709_251_198_250);
        let utc = UtcTime::of(time);
        assert_eq!((utc.year, utc.month, utc.day), (2024, 2, 29));
        assert_eq!((utc.hour, utc.minute, utc.second, utc.millisecond), (23, 59, 58, 250));
        assert_eq!(unix_millis(time), 1_709_251_198_250);
        assert_eq!(days_since_epoch(2024, 2, 29), 1_709_251_198 / 86_400);
        assert_eq!(days_since_epoch(1970, 1, 1), 0);
    }
}
