//! intellitrack-db (being written).
