//! The Site task API suite (`api/suite.rs`) on the embedded SQLite store.

/// The suite runs on SQLite.
const POSTGRES: bool = false;

#[path = "api/suite.rs"]
mod suite;
