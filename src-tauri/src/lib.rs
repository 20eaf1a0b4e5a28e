//! The Taskdeck desktop backend: a Tauri 2 shell around the Leptos UI.
//!
//! Everything secret, networked or persistent happens here, in Rust: the
//! OS keyring ([`credentials`]), the Site client ([`site_client`]), the
//! embedded Demo Site ([`demo_site`]) and the live list ([`live`]). The
//! WebView only calls [`commands`] and listens to events (`taskdeck-ipc`).

#![deny(missing_docs)]

mod commands;
pub mod connections;
pub mod credentials;
pub mod demo_site;
pub mod error;
pub mod export;
pub mod listing;
pub mod live;
mod notify;
pub mod rendering;
pub mod run_tasks;
pub mod settings;
pub mod sink;
pub mod site_client;
pub mod sites;
mod startup;
pub mod state;
mod tray;

pub use error::{Error, Result};

use taskdeck_ipc::ConnectionPhase;
use tauri::{AppHandle, Manager, RunEvent};

use crate::state::{update_status, DesktopState};

/// Starts the app: the window, then the Demo Site connection in the background.
pub fn run() {
    // The start's times count from here.
    startup::launched();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let app = tauri::Builder::default()
        // First: a second launch only brings this window forward, then exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main_window(app);
        }))
        // The window's size and place come back; whether it is shown is
        // decided by the page's load (`build_main_window`).
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_opener::init())
        .manage(DesktopState::default())
        .invoke_handler(tauri::generate_handler![
            commands::connections::connection_status,
            commands::tasks::active_tasks,
            commands::settings::notification_settings,
            commands::settings::set_notification_settings,
            commands::connections::connections,
            commands::connections::test_connection,
            commands::connections::add_connection,
            commands::connections::remove_connection,
            commands::tasks::cancel_tasks,
            commands::tasks::signals,
            commands::tasks::link_status,
            commands::tasks::list_tasks,
            commands::logs::log_entries,
            commands::settings::views,
            commands::settings::set_views,
            commands::connections::sites,
            commands::connections::show_site,
            commands::connections::update_connection,
            commands::tasks::task_detail,
            commands::tasks::cancel_matching,
            commands::tasks::task_facets,
            commands::tasks::audit_services,
            commands::tasks::audit_service_tasks,
            commands::tasks::stats,
            commands::schedules::schedules,
            commands::schedules::create_schedule,
            commands::schedules::set_schedule_enabled,
            commands::schedules::delete_schedule,
            commands::settings::theme,
            commands::settings::set_theme,
            commands::logs::export_log,
            commands::settings::save_view_file,
            commands::about::about,
            commands::about::open_link,
            commands::tasks::run_tasks,
            commands::logs::failed_in_log
        ])
        .setup(|app| {
            let mut steps = startup::Steps::default();
            let handle = app.handle().clone();
            // First: the Demo Site starts while the window is built and
            // loads and the rest is set up (it shows itself only if no Site
            // is shown by then). The window is built here, not by Tauri
            // before `setup` (`create: false` in tauri.conf.json): Tauri's
            // order kept the Demo Site waiting for the WebView.
            tauri::async_runtime::spawn(connect_demo(handle.clone()));
            steps.done("setup began");
            for window in app.config().app.windows.clone() {
                build_main_window(&handle, &window)?;
            }
            steps.done("window built");
            load_settings(&handle);
            for connection in handle.state::<DesktopState>().settings_now().connections {
                watch_connection(&handle, connection, None);
            }
            tauri::async_runtime::spawn(watch_signals(handle.clone()));
            steps.done("settings loaded");
            if let Err(error) = notify::install(&handle) {
                tracing::warn!(%error, "notification clicks will not open the task");
            }
            steps.done("notifications");
            if let Err(error) = tray::install(&handle) {
                tracing::warn!(%error, "no system tray: closing the window quits");
            }
            steps.done("tray");
            steps.log();
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("taskdeck: cannot start: {error}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        // With a tray, closing the window hides it: Taskdeck keeps watching.
        if let RunEvent::WindowEvent {
            event: tauri::WindowEvent::CloseRequested { api, .. },
            label,
            ..
        } = &event
        {
            let state = handle.state::<DesktopState>();
            let keep_watching = state
                .tray_installed
                .load(std::sync::atomic::Ordering::SeqCst)
                && !state.quitting.load(std::sync::atomic::Ordering::SeqCst);
            if keep_watching {
                api.prevent_close();
                if let Some(window) = handle.get_webview_window(label) {
                    let _ = window.hide();
                }
            }
        }
        // The focus sets the polling pace, and coming back to the window
        // re-reads the role: a revoked administrator loses Cancel at once.
        if let RunEvent::WindowEvent {
            event: tauri::WindowEvent::Focused(focused),
            ..
        } = &event
        {
            let state = handle.state::<DesktopState>();
            let returned = *focused && !state.attention.focused();
            state.attention.set_focused(*focused);
            if returned {
                if let Ok((client, site_id)) = state.shown_site() {
                    let handle = handle.clone();
                    tauri::async_runtime::spawn(async move {
                        commands::connections::refresh_role(&handle, &client, &site_id).await;
                    });
                }
            }
        }
        if let RunEvent::Exit = event {
            let handle = handle.clone();
            tauri::async_runtime::block_on(async move {
                let state = handle.state::<DesktopState>();
                state.stop.cancel();
                let demo = state.demo.lock().await.take();
                if let Some(demo) = demo {
                    demo.stop().await;
                }
            });
        }
    });
}

