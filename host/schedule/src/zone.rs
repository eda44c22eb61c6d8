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
