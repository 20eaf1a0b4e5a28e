//! Build script: Tauri's code generation, with an app manifest that lists our
//! commands so that capabilities must grant each one explicitly.

fn main() {
    // The UI is embedded at compile time; rebuild when `cargo xtask build-ui`
    // wrote a new one.
    println!("cargo:rerun-if-changed=src-ui/dist");
    ensure_ui_placeholder();
    let attributes =
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
            "connection_status",
            "active_tasks",
            "notification_settings",
            "set_notification_settings",
            "connections",
            "test_connection",
            "add_connection",
            "remove_connection",
            "cancel_tasks",
            "signals",
            "link_status",
            "list_tasks",
            "log_entries",
            "views",
            "set_views",
            "sites",
            "show_site",
            "update_connection",
            "task_detail",
            "cancel_matching",
            "task_facets",
            "audit_services",
            "audit_service_tasks",
            "stats",
            "schedules",
            "create_schedule",
            "set_schedule_enabled",
            "delete_schedule",
            "theme",
            "set_theme",
            "run_tasks",
            "failed_in_log",
            "export_log",
            "save_view_file",
            "about",
            "open_link",
        ]));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}

/// `tauri::generate_context!` needs `frontendDist` to exist. A plain
/// `cargo check` before `cargo xtask build-ui` gets a page saying so.
fn ensure_ui_placeholder() {
    let dist = std::path::Path::new("src-ui/dist");
    if dist.join("index.html").exists() {
        return;
    }
    std::fs::create_dir_all(dist).expect("cannot create src-ui/dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><meta charset=utf-8><title>Taskdeck</title>\
         <p>The UI was not built. Run <code>cargo xtask run</code>.</p>",
    )
    .expect("cannot write the placeholder UI");
}