/// Builds a window of the configuration hidden, and shows it once its page
/// has loaded (or after [`SHOW_AT_LATEST`], whatever the page does).
///
/// Shown at once, about every second start stalled for ~450 ms with the
/// machine idle, between WebKit's web process starting and the page
/// beginning to load, when WebKit paints without compositing (no GPU:
/// `rendering.rs`); with compositing, or with the window shown after the
/// load, no start did (`cargo xtask bench-budgets`, BENCHMARKS.md). The
/// likely cause: WebKit waits up to half a second on the main thread for
/// the first paint of a newly shown view, while the page waits for that
/// thread to serve its files. Shown after the load, the window also never
/// shows a blank page.
fn build_main_window(
    app: &AppHandle,
    config: &tauri::utils::config::WindowConfig,
) -> tauri::Result<()> {
    let shown = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let on_load = shown.clone();
    let window = tauri::WebviewWindowBuilder::from_config(app, config)?
        .visible(false)
        .on_page_load(move |window, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished
                && !on_load.swap(true, std::sync::atomic::Ordering::SeqCst)
            {
                let _ = window.show();
            }
        })
        .build()?;
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(SHOW_AT_LATEST).await;
        if !shown.swap(true, std::sync::atomic::Ordering::SeqCst) {
            tracing::warn!("the page did not load in time: the window is shown as it is");
            let _ = window.show();
        }
    });
    Ok(())
}

/// The latest the main window is shown, loaded or not.
const SHOW_AT_LATEST: std::time::Duration = std::time::Duration::from_secs(3);

