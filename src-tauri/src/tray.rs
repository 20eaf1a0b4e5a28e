//! The system tray: closing the window keeps Taskdeck watching from here.
//! Menu: Open, Pause notifications, Quit.

use std::sync::atomic::Ordering;

use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

use crate::state::DesktopState;

const OPEN: &str = "open";
const PAUSE: &str = "pause-notifications";
const QUIT: &str = "quit";

/// Adds the tray icon and its menu. Without a tray host (some desktops)
/// this fails quietly: the window still works, closing it then quits.
pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, OPEN, "Open Taskdeck", true, None::<&str>)?;
    let pause =
        CheckMenuItem::with_id(app, PAUSE, "Pause notifications", true, false, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let quit = MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &pause, &separator, &quit])?;
    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("Taskdeck: watching your Sites")
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            OPEN => crate::show_main_window(app),
            PAUSE => {
                let state = app.state::<DesktopState>();
                let paused = !state.notifications_paused.load(Ordering::SeqCst);
                state.notifications_paused.store(paused, Ordering::SeqCst);
                tracing::info!(paused, "notifications paused from the tray");
            }
            QUIT => {
                app.state::<DesktopState>()
                    .quitting
                    .store(true, Ordering::SeqCst);
                app.exit(0);
            }
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    app.state::<DesktopState>()
        .tray_installed
        .store(true, Ordering::SeqCst);
    Ok(())
}
