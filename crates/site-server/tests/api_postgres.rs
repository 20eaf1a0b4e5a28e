//! The Site task API suite (`api/suite.rs`) on PostgreSQL: every test of
//! the contract, the same as on SQLite, against a server whose state lives
//! in a PostgreSQL database. `cargo xtask test` starts the cluster and
//! gives its URL in `TASKDECK_TEST_POSTGRES`.

/// The suite runs on PostgreSQL.
const POSTGRES: bool = true;

#[path = "api/suite.rs"]
mod suite;

/// Two and three servers on one database: the multi-server guarantees.
#[path = "api/multi_server.rs"]
mod multi_server;

/// nginx, the Debian package, as the load balancer in front of two servers.
#[path = "api/nginx.rs"]
mod nginx;
