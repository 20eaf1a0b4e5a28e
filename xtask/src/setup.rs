//! Installs what the project needs, skipping what is already there.

use std::process::Command;

use crate::run;

/// What the set-up is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Building and running the app.
    Run,
    /// Building, running and testing it.
    Test,
}

/// Debian/Ubuntu packages for building and running the app (Tauri 2, WebKitGTK 4.1).
const RUN_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "cmake",
    "curl",
    "file",
    "libwebkit2gtk-4.1-dev",
    "libxdo-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libdbus-1-dev",
    "gnome-keyring",
    "libsecret-tools",
];

/// More packages for the tests: a display, a session bus, a notification
/// server and WebKit's WebDriver; PostgreSQL and nginx for the servers'
/// tests, and libfaketime for servers with skewed clocks.
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "x11-utils",
    "webkit2gtk-driver",
    "dbus",
    "dbus-x11",
    "dunst",
    "imagemagick",
    "postgresql",
    "nginx",
    "faketime",
];

/// tauri-driver's version: 2.1.0 builds with our rustc.
const TAURI_DRIVER_VERSION: &str = "2.1.0";

/// Installs what `scope` needs.
pub fn install(scope: Scope) -> Result<(), String> {
    if cfg!(target_os = "linux") {
        let mut packages: Vec<&str> = RUN_PACKAGES.to_vec();
        if scope == Scope::Test {
            packages.extend_from_slice(TEST_PACKAGES);
        }
        apt_install(&packages)?;
    }
    ensure_wasm_target()?;
    if scope == Scope::Test {
        ensure_tauri_driver()?;
    }
    Ok(())
}

/// Whether dpkg has `package` installed.
pub fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| !is_installed(package))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!(
            "these packages are missing and apt-get is not available: {}",
            missing.join(" ")
        ));
    }
    let as_root = |args: &[&str]| {
        let mut command = if is_root() {
            Command::new(args[0])
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg(args[0]);
            sudo
        };
        command.args(&args[1..]);
        command.env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run(&mut as_root(&["apt-get", "update", "-q"]))?;
    let mut install = vec!["apt-get", "install", "-y", "-q", "--no-install-recommends"];
    install.extend_from_slice(&missing);
    run(&mut as_root(&install))
}

fn ensure_wasm_target() -> Result<(), String> {
    ensure_target("wasm32-unknown-unknown")
}

/// Adds the standard library for `target` through rustup, unless it is
/// there.
pub fn ensure_target(target: &str) -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|line| line.trim() == target)
        })
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", target]))
}

fn ensure_tauri_driver() -> Result<(), String> {
    // tauri-driver has no --version; cargo knows what it installed.
    let installed = Command::new("cargo")
        .args(["install", "--list"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let wanted = format!("tauri-driver v{TAURI_DRIVER_VERSION}:");
    let on_path = Command::new("tauri-driver").arg("--help").output().is_ok();
    if installed.contains(&wanted) && on_path {
        return Ok(());
    }
    run(Command::new("cargo").args([
        "install",
        "--locked",
        "tauri-driver",
        "--version",
        TAURI_DRIVER_VERSION,
    ]))
}
