//! The WooCommerce Shipment Tracking extension's rules, as its
//! `WC_Shipment_Tracking_Actions` (2.x) and
//! `WC_Shipment_Tracking_Order_REST_API_Controller` do them: trackings are a
//! list in the order meta `_wc_shipment_tracking_items`, each
//! `{tracking_provider, custom_tracking_provider, custom_tracking_link,
//! tracking_number, date_shipped, tracking_id}`; the routes read and write
//! that meta. A known provider is stored as `sanitize_title` of the name
//! sent ("UPS" → `ups`) and shown under its listed name with its listed
//! link; a custom one shows its own name and link. The built-in provider
//! list is the extension's `get_providers()`.
//!
//! Also the WordPress helpers it leans on: `sanitize_title`,
//! `sanitize_text_field` (`wc_clean`), the `strtotime` forms a date is
//! usually sent in, PHP's `sprintf` for link templates.

use crate::api::php_truthy;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::model::{Order, Tracking};

/// The order meta key the extension keeps its items under.
pub const META_KEY: &str = "_wc_shipment_tracking_items";

/// `WC_Shipment_Tracking_Actions::get_providers()`: country → provider
/// name → link template (`%1$s` tracking number, `%2$s` postcode, `%3$s`
/// country), in the extension's order.
pub const PROVIDERS: &[(&str, &[(&str, &str)])] = &[
    (
        "Australia",
        &[
            (
                "Australia Post",
                "https://auspost.com.au/mypost/track/#/details/%1$s",
            ),
            (
                "Fastway Couriers",
                "https://www.fastway.com.au/tools/track/?l=%1$s",
            ),
        ],
    ),
    (
        "Austria",
        &[
            ("post.at", "https://www.post.at/sv/sendungsdetails?snr=%1$s"),
            (
                "dhl.at",
                "https://www.dhl.at/content/at/de/express/sendungsverfolgung.html?brand=DHL&AWB=%1$s",
            ),
            (
                "DPD.at",
                "https://tracking.dpd.de/parcelstatus?locale=de_AT&query=%1$s",
            ),
        ],
    ),
    (
        "Brazil",
        &[(
            "Correios",
            "http://websro.correios.com.br/sro_bin/txect01$.QueryList?P_LINGUA=001&P_TIPO=001&P_COD_UNI=%1$s",
        )],
    ),
    (
        "Belgium",
        &[(
            "bpost",
            "https://track.bpost.be/btr/web/#/search?itemCode=%1$s",
        )],
    ),
    (
        "Canada",
        &[
            (
                "Canada Post",
                "https://www.canadapost-postescanada.ca/track-reperage/en#/resultList?searchFor=%1$s",
            ),
            (
                "Purolator",
                "https://www.purolator.com/purolator/ship-track/tracking-summary.page?pin=%1$s",
            ),
        ],
    ),
    (
        "Czech Republic",
        &[
            (
                "PPL.cz",
                "https://www.ppl.cz/main2.aspx?cls=Package&idSearch=%1$s",
            ),
            (
                "Česká pošta",
                "https://www.postaonline.cz/trackandtrace/-/zasilka/cislo?parcelNumbers=%1$s",
            ),
            (
                "DHL.cz",
                "https://www.dhl.cz/cs/express/sledovani_zasilek.html?AWB=%1$s",
            ),
            (
                "DPD.cz",
                "https://tracking.dpd.de/parcelstatus?locale=cs_CZ&query=%1$s",
            ),
        ],
    ),
    (
        "Finland",
        &[(
            "Itella",
            "https://www.posti.fi/itemtracking/posti/search_by_shipment_id?lang=en&ShipmentId=%1$s",
        )],
    ),
    (
        "France",
        &[(
            "Colissimo",
            "https://www.laposte.fr/outils/suivre-vos-envois?code=%1$s",
        )],
    ),
    (
        "Germany",
        &[
            (
                "DHL Intraship (DE)",
                "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?lang=de&idc=%1$s&rfn=&extendedSearch=true",
            ),
            (
                "Hermes",
                "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation/#%1$s",
            ),
            (
                "Deutsche Post DHL",
                "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?lang=de&idc=%1$s",
            ),
            (
                "UPS Germany",
                "https://wwwapps.ups.com/WebTracking?sort_by=status&tracknums_displayed=1&TypeOfInquiryNumber=T&loc=de_DE&InquiryNumber1=%1$s",
            ),
            (
                "DPD.de",
                "https://tracking.dpd.de/parcelstatus?query=%1$s&locale=en_DE",
            ),
        ],
    ),
    (
        "Ireland",
        &[
            (
                "DPD.ie",
                "https://dpd.ie/tracking?deviceType=5&consignmentNumber=%1$s",
            ),
            (
                "An Post",
                "https://track.anpost.ie/TrackingResults.aspx?rtt=1&items=%1$s",
            ),
        ],
    ),
    (
        "Italy",
        &[
            (
                "BRT (Bartolini)",
                "https://as777.brt.it/vas/sped_det_show.hsm?referer=sped_numspe_par.htm&Nspediz=%1$s",
            ),
            (
                "DHL Express",
                "https://www.dhl.it/it/express/ricerca.html?AWB=%1$s&brand=DHL",
            ),
        ],
    ),
    (
        "India",
        &[(
            "DTDC",
            "https://www.dtdc.in/tracking/tracking_results.asp?Ttype=awb_no&strCnno=%1$s&TrkType2=awb_no",
        )],
    ),
    (
        "Netherlands",
        &[
            (
                "PostNL",
                "https://postnl.nl/tracktrace/?B=%1$s&P=%2$s&D=%3$s&T=C",
            ),
            ("DPD.NL", "https://tracking.dpd.de/status/en_US/parcel/%1$s"),
            (
                "UPS Netherlands",
                "https://wwwapps.ups.com/WebTracking?sort_by=status&tracknums_displayed=1&TypeOfInquiryNumber=T&loc=nl_NL&InquiryNumber1=%1$s",
            ),
        ],
    ),
    (
        "New Zealand",
        &[
            (
                "Courier Post",
                "https://trackandtrace.courierpost.co.nz/Search/%1$s",
            ),
            (
                "NZ Post",
                "https://www.nzpost.co.nz/tools/tracking?trackid=%1$s",
            ),
            ("Aramex", "https://www.aramex.co.nz/tools/track?l=%1$s"),
            (
                "PBT Couriers",
                "http://www.pbt.com/nick/results.cfm?ticketNo=%1$s",
            ),
        ],
    ),
    (
        "Poland",
        &[
            (
                "InPost",
                "https://inpost.pl/sledzenie-przesylek?number=%1$s",
            ),
            (
                "DPD.PL",
                "https://tracktrace.dpd.com.pl/parcelDetails?p1=%1$s",
            ),
            (
                "Poczta Polska",
                "https://emonitoring.poczta-polska.pl/?numer=%1$s",
            ),
        ],
    ),
    (
        "Romania",
        &[
            (
                "Fan Courier",
                "https://www.fancourier.ro/awb-tracking/?xawb=%1$s",
            ),
            (
                "DPD Romania",
                "https://tracking.dpd.de/parcelstatus?query=%1$s&locale=ro_RO",
            ),
            (
                "Urgent Cargus",
                "https://app.urgentcargus.ro/Private/Tracking.aspx?CodBara=%1$s",
            ),
        ],
    ),
    (
        "South African",
        &[
            (
                "SAPO",
                "http://sms.postoffice.co.za/TrackingParcels/Parcel.aspx?id=%1$s",
            ),
            (
                "Fastway",
                "https://fastway.co.za/our-services/track-your-parcel?l=%1$s",
            ),
        ],
    ),
    (
        "Sweden",
        &[
            (
                "PostNord Sverige AB",
                "https://portal.postnord.com/tracking/details/%1$s",
            ),
            (
                "DHL.se",
                "https://www.dhl.com/se-sv/home/tracking.html?submit=1&tracking-id=%1$s",
            ),
            ("Bring.se", "https://tracking.bring.se/tracking/%1$s"),
            (
                "UPS.se",
                "https://www.ups.com/track?loc=sv_SE&tracknum=%1$s&requester=WT/",
            ),
            (
                "DB Schenker",
                "http://privpakportal.schenker.nu/TrackAndTrace/packagesearch.aspx?packageId=%1$s",
            ),
        ],
    ),
    (
        "United Kingdom",
        &[
            (
                "DHL",
                "https://www.dhl.com/content/g0/en/express/tracking.shtml?brand=DHL&AWB=%1$s",
            ),
            (
                "DPD.co.uk",
                "https://www.dpd.co.uk/apps/tracking/?reference=%1$s#results",
            ),
            (
                "DPD Local",
                "https://apis.track.dpdlocal.co.uk/v1/track?postcode=%2$s&parcel=%1$s",
            ),
            ("EVRi", "https://www.evri.com/track/parcel/%1$s"),
            (
                "EVRi (international)",
                "https://international.evri.com/tracking/%1$s",
            ),
            (
                "ParcelForce",
                "https://www.parcelforce.com/track-trace?trackNumber=%1$s",
            ),
            (
                "Royal Mail",
                "https://www3.royalmail.com/track-your-item#/tracking-results/%1$s",
            ),
            (
                "TNT Express (consignment)",
                "https://www.tnt.com/express/en_gb/site/shipping-tools/tracking.html?searchType=con&cons=%1$s",
            ),
            (
                "TNT Express (reference)",
                "https://www.tnt.com/express/en_gb/site/shipping-tools/tracking.html?searchType=ref&cons=%1$s",
            ),
            ("DHL Parcel UK", "https://track.dhlparcel.co.uk/?con=%1$s"),
        ],
    ),
    (
        "United States",
        &[
            (
                "DHL US",
                "https://www.logistics.dhl/us-en/home/tracking/tracking-ecommerce.html?tracking-id=%1$s",
            ),
            (
                "DHL eCommerce",
                "https://webtrack.dhlecs.com/orders?trackingNumber=%1$s",
            ),
            (
                "Fedex",
                "https://www.fedex.com/apps/fedextrack/?action=track&action=track&tracknumbers=%1$s",
            ),
            (
                "FedEx Sameday",
                "https://www.fedexsameday.com/fdx_dotracking_ua.aspx?tracknum=%1$s",
            ),
            (
                "GlobalPost",
                "https://www.goglobalpost.com/track-detail/?t=%1$s",
            ),
            ("OnTrac", "https://www.ontrac.com/tracking/?number=%1$s"),
            ("UPS", "https://www.ups.com/track?loc=en_US&tracknum=%1$s"),
            (
                "USPS",
                "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=%1$s",
            ),
        ],
    ),
];

