//! The installed package: `cargo xtask test-bundle` (part of `cargo xtask
//! test`) builds the `.deb`, installs it with `apt-get install ./….deb`,
//! runs this test against the installed binary, then removes the package.
//!
//! A plain `cargo test` does not build it (feature `installed`): without
//! the package installed there is nothing to test.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

mod support;
use support::driver::{close, launch_app, TauriDriver};

/// Where `cargo xtask test-bundle` says the package put the app.
fn installed_app() -> String {
    std::env::var("TASKDECK_INSTALLED_APP").expect(
        "TASKDECK_INSTALLED_APP is not set: run this test through `cargo xtask test-bundle`",
    )
}

/// The Debian package that owns `path`, as dpkg knows it.
fn owning_package(path: &str) -> String {
    let out = Command::new("dpkg")
        .args(["-S", path])
        .output()
        .expect("dpkg runs");
    assert!(
        out.status.success(),
        "no installed package owns {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.split(':').next().unwrap_or_default().trim().to_owned()
}

#[test]
fn the_package_installs_a_launcher_and_icons() {
    let app = installed_app();
    assert_eq!(owning_package(&app), "taskdeck");
    let desktop = "/usr/share/applications/Taskdeck.desktop";
    assert_eq!(owning_package(desktop), "taskdeck");
    let entry = std::fs::read_to_string(desktop).expect("the desktop entry is readable");
    let exec = entry
        .lines()
        .find_map(|line| line.strip_prefix("Exec="))
        .expect("the desktop entry has an Exec line");
    assert_eq!(
        exec.split_whitespace().next(),
        Path::new(&app).file_name().and_then(|name| name.to_str()),
        "the launcher starts the installed binary"
    );
    let icon = entry
        .lines()
        .find_map(|line| line.strip_prefix("Icon="))
        .expect("the desktop entry has an Icon line");
    for size in ["32x32", "128x128"] {
        let path = format!("/usr/share/icons/hicolor/{size}/apps/{icon}.png");
        assert_eq!(owning_package(&path), "taskdeck", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_installed_app_shows_the_demo_site() {
    let driver = TauriDriver::start(&[]).with_application(installed_app());
    shows_the_demo_site(driver, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_appimage_runs_on_its_own_webkit() {
    let appimage = std::env::var("TASKDECK_APPIMAGE")
        .expect("TASKDECK_APPIMAGE is not set: run this test through `cargo xtask test-bundle`");
    // No FUSE in a container: the runtime unpacks itself and runs from there.
    let driver =
        TauriDriver::start(&[("APPIMAGE_EXTRACT_AND_RUN", "1")]).with_application(appimage);
    shows_the_demo_site(driver, |_| {
        // The web content runs in the AppImage's own WebKitWebProcess, not
        // the system's: the rewritten helper path took.
        let helpers: Vec<String> = std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(Result::ok)
            .filter_map(|entry| std::fs::read_link(entry.path().join("exe")).ok())
            .map(|exe| exe.display().to_string())
            .filter(|exe| exe.ends_with("webkit2gtk-4.1/WebKitWebProcess"))
            .collect();
        assert!(
            helpers.iter().any(|exe| !exe.starts_with("/usr/")),
            "no WebKitWebProcess from inside the AppImage; running: {helpers:?}"
        );
    })
    .await;
}

/// Launches the driver's app as a new user, waits for the Demo Site's rows,
/// runs `also` while the app is up, and checks the About dialog's version.
async fn shows_the_demo_site(driver: TauriDriver, also: impl FnOnce(&WebDriver) + Send + 'static) {
    let app = launch_app(&driver).await;
    let session = app.clone();
    let outcome = tokio::spawn(async move {
        let app = session;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let rows: i64 = app
                .execute(
                    "return document.querySelectorAll(\"[data-testid='task-row']\").length;",
                    Vec::new(),
                )
                .await
                .expect("the window answers")
                .convert()
                .expect("a count");
            if rows > 0 {
                eprintln!("installed: {rows} Demo Site rows");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the app showed no Demo Site rows within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        also(&app);
        // The version the About dialog shows is this checkout's.
        app.find(By::Css("[data-testid='about-button']"))
            .await
            .expect("an About button")
            .click()
            .await
            .expect("About opens");
        // The dialog asks the backend for the versions: wait for them.
        let deadline = Instant::now() + Duration::from_secs(10);
        let version = loop {
            if let Ok(element) = app.find(By::Css("[data-testid='about-version']")).await {
                break element.text().await.expect("its text");
            }
            assert!(
                Instant::now() < deadline,
                "the About dialog showed no version"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(
            version.contains(env!("CARGO_PKG_VERSION")),
            "About says {version:?}, the package was built from {}",
            env!("CARGO_PKG_VERSION")
        );
    })
    .await;
    close(app, driver, outcome).await;
}
