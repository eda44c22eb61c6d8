//! Running a plugin's job: every call on its own thread under a deadline,
//! the run recorded from before it starts to how it ended (`runner`).

pub mod runner;