/// The `providers` routes' answer: `{country: {name: link template}}`.
pub fn providers() -> Value {
    Value::Object(
        PROVIDERS
            .iter()
            .map(|(country, list)| {
                let inner: Map<String, Value> = list
                    .iter()
                    .map(|(name, url)| ((*name).to_owned(), json!(url)))
                    .collect();
                ((*country).to_owned(), Value::Object(inner))
            })
            .collect(),
    )
}

/// The items an order's meta value holds (`get_tracking_items`): the
/// entries of a list (or of a PHP array shown as an object); anything else
/// holds none. Entries that are not objects are skipped.
pub fn items(meta_value: Option<&Value>) -> Vec<Map<String, Value>> {
    let entries: Vec<&Value> = match meta_value {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(Value::Object(map)) => map.values().collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|e| e.as_object().cloned())
        .collect()
}

/// What a tracking POST asks for, after the REST layer (`wc_clean`,
/// `sanitize_title` of the provider).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewTracking {
    /// `sanitize_title` of the provider sent ("" when none).
    pub tracking_provider: String,
    pub custom_tracking_provider: String,
    pub custom_tracking_link: String,
    pub tracking_number: String,
    /// `date_shipped` as sent (after `wc_clean`).
    pub date_shipped: String,
}

impl NewTracking {
    /// Read a POST body (strings, numbers as PHP casts them; anything else
    /// is treated as not sent).
    pub fn from_params(param: impl Fn(&str) -> Option<Value>) -> Self {
        let text = |k: &str| {
            param(k)
                .map(|v| clean_text(&php_string(&v)))
                .unwrap_or_default()
        };
        Self {
            tracking_provider: sanitize_title(&text("tracking_provider")),
            custom_tracking_provider: text("custom_tracking_provider"),
            custom_tracking_link: text("custom_tracking_link"),
            tracking_number: text("tracking_number"),
            date_shipped: text("date_shipped"),
        }
    }

