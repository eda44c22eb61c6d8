//! Running a plugin's job: every call on its own thread under a deadline,
//! the run recorded from before it starts to how it ended (`runner`); the
//! runs going on in this process, their progress and cancellation (`live`).

pub mod live;
pub mod runner;
