//! How WebKitGTK paints the window on Linux.
//!
//! Without a GPU (no DRM render node: a virtual machine, a remote X
//! session, Xvfb), WebKitGTK's accelerated compositing runs OpenGL on the
//! CPU through Mesa's llvmpipe. That loads LLVM into the web process and
//! keeps GL buffers for every layer: about 110 MB more (PSS) than painting
//! without compositing, measured with the window on the Demo Site
//! (`cargo xtask bench-budgets`, BENCHMARKS.md). There the app turns
//! compositing off, as `WEBKIT_DISABLE_COMPOSITING_MODE=1` does; with a GPU
//! nothing changes. A value the user set wins either way.

use std::path::Path;

/// WebKitGTK's switch for accelerated compositing.
pub const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Whether to turn compositing off: only when the user has not decided and
/// there is no GPU to composite with.
pub fn paint_without_compositing(user_choice: Option<&str>, has_gpu: bool) -> bool {
    user_choice.is_none() && !has_gpu
}

/// Whether `dri` (normally `/dev/dri`) holds a render node (`renderD*`),
/// which Mesa needs for hardware OpenGL.
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri)
        .map(|entries| {
            entries.filter_map(Result::ok).any(|entry| {
                entry
                    .file_name()
                    .to_str()
                    .is_some_and(|name| name.starts_with("renderD"))
            })
        })
        .unwrap_or(false)
}

/// Applies the choice for this process and the WebKit processes it starts.
/// Call first thing in `main`, before any thread exists.
pub fn choose() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let user_choice = std::env::var(DISABLE_COMPOSITING).ok();
    if paint_without_compositing(
        user_choice.as_deref(),
        has_render_node(Path::new("/dev/dri")),
    ) {
        std::env::set_var(DISABLE_COMPOSITING, "1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_goes_off_only_without_a_gpu_and_without_a_choice() {
        assert!(paint_without_compositing(None, false));
        assert!(!paint_without_compositing(None, true));
        assert!(!paint_without_compositing(Some("0"), false));
        assert!(!paint_without_compositing(Some("1"), true));
    }

    #[test]
    fn a_render_node_means_a_gpu() {
        let dri = tempfile::tempdir().unwrap();
        assert!(!has_render_node(dri.path()));
        std::fs::write(dri.path().join("card0"), b"").unwrap();
        assert!(
            !has_render_node(dri.path()),
            "a card alone can only display"
        );
        std::fs::write(dri.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(dri.path()));
        assert!(!has_render_node(&dri.path().join("missing")));
    }
}
