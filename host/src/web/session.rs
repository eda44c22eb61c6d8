//! Login sessions, kept in this process's memory (a restart logs everyone
//! out): a random token in an HttpOnly, SameSite=Strict cookie names a
//! session, which holds the user, the CSRF token every form of that
//! session carries, and the user's credential (password hash) it was
//! started with: the guard ends it once the user's credential is another
//! (a password change, the user removed or added again). A session unused
//! for [`IDLE_LIMIT`] ends, and every session after [`LIFETIME`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "plugin_host_session";
/// The cookie that carries the login form's CSRF token before a session exists.
pub const LOGIN_COOKIE: &str = "plugin_host_login";
/// How long a session may go unused.
pub const IDLE_LIMIT: Duration = Duration::from_secs(8 * 60 * 60);
/// How long a session lasts however much it is used.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// A logged-in user's session.
#[derive(Clone)]
pub struct Session {
    pub user: String,
    pub csrf: String,
    /// The user's password hash when the session started.
    credential: String,
}

impl Session {
    /// Whether `current` (the user's password hash now) is the credential
    /// the session started with.
    pub fn credential_is(&self, current: &str) -> bool {
        tokens_match(&self.credential, current)
    }
}

/// A session and when it started and was last used.
struct Entry {
    session: Session,
    started: Instant,
    seen: Instant,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        now.duration_since(self.seen) < IDLE_LIMIT && now.duration_since(self.started) < LIFETIME
    }
}

#[derive(Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Entry>>,
}

impl Sessions {
    /// Starts a session for `user`, who logged in with `credential` (their
    /// password hash); returns its token (the cookie's value).
    pub fn start(&self, user: &str, credential: &str, now: Instant) -> String {
        let token = random_token();
        let session = Session {
            user: user.to_owned(),
            csrf: random_token(),
            credential: credential.to_owned(),
        };
        let mut map = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, entry| entry.live(now));
        map.insert(
            token.clone(),
            Entry {
                session,
                started: now,
                seen: now,
            },
        );
        token
    }

    /// The live session a token names, marked as used now.
    pub fn find(&self, token: &str, now: Instant) -> Option<Session> {
        let mut map = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.get_mut(token)?;
        if !entry.live(now) {
            map.remove(token);
            return None;
        }
        entry.seen = now;
        Some(entry.session.clone())
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
        let token = sessions.start("ann", "$hash", t0);
        assert_eq!(token.len(), 64);
        let s = sessions.find(&token, t0).unwrap();
        assert_eq!(s.user, "ann");
        assert_ne!(s.csrf, token);
        assert!(sessions.find("not-a-token", t0).is_none());
        assert!(sessions.find(&token, t0 + IDLE_LIMIT).is_none());
        let token = sessions.start("ann", "$hash", t0);
        sessions.end(&token);
        assert!(sessions.find(&token, t0).is_none());
    }

    #[test]
    fn a_session_in_use_still_ends_after_its_lifetime() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        let token = sessions.start("ann", "$hash", t0);
        let hour = Duration::from_secs(3600);
        let mut now = t0;
        while now + hour < t0 + LIFETIME {
            now += hour;
            assert!(sessions.find(&token, now).is_some(), "{now:?}");
        }
        assert!(sessions.find(&token, t0 + LIFETIME).is_none());
    }

    #[test]
    fn a_session_knows_the_credential_it_started_with() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        let session = sessions
            .find(&sessions.start("ann", "$argon2id$old", t0), t0)
            .unwrap();
        assert!(session.credential_is("$argon2id$old"));
        assert!(!session.credential_is("$argon2id$new"));
        assert!(!session.credential_is(""));
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
