//! Driving the real app: tauri-driver (WebKitWebDriver underneath) started
//! in its own process group, one app at a time, with its own data folders.
//! Used by the end-to-end tests and the window benchmark; both run inside
//! `cargo xtask`'s session (Xvfb, D-Bus, keyring).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use thirtyfour::prelude::*;
use thirtyfour::Capabilities;

/// tauri-driver and everything it started, killed as a process group on drop.
pub struct TauriDriver {
    child: Child,
    port: u16,
    /// The app binary sessions launch: the one Cargo built, or an
    /// installed one ([`TauriDriver::with_application`]).
    application: std::path::PathBuf,
    /// The app's folders, removed with the driver (unless the caller keeps
    /// them for a second launch).
    _data: Option<tempfile::TempDir>,
    /// One app at a time: the app is single-instance on the session bus.
    _one_app: std::sync::MutexGuard<'static, ()>,
}

static ONE_APP: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl TauriDriver {
    /// A driver whose apps get their own, empty data folders (a new user),
    /// with `env` on top.
    pub fn start(env: &[(&str, &str)]) -> TauriDriver {
        TauriDriver::start_in(tempfile::tempdir().expect("a temporary folder"), env)
    }

    /// Like [`TauriDriver::start`], with the app's folders under `data`
    /// (prepared by the caller).
    pub fn start_in(data: tempfile::TempDir, env: &[(&str, &str)]) -> TauriDriver {
        let mut driver = TauriDriver::start_at(data.path(), env);
        driver._data = Some(data);
        driver
    }

    /// Like [`TauriDriver::start`], with the app's folders under `data`,
    /// which outlives the driver (a restart sees the same settings).
    pub fn start_at(data: &std::path::Path, env: &[(&str, &str)]) -> TauriDriver {
        let one_app = ONE_APP.lock().unwrap_or_else(|e| e.into_inner());
        // A port found free may be taken before tauri-driver binds it: a
        // driver that exits before it listens is started again on others.
        let mut attempts = 0;
        let (child, port) = loop {
            attempts += 1;
            let port = free_port();
            let child = TauriDriver::spawn(port, data, env);
            match TauriDriver::wait_listening(child, port) {
                Ok(child) => break (child, port),
                Err(status) if attempts < 3 => {
                    eprintln!("tauri-driver exited before it listened on {port} ({status}); again");
                }
                Err(status) => panic!("tauri-driver exited before it listened on {port}: {status}"),
            }
        };
        TauriDriver {
            child,
            port,
            application: env!("CARGO_BIN_EXE_taskdeck").into(),
            _data: None,
            _one_app: one_app,
        }
    }

    fn spawn(port: u16, data: &std::path::Path, env: &[(&str, &str)]) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        let native_port = loop {
            let native_port = free_port();
            if native_port != port {
                break native_port;
            }
        };
        Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("XDG_DATA_HOME", data.join("data"))
            .env("XDG_CONFIG_HOME", data.join("config"))
            .env("XDG_CACHE_HOME", data.join("cache"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("tauri-driver is installed (cargo xtask setup installs it)")
    }

    /// Waits until the driver listens on `port`: `Err` with its exit
    /// status if it exits first.
    fn wait_listening(
        mut child: std::process::Child,
        port: u16,
    ) -> Result<std::process::Child, std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("tauri-driver did not listen on {port} within 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(child)
    }

    /// Launches `application` instead of the binary Cargo built (the
    /// installed package's, say).
    pub fn with_application(mut self, application: impl Into<std::path::PathBuf>) -> TauriDriver {
        self.application = application.into();
        self
    }

    /// The app binary sessions launch.
    pub fn application(&self) -> &std::path::Path {
        &self.application
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

pub async fn launch_app(driver: &TauriDriver) -> WebDriver {
    for variable in ["DISPLAY", "DBUS_SESSION_BUS_ADDRESS"] {
        assert!(
            std::env::var_os(variable).is_some(),
            "{variable} is not set: run the end-to-end test through `cargo xtask test`"
        );
    }
    let mut capabilities = Capabilities::new();
    capabilities.set("browserName", "wry").unwrap();
    capabilities
        .set(
            "tauri:options",
            json!({ "application": driver.application }),
        )
        .unwrap();
    // WebKitWebDriver now and then fails to bring a session up right after
    // the previous app went away; a second try is a new launch.
    let url = format!("http://127.0.0.1:{}", driver.port);
    let mut attempt = 1;
    loop {
        match WebDriver::new(&url, capabilities.clone()).await {
            Ok(app) => return app,
            Err(error) if attempt < 3 => {
                eprintln!("e2e: no session yet ({error}); launching again");
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => panic!("a WebDriver session with the app: {error}"),
        }
    }
}

/// Ends the session and the driver, then re-raises a failed scenario.
pub async fn close(
    app: WebDriver,
    driver: TauriDriver,
    outcome: Result<(), tokio::task::JoinError>,
) {
    eprintln!("e2e: closing the app");
    let _ = tokio::time::timeout(Duration::from_secs(15), app.quit()).await;
    let application = driver.application.clone();
    drop(driver);
    // With a tray the app outlives its window; the next test's app must not
    // find it still holding the single-instance name.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Command::new("pgrep")
        .arg("-f")
        .arg(&application)
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Polls `script` (which returns a boolean) in the window every `every`
/// until it returns true; fails after `timeout`, naming `what`. A script
/// that errors (the page still loading) counts as false.
pub async fn wait_for_script(
    app: &WebDriver,
    what: &str,
    script: &str,
    every: Duration,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let holds: bool = app
            .execute(script, Vec::new())
            .await
            .ok()
            .and_then(|answer| answer.convert().ok())
            .unwrap_or(false);
        if holds {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never within {timeout:?}: {what}"
        );
        tokio::time::sleep(every).await;
    }
}

/// The `p` quantile (0 to 1) of `sorted` (ascending), the nearest rank;
/// NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
