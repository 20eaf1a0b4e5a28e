//! The inside of `cargo xtask test`: run in a private D-Bus session, it
//! starts Xvfb and an unlocked gnome-keyring in a throw-away HOME, then runs
//! every test of the workspace, the end-to-end one included.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cargo;

/// Kills a helper process when dropped.
struct Helper(Child);

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the tests with a display, a keyring and a notification server.
pub fn run_tests(extra: Vec<String>) -> Result<(), String> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return Err("test-session must run inside dbus-run-session (use cargo xtask test)".into());
    }
    let home = tempfile_dir()?;
    let _cleanup = RemoveOnDrop(home.clone());
    let display = free_display();
    let _xvfb = Helper(
        Command::new("Xvfb")
            .args([
                &format!(":{display}"),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Xvfb: {e}"))?,
    );
    wait_for(&format!("/tmp/.X11-unix/X{display}"))?;
    let env = [
        ("HOME", home.display().to_string()),
        (
            "XDG_DATA_HOME",
            home.join(".local/share").display().to_string(),
        ),
        (
            "XDG_CONFIG_HOME",
            home.join(".config").display().to_string(),
        ),
        ("XDG_CACHE_HOME", home.join(".cache").display().to_string()),
        ("XDG_RUNTIME_DIR", home.join("run").display().to_string()),
        ("DISPLAY", format!(":{display}")),
        ("NO_AT_BRIDGE", "1".to_owned()),
    ];
    std::fs::create_dir_all(home.join("run")).map_err(|e| e.to_string())?;
    // Cargo and rustup still live in the real HOME.
    let real_home = std::env::var("HOME").unwrap_or_else(|_| "/root".to_owned());
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{real_home}/.cargo"));
    let rustup_home =
        std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup"));

    let mut keyring = Command::new("gnome-keyring-daemon");
    keyring
        .args(["--unlock", "--components=secrets"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut keyring = keyring
        .spawn()
        .map_err(|e| format!("cannot start gnome-keyring-daemon: {e}"))?;
    keyring
        .stdin
        .take()
        .ok_or("no stdin for gnome-keyring-daemon")?
        .write_all(b"taskdeck-test")
        .map_err(|e| e.to_string())?;
    // It forks a daemon and exits; the daemon lives as long as the session bus.
    keyring.wait().map_err(|e| e.to_string())?;
    let _dunst = Command::new("dunst")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Helper)
        .ok();

    // Cargo, with the session's display, keyring and HOME (Cargo and rustup
    // themselves still live in the real HOME).
    let session_cargo = || {
        let mut command = cargo();
        command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("CARGO_HOME", &cargo_home)
            .env("RUSTUP_HOME", &rustup_home);
        command
    };
    let bench = |name: &str, env_extra: &[(&str, std::path::PathBuf)]| {
        let mut bench = session_cargo();
        bench
            .args(["bench", "--package", "taskdeck", "--bench", name])
            .args(["--features", "e2e"])
            .envs(env_extra.iter().map(|(k, v)| (*k, v.as_os_str())));
        crate::run(&mut bench)
    };
    match extra.first().map(String::as_str) {
        // The window benchmark, in the same session as the tests.
        Some("--bench-window") => bench("window", &[]),
        // The release app's budgets (`cargo xtask bench-budgets`).
        Some("--bench-budgets") => {
            let target = crate::target_dir();
            // Another build's binary may be named, to measure a reference
            // beside this one at the same hour.
            let app = std::env::var_os("TASKDECK_RELEASE_APP")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| target.join("release").join("taskdeck"));
            bench(
                "budgets",
                &[
                    ("TASKDECK_RELEASE_APP", app),
                    (
                        "TASKDECK_BUNDLE_SIZES",
                        target.join("tmp").join("bundle-sizes.txt"),
                    ),
                ],
            )
        }
        // The installed package and the AppImage (`cargo xtask test-bundle`).
        Some("--installed") => {
            let appimage = crate::bundle::newest("appimage", ".AppImage")?;
            let mut test = session_cargo();
            // The workspace's features, as the main test build has them
            // (`--package taskdeck` alone would rebuild every dependency),
            // and the one that builds these tests.
            test.args(crate::WORKSPACE_TESTS)
                .args(["--features", "taskdeck/installed", "--test", "installed"])
                .env("TASKDECK_INSTALLED_APP", crate::bundle::INSTALLED_APP)
                .env("TASKDECK_APPIMAGE", appimage);
            run_counting(&mut test)
        }
        _ => {
            // The PostgreSQL store's tests (`api_postgres`, the multi-server
            // ones) run against a throwaway cluster of their own.
            // Built first, on its own, so that the stage times tell the
            // build from the tests.
            let started = Instant::now();
            crate::stage("test build", || {
                crate::run(session_cargo().args(crate::WORKSPACE_TESTS).arg("--no-run"))
            })?;
            let postgres = crate::postgres::Cluster::start()?;
            let mut test = session_cargo();
            test.env("TASKDECK_TEST_POSTGRES", postgres.url());
            // Every test binary runs even when one fails, so the count is complete.
            test.args(crate::WORKSPACE_TESTS).arg("--no-fail-fast");
            if !extra.is_empty() {
                test.arg("--").args(extra);
            }
            let result = crate::stage("tests", || run_counting(&mut test));
            crate::print_stage_times(started);
            result
        }
    }
}

/// Runs a `cargo test`, passing its output through, and closes with one
/// line totalling every test binary's results.
fn run_counting(command: &mut Command) -> Result<(), String> {
    use std::io::BufRead;
    eprintln!("xtask: running {command:?}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cargo test: {e}"))?;
    let stdout = child.stdout.take().ok_or("no output from cargo test")?;
    let mut totals = TestTotals::default();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        totals.add_line(&line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    println!("tests: {} passed, {} failed", totals.passed, totals.failed);
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test failed: {status}"))
    }
}

/// Sums libtest's `test result:` lines.
#[derive(Debug, Default, PartialEq, Eq)]
struct TestTotals {
    passed: u64,
    failed: u64,
}

impl TestTotals {
    fn add_line(&mut self, line: &str) {
        let Some(result) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in result.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                _ => {}
            }
        }
    }
}

fn free_display() -> u32 {
    (99..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .unwrap_or(99)
}

fn wait_for(path: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !Path::new(path).exists() {
        if Instant::now() > deadline {
            return Err(format!("{path} did not appear: Xvfb did not start"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("taskdeck-test-home-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_libtest_result_lines() {
        let mut totals = TestTotals::default();
        totals.add_line("test result: ok. 28 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 7.21s");
        totals.add_line("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s");
        totals.add_line("running 3 tests");
        assert_eq!(
            totals,
            TestTotals {
                passed: 31,
                failed: 2
            }
        );
    }
}
