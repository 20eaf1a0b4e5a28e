//! Components, one per concern; [`App`] provides the state they share
//! ([`session::Session`], the list's [`ListState`], [`OpenDetail`]) and
//! chooses the page shown.

mod active_tasks;
mod audit_services;
mod cancel;
mod column_settings;
mod connections;
mod dashboard;
pub mod dom;
mod filters;
mod header;
mod log_table;
mod new_task;
mod notices;
mod pages;
mod reading;
mod run_again;
mod schedules;
mod session;
mod settings_page;
mod signals;
mod site_switcher;
mod status_bar;
mod task_detail;
mod tasks_table;
mod view_menu;

use leptos::prelude::*;
use taskdeck_ipc::commands;

use crate::bridge;
use crate::tasks::SortSpec;
use pages::Page;
use session::Session;

/// The task whose detail drawer is open, for any component to open one.
#[derive(Debug, Clone, Copy)]
pub struct OpenDetail(pub RwSignal<Option<site_api::TaskId>>);

/// The Active tasks list's shared state, provided by [`App`]: the view's
/// columns, sort and density, the ticked tasks, and a cancel asked for.
#[derive(Debug, Clone, Copy)]
pub struct ListState {
    /// The order.
    pub sort: RwSignal<SortSpec>,
    /// The columns, in order, shown or not.
    pub columns: RwSignal<Vec<taskdeck_ipc::ViewColumn>>,
    /// Row density.
    pub density: RwSignal<taskdeck_ipc::Density>,
    /// The ticked tasks.
    pub selected: RwSignal<std::collections::BTreeSet<site_api::TaskId>>,
    /// Set to ask for a cancel of these tasks (the Delete key, a banner).
    pub ask: RwSignal<Option<Vec<site_api::TaskId>>>,
}

/// The whole window.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    provide_context(session);
    let page = RwSignal::new(Page::ActiveTasks);
    let detail = RwSignal::new(None::<site_api::TaskId>);
    provide_context(OpenDetail(detail));
    // The task a notification click or "ended recently" asked for.
    let focus = RwSignal::new(None::<site_api::TaskId>);
    provide_context(pages::Navigation { page, focus });
    // The open task as the Site's events last changed it.
    let detail_latest = RwSignal::new(None::<site_api::Task>);
    let services = audit_services::Services::keep(session.site_id());
    provide_context(services);
    let active = active_tasks::ActiveTasks::new(session);
    provide_context(active.list);
    let focus_service = RwSignal::new(None::<String>);
    let theme = LocalResource::new(|| bridge::invoke::<taskdeck_ipc::Theme>(commands::THEME));
    Effect::new(move |_| {
        if let Some(Ok(theme)) = theme.get() {
            settings_page::apply_theme(theme);
        }
    });
    dom::slash_focuses_search(move || page.set(Page::ActiveTasks));
    session.listen(session::Handlers {
        switched: Callback::new(move |()| active.forget_site()),
        open_task: Callback::new(move |open: taskdeck_ipc::OpenTask| {
            page.set(match open.ended {
                false => Page::ActiveTasks,
                true => Page::log_of(open.task.kind),
            });
            focus.set(Some(open.task));
            session.read_again();
        }),
        tasks_changed: Callback::new(move |changed: taskdeck_ipc::TasksChanged| {
            let ended = changed.tasks.iter().any(|t| t.status.is_terminal());
            if session.site_id().get_untracked().as_deref() == Some(changed.site_id.as_str()) {
                active.note_endings(&changed.tasks);
                if let Some(open) = detail.get_untracked() {
                    if let Some(task) = changed.tasks.iter().rev().find(|t| t.id == open) {
                        detail_latest.set(Some(task.clone()));
                    }
                }
            }
            let reread = match page.get_untracked() {
                Page::ActiveTasks => active.reads_from_site(),
                shown => ended && shown.reads_ended_tasks(),
            };
            if reread {
                session.read_again();
            }
        }),
    });
    let shown = move |target: Page| move || page.get() == target;

    view! {
        <div class="app">
            <header::Header status=session.status page=page />
            <notices::Notices status=session.status bridge_error=session.bridge_error />
            <signals::Signals
                signals=session.signals
                is_admin=session.is_admin()
                ask=active.list.ask
                detail=detail
                open_audit_services=Callback::new(move |service: Option<String>| {
                    focus_service.set(service);
                    page.set(Page::AuditServices);
                })
            />
            <main class="content">
                <pages::Tabs page=page />
                <Show when=shown(Page::ScanLog)>
                    <log_table::LogTable kind=site_api::TaskKind::Scan changes=session.changes focus=focus />
                </Show>
                <Show when=shown(Page::AuditLog)>
                    <log_table::LogTable kind=site_api::TaskKind::Audit changes=session.changes focus=focus />
                </Show>
                <Show when=shown(Page::AuditServices)>
                    <audit_services::AuditServicesPage
                        signals=session.signals
                        focus=focus_service
                        detail=detail
                        show_tasks=Callback::new(move |id: String| {
                            active.filters.audit_service.set(Some(id));
                            page.set(Page::ActiveTasks);
                        })
                    />
                </Show>
                <Show when=shown(Page::Schedules)>
                    <schedules::SchedulesPage site_id=session.site_id() is_admin=session.is_admin() />
                </Show>
                <Show when=shown(Page::Dashboard)>
                    <dashboard::DashboardPage site_id=session.site_id() changes=session.changes />
                </Show>
                <Show when=shown(Page::Connections)>
                    <connections::ConnectionsPage />
                </Show>
                <Show when=shown(Page::Settings)>
                    <settings_page::SettingsPage />
                </Show>
                // Kept while hidden: its scroll, selection and readings stay.
                <div class="active-page" class:hidden=move || page.get() != Page::ActiveTasks>
                    <active_tasks::ActiveTasksPage state=active page=page focus=focus />
                </div>
            </main>
            <status_bar::StatusBar status=session.status snapshot=session.snapshot link=session.link slots=services.slots() />
            <task_detail::TaskDetail open=detail latest=detail_latest />
        </div>
    }
}
