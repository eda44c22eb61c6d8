//! The warehouse's carrier names -> the Shipment Tracking extension's
//! providers, and a tracking link for the customer.
//!
//! The extension keeps a provider as the slug of its name (`UPS` -> `ups`,
//! `DHL US` -> `dhl-us`); a carrier it does not know becomes a custom
//! provider with its own name and link. Advanced Shipment Tracking reads
//! the same entries.

/// A carrier the extension knows: the names a warehouse may type for it,
/// the extension's provider slug, and the carrier's tracking page.
struct KnownCarrier {
    names: &'static [&'static str],
    slug: &'static str,
    /// `{n}` is replaced by the tracking number.
    link: &'static str,
}

const CARRIERS: &[KnownCarrier] = &[
    KnownCarrier {
        names: &["ups", "united parcel service"],
        slug: "ups",
        link: "https://www.ups.com/track?tracknum={n}",
    },
    KnownCarrier {
        names: &["usps", "united states postal service", "us postal service"],
        slug: "usps",
        link: "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
    },
    KnownCarrier {
        names: &["fedex", "federal express"],
        slug: "fedex",
        link: "https://www.fedex.com/fedextrack/?trknbr={n}",
    },
    KnownCarrier {
        names: &["dhl", "dhl us", "dhl express"],
        slug: "dhl-us",
        link: "https://www.dhl.com/en/express/tracking.html?AWB={n}",
    },
    KnownCarrier {
        names: &["royal mail", "royalmail"],
        slug: "royal-mail",
        link: "https://www.royalmail.com/track-your-item#/tracking-results/{n}",
    },
    KnownCarrier {
        names: &["parcelforce", "parcel force"],
        slug: "parcelforce",
        link: "https://www.parcelforce.com/track-trace?trackNumber={n}",
    },
    KnownCarrier {
        names: &["canada post", "canadapost"],
        slug: "canada-post",
        link: "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={n}",
    },
    KnownCarrier {
        names: &["australia post", "auspost"],
        slug: "australia-post",
        link: "https://auspost.com.au/mypost/track/#/details/{n}",
    },
    KnownCarrier {
        names: &["postnl"],
        slug: "postnl",
        link: "https://postnl.nl/tracktrace/?B={n}",
    },
    KnownCarrier {
        names: &["ontrac"],
        slug: "ontrac",
        link: "https://www.ontrac.com/tracking/?number={n}",
    },
];

/// How a shipment's carrier is told to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    /// The extension's provider slug; `None`: a custom provider.
    pub slug: Option<&'static str>,
    /// The carrier's name as the warehouse gave it.
    pub name: String,
    /// Where the customer follows the parcel (empty when unknown).
    pub tracking_link: String,
}

/// The provider of a carrier name, with the link for this tracking number.
pub fn provider(carrier: &str, tracking_number: &str) -> Provider {
    let wanted = carrier.trim().to_lowercase();
    let known = CARRIERS.iter().find(|c| c.names.contains(&wanted.as_str()));
    Provider {
        slug: known.map(|c| c.slug),
        name: carrier.trim().to_owned(),
        tracking_link: known.map_or_else(String::new, |c| {
            c.link.replace("{n}", &url_escape(tracking_number.trim()))
        }),
    }
}

/// Tracking numbers are letters and digits; anything else is escaped.
fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_carriers_map_to_the_extensions_slugs() {
        let ups = provider(" UPS ", "1Z999");
        assert_eq!(ups.slug, Some("ups"));
        assert_eq!(
            ups.tracking_link,
            "https://www.ups.com/track?tracknum=1Z999"
        );
        assert_eq!(provider("FedEx", "1").slug, Some("fedex"));
        assert_eq!(provider("dhl", "1").slug, Some("dhl-us"));
        assert_eq!(
            provider("USPS", "9400 1").tracking_link,
            "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400%201"
        );
        let own = provider("Rig Freight", "RF-1");
        assert_eq!(
            (own.slug, own.name.as_str(), own.tracking_link.as_str()),
            (None, "Rig Freight", "")
        );
    }
}
