//! The AppImage, laid out here because `tauri build`'s AppImage step
//! downloads linuxdeploy from GitHub, which this machine cannot reach. The
//! AppImage runtime comes from the `appimage` crate (crates.io), the
//! squashfs from Debian's `mksquashfs`.
//!
//! What goes in, as linuxdeploy and its GTK plugin would put it: the release
//! binary, WebKitGTK's helper processes and injected bundle, every shared
//! library they load that is not part of the base system (the AppImage
//! project's exclude list: glibc, the graphics stack, X11, fonts), the
//! GdkPixbuf loaders, and an `AppRun` that points the loader at them.
//! WebKitGTK looks for its helpers at a path fixed at build time; as Tauri's
//! own AppImages do, that path is rewritten to a relative one of the same
//! length, and `AppRun` starts the app from `usr/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::target_dir;

/// Where Debian and Ubuntu keep WebKitGTK's helpers, and its relative
/// stand-in (same length) inside the AppImage, resolved from `usr/`.
const WEBKIT_HELPERS: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1";
const WEBKIT_HELPERS_RELATIVE: &str = "././/lib/x86_64-linux-gnu/webkit2gtk-4.1";
const PIXBUF_LOADERS: &str = "/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0";

/// Libraries every desktop Linux has, or that must come from the host (the
/// graphics driver stack, X11, fonts): left out, as AppImage's exclude list
/// says.
const EXCLUDED: &[&str] = &[
    "ld-linux",
    "libc.so",
    "libm.so",
    "libdl.so",
    "libpthread.so",
    "librt.so",
    "libresolv.so",
    "libutil.so",
    "libanl.so",
    "libnsl.so",
    "libgcc_s.so",
    "libstdc++.so",
    "libGL",
    "libEGL",
    "libGLX",
    "libGLdispatch",
    "libOpenGL",
    "libglapi",
    "libdrm",
    "libgbm",
    "libvulkan",
    "libX11",
    "libxcb",
    "libXau",
    "libXdmcp",
    "libxshmfence",
    "libfontconfig",
    "libfreetype",
    "libharfbuzz.so",
    "libexpat",
    "libasound",
    "libcom_err",
    "libgpg-error",
    "libuuid",
    "libz.so",
    "libdbus-1",
    "libselinux",
];

/// Builds `<bundle>/appimage/Taskdeck_<version>_amd64.AppImage`.
pub fn build(bundle: &Path) -> Result<(), String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        eprintln!("xtask: the AppImage is built on x86_64 Linux only; skipped");
        return Ok(());
    }
    let binary = target_dir().join("release").join("taskdeck");
    let work = target_dir().join("tmp").join("appimage");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let image = appimage::AppImage::new(&work, "taskdeck".to_owned())
        .map_err(|e| format!("AppImage folder: {e}"))?;
    let add = |from: &Path, to: &str| {
        image
            .add_file(from, Path::new(to))
            .map_err(|e| format!("cannot add {} as {to}: {e}", from.display()))
    };

    add(&binary, "usr/bin/taskdeck")?;
    let root = crate::root();
    add(&root.join("icons/128x128.png"), "taskdeck.png")?;
    add(
        &root.join("icons/128x128.png"),
        "usr/share/icons/hicolor/128x128/apps/taskdeck.png",
    )?;
    add(
        &root.join("icons/32x32.png"),
        "usr/share/icons/hicolor/32x32/apps/taskdeck.png",
    )?;
    #[cfg(unix)]
    std::os::unix::fs::symlink("taskdeck.png", image.appdir().join(".DirIcon"))
        .map_err(|e| e.to_string())?;
    write(image.appdir(), "taskdeck.desktop", DESKTOP_ENTRY, false)?;
    write(
        image.appdir(),
        "usr/share/applications/taskdeck.desktop",
        DESKTOP_ENTRY,
        false,
    )?;
    write(image.appdir(), "AppRun", APP_RUN, true)?;

    // WebKitGTK's helper processes and injected bundle.
    let helpers = Path::new(WEBKIT_HELPERS);
    let mut elves: Vec<PathBuf> = vec![binary.clone()];
    for helper in [
        "WebKitWebProcess",
        "WebKitNetworkProcess",
        "injected-bundle/libwebkit2gtkinjectedbundle.so",
    ] {
        let from = helpers.join(helper);
        add(
            &from,
            &format!("usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/{helper}"),
        )?;
        elves.push(from);
    }
    // GdkPixbuf loaders (icons), with a cache naming them relative to `usr/`.
    let loaders = Path::new(PIXBUF_LOADERS).join("loaders");
    for entry in std::fs::read_dir(&loaders).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // PNG is built into GdkPixbuf; icon themes need SVG (symbolic
        // icons), ICO and XPM. Formats nothing here shows stay out.
        if !["svg", "ico", "xpm", "gif", "bmp"]
            .iter()
            .any(|format| name == format!("libpixbufloader-{format}.so"))
        {
            continue;
        }
        add(
            &path,
            &format!("usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders/{name}"),
        )?;
        elves.push(path);
    }
    let cache = loaders_cache(
        &std::fs::read_to_string(Path::new(PIXBUF_LOADERS).join("loaders.cache"))
            .map_err(|e| format!("GdkPixbuf's loaders.cache: {e}"))?,
        image.appdir(),
    );
    write(
        image.appdir(),
        "usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache",
        &cache,
        false,
    )?;

    // Every library those load, less the base system's.
    for library in libraries_of(&elves)? {
        let name = library
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.starts_with("libwebkit2gtk-4.1.so") {
            let bytes = std::fs::read(&library).map_err(|e| e.to_string())?;
            let patched = replace_same_length(&bytes, WEBKIT_HELPERS, WEBKIT_HELPERS_RELATIVE)?;
            std::fs::write(image.appdir().join("usr/lib").join(&name), patched)
                .map_err(|e| e.to_string())?;
        } else {
            add(&library, &format!("usr/lib/{name}"))?;
        }
    }

    let version = env!("CARGO_PKG_VERSION");
    let out_dir = bundle.join("appimage");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let out = out_dir.join(format!("Taskdeck_{version}_amd64.AppImage"));
    eprintln!("xtask: packing {}", out.display());
    let runtime = runtime(&work)?;
    let appdir = image.appdir().to_owned();
    pack(&appdir, &runtime, &out)?;
    // The unpacked tree is a quarter of a gigabyte.
    let _ = std::fs::remove_dir_all(&appdir);
    Ok(())
}

