//! `cargo xtask check-windows`: clippy over the workspace for Windows
//! (`x86_64-pc-windows-gnu`), so that a broken `cfg(windows)` branch (the
//! keyring store, notifications, the tray, single instance, the agent's
//! Windows service) fails here rather than in a release workflow. The
//! MinGW-w64 C compiler builds the C that build scripts compile (SQLite).
//!
//! macOS cannot be checked on this machine: build scripts compile C and
//! Objective-C for Apple targets (`objc2-exception-helper`, SQLite), which
//! needs clang with Apple's SDK; Debian packages neither (the host's gcc
//! answers "unrecognized command-line option '-arch'").

use crate::run;

/// The Windows target checked.
pub const TARGET: &str = "x86_64-pc-windows-gnu";

/// Packages that only hold code for the tests or the build, which run on
/// Linux alone.
const LINUX_ONLY: &[&str] = &["xtask", "taskdeck-testing"];

/// Installs the target and the cross C compiler if missing, then runs
/// clippy over the libraries and binaries for Windows, warnings denied.
pub fn check() -> Result<(), String> {
    if cfg!(target_os = "linux") {
        crate::setup::apt_install(&["gcc-mingw-w64-x86-64"])?;
    }
    crate::setup::ensure_target(TARGET)?;
    let mut clippy = crate::cargo();
    clippy.args([
        "clippy",
        "--target",
        TARGET,
        "--workspace",
        "--lib",
        "--bins",
    ]);
    for package in LINUX_ONLY {
        clippy.args(["--exclude", package]);
    }
    run(clippy.args(["--", "-D", "warnings"]))
}