/// Brings the main window forward (a second launch, a notification click).
pub(crate) fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Follows every Site of a saved connection (for failures, and for the
/// window when it shows one), until the app exits or the connection is
/// removed. `me` is the connection's `/me` if just read (a connection being
/// added); otherwise it is read, and read again every 30 s while the Site
/// cannot be reached.
pub(crate) fn watch_connection(
    app: &AppHandle,
    connection: settings::ConnectionSettings,
    me: Option<site_api::Me>,
) {
    let state = app.state::<DesktopState>();
    let stop = state.stop.child_token();
    if let Some(earlier) = state
        .watchers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(connection.id.clone(), stop.clone())
    {
        earlier.cancel();
    }
    let client = match connections::client_for(&connection) {
        Ok(client) => std::sync::Arc::new(client),
        Err(error) => {
            tracing::warn!(%error, connection = %connection.name, "cannot watch");
            return;
        }
    };
    let follow = {
        let app = app.clone();
        let client = client.clone();
        let connection = connection.clone();
        let stop = stop.clone();
        move |me: site_api::Me| {
            let connected = sites::Connected {
                client,
                name: connection.name.clone(),
                me,
            };
            sites::follow(&app, &connection.id, connected, stop);
            // Reopen the Site shown when the app was last closed.
            let state = app.state::<DesktopState>();
            if let Some(last) = state.settings_now().shown {
                if last.connection_id == connection.id {
                    let _ = sites::show(&app, &last.connection_id, &last.site_id);
                }
            }
        }
    };
    if let Some(me) = me {
        follow(me);
        return;
    }
    tauri::async_runtime::spawn(async move {
        let me = loop {
            match client.me().await {
                Ok(me) => break me,
                Err(error) => {
                    tracing::warn!(%error, connection = %connection.name, "cannot reach; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
                        _ = stop.cancelled() => return,
                    }
                }
            }
        };
        follow(me);
    });
}

/// How often the shown Site's signals are read (a signal's end has no event).
const SIGNALS_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Keeps the shown Site's signals: read every [`SIGNALS_EVERY`], at once
/// when a new one is announced or another Site is shown; the window hears of
/// each change.
async fn watch_signals(app: AppHandle) {
    let state = app.state::<DesktopState>();
    loop {
        if let Ok((client, site_id)) = state.shown_site() {
            match client.signals(&site_id).await {
                Ok(response) => {
                    let now = taskdeck_ipc::SignalsNow {
                        site_id: site_id.clone(),
                        signals: response.signals,
                    };
                    // Another Site may have been shown meanwhile.
                    let changed = state
                        .sites
                        .record_if_shown(&site_id, |live| live.signals = Some(now.clone()));
                    if changed {
                        if let Err(error) =
                            tauri::Emitter::emit(&app, taskdeck_ipc::events::SIGNALS, now)
                        {
                            tracing::warn!(%error, "cannot send the signals to the window");
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read the signals"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(SIGNALS_EVERY) => {}
            _ = state.signals_changed.notified() => {}
            _ = state.stop.cancelled() => return,
        }
    }
}

/// Loads the settings (setting an unreadable file aside, and saying so once).
fn load_settings(app: &AppHandle) {
    let folder = match app.path().app_config_dir() {
        Ok(folder) => folder,
        Err(error) => {
            tracing::warn!(%error, "no configuration folder: settings are not kept");
            return;
        }
    };
    let file = settings::SettingsFile::in_folder(&folder);
    let loaded = file.load();
    let state = app.state::<DesktopState>();
    *state
        .notify_settings
        .write()
        .unwrap_or_else(|e| e.into_inner()) = loaded.settings.notifications.clone();
    if let Some(recovered) = &loaded.recovered {
        let notice = recovered.message();
        update_status(app, |status| status.settings_notice = Some(notice));
    }
    match settings::SettingsStore::open(app, file, &loaded.settings) {
        Ok(store) => *state.settings.lock().unwrap_or_else(|e| e.into_inner()) = Some(store),
        Err(error) => {
            tracing::warn!(%error, "no settings store: settings are not kept");
            let notice = format!("Settings cannot be kept in this session: {error}");
            update_status(app, |status| status.settings_notice = Some(notice));
        }
    }
}

/// Starts the Demo Site, connects to it as its administrator and keeps the
/// list live. Failures end up in the connection status, never in a panic.
async fn connect_demo(app: AppHandle) {
    if let Err(error) = try_connect_demo(&app).await {
        tracing::error!(%error, "cannot connect to the Demo Site");
        update_status(&app, |status| {
            status.phase = ConnectionPhase::Failed;
            status.error = Some(error.to_ui());
        });
    }
}

async fn try_connect_demo(app: &AppHandle) -> Result<()> {
    let data_dir = app
        .path()
        .app_data_dir()
        .map_err(|e| Error::Demo(format!("no data folder: {e}")))?
        .join("demo-site");
    let began = std::time::Instant::now();
    let connection = demo_site::start(data_dir).await?;
    let started = began.elapsed();
    let me = connection.client.me().await?;
    tracing::info!(
        since_launch_ms = startup::launched().elapsed().as_millis() as u64,
        start_ms = started.as_millis() as u64,
        token_and_me_ms = (began.elapsed() - started).as_millis() as u64,
        "connected to the Demo Site"
    );
    let site = me
        .sites
        .first()
        .cloned()
        .ok_or_else(|| Error::UnexpectedResponse("the demo user has no Site".to_owned()))?;
    update_status(app, |status| status.keyring = connection.keyring.clone());
    let state = app.state::<DesktopState>();
    let client = std::sync::Arc::new(connection.client);
    *state.demo.lock().await = Some(connection.demo);
    let connected = sites::Connected {
        client,
        name: "Demo Site".to_owned(),
        me,
    };
    sites::follow(
        app,
        demo_site::DEMO_CONNECTION_ID,
        connected,
        state.stop.clone(),
    );
    // The Demo Site is shown unless another Site was already (one shown
    // when the app was last closed, connected first).
    if state.sites.shown().is_none() {
        sites::show(app, demo_site::DEMO_CONNECTION_ID, &site.id)?;
    }
    Ok(())
}
