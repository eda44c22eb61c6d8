//! Plugins as files and processes: finding and checking plugin files
//! (`loader`), probing each in a child process before the host trusts it
//! (`probe`), a plugin in its own process on the host's side (`process`)
//! and on its own side (`plugin_side`, the hidden `plugin-runner`
//! command), the messages between them (`wire`), and the limits a plugin
//! process runs under (`isolation`).

pub mod isolation;
pub mod loader;
pub mod plugin_side;
pub mod probe;
pub mod process;
pub mod verdict;
pub mod wire;
