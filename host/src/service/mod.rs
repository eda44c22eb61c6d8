//! The host as a service: the loop that holds plugins active and stops
//! cleanly (`serve`), starting scheduled runs (`scheduler`) from what is
//! kept of schedules and job histories (`schedule_store`), and the admin's
//! changing actions shared by the CLI and the page, with their audit lines
//! (`admin`), webhook deliveries and change-feed events as triggers of
//! runs (`hooks`, `feed_wakes`), and how
//! long records are kept, with the daily prune (`retention`).

pub mod admin;
pub mod feed_wakes;
pub mod hooks;
pub mod retention;
pub mod schedule_store;
pub mod scheduler;
pub mod serve;
