//! Project automation, run as `cargo xtask <command>` (alias in .cargo/config.toml).
//!
//! - `setup`: installs what building and testing need (apt packages, the
//!   wasm32 target, tauri-driver), skipping what is already there.
//! - `build-ui`: compiles the Leptos UI to WebAssembly and lays out `src-ui/dist`.
//! - `build`: the UI, then the desktop app and the Site server (debug, with
//!   Tauri's custom protocol), leaving the app at `target/debug/taskdeck`.
//! - `run`: set-up, build, then launches the app on the embedded Demo Site.
//! - `bundle`: the release `.deb`, `.rpm` and `.AppImage` (Tauri CLI from npm).
//! - `test-bundle`: builds the bundles, installs the `.deb`, drives the
//!   installed app and the AppImage, removes the package (part of `test`).
//! - `agent-deb`: only the agent's `.deb`; as root, also installs, checks
//!   and purges it (what `test-bundle` does with it).
//! - `bench-window`: the window benchmark (a Site of 100,000 active tasks in
//!   the real app) inside the same session as the tests.
//! - `bench-stores`: SQLite against PostgreSQL (pages at 100,000 active
//!   tasks, lifecycle throughput with one and two servers, event latency
//!   from one server to another), on a throwaway cluster.
//! - `bench-budgets`: the shipped app's budgets (cold start, idle memory
//!   after 10 minutes, bundle sizes), on the release build.
//! - `screenshots`: the README's pictures, taken by the end-to-end suite in
//!   the real window and reduced into `docs/screenshots/`.
//! - `check-windows`: clippy over the workspace for `x86_64-pc-windows-gnu`
//!   (part of `test`; macOS cannot be checked here: `windows.rs` says why).
//! - `test`: set-up, formatting, clippy (also for Windows), then every test (unit, server
//!   integration over HTTP, end-to-end through tauri-driver) inside a D-Bus
//!   session with Xvfb and an unlocked gnome-keyring.

mod agent_deb;
mod appimage;
mod bundle;
mod postgres;
mod session;
mod setup;
mod tidy;
mod tools;
mod ui;
mod windows;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("help");
    let result = match command {
        "setup" => setup::install(setup::Scope::Test),
        "build-ui" => ui::build(args.iter().any(|a| a == "--release")),
        "build" => build(),
        "run" => run_app(),
        "test" => test(extra_test_args(&args)),
        "bundle" => bundle::bundle(),
        "test-bundle" => bundle::test_bundle(),
        "check-windows" => windows::check(),
        "agent-deb" => agent_deb::build(agent_deb::Build::Release).and_then(|deb| {
            if setup::is_root() {
                agent_deb::test_installed(&deb)?;
            }
            eprintln!("xtask: {}", deb.display());
            Ok(())
        }),
        // A throwaway PostgreSQL cluster, as the tests get, for a test or
        // a server run by hand (`TASKDECK_TEST_POSTGRES=… cargo test`).
        "postgres" => postgres::Cluster::start().map(|cluster| {
            println!("TASKDECK_TEST_POSTGRES={}", cluster.url());
            let seconds = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3600);
            std::thread::sleep(std::time::Duration::from_secs(seconds));
        }),
        "bench-window" => bench_window(),
        "bench-stores" => bench_stores(),
        "bench-budgets" => bench_budgets(),
        "screenshots" => screenshots(),
        // Internal: the part of `test` that runs inside `dbus-run-session`.
        "test-session" => session::run_tests(extra_test_args(&args)),
        "help" | "--help" | "-h" => {
            println!("usage: cargo xtask <setup|build-ui [--release]|build|run|test [-- FILTER…]|bundle|test-bundle|check-windows|agent-deb|postgres [SECONDS]|bench-window|bench-stores|bench-budgets|screenshots>");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}; try cargo xtask help")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: read at run time (`cargo run` sets
/// `CARGO_MANIFEST_DIR`), so that an xtask binary cached in a shared target
/// folder never works on the checkout it was first built from.
pub fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_owned)
        .unwrap_or(manifest_dir)
}

/// Cargo's target folder, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => root().join("target"),
    }
}

/// Runs `command`, failing with its description unless it exits 0.
pub fn run(command: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed: {status}", command.get_program()))
    }
}

/// A `cargo` command in the workspace root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(root());
    command
}

/// Builds the UI, the app (with the custom protocol) and the server.
fn build() -> Result<(), String> {
    ui::build(true)?;
    run(cargo().args([
        "build",
        "--package",
        "taskdeck",
        "--package",
        "taskdeck-site",
        "--features",
        "taskdeck/custom-protocol",
        "--bins",
    ]))?;
    place_app_binary()
}

/// Makes `target/debug/taskdeck` exist in the workspace even when Cargo's
/// target folder is elsewhere (CI keeps it under ~/.cache).
fn place_app_binary() -> Result<(), String> {
    let built = target_dir().join("debug").join(app_binary_name());
    let wanted = root().join("target").join("debug").join(app_binary_name());
    if built == wanted {
        return Ok(());
    }
    std::fs::create_dir_all(wanted.parent().expect("has a parent"))
        .map_err(|e| format!("cannot create target/debug: {e}"))?;
    std::fs::copy(&built, &wanted).map_err(|e| {
        format!(
            "cannot copy {} to {}: {e}",
            built.display(),
            wanted.display()
        )
    })?;
    Ok(())
}

fn app_binary_name() -> &'static str {
    if cfg!(windows) {
        "taskdeck.exe"
    } else {
        "taskdeck"
    }
}

