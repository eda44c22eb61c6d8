//! sync-schedule (being written).
