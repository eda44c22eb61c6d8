//! Login sessions, kept in this process's memory (a restart logs everyone
//! out): a random token in an HttpOnly, SameSite=Strict cookie names a
//! session, which holds the user and the CSRF token every form of that
//! session carries. A session unused for [`IDLE_LIMIT`] ends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "plugin_host_session";
/// The cookie that carries the login form's CSRF token before a session exists.
pub const LOGIN_COOKIE: &str = "plugin_host_login";
pub const IDLE_LIMIT: Duration = Duration::from_secs(8 * 60 * 60);

/// A logged-in user's session.
#[derive(Clone)]
pub struct Session {
    pub user: String,
    pub csrf: String,
}

#[derive(Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, (Session, Instant)>>,
}

impl Sessions {
    /// Starts a session for `user`; returns its token (the cookie's value).
    pub fn start(&self, user: &str, now: Instant) -> String {
        let token = random_token();
        let session = Session {
            user: user.to_owned(),
            csrf: random_token(),
        };
        let mut map = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, seen)| now.duration_since(*seen) < IDLE_LIMIT);
        map.insert(token.clone(), (session, now));
        token
    }

    /// The live session a token names, marked as used now.
    pub fn find(&self, token: &str, now: Instant) -> Option<Session> {
        let mut map = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
        let (session, seen) = map.get_mut(token)?;
        if now.duration_since(*seen) >= IDLE_LIMIT {
            map.remove(token);
            return None;
        }
        *seen = now;
        Some(session.clone())
    }

    pub fn end(&self, token: &str) {
        self.by_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }
}

/// 32 random bytes from the operating system, as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a submitted token equals the expected one, in constant time.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// A cookie header value with the flags every cookie of the page carries.
pub fn cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// The value of cookie `name` in a `Cookie` request header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_or_logged_out() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        let token = sessions.start("ann", t0);
        assert_eq!(token.len(), 64);
        let s = sessions.find(&token, t0).unwrap();
        assert_eq!(s.user, "ann");
        assert_ne!(s.csrf, token);
        assert!(sessions.find("not-a-token", t0).is_none());
        assert!(sessions.find(&token, t0 + IDLE_LIMIT).is_none());
        let token = sessions.start("ann", t0);
        sessions.end(&token);
        assert!(sessions.find(&token, t0).is_none());
    }

    #[test]
    fn tokens_and_cookies() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", ""));
        assert!(!tokens_match("", ""));
        assert_eq!(
            cookie("s", "v", true, Some(0)),
            "s=v; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0"
        );
        assert_eq!(cookie_value("a=1; s=xyz; b=2", "s"), Some("xyz"));
        assert_eq!(cookie_value("a=1", "s"), None);
    }
}