fn run_app() -> Result<(), String> {
    setup::install(setup::Scope::Run)?;
    build()?;
    run(&mut Command::new(
        root().join("target").join("debug").join(app_binary_name()),
    ))
}

/// What follows `--`: passed on to `cargo test` (e.g. a test name filter).
fn extra_test_args(args: &[String]) -> Vec<String> {
    args.iter()
        .skip_while(|arg| *arg != "--")
        .skip(1)
        .cloned()
        .collect()
}

/// The window benchmark (a Site of 100,000 tasks in the real app), inside
/// the same kind of session as the tests.
fn bench_window() -> Result<(), String> {
    setup::install(setup::Scope::Test)?;
    ui::build(true)?;
    in_session(vec!["--bench-window".to_owned()])
}

/// SQLite against PostgreSQL (`crates/site-server/benches/stores.rs`), on
/// a throwaway cluster like the tests'.
fn bench_stores() -> Result<(), String> {
    setup::install(setup::Scope::Test)?;
    let cluster = postgres::Cluster::start()?;
    run(cargo()
        .args(["bench", "--package", "taskdeck-site", "--bench", "stores"])
        .env("TASKDECK_TEST_POSTGRES", cluster.url()))
}

/// The release app's budgets: builds the bundles, then measures the app in
/// the test session.
fn bench_budgets() -> Result<(), String> {
    setup::install(setup::Scope::Test)?;
    bundle::bundle()?;
    in_session(vec!["--bench-budgets".to_owned()])
}

/// The pictures the README shows, as `docs/screenshots/<name>.png`.
const README_SCREENSHOTS: &[&str] = &[
    "active-tasks",
    "active-tasks-dark",
    "view-menu",
    "task-detail",
    "dashboard",
];

/// Regenerates the README's pictures: the end-to-end screenshot scenario
/// (the real app under Xvfb), then each picture reduced to 960 px wide.
fn screenshots() -> Result<(), String> {
    setup::install(setup::Scope::Test)?;
    ui::build(true)?;
    in_session(vec!["screenshots_of_the_main_pages".to_owned()])?;
    let taken = target_dir().join("tmp").join("screenshots");
    let docs = root().join("docs").join("screenshots");
    std::fs::create_dir_all(&docs).map_err(|e| e.to_string())?;
    for name in README_SCREENSHOTS {
        let file = format!("{name}.png");
        run(Command::new("convert")
            .arg(taken.join(&file))
            .args([
                "-resize",
                "960x",
                "-strip",
                "-colors",
                "256",
                "-define",
                "png:compression-level=9",
            ])
            .arg(docs.join(&file)))?;
    }
    eprintln!(
        "xtask: {} pictures written to {}",
        README_SCREENSHOTS.len(),
        docs.display()
    );
    Ok(())
}

/// Runs `xtask test-session -- ARGS` in a private D-Bus session (which the
/// session part fills with a display, a keyring and a notification server).
pub fn in_session(args: Vec<String>) -> Result<(), String> {
    let xtask = std::env::current_exe().map_err(|e| format!("cannot find xtask itself: {e}"))?;
    run(Command::new("dbus-run-session")
        .arg("--")
        .arg(xtask)
        .arg("test-session")
        .arg("--")
        .args(args)
        .current_dir(root()))
}

fn test(extra: Vec<String>) -> Result<(), String> {
    let started = Instant::now();
    let result = test_stages(extra);
    print_stage_times(started);
    result
}

fn test_stages(extra: Vec<String>) -> Result<(), String> {
    stage("set-up", || setup::install(setup::Scope::Test))?;
    stage("UI (release wasm)", || ui::build(true))?;
    stage("fmt", || {
        run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    stage("clippy", || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--features",
            // The installed-package tests too, which only test-bundle builds.
            "taskdeck/e2e taskdeck/installed",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    stage("clippy for Windows", windows::check)?;
    // Everything else runs in a private D-Bus session with a display and a
    // keyring; it times its own stages (build, then run).
    let filtered = !extra.is_empty();
    stage("test session (build, then run)", || in_session(extra))?;
    place_app_binary()?;
    // The shipped bundles, installed and run (skipped for a filtered run).
    if !filtered {
        bundle::test_bundle()?;
    }
    Ok(())
}

/// `cargo test` over the whole workspace, as the test session runs it
/// (with the end-to-end feature that the app's WebDriver tests need).
pub const WORKSPACE_TESTS: &[&str] = &["test", "--workspace", "--features", "taskdeck/e2e"];

/// How long each stage of this command took, in the order they ran.
static STAGE_TIMES: Mutex<Vec<(String, f64)>> = Mutex::new(Vec::new());

/// Runs one stage of a command and records how long it took, so a slow
/// CI run says where its minutes went.
pub fn stage<T>(name: &str, work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let started = Instant::now();
    let result = work();
    let seconds = started.elapsed().as_secs_f64();
    let outcome = if result.is_ok() { "done" } else { "failed" };
    eprintln!("xtask: stage \"{name}\" {outcome} in {seconds:.0} s");
    if let Ok(mut times) = STAGE_TIMES.lock() {
        times.push((name.to_owned(), seconds));
    }
    result
}

/// Prints the stages this process timed since `started` (the test
/// session, a child process, prints its own) and the time since then.
pub fn print_stage_times(started: Instant) {
    let Ok(times) = STAGE_TIMES.lock() else {
        return;
    };
    eprintln!("xtask: stage times");
    for (name, seconds) in times.iter() {
        eprintln!("xtask:   {seconds:>6.0} s  {name}");
    }
    eprintln!(
        "xtask:   {:>6.0} s  in all",
        started.elapsed().as_secs_f64()
    );
}
