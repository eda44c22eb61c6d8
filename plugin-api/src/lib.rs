//! plugin-api (being written).