    /// The item `add_tracking_item` stores: `date_shipped` is
    /// `strtotime(date_shipped)` as a string, or — when that is no date to
    /// `strtotime`, a bare unix timestamp included — the time of the
    /// request as a number; `tracking_id` is the 32-hex-digit `id`.
    pub fn into_item(self, now: Timestamp, id: String) -> Map<String, Value> {
        let date_shipped = match strtotime(&self.date_shipped, now) {
            Some(t) if t != 0 => json!(t.to_string()),
            _ => json!(now.as_second()),
        };
        let mut item = Map::new();
        item.insert("tracking_provider".into(), json!(self.tracking_provider));
        item.insert(
            "custom_tracking_provider".into(),
            json!(self.custom_tracking_provider),
        );
        item.insert(
            "custom_tracking_link".into(),
            json!(self.custom_tracking_link),
        );
        item.insert("tracking_number".into(), json!(self.tracking_number));
        item.insert("date_shipped".into(), date_shipped);
        item.insert("tracking_id".into(), json!(id));
        item
    }
}

/// `get_formatted_tracking_item`: the provider name and link shown for an
/// item of `order`.
pub fn formatted(item: &Map<String, Value>, order: &Order) -> (Value, String) {
    let postcode = if order.shipping.postcode.is_empty() {
        &order.billing.postcode
    } else {
        &order.shipping.postcode
    };
    let number = item
        .get("tracking_number")
        .map(php_string)
        .unwrap_or_default();
    let values = [
        number,
        rawurlencode(&normalize_postcode(postcode)),
        order.shipping.country.clone(),
        order.id.to_string(),
    ];
    let custom = item.get("custom_tracking_provider");
    if custom.is_some_and(php_truthy) {
        let link = item
            .get("custom_tracking_link")
            .map(php_string)
            .unwrap_or_default();
        return (
            custom.cloned().unwrap_or_default(),
            php_sprintf(&link, &values),
        );
    }
    let stored = item.get("tracking_provider").and_then(Value::as_str);
    PROVIDERS
        .iter()
        .flat_map(|(_, list)| list.iter())
        .find(|(name, _)| {
            stored.is_some_and(|s| s == clean_text(name) || s == sanitize_title(name))
        })
        .map_or((json!(""), String::new()), |(name, template)| {
            (json!(name), php_sprintf(template, &values))
        })
}

