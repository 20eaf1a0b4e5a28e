//! Desktop bundles: `cargo xtask bundle` runs `tauri build` (the Tauri CLI
//! from npm, pinned) for the Linux `.deb` and `.rpm`, then lays out the
//! AppImage; `cargo xtask test-bundle` installs the `.deb` on this machine,
//! drives the installed app through the end-to-end harness and removes the
//! package again.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, run, target_dir};

/// The Tauri CLI release used for bundling (it matches Cargo.lock's tauri 2.12).
const TAURI_CLI: &str = "2.12.5";

/// Where the installed package puts the app.
pub const INSTALLED_APP: &str = "/usr/bin/taskdeck";

/// The Debian package's name (the app's `mainBinaryName`).
const PACKAGE: &str = "taskdeck";

/// Builds the release UI and the `.deb`, `.rpm` and `.AppImage` bundles,
/// then the agent's release `.deb`, and prints their sizes.
pub fn bundle() -> Result<(), String> {
    app_bundles()?;
    if cfg!(target_os = "linux") {
        let agent = crate::agent_deb::build(crate::agent_deb::Build::Release)?;
        print_size(&agent)?;
    }
    report_sizes()
}

/// The app's bundles: `tauri build` (the one release, LTO build of a
/// test run), the `.deb` repacked with xz, and the AppImage.
fn app_bundles() -> Result<(), String> {
    crate::setup::install(crate::setup::Scope::Run)?;
    if cfg!(target_os = "linux") {
        // mksquashfs packs the AppImage.
        crate::setup::apt_install(&["squashfs-tools"])?;
    }
    crate::ui::build(true)?;
    let cli = crate::tools::npm_package("tauri-cli-2", "@tauri-apps/cli", TAURI_CLI)?
        .join(".bin")
        .join("tauri");
    crate::stage("app release build (tauri build)", || {
        run(Command::new(&cli)
            .args(["build", "--ci", "--bundles", "deb,rpm"])
            .current_dir(root()))
    })?;
    if cfg!(target_os = "linux") {
        recompress_deb(&newest("deb", ".deb")?)?;
    }
    crate::stage("AppImage", || crate::appimage::build(&bundle_dir()))
}

fn print_size(path: &Path) -> Result<(), String> {
    let bytes = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    eprintln!(
        "xtask: {} {:.2} MB ({bytes} bytes)",
        path.display(),
        bytes as f64 / 1e6
    );
    Ok(())
}

/// Repacks the `.deb` with xz, as Debian's own packages are: `tauri build`
/// writes gzip, a third larger for our binary. Its contents go through
/// xz's x86 branch filter first (`xz --x86`), which makes machine code
/// compress better (7.89 -> 7.45 MB); dpkg's xz decoder reads any filter
/// chain. `dpkg-deb` builds the package uncompressed (it cannot set a
/// filter), then its members are compressed and put back in their order.
/// The contents, control file and checksums stay as they are.
fn recompress_deb(deb: &Path) -> Result<(), String> {
    let work = target_dir().join("tmp").join("deb-repack");
    let _ = std::fs::remove_dir_all(&work);
    let (unpacked, members) = (work.join("root"), work.join("members"));
    std::fs::create_dir_all(&members).map_err(|e| e.to_string())?;
    run(Command::new("dpkg-deb")
        .arg("--raw-extract")
        .arg(deb)
        .arg(&unpacked))?;
    let plain = work.join("plain.deb");
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Znone", "--build"])
        .arg(&unpacked)
        .arg(&plain)
        .stdout(std::process::Stdio::null()))?;
    run(Command::new("ar")
        .arg("x")
        .arg(&plain)
        .current_dir(&members))?;
    run(Command::new("xz")
        .args(["--x86", "--lzma2=preset=9e", "data.tar"])
        .current_dir(&members))?;
    run(Command::new("xz")
        .args(["-9e", "control.tar"])
        .current_dir(&members))?;
    std::fs::remove_file(deb).map_err(|e| format!("{}: {e}", deb.display()))?;
    // `D`: members with zero dates and owners, as dpkg-deb writes them.
    run(Command::new("ar")
        .arg("rcD")
        .arg(deb)
        .args(["debian-binary", "control.tar.xz", "data.tar.xz"])
        .current_dir(&members))?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// `<target>/release/bundle`, where `tauri build` leaves the bundles.
pub fn bundle_dir() -> PathBuf {
    target_dir().join("release").join("bundle")
}

/// The newest file ending in `extension` in the bundle folder `kind`.
pub fn newest(kind: &str, extension: &str) -> Result<PathBuf, String> {
    let folder = bundle_dir().join(kind);
    std::fs::read_dir(&folder)
        .map_err(|e| format!("no {kind} bundle in {}: {e}", folder.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with(extension))
        .max_by_key(|path| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH)
        })
        .ok_or_else(|| format!("no *{extension} in {}", folder.display()))
}

/// Prints each bundle's size and records them in
/// `<target>/tmp/bundle-sizes.txt` for the budget benchmark.
fn report_sizes() -> Result<(), String> {
    let mut record = String::new();
    for (kind, extension) in [("deb", ".deb"), ("rpm", ".rpm"), ("appimage", ".AppImage")] {
        let path = newest(kind, extension)?;
        let bytes = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        eprintln!(
            "xtask: {} {:.2} MB ({bytes} bytes)",
            path.display(),
            bytes as f64 / 1e6
        );
        record.push_str(&format!("{kind} {bytes} {}\n", path.display()));
    }
    let folder = target_dir().join("tmp");
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    std::fs::write(folder.join("bundle-sizes.txt"), record).map_err(|e| e.to_string())
}

/// Builds the bundles, installs the `.deb`, runs the installed-app tests in
/// a test session, and removes the package — also when a test fails. Then
/// the agent's package, built around the debug agent the tests already
/// built (a second release build would double the cold run; what is tested
/// is the package: its files, unit and maintainer scripts), is installed,
/// checked and purged the same way.
pub fn test_bundle() -> Result<(), String> {
    if !crate::setup::is_root() {
        eprintln!("xtask: test-bundle installs a package and needs root; skipped");
        return Ok(());
    }
    app_bundles()?;
    report_sizes()?;
    let deb = newest("deb", ".deb")?;
    remove_package()?;
    install_package(&deb)?;
    let tested = crate::stage("installed-app tests", || {
        crate::in_session(vec!["--installed".to_owned()])
    });
    let removed = remove_package();
    tested?;
    removed?;
    for leftover in [
        INSTALLED_APP,
        "/usr/share/applications/Taskdeck.desktop",
        "/usr/share/icons/hicolor/128x128/apps/taskdeck.png",
    ] {
        if Path::new(leftover).exists() {
            return Err(format!(
                "{leftover} is still there after removing the package"
            ));
        }
    }
    eprintln!("xtask: the .deb installed, ran and was removed cleanly");
    crate::stage("agent package", || {
        let agent = crate::agent_deb::build(crate::agent_deb::Build::Debug)?;
        crate::agent_deb::test_installed(&agent)
    })
}

fn install_package(deb: &Path) -> Result<(), String> {
    // apt-get wants a path, not a bare name, to install a local file.
    let deb = deb
        .canonicalize()
        .map_err(|e| format!("{}: {e}", deb.display()))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .arg(&deb)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Removes the package if it is installed.
fn remove_package() -> Result<(), String> {
    if !crate::setup::is_installed(PACKAGE) {
        return Ok(());
    }
    run(Command::new("apt-get")
        .args(["remove", "--purge", "-y", PACKAGE])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
