//! The site's time zone: the zone every local time in the settings is read
//! in.

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::SettingsError;

/// The site's time zone, by IANA name (`Europe/Berlin`).
///
/// Names are resolved in jiff's global database: the system's
/// `/usr/share/zoneinfo` where it exists, else the copy bundled into the
/// binary, so every name resolves on a machine without tzdata too.
/// Serialized as its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteTimeZone {
    name: String,
    zone: TimeZone,
}

impl SiteTimeZone {
    /// The zone called `name`, an IANA name in any case.
    pub fn named(name: &str) -> Result<Self, SettingsError> {
        let unknown = || SettingsError::UnknownTimeZone(name.to_owned());
        let zone = jiff::tz::db().get(name.trim()).map_err(|_| unknown())?;
        let name = zone.iana_name().ok_or_else(unknown)?.to_owned();
        Ok(SiteTimeZone { name, zone })
    }

    /// The machine's own time zone, the default for a new site.
    ///
    /// This reads the environment (`TZ`, `/etc/localtime`); it is the one
    /// function in this crate that does, and the host calls it once, when no
    /// zone is stored yet. Fails when the system zone is unknown or has no
    /// IANA name; the host may then fall back to [`SiteTimeZone::utc`].
    pub fn system() -> Result<Self, SettingsError> {
        let zone =
            TimeZone::try_system().map_err(|err| SettingsError::SystemTimeZone(err.to_string()))?;
        let name = zone.iana_name().ok_or_else(|| {
            SettingsError::SystemTimeZone("the system time zone has no IANA name".to_owned())
        })?;
        SiteTimeZone::named(name)
    }

    /// UTC.
    pub fn utc() -> Self {
        SiteTimeZone {
            name: "UTC".to_owned(),
            zone: TimeZone::UTC,
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }
}

impl FromStr for SiteTimeZone {
    type Err = SettingsError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        SiteTimeZone::named(name)
    }
}

impl TryFrom<String> for SiteTimeZone {
    type Error = SettingsError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        SiteTimeZone::named(&name)
    }
}

impl From<SiteTimeZone> for String {
    fn from(zone: SiteTimeZone) -> String {
        zone.name
    }
}

impl fmt::Display for SiteTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_resolve_in_any_case() {
        let zone = SiteTimeZone::named("america/new_york").unwrap();
        assert_eq!(zone.name(), "America/New_York");
        assert_eq!(zone.to_string(), "America/New_York");
        assert_eq!(
            "Europe/Berlin".parse::<SiteTimeZone>().unwrap().name(),
            "Europe/Berlin"
        );
    }

    #[test]
    fn unknown_names_are_refused_with_the_name() {
        let err = SiteTimeZone::named("Mars/Olympus_Mons").unwrap_err();
        assert_eq!(
            err,
            SettingsError::UnknownTimeZone("Mars/Olympus_Mons".to_owned())
        );
        assert_eq!(
            err.to_string(),
            "unknown time zone \"Mars/Olympus_Mons\": expected an IANA name such as \
             Europe/Berlin or America/New_York"
        );
    }

    #[test]
    fn zone_is_stored_as_its_name() {
        let zone = SiteTimeZone::named("Europe/Berlin").unwrap();
        let json = serde_json::to_string(&zone).unwrap();
        assert_eq!(json, r#""Europe/Berlin""#);
        assert_eq!(serde_json::from_str::<SiteTimeZone>(&json).unwrap(), zone);
        assert!(serde_json::from_str::<SiteTimeZone>(r#""Nowhere/Land""#).is_err());
    }

    #[test]
    fn bundled_database_backs_machines_without_tzdata() {
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        for name in ["America/New_York", "Europe/Berlin"] {
            assert_eq!(bundled.get(name).unwrap().iana_name(), Some(name));
        }
    }

    #[test]
    fn utc_is_a_named_zone() {
        assert_eq!(SiteTimeZone::utc().name(), "UTC");
        assert_eq!(SiteTimeZone::named("utc").unwrap(), SiteTimeZone::utc());
    }

    #[test]
    fn system_zone_is_either_a_known_zone_or_a_clear_error() {
        match SiteTimeZone::system() {
            Ok(zone) => assert_eq!(SiteTimeZone::named(zone.name()).unwrap(), zone),
            Err(err) => assert!(matches!(err, SettingsError::SystemTimeZone(_)), "{err}"),
        }
    }
}