/// A tracking item as the extension's routes show it
/// (`prepare_item_for_response`).
pub fn render(home: &str, order: &Order, item: &Map<String, Value>) -> Value {
    let (provider, link) = formatted(item, order);
    let base = format!(
        "{home}/wp-json/wc-shipment-tracking/v3/orders/{}/shipment-trackings",
        order.id
    );
    let id = item.get("tracking_id").cloned().unwrap_or(Value::Null);
    json!({
        "tracking_id": id,
        "tracking_provider": provider,
        "tracking_link": link,
        "tracking_number": item.get("tracking_number").cloned().unwrap_or(Value::Null),
        "date_shipped": shipped_date(item.get("date_shipped")),
        "_links": {
            "self": [{
                "href": format!("{base}/{}", php_string(&id)),
                "targetHints": { "allow": ["GET", "DELETE"] },
            }],
            "collection": [{ "href": base }],
            "up": [{ "href": format!("{home}/wp-json/wc-shipment-tracking/v3/orders/{}", order.id) }],
        },
    })
}

/// The `Location` of a created item: `create_item` formats the tracking
/// id with `%d`, so it is the id's leading decimal digits (0 when it starts
/// with a letter).
pub fn location(home: &str, order_id: u64, tracking_id: &str) -> String {
    format!(
        "{home}/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings/{}",
        php_intval(tracking_id)
    )
}