/// The AppImage runtime the `appimage` crate carries: it writes it in front
/// of every image it builds, so it is cut from a one-file image (the
/// runtime is an ELF file, which says how long it is).
fn runtime(work: &Path) -> Result<Vec<u8>, String> {
    let probe = appimage::AppImage::new(work, "runtime-probe".to_owned())
        .map_err(|e| format!("AppImage folder: {e}"))?;
    std::fs::write(probe.appdir().join("probe"), b"probe").map_err(|e| e.to_string())?;
    let image = work.join("runtime-probe.AppImage");
    probe
        .build(&image, None)
        .map_err(|e| format!("{e} (is squashfs-tools installed?)"))?;
    let bytes = std::fs::read(&image).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(work.join("runtime-probe.AppDir"));
    let _ = std::fs::remove_file(&image);
    let _ = std::fs::remove_file(work.join("runtime-probe.squashfs"));
    let length = elf_length(&bytes).ok_or("the AppImage runtime is not an ELF64 file")?;
    Ok(bytes[..length].to_vec())
}

/// The length of the ELF64 file at the start of `bytes`: its section
/// headers come last (as the AppImage runtime itself computes it).
fn elf_length(bytes: &[u8]) -> Option<usize> {
    if bytes.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let u64_at = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
    let u16_at = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
    let section_headers = u64_at(0x28)? as usize;
    let entry_size = u16_at(0x3a)? as usize;
    let entries = u16_at(0x3c)? as usize;
    let length = section_headers + entry_size * entries;
    (length <= bytes.len()).then_some(length)
}

