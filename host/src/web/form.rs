//! A submitted form (`application/x-www-form-urlencoded`), decoded strictly.
//! Every field of the page is a single line, so a value holding a control
//! character (C0 such as NUL, tab, CR and LF; DEL; C1) is refused, as is one
//! that is not UTF-8 once decoded (never replaced with U+FFFD). A refused
//! field is left out of the values and named with its reason, for the page
//! to show as that field's error. Pure.

/// A form's fields, in order.
pub type FormPairs = Vec<(String, String)>;

/// A field the form sent that was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub reason: String,
}

/// A decoded form: the accepted fields, and the refused ones.
#[derive(Clone, Debug, Default)]
pub struct Form {
    pub pairs: FormPairs,
    pub refused: Vec<Refusal>,
}

impl Form {
    /// Decodes a form body.
    pub fn read(body: &[u8]) -> Self {
        let mut form = Self::default();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode(name);
            let field = String::from_utf8_lossy(&name).into_owned();
            match String::from_utf8(decode(value)) {
                Err(_) => form.refuse(field, "is not valid UTF-8".into()),
                Ok(value) => match value.chars().find(|c| c.is_control()) {
                    Some(c) => form.refuse(
                        field,
                        format!(
                            "must be one line without control characters (it holds U+{:04X})",
                            u32::from(c)
                        ),
                    ),
                    None if std::str::from_utf8(&name).is_ok() => form.pairs.push((field, value)),
                    None => form.refuse(field, "has a name that is not valid UTF-8".into()),
                },
            }
        }
        form
    }

    fn refuse(&mut self, field: String, reason: String) {
        self.refused.push(Refusal { field, reason });
    }

    /// The first value of a field, if it was sent and accepted.
    pub fn field(&self, name: &str) -> Option<&str> {
        field(&self.pairs, name)
    }

    /// The refusals as one line: `FIELD REASON; ...`.
    pub fn refusals(&self) -> String {
        self.refused
            .iter()
            .map(|r| format!("{} {}", r.field, r.reason))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The value of a form field.
pub fn field<'a>(form: &'a FormPairs, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `+` as a space and `%XX` as its byte; a `%` not followed by two hex
/// digits stays as it is.
fn decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let byte = match raw[i] {
            b'+' => b' ',
            b'%' => match (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex)) {
                (Some(high), Some(low)) => {
                    i += 2;
                    high << 4 | low
                }
                _ => b'%',
            },
            other => other,
        };
        out.push(byte);
        i += 1;
    }
    out
}

fn hex(digit: &u8) -> Option<u8> {
    (*digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_decoded_in_order_with_plus_and_percent_escapes() {
        let form = Form::read(b"csrf=t&url=https%3A%2F%2Fshop.example&name=A+B+%C3%BC&kinds=a&kinds=b&flag&=x&%ZZ=50%");
        assert_eq!(
            form.pairs,
            [
                ("csrf", "t"),
                ("url", "https://shop.example"),
                ("name", "A B ü"),
                ("kinds", "a"),
                ("kinds", "b"),
                ("flag", ""),
                ("", "x"),
                ("%ZZ", "50%"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert!(form.refused.is_empty());
        assert_eq!(form.field("kinds"), Some("a"));
        assert_eq!(form.field("none"), None);
    }

    #[test]
    fn control_characters_and_invalid_utf8_are_refused_by_field_never_replaced() {
        for (raw, held) in [
            ("A%00B", "U+0000"),
            ("A%0D%0AB", "U+000D"),
            ("A%0AB", "U+000A"),
            ("A%09B", "U+0009"),
            ("A%1B%5B31mB", "U+001B"),
            ("A%7FB", "U+007F"),
            ("A%C2%85B", "U+0085"),
        ] {
            let form = Form::read(format!("csrf=t&items={raw}&ok=1").as_bytes());
            assert_eq!(form.pairs.len(), 2, "{raw}");
            assert_eq!(form.field("items"), None, "{raw}");
            assert_eq!(form.refused.len(), 1, "{raw}");
            assert_eq!(form.refused[0].field, "items");
            assert!(
                form.refused[0].reason.contains(held),
                "{raw}: {:?}",
                form.refused
            );
        }
        let form = Form::read(b"items=A%FF%FEB&%FF=1");
        assert_eq!(
            form.refused,
            [
                Refusal {
                    field: "items".into(),
                    reason: "is not valid UTF-8".into()
                },
                Refusal {
                    field: "\u{FFFD}".into(),
                    reason: "has a name that is not valid UTF-8".into()
                }
            ]
        );
        assert!(form.pairs.is_empty());
        assert_eq!(
            form.refusals(),
            "items is not valid UTF-8; \u{FFFD} has a name that is not valid UTF-8"
        );
        assert_eq!(
            Form::read("name=Zoë 🙂".as_bytes()).field("name"),
            Some("Zoë 🙂")
        );
    }
}
