//! WordPress date handling: responses carry site-local and GMT dates as
//! `YYYY-MM-DDTHH:MM:SS` without an offset; date filters such as
//! `modified_after` take RFC 3339 with an optional offset, and a naive value
//! is site-local time unless `dates_are_gmt` is set.

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};

/// Format an instant in `tz` the way the REST API renders dates.
pub fn format_local(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned_datetime(tz.clone())
        .datetime()
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Format an instant as a `*_gmt` field.
pub fn format_gmt(ts: Timestamp) -> String {
    format_local(ts, &TimeZone::UTC)
}

/// Parse a date filter value as WordPress's `rest_parse_date` accepts it:
/// `YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH:MM]` (a space may replace the `T`).
/// A value without offset is read in UTC when `dates_are_gmt`, otherwise in
/// the site's time zone. `None` for anything else (including date-only).
pub fn parse_filter_date(
    value: &str,
    dates_are_gmt: bool,
    site_tz: &TimeZone,
) -> Option<Timestamp> {
    let v = value.trim();
    if v.len() < 19 {
        return None;
    }
    let (head, tail) = v.split_at(19);
    let head = head.replacen(' ', "T", 1);
    let bytes = head.as_bytes();
    let shape_ok = bytes.iter().enumerate().all(|(i, b)| match i {
        4 | 7 => *b == b'-',
        10 => *b == b'T' || *b == b't',
        13 | 16 => *b == b':',
        _ => b.is_ascii_digit(),
    });
    if !shape_ok {
        return None;
    }
    let civil: DateTime = head.to_ascii_uppercase().parse().ok()?;
    let tail = match tail.strip_prefix('.') {
        Some(rest) => rest.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => tail,
    };
    let offset_secs = match tail {
        "" => None,
        "Z" | "z" => Some(0),
        t => Some(parse_offset(t)?),
    };
    match offset_secs {
        Some(secs) => {
            let utc = civil.to_zoned_datetime(TimeZone::UTC).ok()?.timestamp();
            Some(
                utc.checked_sub(jiff::SignedDuration::from_secs(secs))
                    .ok()?,
            )
        }
        None if dates_are_gmt => Some(civil.to_zoned_datetime(TimeZone::UTC).ok()?.timestamp()),
        None => Some(civil.to_zoned_datetime(site_tz.clone()).ok()?.timestamp()),
    }
}

fn parse_offset(t: &str) -> Option<i64> {
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = match rest.len() {
        2 => (rest, "00"),
        5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
        4 => (&rest[..2], &rest[2..]),
        _ => return None,
    };
    let h: i64 = h.parse().ok()?;
    let m: i64 = m.parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

/// The site's zone by IANA name.
pub fn site_zone(name: &str) -> Result<TimeZone, jiff::Error> {
    if name.eq_ignore_ascii_case("UTC") {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        site_zone("Europe/Berlin").unwrap()
    }

    #[test]
    fn renders_local_and_gmt_without_offset() {
        let ts: Timestamp = "2026-11-26T14:34:17Z".parse().unwrap();
        assert_eq!(format_local(ts, &berlin()), "2026-11-26T15:34:17");
        assert_eq!(format_gmt(ts), "2026-11-26T14:34:17");
    }

    #[test]
    fn naive_filter_is_site_local_unless_dates_are_gmt() {
        let local = parse_filter_date("2026-11-26T14:35:36", false, &berlin()).unwrap();
        assert_eq!(local.to_string(), "2026-11-26T13:35:36Z");
        let gmt = parse_filter_date("2026-11-26T14:35:36", true, &berlin()).unwrap();
        assert_eq!(gmt.to_string(), "2026-11-26T14:35:36Z");
    }

    #[test]
    fn explicit_offsets_win() {
        for v in [
            "2026-11-26T14:35:36Z",
            "2026-11-26T14:35:36+00:00",
            "2026-11-26T15:35:36+01:00",
        ] {
            let ts = parse_filter_date(v, false, &berlin()).unwrap();
            assert_eq!(ts.to_string(), "2026-11-26T14:35:36Z", "{v}");
        }
    }

    #[test]
    fn date_only_and_garbage_are_refused() {
        for v in [
            "2026-11-26",
            "yesterday",
            "2026-11-26T14:35",
            "2026-11-26T14:35:36+0x:00",
        ] {
            assert!(parse_filter_date(v, true, &berlin()).is_none(), "{v}");
        }
    }
}