/// Packs `appdir` as an xz squashfs (a third smaller than the crate's gzip
/// for WebKitGTK's libraries) behind `runtime`. xz's x86 branch filter
/// (`-Xbcj x86`) makes the machine code compress better: 85.3 → 82.1 MB for
/// the same files, and the runtime's decoder reads it as it reads plain xz.
fn pack(appdir: &Path, runtime: &[u8], out: &Path) -> Result<(), String> {
    let squashfs = appdir.with_extension("squashfs");
    crate::run(Command::new("mksquashfs").arg(appdir).arg(&squashfs).args([
        "-root-owned",
        "-noappend",
        "-quiet",
        "-comp",
        "xz",
        "-Xbcj",
        "x86",
        "-b",
        "1M",
    ]))?;
    let mut image = runtime.to_vec();
    image.extend(std::fs::read(&squashfs).map_err(|e| e.to_string())?);
    std::fs::write(out, image).map_err(|e| format!("{}: {e}", out.display()))?;
    let _ = std::fs::remove_file(&squashfs);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// GdkPixbuf's loader cache for the AppImage: the entries of the loaders
/// it carries (paths relative to `usr/`, where `AppRun` starts), the others
/// left out. Entries are blank-line separated, each opening with the
/// loader's quoted path.
fn loaders_cache(system: &str, appdir: &Path) -> String {
    let relative = "./lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0";
    system
        .split("\n\n")
        .filter_map(|entry| {
            let first = entry.lines().find(|line| !line.starts_with('#'))?;
            if !first.starts_with(&format!("\"{PIXBUF_LOADERS}")) {
                return Some(entry.to_owned());
            }
            let entry = entry.replace(PIXBUF_LOADERS, relative);
            let path = entry
                .lines()
                .find(|line| !line.starts_with('#'))?
                .trim_matches('"')
                .to_owned();
            appdir.join("usr").join(&path).exists().then_some(entry)
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The shared libraries `elves` load (resolved by `ldd`), less [`EXCLUDED`].
fn libraries_of(elves: &[PathBuf]) -> Result<BTreeSet<PathBuf>, String> {
    let mut libraries = BTreeSet::new();
    for elf in elves {
        let out = Command::new("ldd")
            .arg(elf)
            .output()
            .map_err(|e| format!("cannot run ldd: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            if line.contains("not found") {
                return Err(format!("{} needs a missing library: {line}", elf.display()));
            }
            let Some((name, rest)) = line.trim().split_once(" => ") else {
                continue;
            };
            if EXCLUDED.iter().any(|excluded| name.starts_with(excluded)) {
                continue;
            }
            if let Some(path) = rest
                .split_whitespace()
                .next()
                .filter(|p| p.starts_with('/'))
            {
                libraries.insert(PathBuf::from(path));
            }
        }
    }
    Ok(libraries)
}

/// `bytes` with every `from` replaced by `to` (which must be as long, so
/// the ELF file's offsets stay right); fails when `from` is not there.
fn replace_same_length(bytes: &[u8], from: &str, to: &str) -> Result<Vec<u8>, String> {
    assert_eq!(from.len(), to.len(), "a same-length replacement");
    let (from, to) = (from.as_bytes(), to.as_bytes());
    let mut out = bytes.to_vec();
    let mut found = 0;
    let mut at = 0;
    while let Some(offset) = out[at..].windows(from.len()).position(|w| w == from) {
        let start = at + offset;
        out[start..start + to.len()].copy_from_slice(to);
        at = start + to.len();
        found += 1;
    }
    if found == 0 {
        return Err(format!(
            "WebKitGTK does not name {}: is this another WebKitGTK build?",
            String::from_utf8_lossy(from)
        ));
    }
    Ok(out)
}

fn write(appdir: &Path, name: &str, text: &str, executable: bool) -> Result<(), String> {
    let path = appdir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

const DESKTOP_ENTRY: &str = "[Desktop Entry]
Type=Application
Name=Taskdeck
Comment=Active tasks console for Scan and Audit Sites
Exec=taskdeck
Icon=taskdeck
Terminal=false
Categories=Utility;
";

/// Starts the app with the bundled libraries, from `usr/` (where the
/// rewritten WebKitGTK helper path is resolved).
const APP_RUN: &str = r#"#!/bin/sh
HERE="$(dirname "$(readlink -f "$0")")"
export LD_LIBRARY_PATH="$HERE/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GDK_PIXBUF_MODULE_FILE="$HERE/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache"
export XDG_DATA_DIRS="$HERE/usr/share:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
cd "$HERE/usr" || exit 1
exec "$HERE/usr/bin/taskdeck" "$@"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helper_path_is_replaced_in_place() {
        let bytes = b"xx/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/injected-bundle/\0yy";
        let out = replace_same_length(bytes, WEBKIT_HELPERS, WEBKIT_HELPERS_RELATIVE).unwrap();
        assert_eq!(out.len(), bytes.len());
        assert_eq!(
            &out[..],
            &b"xx././/lib/x86_64-linux-gnu/webkit2gtk-4.1/injected-bundle/\0yy"[..]
        );
        assert!(
            replace_same_length(b"nothing here", WEBKIT_HELPERS, WEBKIT_HELPERS_RELATIVE).is_err()
        );
    }
}
