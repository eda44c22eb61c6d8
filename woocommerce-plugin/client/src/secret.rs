//! The consumer secret, kept out of every printed form.

use std::fmt;

/// A WooCommerce consumer secret (`cs_…`).
///
/// `Debug` and `Display` print a fixed mask, so the secret cannot reach a log
/// line, an error message or a run record by accident. The only way to read it
/// is [`ConsumerSecret::expose`], which the signer and the auth code call.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsumerSecret(String);

impl ConsumerSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for signing and for the Authorization header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Replaces every occurrence of the secret in `text` with the mask.
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, MASK)
        }
    }
}

const MASK: &str = "cs_********";

impl fmt::Debug for ConsumerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsumerSecret({MASK})")
    }
}

impl fmt::Display for ConsumerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl From<&str> for ConsumerSecret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for ConsumerSecret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "cs_297c0bb9351df56edc3fc561c402b9759b8793c7";

    #[test]
    fn printed_forms_hide_the_secret() {
        let secret = ConsumerSecret::new(SECRET);
        assert!(!format!("{secret:?}").contains("297c0bb"));
        assert!(!format!("{secret}").contains("297c0bb"));
        assert_eq!(secret.expose(), SECRET);
    }

    #[test]
    fn scrub_masks_every_occurrence() {
        let secret = ConsumerSecret::new(SECRET);
        let text = format!("a={SECRET}&b={SECRET}");
        assert_eq!(secret.scrub(&text), "a=cs_********&b=cs_********");
    }
}