/// `date( 'Y-m-d', $date_shipped )` in UTC (WordPress runs PHP in UTC).
fn shipped_date(v: Option<&Value>) -> String {
    let secs = match v {
        Some(Value::Number(n)) => n.as_f64().map_or(0, |f| f as i64),
        Some(Value::String(s)) => s.trim().parse::<f64>().map_or(0, |f| f as i64),
        _ => 0,
    };
    Timestamp::from_second(secs)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%d")
        .to_string()
}

impl Tracking {
    /// One item of an order's meta, read as the extension reads it.
    pub fn from_item(order_id: u64, item: &Map<String, Value>) -> Self {
        let text = |k: &str| item.get(k).map(php_string).unwrap_or_default();
        let secs = match item.get("date_shipped") {
            Some(Value::Number(n)) => n.as_f64().map_or(0, |f| f as i64),
            Some(Value::String(s)) => s.trim().parse::<f64>().map_or(0, |f| f as i64),
            _ => 0,
        };
        Self {
            tracking_id: text("tracking_id"),
            order_id,
            tracking_provider: text("tracking_provider"),
            custom_tracking_provider: text("custom_tracking_provider"),
            custom_tracking_link: text("custom_tracking_link"),
            tracking_number: text("tracking_number"),
            date_shipped: secs,
        }
    }
}

/// A scalar as PHP casts it to a string (`true` "1", `false`/`null` "");
/// arrays and objects give "".
pub fn php_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "1".into(),
        _ => String::new(),
    }
}

/// `(int) $string`: the leading decimal digits, saturating.
fn php_intval(s: &str) -> i64 {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        0
    } else {
        digits.parse().unwrap_or(i64::MAX)
    }
}

