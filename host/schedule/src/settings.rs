//! The per-plugin schedule settings and the value forms the CLI and the
//! admin page read and write.
//!
//! Every type here is valid by construction: parsing and deserializing go
//! through the same checks, so a stored setting can never hold a value the
//! rules cannot use.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Time;
use serde::{Deserialize, Serialize};

use crate::SettingsError;

/// The longest Sync Interval: one day.
pub const MAX_INTERVAL_MINUTES: u16 = 1440;

/// A Sync Interval length: a whole number of minutes from 1 to
/// [`MAX_INTERVAL_MINUTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct IntervalMinutes(u16);

impl IntervalMinutes {
    /// The length remembered for a new plugin, used when its interval is
    /// first turned on without a length.
    pub const DEFAULT: IntervalMinutes = IntervalMinutes(15);

    /// Checks that `minutes` is from 1 to [`MAX_INTERVAL_MINUTES`].
    pub fn new(minutes: u16) -> Result<Self, SettingsError> {
        if (1..=MAX_INTERVAL_MINUTES).contains(&minutes) {
            Ok(IntervalMinutes(minutes))
        } else {
            Err(SettingsError::Interval(minutes.to_string()))
        }
    }

    /// The length in minutes.
    pub fn get(self) -> u16 {
        self.0
    }

    pub(crate) fn duration(self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_mins(i64::from(self.0))
    }
}

impl TryFrom<u16> for IntervalMinutes {
    type Error = SettingsError;

    fn try_from(minutes: u16) -> Result<Self, Self::Error> {
        IntervalMinutes::new(minutes)
    }
}

impl From<IntervalMinutes> for u16 {
    fn from(minutes: IntervalMinutes) -> u16 {
        minutes.0
    }
}

impl fmt::Display for IntervalMinutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The value of the CLI's `--interval MINUTES|off`: what the user asks the
/// Sync Interval to become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntervalChoice {
    /// Turn automatic syncing off; the length is remembered.
    Off,
    /// Turn automatic syncing on, every so many minutes.
    Every(IntervalMinutes),
}

impl FromStr for IntervalChoice {
    type Err = SettingsError;

    /// Parses `off` (any case) or a whole number of minutes from 1 to 1440.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("off") {
            return Ok(IntervalChoice::Off);
        }
        let invalid = || SettingsError::Interval(text.to_owned());
        if !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let minutes: u16 = trimmed.parse().map_err(|_| invalid())?;
        IntervalMinutes::new(minutes)
            .map(IntervalChoice::Every)
            .map_err(|_| invalid())
    }
}

impl fmt::Display for IntervalChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntervalChoice::Off => f.write_str("off"),
            IntervalChoice::Every(minutes) => write!(f, "{minutes}"),
        }
    }
}

/// The Sync Interval setting: on or off, and a length that is kept while it
/// is off so that turning it back on restores the user's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncInterval {
    /// Whether sync-interval jobs run on schedule at all.
    pub enabled: bool,
    /// How often they run while enabled.
    pub minutes: IntervalMinutes,
}

impl SyncInterval {
    /// Applies the user's choice: `Off` keeps the length, `Every` sets it and
    /// turns the interval on.
    pub fn apply(&mut self, choice: IntervalChoice) {
        match choice {
            IntervalChoice::Off => self.enabled = false,
            IntervalChoice::Every(minutes) => {
                self.enabled = true;
                self.minutes = minutes;
            }
        }
    }

    /// The setting in the CLI's value form.
    pub fn choice(self) -> IntervalChoice {
        if self.enabled {
            IntervalChoice::Every(self.minutes)
        } else {
            IntervalChoice::Off
        }
    }

    /// The interval length while it is on, `None` while it is off.
    pub fn active(self) -> Option<IntervalMinutes> {
        self.enabled.then_some(self.minutes)
    }
}

impl Default for SyncInterval {
    /// Off, remembering [`IntervalMinutes::DEFAULT`].
    fn default() -> Self {
        SyncInterval {
            enabled: false,
            minutes: IntervalMinutes::DEFAULT,
        }
    }
}

impl fmt::Display for SyncInterval {
    /// `off` or the number of minutes, the form `--interval` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.choice().fmt(f)
    }
}

/// A local wall-clock time with minute precision, written `HH:MM` on a
/// 24-hour clock (`00:00` to `23:59`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(Time);

