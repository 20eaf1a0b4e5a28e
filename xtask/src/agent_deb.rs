//! The agent's own Debian package, `taskdeck-audit-service`: the agent
//! binary, the hardened systemd unit and the sample settings of `deploy/`,
//! laid out and packed with `dpkg-deb` (xz), beside the app's bundles.
//! `cargo xtask bundle` and `agent-deb` package the release binary; the
//! test run packages the debug binary its tests built, into a folder of its
//! own, since what it checks is the package rather than the optimiser.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, root, run, target_dir};

/// The package's name, and the binary's.
pub const PACKAGE: &str = "taskdeck-audit-service";
/// Where the package puts the binary.
pub const INSTALLED_AGENT: &str = "/usr/bin/taskdeck-audit-service";
/// Where it puts the unit.
pub const INSTALLED_UNIT: &str = "/usr/lib/systemd/system/taskdeck-audit-service.service";

/// Which build of the agent goes into the package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// The shipped binary: `cargo build --release`.
    Release,
    /// The test run's binary (`target/debug`), already built by its tests.
    Debug,
}

impl Build {
    fn profile_dir(self) -> &'static str {
        match self {
            Build::Release => "release",
            Build::Debug => "debug",
        }
    }

    fn bundle_folder(self) -> &'static str {
        match self {
            Build::Release => "agent",
            Build::Debug => "agent-debug",
        }
    }
}

/// Where the package is built: a folder of its own beside the app's
/// bundles, so "the newest .deb" there stays the app's, and a debug
/// package never stands where a release one is expected.
pub fn deb_path(build: Build) -> PathBuf {
    crate::bundle::bundle_dir()
        .join(build.bundle_folder())
        .join(format!(
            "{PACKAGE}_{}_{}.deb",
            env!("CARGO_PKG_VERSION"),
            deb_arch()
        ))
}

fn deb_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Builds the agent and its `.deb`: the package's path.
pub fn build(build: Build) -> Result<PathBuf, String> {
    match build {
        Build::Release => {
            run(cargo().args(["build", "--release", "--package", PACKAGE, "--bin", PACKAGE]))?
        }
        // The tests' own build (same packages and features, so nothing is
        // rebuilt after they ran); building the agent alone would resolve
        // other features and rebuild its dependencies.
        Build::Debug => run(cargo().args(crate::WORKSPACE_TESTS).arg("--no-run"))?,
    }
    let version = env!("CARGO_PKG_VERSION");
    let arch = deb_arch();
    let stage = target_dir().join("tmp").join("agent-deb");
    let _ = std::fs::remove_dir_all(&stage);
    let place = |from: &Path, to: &str, mode: u32| -> Result<(), String> {
        let to = stage.join(to.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().expect("has a parent"))
            .map_err(|e| format!("{}: {e}", to.display()))?;
        std::fs::copy(from, &to)
            .map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))?;
        set_mode(&to, mode)
    };
    let deploy = root().join("deploy");
    place(
        &target_dir().join(build.profile_dir()).join(PACKAGE),
        INSTALLED_AGENT,
        0o755,
    )?;
    place(
        &deploy.join("taskdeck-audit-service.service"),
        INSTALLED_UNIT,
        0o644,
    )?;
    place(
        &deploy.join("audit-service.conf"),
        "/etc/taskdeck/audit-service.conf",
        0o644,
    )?;
    let doc = stage.join("usr/share/doc").join(PACKAGE);
    std::fs::create_dir_all(&doc).map_err(|e| e.to_string())?;
    std::fs::write(
        doc.join("copyright"),
        "Taskdeck\nLicense: MIT OR Apache-2.0\n",
    )
    .map_err(|e| e.to_string())?;
    let control = stage.join("DEBIAN");
    std::fs::create_dir_all(&control).map_err(|e| e.to_string())?;
    let installed_kib = du_kib(&stage);
    let files = [
        (
            "control",
            format!(
                "Package: {PACKAGE}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: Taskdeck <team@taskdeck.dev>\n\
                 Installed-Size: {installed_kib}\nDepends: libc6 (>= 2.31)\nRecommends: systemd\nSection: admin\nPriority: optional\n\
                 Homepage: https://github.com/taskdeck/taskdeck\n\
                 Description: Taskdeck Audit Service agent\n \
                 Runs a remote Audit Service of a Taskdeck Site on this host: it takes the\n \
                 service's scan and audit tasks from the Site server, runs a program for\n \
                 each and reports back, through server restarts and network outages.\n"
            ),
            0o644,
        ),
        ("conffiles", "/etc/taskdeck/audit-service.conf\n".to_owned(), 0o644),
        (
            "postinst",
            "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n".to_owned(),
            0o755,
        ),
        (
            "prerm",
            format!("#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl stop {PACKAGE}.service || true; fi\n"),
            0o755,
        ),
        (
            "postrm",
            "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n".to_owned(),
            0o755,
        ),
    ];
    for (name, text, mode) in files {
        let path = control.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        set_mode(&path, mode)?;
    }
    let deb = deb_path(build);
    std::fs::create_dir_all(deb.parent().expect("has a parent")).map_err(|e| e.to_string())?;
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "-z9", "--build"])
        .arg(&stage)
        .arg(&deb)
        .stdout(std::process::Stdio::null()))?;
    Ok(deb)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// The size of a folder's files, in KiB, for `Installed-Size`.
