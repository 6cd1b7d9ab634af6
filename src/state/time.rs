//! Times of events: the server writes RFC 3339 in UTC (`2026-11-22T02:00:00.123456Z`). The
//! widget needs the instant (to group messages a few minutes apart) and the visitor's local
//! day (for day separators), computed here from the page's UTC offset so the rules stay plain
//! Rust; formatting for people is the browser's (`Intl`, in the components).

/// Seconds since the Unix epoch of an RFC 3339 time, `None` if it is not one. Fractions are
/// dropped; an offset other than `Z` is applied.
pub fn unix_seconds(rfc3339: &str) -> Option<i64> {
    let b = rfc3339.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> { rfc3339.get(range)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Skip a fraction, then read the offset.
    let mut rest = &rfc3339[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        rest = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[3..4], ":") => {
            let sign = match &rest[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            sign * (rest[1..3].parse::<i64>().ok()? * 3600 + rest[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The visitor's local day (days since 1970-01-01 in their time zone) of a Unix time, given
/// their offset from UTC in minutes (east positive: UTC+2 is 120).
pub fn local_day(unix_seconds: i64, utc_offset_minutes: i32) -> i64 {
    (unix_seconds + i64::from(utc_offset_minutes) * 60).div_euclid(86_400)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_times_and_offsets_are_read() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2026-11-22T02:00:00.123456Z"), Some(1_795_312_800));
        assert_eq!(unix_seconds("2026-11-22T03:00:00+01:00"), Some(1_795_312_800));
        assert_eq!(unix_seconds("2000-02-29T12:00:00Z"), Some(951_825_600));
        for bad in
            ["", "t", "2026-13-01T00:00:00Z", "2026-11-22 02:00", "2026-11-22T02:00:00+0100", "yyyy-mm-ddThh:mm:ssZ"]
        {
            assert_eq!(unix_seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_local_day_follows_the_visitor_s_time_zone() {
        let late_evening_utc = unix_seconds("2026-11-22T23:30:00Z").unwrap();
        let day = local_day(late_evening_utc, 0);
        assert_eq!(local_day(late_evening_utc, 60), day + 1, "already tomorrow in UTC+1");
        assert_eq!(local_day(late_evening_utc, -300), day, "still today in UTC-5");
        assert_eq!(local_day(-1, 0), -1, "before 1970 rounds down");
    }
}