impl TimeOfDay {
    /// The time `hour:minute`; `hour` from 0 to 23, `minute` from 0 to 59.
    pub fn new(hour: u8, minute: u8) -> Result<Self, SettingsError> {
        let invalid = || SettingsError::TimeOfDay(format!("{hour:02}:{minute:02}"));
        let hour = i8::try_from(hour).map_err(|_| invalid())?;
        let minute = i8::try_from(minute).map_err(|_| invalid())?;
        Time::new(hour, minute, 0, 0)
            .map(TimeOfDay)
            .map_err(|_| invalid())
    }

    /// The hour, 0 to 23.
    pub fn hour(self) -> u8 {
        self.0.hour().unsigned_abs()
    }

    /// The minute, 0 to 59.
    pub fn minute(self) -> u8 {
        self.0.minute().unsigned_abs()
    }

    pub(crate) fn time(self) -> Time {
        self.0
    }
}

impl FromStr for TimeOfDay {
    type Err = SettingsError;

    /// Parses `HH:MM` or `H:MM`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || SettingsError::TimeOfDay(text.to_owned());
        let (hour, minute) = text.trim().split_once(':').ok_or_else(invalid)?;
        let hour = digits(hour, 1..=2).ok_or_else(invalid)?;
        let minute = digits(minute, 2..=2).ok_or_else(invalid)?;
        TimeOfDay::new(hour, minute).map_err(|_| invalid())
    }
}

/// `part` as a number, if it is made of ASCII digits only and its length is
/// in `len`.
fn digits(part: &str, len: std::ops::RangeInclusive<usize>) -> Option<u8> {
    let well_formed = len.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
    well_formed.then(|| part.parse().ok()).flatten()
}

impl TryFrom<String> for TimeOfDay {
    type Error = SettingsError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<TimeOfDay> for String {
    fn from(time: TimeOfDay) -> String {
        time.to_string()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

/// The Sync Time Range: the part of each local day in which sync-interval
/// jobs may run.
///
/// A bounded range includes its start and excludes its end, so
/// `08:00-18:00` lets a run start at 08:00 and at 17:59 but not at 18:00,
/// and back-to-back ranges never overlap. A range whose end is earlier than
/// its start wraps past midnight: `22:00-06:00` is 22:00 to 23:59 and 00:00
/// to 05:59. Start and end may not be equal; the whole day is
/// [`TimeRange::ALL_DAY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeRange {
    /// The first minute inside the range and the first minute after it;
    /// never equal. `None` is all day.
    bounds: Option<(TimeOfDay, TimeOfDay)>,
}

impl TimeRange {
    /// No limit: every minute of the day.
    pub const ALL_DAY: TimeRange = TimeRange { bounds: None };

    /// The range from `start` (inclusive) to `end` (exclusive), wrapping
    /// past midnight when `end` is earlier than `start`.
    pub fn between(start: TimeOfDay, end: TimeOfDay) -> Result<Self, SettingsError> {
        if start == end {
            Err(SettingsError::EmptyTimeRange(start))
        } else {
            Ok(TimeRange {
                bounds: Some((start, end)),
            })
        }
    }

    /// The first minute inside the range, `None` for all day.
    pub fn start(self) -> Option<TimeOfDay> {
        self.bounds.map(|(start, _)| start)
    }

    /// The first minute after the range, `None` for all day.
    pub fn end(self) -> Option<TimeOfDay> {
        self.bounds.map(|(_, end)| end)
    }

    /// Whether a run may start at local time `time`.
    pub fn contains(self, time: Time) -> bool {
        match self.bounds {
            None => true,
            Some((start, end)) if start < end => start.time() <= time && time < end.time(),
            Some((start, end)) => start.time() <= time || time < end.time(),
        }
    }
}

impl Default for TimeRange {
    /// All day.
    fn default() -> Self {
        TimeRange::ALL_DAY
    }
}

impl FromStr for TimeRange {
    type Err = SettingsError;

    /// Parses `HH:MM-HH:MM`, or `all-day` (any case) or an empty string for
    /// the whole day.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("all-day") {
            return Ok(TimeRange::ALL_DAY);
        }
        let invalid = || SettingsError::TimeRange(text.to_owned());
        let (start, end) = trimmed.split_once('-').ok_or_else(invalid)?;
        let start: TimeOfDay = start.parse().map_err(|_| invalid())?;
        let end: TimeOfDay = end.parse().map_err(|_| invalid())?;
        TimeRange::between(start, end)
    }
}

