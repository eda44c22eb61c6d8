//! Password checks, bounded. An Argon2 check takes about 19 MiB and real
//! CPU, and anyone who reaches the login form may ask for one, so checks
//! run on [`WORKERS`] threads of their own with at most [`WAITING`] more
//! queued, and start no faster than [`throttle::CheckRate`] allows; past
//! either bound a login is answered "busy" without hashing. A flood of
//! logins then costs the page a fixed amount of memory, however many
//! arrive at once: each worker computes in one Argon2 memory of its own,
//! allocated once.
//!
//! An unknown user costs the same check, against a hash of a password
//! nobody knows, so that a name's existence does not show in the time.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use tokio::sync::oneshot;

use super::session::random_token;
use super::throttle;
use crate::cli::users::{hash_password, password_matches};

/// Password checks that run at once.
pub const WORKERS: usize = 2;
/// Password checks that may wait for a worker.
const WAITING: usize = 2;

/// Every password check is busy, or too many started just now.
#[derive(Debug)]
pub struct Busy;

/// One check: a password against a user's hash (`None`: no such user).
struct Check {
    hash: Option<String>,
    password: String,
    answer: oneshot::Sender<bool>,
}

/// The bounded password checks of the admin page.
pub struct PasswordChecks {
    queue: SyncSender<Check>,
    rate: Mutex<throttle::CheckRate>,
}

impl PasswordChecks {
    /// Starts the worker threads; they end when this is dropped.
    pub fn start() -> std::io::Result<Self> {
        let (queue, checks) = std::sync::mpsc::sync_channel(WAITING);
        let checks = Arc::new(Mutex::new(checks));
        for n in 0..WORKERS {
            let checks = checks.clone();
            std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || work(&checks))?;
        }
        Ok(Self {
            queue,
            rate: Mutex::default(),
        })
    }

    /// Whether `password` is the one `hash` was made from (`None`: the
    /// user does not exist, and it is not), or [`Busy`] without checking.
    pub async fn check(&self, hash: Option<String>, password: String) -> Result<bool, Busy> {
        let may_start = self
            .rate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(Instant::now());
        if !may_start {
            return Err(Busy);
        }
        let (answer, answered) = oneshot::channel();
        let check = Check {
            hash,
            password,
            answer,
        };
        match self.queue.try_send(check) {
            Ok(()) => answered.await.map_err(|_| Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }
}

/// A worker: checks passwords until the queue's sender is gone, each in
/// the same Argon2 memory (allocated once, at the first check).
fn work(checks: &Mutex<Receiver<Check>>) {
    let mut memory = Vec::new();
    loop {
        let next = checks.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(check) = next else { return };
        let matches = match &check.hash {
            Some(hash) => password_matches(&mut memory, hash, &check.password),
            None => {
                let _ = password_matches(&mut memory, unknown_user_hash(), &check.password);
                false
            }
        };
        let _ = check.answer.send(matches);
    }
}

/// A hash no password is known for, checked when the user does not exist.
fn unknown_user_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        hash_password("nobody", &random_token()).expect("a random 64-character password is strong")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_answer_and_past_the_bounds_are_busy_without_hashing() {
        let checks = PasswordChecks::start().unwrap();
        let hash = hash_password("ann", "correct horse battery").unwrap();
        assert!(
            checks
                .check(Some(hash.clone()), "correct horse battery".into())
                .await
                .unwrap()
        );
        assert!(
            !checks
                .check(Some(hash.clone()), "wrong".into())
                .await
                .unwrap()
        );
        assert!(
            !checks
                .check(None, "correct horse battery".into())
                .await
                .unwrap()
        );

        // Many at once: at most WORKERS run and WAITING wait; the rest are
        // busy at once (the rate's burst is larger than both).
        let checks = Arc::new(PasswordChecks::start().unwrap());
        let asked: Vec<_> = (0..8)
            .map(|_| {
                let (checks, hash) = (checks.clone(), hash.clone());
                tokio::spawn(async move { checks.check(Some(hash), "wrong".into()).await })
            })
            .collect();
        let mut busy = 0;
        for a in asked {
            match a.await.unwrap() {
                Ok(matched) => assert!(!matched),
                Err(Busy) => busy += 1,
            }
        }
        assert!(busy >= 8 - WORKERS - WAITING, "{busy} busy");
    }
}