fn du_kib(folder: &Path) -> u64 {
    fn walk(path: &Path) -> u64 {
        match std::fs::read_dir(path) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|entry| {
                    let path = entry.path();
                    match entry.metadata() {
                        Ok(m) if m.is_dir() => walk(&path),
                        Ok(m) => m.len(),
                        Err(_) => 0,
                    }
                })
                .sum(),
            Err(_) => 0,
        }
    }
    walk(folder).div_ceil(1024)
}

/// Installs the package, checks what it put in place (the binary runs,
/// the unit verifies where systemd can), and removes it again.
pub fn test_installed(deb: &Path) -> Result<(), String> {
    let deb = deb
        .canonicalize()
        .map_err(|e| format!("{}: {e}", deb.display()))?;
    remove()?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .arg(&deb)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    let checked = check_installed();
    let removed = remove();
    checked?;
    removed?;
    for leftover in [
        INSTALLED_AGENT,
        INSTALLED_UNIT,
        "/etc/taskdeck/audit-service.conf",
    ] {
        if Path::new(leftover).exists() {
            return Err(format!(
                "{leftover} is still there after purging the package"
            ));
        }
    }
    eprintln!("xtask: the agent's .deb installed, ran and was removed cleanly");
    Ok(())
}

fn check_installed() -> Result<(), String> {
    let output = Command::new(INSTALLED_AGENT)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {INSTALLED_AGENT}: {e}"))?;
    let version = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !version.contains(env!("CARGO_PKG_VERSION")) {
        return Err(format!("{INSTALLED_AGENT} --version said {version:?}"));
    }
    // Refused at once, with a sentence, when the secret is missing.
    let output = Command::new(INSTALLED_AGENT)
        .args([
            "--server",
            "http://127.0.0.1:9",
            "--site",
            "hq",
            "--service",
            "as-1",
            "--",
            "true",
        ])
        .env_remove("TASKDECK_AGENT_SECRET")
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.code() != Some(2) {
        return Err(format!(
            "without a secret the agent exited {:?}",
            output.status
        ));
    }
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok()
    {
        let verified = Command::new("systemd-analyze")
            .args(["verify", INSTALLED_UNIT])
            .output()
            .map_err(|e| e.to_string())?;
        let complaints = String::from_utf8_lossy(&verified.stderr);
        // The settings file names a sample program that is not installed.
        let real: Vec<&str> = complaints
            .lines()
            .filter(|l| !l.contains("/opt/audit") && !l.trim().is_empty())
            .collect();
        if !real.is_empty() {
            return Err(format!("systemd-analyze verify: {}", real.join("\n")));
        }
    }
    Ok(())
}

fn remove() -> Result<(), String> {
    if !crate::setup::is_installed(PACKAGE) {
        return Ok(());
    }
    run(Command::new("apt-get")
        .args(["remove", "--purge", "-y", PACKAGE])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