impl TryFrom<String> for TimeRange {
    type Error = SettingsError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<TimeRange> for String {
    fn from(range: TimeRange) -> String {
        range.to_string()
    }
}

impl fmt::Display for TimeRange {
    /// `all-day` or `HH:MM-HH:MM`, the form `--time-range` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bounds {
            None => f.write_str("all-day"),
            Some((start, end)) => write!(f, "{start}-{end}"),
        }
    }
}

/// One plugin's schedule settings, owned and stored by the host.
///
/// Stored as JSON like
/// `{"interval":{"enabled":false,"minutes":15},"time_range":"all-day","end_of_day":"23:00"}`;
/// deserializing runs the same checks as parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleSettings {
    /// The Sync Interval.
    pub interval: SyncInterval,
    /// The Sync Time Range.
    pub time_range: TimeRange,
    /// The End of Day time.
    pub end_of_day: TimeOfDay,
}

impl ScheduleSettings {
    /// The End of Day time of a new plugin: late in the evening, after the
    /// warehouse's day is done and before the date changes.
    pub const DEFAULT_END_OF_DAY: TimeOfDay = TimeOfDay(jiff::civil::time(23, 0, 0, 0));
}

impl Default for ScheduleSettings {
    /// A new plugin: interval off (15 minutes remembered), all day, End of
    /// Day at 23:00.
    fn default() -> Self {
        ScheduleSettings {
            interval: SyncInterval::default(),
            time_range: TimeRange::ALL_DAY,
            end_of_day: Self::DEFAULT_END_OF_DAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> TimeOfDay {
        text.parse().expect("valid time of day")
    }

    #[test]
    fn interval_parses_minutes_and_off() {
        assert_eq!("off".parse(), Ok(IntervalChoice::Off));
        assert_eq!(" OFF ".parse(), Ok(IntervalChoice::Off));
        assert_eq!(
            "15".parse(),
            Ok(IntervalChoice::Every(IntervalMinutes::new(15).unwrap()))
        );
        assert_eq!("1".parse::<IntervalChoice>().unwrap().to_string(), "1");
        assert_eq!(
            "1440".parse::<IntervalChoice>().unwrap().to_string(),
            "1440"
        );
    }

    #[test]
    fn interval_refuses_out_of_range_and_non_numbers() {
        for text in ["0", "1441", "-5", "+5", "15m", "1.5", "", "on", "99999999"] {
            let err = text.parse::<IntervalChoice>().unwrap_err();
            assert_eq!(err, SettingsError::Interval(text.to_owned()));
            assert!(
                err.to_string().starts_with(
                    "interval must be a whole number of minutes from 1 to 1440, or off"
                ),
                "{err}"
            );
        }
        assert!(IntervalMinutes::new(0).is_err());
        assert!(IntervalMinutes::new(1441).is_err());
    }

    #[test]
    fn interval_off_remembers_the_length() {
        let mut interval = SyncInterval::default();
        assert_eq!(interval.to_string(), "off");
        assert_eq!(interval.active(), None);

        interval.apply("30".parse().unwrap());
        assert_eq!(interval.active(), IntervalMinutes::new(30).ok());
        assert_eq!(interval.to_string(), "30");

        interval.apply(IntervalChoice::Off);
        assert_eq!(interval.active(), None);
        assert_eq!(interval.minutes.get(), 30);
    }

    #[test]
    fn time_of_day_parses_and_displays_hh_mm() {
        assert_eq!(time("00:00").to_string(), "00:00");
        assert_eq!(time("7:05").to_string(), "07:05");
        assert_eq!(time("23:59").to_string(), "23:59");
        assert_eq!((time("22:30").hour(), time("22:30").minute()), (22, 30));
    }

    #[test]
    fn time_of_day_refuses_malformed_text() {
        for text in [
            "24:00", "12:60", "12", "12:5", "123:00", "12:00:00", "ab:cd", "", "-1:00",
        ] {
            let err = text.parse::<TimeOfDay>().unwrap_err();
            assert_eq!(err, SettingsError::TimeOfDay(text.to_owned()));
            assert!(
                err.to_string().starts_with("time of day must be HH:MM"),
                "{err}"
            );
        }
        assert!(TimeOfDay::new(24, 0).is_err());
        assert!(TimeOfDay::new(0, 60).is_err());
    }

    #[test]
    fn time_range_parses_all_day_and_bounds() {
        assert_eq!("all-day".parse(), Ok(TimeRange::ALL_DAY));
        assert_eq!("".parse(), Ok(TimeRange::ALL_DAY));
        assert_eq!(
            "08:00-18:00".parse(),
            TimeRange::between(time("08:00"), time("18:00"))
        );
        assert_eq!(
            "22:00-6:00".parse::<TimeRange>().unwrap().to_string(),
            "22:00-06:00"
        );
        assert_eq!(TimeRange::ALL_DAY.to_string(), "all-day");
    }

    #[test]
    fn time_range_refuses_malformed_and_empty_ranges() {
        for text in [
            "08:00",
            "08:00-",
            "8-18",
            "08:00-24:00",
            "08:00 to 18:00",
            "all day",
        ] {
            let err = text.parse::<TimeRange>().unwrap_err();
            assert_eq!(err, SettingsError::TimeRange(text.to_owned()));
            assert!(
                err.to_string()
                    .starts_with("time range must be HH:MM-HH:MM"),
                "{err}"
            );
        }
        let err = "09:00-09:00".parse::<TimeRange>().unwrap_err();
        assert_eq!(err, SettingsError::EmptyTimeRange(time("09:00")));
        assert_eq!(
            err.to_string(),
            "time range starts and ends at 09:00; use all-day for the whole day"
        );
    }

    #[test]
    fn bounded_range_includes_its_start_and_excludes_its_end() {
        let range: TimeRange = "08:00-18:00".parse().unwrap();
        assert!(!range.contains(jiff::civil::time(7, 59, 59, 999_999_999)));
        assert!(range.contains(jiff::civil::time(8, 0, 0, 0)));
        assert!(range.contains(jiff::civil::time(17, 59, 59, 0)));
        assert!(!range.contains(jiff::civil::time(18, 0, 0, 0)));
    }

    #[test]
    fn range_ending_before_its_start_wraps_past_midnight() {
        let range: TimeRange = "22:00-06:00".parse().unwrap();
        assert!(range.contains(jiff::civil::time(22, 0, 0, 0)));
        assert!(range.contains(jiff::civil::time(23, 59, 0, 0)));
        assert!(range.contains(jiff::civil::time(0, 0, 0, 0)));
        assert!(range.contains(jiff::civil::time(5, 59, 0, 0)));
        assert!(!range.contains(jiff::civil::time(6, 0, 0, 0)));
        assert!(!range.contains(jiff::civil::time(12, 0, 0, 0)));
        assert!(!range.contains(jiff::civil::time(21, 59, 0, 0)));
    }

    #[test]
    fn all_day_contains_every_time() {
        assert!(TimeRange::ALL_DAY.contains(jiff::civil::time(0, 0, 0, 0)));
        assert!(TimeRange::ALL_DAY.contains(jiff::civil::time(23, 59, 59, 0)));
    }

    #[test]
    fn new_plugin_defaults_to_interval_off_all_day_end_of_day_23() {
        let settings = ScheduleSettings::default();
        assert_eq!(settings.interval.active(), None);
        assert_eq!(settings.interval.minutes.get(), 15);
        assert_eq!(settings.time_range, TimeRange::ALL_DAY);
        assert_eq!(settings.end_of_day.to_string(), "23:00");
    }

    #[test]
    fn settings_round_trip_through_json() {
        let settings = ScheduleSettings {
            interval: SyncInterval {
                enabled: true,
                minutes: IntervalMinutes::new(20).unwrap(),
            },
            time_range: "22:00-06:00".parse().unwrap(),
            end_of_day: time("21:30"),
        };
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(
            json,
            r#"{"interval":{"enabled":true,"minutes":20},"time_range":"22:00-06:00","end_of_day":"21:30"}"#
        );
        assert_eq!(
            serde_json::from_str::<ScheduleSettings>(&json).unwrap(),
            settings
        );
    }

    #[test]
    fn invalid_stored_settings_are_refused() {
        let bad = [
            r#"{"interval":{"enabled":true,"minutes":0},"time_range":"all-day","end_of_day":"23:00"}"#,
            r#"{"interval":{"enabled":true,"minutes":15},"time_range":"10:00-10:00","end_of_day":"23:00"}"#,
            r#"{"interval":{"enabled":true,"minutes":15},"time_range":"all-day","end_of_day":"25:00"}"#,
        ];
        for json in bad {
            assert!(
                serde_json::from_str::<ScheduleSettings>(json).is_err(),
                "{json}"
            );
        }
    }
}
