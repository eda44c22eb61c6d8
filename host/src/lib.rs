//! The plugin host's service side as a library: the clock, sealed
//! credentials, the services that answer every plugin message, which
//! process owns a run, how a job's answer is recorded, and how a settings
//! change is checked and stored.
//!
//! The `plugin-host` binary is built on it, and so is `plugin-test-kit`,
//! so a plugin under test talks to exactly the code a real host runs. It
//! must not load plugin files, start threads or parse a command line: those
//! stay in the binary.

pub mod clock;
pub mod credentials;
pub mod job_answer;
pub mod process_owner;
pub mod services;
pub mod settings_change;
