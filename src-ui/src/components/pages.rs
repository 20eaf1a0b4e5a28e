//! The window's pages, and the tabs that choose one.

use leptos::prelude::*;
use site_api::TaskKind;

/// The pages of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The queue.
    ActiveTasks,
    /// Ended scans.
    ScanLog,
    /// Ended audits.
    AuditLog,
    /// The Site's Audit Services and what they run.
    AuditServices,
    /// The Site's schedules.
    Schedules,
    /// Charts of the last 24 hours.
    Dashboard,
    /// The Sites the app connects to.
    Connections,
    /// Notifications and the theme.
    Settings,
}

impl Page {
    /// Every page, in the order of the tabs.
    pub const ALL: [Page; 8] = [
        Page::ActiveTasks,
        Page::ScanLog,
        Page::AuditLog,
        Page::AuditServices,
        Page::Schedules,
        Page::Dashboard,
        Page::Connections,
        Page::Settings,
    ];

    /// The page's name, as its tab and the window's title say it.
    pub fn title(self) -> &'static str {
        match self {
            Page::ActiveTasks => "Active tasks",
            Page::ScanLog => "Scan log",
            Page::AuditLog => "Audit log",
            Page::AuditServices => "Audit Services",
            Page::Schedules => "Schedules",
            Page::Dashboard => "Dashboard",
            Page::Connections => "Connections",
            Page::Settings => "Settings",
        }
    }

    /// The `data-testid` of its tab.
    fn testid(self) -> &'static str {
        match self {
            Page::ActiveTasks => "nav-active-tasks",
            Page::ScanLog => "nav-scan-log",
            Page::AuditLog => "nav-audit-log",
            Page::AuditServices => "nav-audit-services",
            Page::Schedules => "nav-schedules",
            Page::Dashboard => "nav-dashboard",
            Page::Connections => "nav-connections",
            Page::Settings => "nav-settings",
        }
    }

    /// The log that keeps tasks of `kind` once they end.
    pub fn log_of(kind: TaskKind) -> Page {
        match kind {
            TaskKind::Scan => Page::ScanLog,
            TaskKind::Audit => Page::AuditLog,
        }
    }

    /// Whether the page reads again when tasks end (what it shows are ended tasks).
    pub fn reads_ended_tasks(self) -> bool {
        matches!(self, Page::ScanLog | Page::AuditLog | Page::Dashboard)
    }
}

/// Where the window is: the page shown, and the task a page should show
/// (a clicked notification's, a detail's log row). Provided by `App`.
#[derive(Debug, Clone, Copy)]
pub struct Navigation {
    /// The page shown.
    pub page: RwSignal<Page>,
    /// The task to highlight and scroll to.
    pub focus: RwSignal<Option<site_api::TaskId>>,
}

impl Navigation {
    /// Shows the log row of `task`, which ended.
    pub fn open_log_row(self, task: &site_api::Task) {
        self.page.set(Page::log_of(task.kind));
        self.focus.set(Some(task.id));
    }
}

/// The tabs, the shown page's marked current.
#[component]
pub fn Tabs(page: RwSignal<Page>) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Pages">
            {Page::ALL
                .into_iter()
                .map(|target| view! {
                    <button
                        class=move || if page.get() == target { "tab tab-current" } else { "tab" }
                        data-testid=target.testid()
                        aria-current=move || (page.get() == target).then_some("page")
                        on:click=move |_| page.set(target)
                    >
                        {target.title()}
                    </button>
                })
                .collect_view()}
        </nav>
    }
}