/// PHP `sprintf` over string arguments for link templates: `%N$s`, `%s`,
/// `%N$d`, `%d` and `%%`; any other `%` is left as it is.
pub fn php_sprintf(template: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let mut next = 0usize;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let spec = &rest[at + 1..];
        if let Some(after) = spec.strip_prefix('%') {
            out.push('%');
            rest = after;
            continue;
        }
        let digits: String = spec.chars().take_while(char::is_ascii_digit).collect();
        let (index, tail) = match spec[digits.len()..].strip_prefix('$') {
            Some(tail) if !digits.is_empty() => (
                digits.parse::<usize>().ok().map(|n| n.saturating_sub(1)),
                tail,
            ),
            _ => (None, spec),
        };
        let conversion = tail.chars().next();
        match conversion {
            Some(c @ ('s' | 'd')) => {
                let i = index.unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                let arg = args.get(i).cloned().unwrap_or_default();
                if c == 'd' {
                    out.push_str(&php_intval(&arg).to_string());
                } else {
                    out.push_str(&arg);
                }
                rest = &tail[1..];
            }
            _ => {
                out.push('%');
                rest = spec;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `wc_normalize_postcode`: upper case, no spaces or dashes.
fn normalize_postcode(p: &str) -> String {
    p.trim()
        .to_uppercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

fn rawurlencode(s: &str) -> String {
    crate::oauth::rawurlencode(s)
}

/// `sanitize_text_field` (what `wc_clean` does to a string): tags
/// stripped, runs of whitespace made one space, trimmed, percent-encoded
/// octets removed.
pub fn clean_text(s: &str) -> String {
    let mut out = strip_tags(s);
    out = collapse(&out, |c| matches!(c, '\r' | '\n' | '\t' | ' '));
    out = out.trim().to_owned();
    let mut found = false;
    while let Some(octet) = find_octet(&out) {
        out = out.replace(&octet, "");
        found = true;
    }
    if found {
        out = collapse(&out, |c| c == ' ').trim().to_owned();
    }
    out
}

fn find_octet(s: &str) -> Option<String> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(2))
        .find(|&i| b[i] == b'%' && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
        .map(|i| s[i..i + 3].to_owned())
}

/// Runs of characters `is_space` accepts become one space.
fn collapse(s: &str, is_space: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_run = false;
    for c in s.chars() {
        if is_space(c) {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

/// `wp_strip_all_tags` (with `wp_pre_kses_less_than`): tags go, a `<`
/// that starts none stays as `&lt;`.
fn strip_tags(s: &str) -> String {
    if !s.contains('<') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let starts_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        match after.find('>') {
            Some(end) if starts_tag => rest = &after[end + 1..],
            _ => {
                out.push_str("&lt;");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `sanitize_title` (`remove_accents`, then `sanitize_title_with_dashes`
/// in the `save` context): "UPS" → `ups`, "DHL Intraship (DE)" →
/// `dhl-intraship-de`, "DPD.de" → `dpd-de`, "Česká pošta" → `ceska-posta`.
pub fn sanitize_title(s: &str) -> String {
    let s = strip_tags(&remove_accents(s));
    let mut encoded = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '%' {
            // Keep escaped octets, drop other percent signs.
            if chars.get(i + 1).is_some_and(char::is_ascii_hexdigit)
                && chars.get(i + 2).is_some_and(char::is_ascii_hexdigit)
            {
                encoded.push('%');
                encoded.push(chars[i + 1].to_ascii_lowercase());
                encoded.push(chars[i + 2].to_ascii_lowercase());
                i += 3;
            } else {
                i += 1;
            }
            continue;
        }
        if c.is_ascii() {
            encoded.push(c.to_ascii_lowercase());
        } else {
            // mb_strtolower, then utf8_uri_encode.
            for b in c.to_lowercase().collect::<String>().bytes() {
                encoded.push_str(&format!("%{b:02x}"));
            }
        }
        i += 1;
    }
    let mut t = encoded;
    for dash in ["%c2%a0", "%e2%80%93", "%e2%80%94"] {
        t = t.replace(dash, "-");
    }
    for dash in [
        "&nbsp;", "&#160;", "&ndash;", "&#8211;", "&mdash;", "&#8212;",
    ] {
        t = t.replace(dash, "-");
    }
    t = t.replace('/', "-");
    t = t.replace("%c3%97", "x");
    t = kill_entities(&t);
    t = t.replace('.', "-");
    t.retain(|c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '%' | ' ' | '_' | '-')
    });
    let t = collapse(&t, |c| c.is_whitespace()).replace(' ', "-");
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_owned()
}

/// `preg_replace( '/&.+?;/', '', ... )`.
fn kill_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.get(1..).and_then(|t| t.find(';')) {
            Some(end) => rest = &after[end + 2..],
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `remove_accents` for the Latin letters carrier names and shop data
/// use.
fn remove_accents(s: &str) -> String {
    const TABLE: &[(&str, &str)] = &[
        ("ÀÁÂÃÄÅĀĂĄ", "A"),
        ("àáâãäåāăą", "a"),
        ("ÇĆĈĊČ", "C"),
        ("çćĉċč", "c"),
        ("ĎĐ", "D"),
        ("ďđ", "d"),
        ("ÈÉÊËĒĔĖĘĚ", "E"),
        ("èéêëēĕėęě", "e"),
        ("ĜĞĠĢ", "G"),
        ("ĝğġģ", "g"),
        ("ÌÍÎÏĨĪĬĮİ", "I"),
        ("ìíîïĩīĭįı", "i"),
        ("ĹĻĽĿŁ", "L"),
        ("ĺļľŀł", "l"),
        ("ÑŃŅŇ", "N"),
        ("ñńņň", "n"),
        ("ÒÓÔÕÖØŌŎŐ", "O"),
        ("òóôõöøōŏő", "o"),
        ("ŔŖŘ", "R"),
        ("ŕŗř", "r"),
        ("ŚŜŞŠȘ", "S"),
        ("śŝşšș", "s"),
        ("ŢŤȚ", "T"),
        ("ţťț", "t"),
        ("ÙÚÛÜŨŪŬŮŰŲ", "U"),
        ("ùúûüũūŭůűų", "u"),
        ("ÝŸ", "Y"),
        ("ýÿ", "y"),
        ("ŹŻŽ", "Z"),
        ("źżž", "z"),
        ("Æ", "AE"),
        ("æ", "ae"),
        ("Œ", "OE"),
        ("œ", "oe"),
        ("ß", "s"),
    ];
    s.chars()
        .map(|c| {
            TABLE
                .iter()
                .find(|(from, _)| from.contains(c))
                .map_or_else(|| c.to_string(), |(_, to)| (*to).to_owned())
        })
        .collect()
}

/// `strtotime` (PHP in UTC, as WordPress runs it) for the forms a date is
/// sent in: `YYYY-MM-DD`, with ` HH:MM[:SS[.f]]` or `THH:MM[:SS[.f]]` and
/// `Z`/`±HH[:MM]`; `YYYYMMDD`; `DD.MM.YYYY`; `MM/DD/YYYY`; `@unix`; `now`,
/// `today`. Anything else is `false` (`None`) — a bare unix timestamp
/// ("1795703730") among them, as PHP has it. An overflowing day rolls
/// over as PHP's does (`2026-02-30` is March 2).
pub fn strtotime(s: &str, now: Timestamp) -> Option<i64> {
    let s = s.trim().to_ascii_lowercase();
    let day = 86_400;
    match s.as_str() {
        "" => return None,
        "now" => return Some(now.as_second()),
        "today" | "midnight" => return Some(now.as_second().div_euclid(day) * day),
        _ => {}
    }
    if let Some(n) = s.strip_prefix('@') {
        return n.parse().ok();
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let date = |y: i64, m: i64, d: i64| -> Option<i64> {
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, 1) + d - 1)
    };
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        return date(num(0, 4)?, num(4, 2)?, num(6, 2)?).map(|d| d * day);
    }
    if b.len() == 10 && b[2] == b'.' && b[5] == b'.' {
        return date(num(6, 4)?, num(3, 2)?, num(0, 2)?).map(|d| d * day);
    }
    if b.len() == 10 && b[2] == b'/' && b[5] == b'/' {
        return date(num(6, 4)?, num(0, 2)?, num(3, 2)?).map(|d| d * day);
    }
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let days = date(num(0, 4)?, num(5, 2)?, num(8, 2)?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(days * day);
    }
    let rest = rest.strip_prefix(['t', ' '])?;
    let rb = rest.as_bytes();
    if rb.len() < 5 || rb[2] != b':' {
        return None;
    }
    let field = |from: usize| -> Option<i64> {
        let part = rest.get(from..from + 2)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (h, mi) = (field(0)?, field(3)?);
    let mut at = 5;
    let mut sec = 0;
    if rb.get(5) == Some(&b':') {
        sec = field(6)?;
        at = 8;
        if rb.get(8) == Some(&b'.') {
            at = 9 + rest[9..].bytes().take_while(u8::is_ascii_digit).count();
        }
    }
    if h > 24 || mi > 59 || sec > 60 {
        return None;
    }
    let zone = &rest[at..];
    let offset = match zone {
        "" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (oh, om) = match digits.len() {
                2 => (digits.parse::<i64>().ok()?, 0),
                4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
                _ => return None,
            };
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days * day + h * 3600 + mi * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-30T12:34:56Z".parse().unwrap()
    }

    #[test]
    fn provider_names_become_the_slugs_the_extension_stores() {
        let slugs: Vec<String> = [
            "UPS",
            "USPS",
            "FedEx",
            "DHL US",
            "DHL Intraship (DE)",
            "DPD.de",
            "Česká pošta",
            "EVRi (international)",
            " Royal  Mail ",
            "<b>Hermes</b>",
            "Deutsche Post DHL",
        ]
        .iter()
        .map(|s| sanitize_title(s))
        .collect();
        assert_eq!(
            slugs,
            [
                "ups",
                "usps",
                "fedex",
                "dhl-us",
                "dhl-intraship-de",
                "dpd-de",
                "ceska-posta",
                "evri-international",
                "royal-mail",
                "hermes",
                "deutsche-post-dhl"
            ]
        );
    }

    #[test]
    fn text_is_cleaned_as_sanitize_text_field_does() {
        assert_eq!(clean_text("  1Z 999\n\tAA1 "), "1Z 999 AA1");
        assert_eq!(clean_text("<b>RIG</b>123"), "RIG123");
        assert_eq!(clean_text("a < b"), "a &lt; b");
        assert_eq!(
            clean_text("https://rig.example/t?q=A%20B"),
            "https://rig.example/t?q=AB",
            "percent-encoded octets are removed"
        );
    }

    #[test]
    fn strtotime_reads_dates_but_not_bare_timestamps() {
        let t = |s: &str| strtotime(s, now());
        assert_eq!(t("2026-11-26"), Some(1_795_651_200));
        assert_eq!(t("2026-11-26 10:00"), Some(1_795_687_200));
        assert_eq!(t("2026-11-26T10:00:00Z"), Some(1_795_687_200));
        assert_eq!(t("2026-11-26T10:00:00.5Z"), Some(1_795_687_200));
        assert_eq!(t("2026-11-26T10:00:00+02:00"), Some(1_795_680_000));
        assert_eq!(t("2026-11-26T10:00:00+0200"), Some(1_795_680_000));
        assert_eq!(t("2026-11-26T10:00:00+02"), Some(1_795_680_000));
        assert_eq!(t("20261126"), Some(1_795_651_200));
        assert_eq!(t("26.11.2026"), Some(1_795_651_200));
        assert_eq!(t("11/26/2026"), Some(1_795_651_200));
        assert_eq!(t("2026-02-30"), Some(1_772_409_600), "rolls over");
        assert_eq!(t("@1795703730"), Some(1_795_703_730));
        assert_eq!(t("now"), Some(now().as_second()));
        assert_eq!(t("1795703730"), None);
        assert_eq!(t("1600128000"), None);
        assert_eq!(t("2026-11-26T25:00:00"), None);
        assert_eq!(t("garbage"), None);
        assert_eq!(t(""), None);
    }

    #[test]
    fn sprintf_fills_positional_templates() {
        let args = [
            "1Z9".to_owned(),
            "SW1A1AA".into(),
            "GB".into(),
            "176".into(),
        ];
        assert_eq!(
            php_sprintf("https://x/?p=%2$s&parcel=%1$s&c=%3$s&o=%4$d%%", &args),
            "https://x/?p=SW1A1AA&parcel=1Z9&c=GB&o=176%"
        );
        assert_eq!(
            php_sprintf("https://x/%s/%s", &args),
            "https://x/1Z9/SW1A1AA"
        );
        assert_eq!(php_sprintf("50%off", &args), "50%off");
    }

    #[test]
    fn the_location_takes_the_leading_digits_of_the_id() {
        assert_eq!(
            location("http://h", 176, "51b6661efac402935259a80011cb8640"),
            "http://h/wp-json/wc-shipment-tracking/v3/orders/176/shipment-trackings/51"
        );
        assert!(location("http://h", 1, "a51b").ends_with("/shipment-trackings/0"));
    }

    #[test]
    fn the_provider_list_has_the_carriers_clients_name() {
        let p = providers();
        assert_eq!(
            p["United States"]["UPS"],
            "https://www.ups.com/track?loc=en_US&tracknum=%1$s"
        );
        assert!(p["United Kingdom"]["Royal Mail"].is_string());
        assert!(p["Germany"]["DHL Intraship (DE)"].is_string());
        assert!(p["Australia"]["Australia Post"].is_string());
        let countries: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(
            countries[..4],
            ["Australia", "Austria", "Brazil", "Belgium"]
        );
    }
}
