//! What the tests of several crates share, as real parts started for them:
//! a PostgreSQL database of their own in the cluster `cargo xtask test`
//! starts ([`postgres`]), nginx in front of test servers with the
//! shipped proxy rules ([`nginx`]), and what benchmarks measure with
//! ([`measure`]). Only ever a dev-dependency.

pub mod measure;
pub mod nginx;
pub mod postgres;

/// A loopback port free at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("cannot find a free loopback port")
}
