//! Components, one per concern; [`App`] wires them to the backend's state.

mod audit_services;
mod cancel;
mod column_settings;
mod connections;
mod dashboard;
pub mod dom;
mod filters;
mod header;
mod log_table;
mod notices;
mod reading;
mod schedules;
mod settings_page;
mod signals;
mod site_switcher;
mod status_bar;
mod task_detail;
mod tasks_table;
mod view_menu;

use leptos::prelude::*;
use leptos::task::spawn_local;
use taskdeck_ipc::{
    commands, events, ActiveTasksSnapshot, ConnectionStatus, LinkStatus, SignalsNow,
};

use crate::bridge;
use crate::tasks::{supersedes, SortSpec};
use crate::views::{self, ViewState};

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

/// The pages of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    ActiveTasks,
    ScanLog,
    AuditLog,
    AuditServices,
    Schedules,
    Dashboard,
    Connections,
    Settings,
}

/// The whole window.
#[component]
pub fn App() -> impl IntoView {
    let status = RwSignal::new(None::<ConnectionStatus>);
    let selected = RwSignal::new(std::collections::BTreeSet::<site_api::TaskId>::new());
    let snapshot = RwSignal::new(None::<ActiveTasksSnapshot>);
    let bridge_error = RwSignal::new(None::<String>);
    let signals = RwSignal::new(None::<SignalsNow>);
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(Page::ActiveTasks);
    let sort = RwSignal::new(SortSpec::default());
    let statuses = RwSignal::new(std::collections::BTreeSet::<site_api::TaskStatus>::new());
    let kinds = RwSignal::new(std::collections::BTreeSet::<site_api::TaskKind>::new());
    let target_types = RwSignal::new(std::collections::BTreeSet::<site_api::TargetType>::new());
    let initiator = RwSignal::new(None::<taskdeck_ipc::InitiatorFilter>);
    let scope = RwSignal::new(String::new());
    let started = RwSignal::new(None::<taskdeck_ipc::StartedFilter>);
    let audit_service = RwSignal::new(None::<String>);
    let filters = filters::FilterSignals {
        statuses,
        kinds,
        target_types,
        initiator,
        scope,
        started,
        audit_service,
    };
    let columns = RwSignal::new(ViewState::default().columns);
    let density = RwSignal::new(taskdeck_ipc::Density::default());
    let saved_views = RwSignal::new(taskdeck_ipc::SiteViews::default());
    let view_id = RwSignal::new(taskdeck_ipc::DEFAULT_VIEW_ID.to_owned());
    // What the list shows, as a view.
    let current = Memo::new(move |_| ViewState {
        columns: columns.get(),
        sort: sort.get(),
        statuses: statuses.get(),
        kinds: kinds.get(),
        target_types: target_types.get(),
        initiator: initiator.get(),
        scope: scope.get(),
        started: started.get(),
        audit_service: audit_service.get(),
        search: search.get(),
        density: density.get(),
    });
    let apply = Callback::new(move |state: ViewState| {
        columns.set(state.columns);
        sort.set(state.sort);
        statuses.set(state.statuses);
        kinds.set(state.kinds);
        target_types.set(state.target_types);
        initiator.set(state.initiator);
        scope.set(state.scope);
        started.set(state.started);
        audit_service.set(state.audit_service);
        search.set(state.search);
        density.set(state.density);
    });
    let view_saved_state = Signal::derive(move || {
        saved_views.with(|saved| view_id.with(|id| views::saved_state(saved, id)))
    });
    let connection =
        Signal::derive(move || status.with(|s| s.as_ref().map(|s| s.connection_id.clone())));
    // Bumped by each batch of task changes: a filtered list is read again.
    let changes = RwSignal::new(0u64);
    let me = Memo::new(move |_| {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| s.identity.as_ref().map(|i| i.email.clone()))
        })
    });
    let view_query =
        Memo::new(move |_| me.with(|me| current.with(|view| view.query(me.as_deref()))));
    // "Show more": the rows wanted, for the query they were asked for (a new
    // filter starts again at one page).
    let more = RwSignal::new((None::<taskdeck_ipc::ListQuery>, views::FILTERED_PAGE));
    let wanted = Memo::new(move |_| {
        let current = view_query.get();
        more.with(|(of, rows)| {
            if *of == current {
                *rows
            } else {
                views::FILTERED_PAGE
            }
        })
    });
    // A Site that speaks 1.0 is asked without the filters of 1.1.
    let older_site = RwSignal::new(false);
    let query = Memo::new(move |_| {
        let reading = views::reading(view_query.get(), wanted.get());
        match older_site.get() {
            true => reading.map(|q| q.without_revision_1_1()),
            false => reading,
        }
    });
    let list = reading::keep_filtered_list(query, changes, older_site);
    let filtered = list.page;
    let filter_error = list.error;
    let link = RwSignal::new(None::<LinkStatus>);
    // Tasks that just ended: shown with their final status for a moment.
    let ending = RwSignal::new(Vec::<site_api::Task>::new());
    // Tasks that ended in the last minutes, for "N ended recently".
    let ended_recently = RwSignal::new(Vec::<(site_api::Task, f64)>::new());
    let detail = RwSignal::new(None::<site_api::TaskId>);
    provide_context(OpenDetail(detail));
    let ask = RwSignal::new(None::<Vec<site_api::TaskId>>);
    provide_context(ListState {
        sort,
        columns,
        density,
        selected,
        ask,
    });
    let site_id = Signal::derive(move || {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| s.site.as_ref().map(|site| site.id.clone()))
        })
    });
    let (audit_services, audit_services_error) = audit_services::keep_audit_services(site_id);
    let online_since = audit_services::keep_online_since(audit_services);
    let focus_service = RwSignal::new(None::<String>);
    let slots = Signal::derive(move || {
        audit_services.with(|services| {
            (!services.is_empty()).then(|| {
                services
                    .iter()
                    .fold((0, 0), |(busy, total), s| (busy + s.busy, total + s.slots))
            })
        })
    });
    spawn_local(async move {
        if let Ok(theme) = bridge::invoke::<taskdeck_ipc::Theme>(commands::THEME).await {
            settings_page::apply_theme(theme);
        }
    });
    let is_admin = Signal::derive(move || {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| s.site.as_ref())
                .is_some_and(|site| site.role.is_admin())
        })
    });
    let running_long = Signal::derive(move || {
        signals.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.signals
                        .iter()
                        .filter_map(|signal| match signal {
                            site_api::Signal::TaskRunningLong { task, .. } => Some(*task),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    });
    // `/` focuses the search, wherever the focus is (except in a field).
    let slash = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() != "/" || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let typing = document.active_element().is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        });
        if typing {
            return;
        }
        page.set(Page::ActiveTasks);
        if let Ok(Some(search)) = document.query_selector("[data-testid='search-input']") {
            if let Ok(search) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(search) {
                event.prevent_default();
                let _ = search.focus();
            }
        }
    });
    on_cleanup(move || slash.remove());
    // The tasks the list holds (the live snapshot, or what the Site answered).
    let listed = Memo::new(move |_| match filtered.get() {
        Some(page) => crate::tasks::page_rows_in_order(&page),
        None => snapshot.with(|s| {
            s.as_ref()
                .map(crate::tasks::visible_rows)
                .unwrap_or_default()
        }),
    });
    // "Select all N matching": every task the filter matches, beyond those shown.
    let select_matching = RwSignal::new(false);
    let matching_total = Memo::new(move |_| match filtered.get() {
        Some(page) => page.total,
        None => snapshot.with(|s| s.as_ref().map(|s| s.page.total).unwrap_or(0)),
    });
    // The filter menu's counts, read while it is open.
    let filter_open = RwSignal::new(false);
    let revision = Signal::derive(move || match filtered.get() {
        Some(page) => page.revision,
        None => snapshot.with(|s| s.as_ref().map(|s| s.page.revision).unwrap_or(0)),
    });
    // They depend on the filters only, not on the order or the rows shown.
    let facet_query = Memo::new(move |_| query.get().map(|q| q.filters()));
    let counts = reading::keep_facets(facet_query.into(), revision, filter_open.into(), older_site);
    let filter_site = filters::FilterContext {
        counts,
        services: audit_services,
        older_site: older_site.into(),
        me: me.into(),
        matching: Signal::derive(move || filtered.with(|p| p.as_ref().map(|p| p.total))),
    };
    let matching = Signal::derive(move || {
        select_matching
            .get()
            .then(|| (query.get().unwrap_or_default(), matching_total.get()))
    });
    // A new filter, or a row unticked, ends "all matching".
    Effect::new(move |_| {
        query.track();
        select_matching.set(false);
    });
    // The task a notification click asked for.
    let focus = RwSignal::new(None::<site_api::TaskId>);

    let accept_snapshot = move |incoming: ActiveTasksSnapshot| {
        snapshot.update(|current| {
            if supersedes(current.as_ref(), &incoming) {
                *current = Some(incoming);
            }
        });
    };

    spawn_local(async move {
        // Listen first, then read: nothing sent in between is lost.
        let listening = async {
            bridge::listen(events::CONNECTION, move |s: ConnectionStatus| {
                // Another Site shown: nothing of the last one stays.
                let key = |s: &ConnectionStatus| {
                    (
                        s.connection_id.clone(),
                        s.site.as_ref().map(|site| site.id.clone()),
                    )
                };
                let switched = status
                    .with_untracked(|old| old.as_ref().is_some_and(|old| key(old) != key(&s)));
                if switched {
                    snapshot.set(None);
                    filtered.set(None);
                    older_site.set(false);
                    counts.set(Default::default());
                    signals.set(None);
                    link.set(None);
                    selected.update(|set| set.clear());
                    ending.set(Vec::new());
                    ended_recently.set(Vec::new());
                    changes.update(|n| *n += 1);
                }
                status.set(Some(s))
            })
            .await?;
            bridge::listen(events::ACTIVE_TASKS, accept_snapshot).await?;
            bridge::listen(events::SIGNALS, move |s: SignalsNow| signals.set(Some(s))).await?;
            bridge::listen(events::LINK, move |l: LinkStatus| link.set(Some(l))).await?;
            bridge::listen(events::OPEN_TASK, move |open: taskdeck_ipc::OpenTask| {
                page.set(match (open.ended, open.task.kind) {
                    (false, _) => Page::ActiveTasks,
                    (true, site_api::TaskKind::Scan) => Page::ScanLog,
                    (true, site_api::TaskKind::Audit) => Page::AuditLog,
                });
                focus.set(Some(open.task));
                changes.update(|n| *n += 1);
            })
            .await?;
            bridge::listen(
                events::TASKS_CHANGED,
                move |changed: taskdeck_ipc::TasksChanged| {
                    let ended = changed.tasks.iter().any(|t| t.status.is_terminal());
                    let shown_site = status.with_untracked(|s| {
                        s.as_ref()
                            .and_then(|s| s.site.as_ref().map(|site| site.id.clone()))
                    });
                    if shown_site.as_deref() == Some(changed.site_id.as_str()) {
                        note_endings(&changed.tasks, ending, ended_recently);
                    }
                    let reread = match page.get_untracked() {
                        Page::ActiveTasks => query.get_untracked().is_some(),
                        Page::ScanLog | Page::AuditLog => ended,
                        Page::Dashboard => ended,
                        Page::AuditServices
                        | Page::Schedules
                        | Page::Connections
                        | Page::Settings => false,
                    };
                    if reread {
                        changes.update(|n| *n += 1);
                    }
                },
            )
            .await?;
            let now: ConnectionStatus = bridge::invoke(commands::CONNECTION_STATUS).await?;
            status.set(Some(now));
            let latest: Option<ActiveTasksSnapshot> =
                bridge::invoke(commands::ACTIVE_TASKS).await?;
            if let Some(latest) = latest {
                accept_snapshot(latest);
            }
            let now: Option<SignalsNow> = bridge::invoke(commands::SIGNALS).await?;
            if now.is_some() {
                signals.set(now);
            }
            let now: Option<LinkStatus> = bridge::invoke(commands::LINK_STATUS).await?;
            if now.is_some() {
                link.set(now);
            }
            Ok::<(), bridge::BridgeError>(())
        };
        if let Err(error) = listening.await {
            bridge_error.set(Some(error.to_string()));
        }
    });

    view! {
        <div class="app">
            <header::Header status=status />
            <notices::Notices status=status bridge_error=bridge_error />
            <signals::Signals
                signals=signals
                is_admin=is_admin
                ask=ask
                detail=detail
                open_audit_services=Callback::new(move |service: Option<String>| {
                    focus_service.set(service);
                    page.set(Page::AuditServices);
                })
            />
            <main class="content">
                <nav class="tabs" aria-label="Pages">
                    {[(Page::ActiveTasks, "Active tasks", "nav-active-tasks"),
                      (Page::ScanLog, "Scan log", "nav-scan-log"),
                      (Page::AuditLog, "Audit log", "nav-audit-log"),
                      (Page::AuditServices, "Audit Services", "nav-audit-services"),
                      (Page::Schedules, "Schedules", "nav-schedules"),
                      (Page::Dashboard, "Dashboard", "nav-dashboard"),
                      (Page::Connections, "Connections", "nav-connections"),
                      (Page::Settings, "Settings", "nav-settings")]
                        .into_iter()
                        .map(|(target, label, testid)| view! {
                            <button
                                class=move || if page.get() == target { "tab tab-current" } else { "tab" }
                                data-testid=testid
                                aria-current=move || (page.get() == target).then_some("page")
                                on:click=move |_| page.set(target)
                            >
                                {label}
                            </button>
                        })
                        .collect_view()}
                </nav>
                <Show when=move || page.get() == Page::ScanLog>
                    <log_table::LogTable kind=site_api::TaskKind::Scan changes=changes focus=focus />
                </Show>
                <Show when=move || page.get() == Page::AuditLog>
                    <log_table::LogTable kind=site_api::TaskKind::Audit changes=changes focus=focus />
                </Show>
                <Show when=move || page.get() == Page::AuditServices>
                    <audit_services::AuditServicesPage
                        services=audit_services
                        error=audit_services_error
                        online_since=online_since
                        signals=signals
                        focus=focus_service
                        detail=detail
                        show_tasks=Callback::new(move |id: String| {
                            audit_service.set(Some(id));
                            page.set(Page::ActiveTasks);
                        })
                    />
                </Show>
                <Show when=move || page.get() == Page::Schedules>
                    <schedules::SchedulesPage site_id=site_id is_admin=is_admin />
                </Show>
                <Show when=move || page.get() == Page::Dashboard>
                    <dashboard::DashboardPage site_id=site_id changes=changes />
                </Show>
                <Show when=move || page.get() == Page::Connections>
                    <connections::ConnectionsPage />
                </Show>
                <Show when=move || page.get() == Page::Settings>
                    <settings_page::SettingsPage />
                </Show>
                <div class="active-page" class:hidden=move || page.get() != Page::ActiveTasks>
                <div class="toolbar" role="toolbar" aria-label="Active tasks">
                    <view_menu::ViewMenu
                        connection=connection
                        current=current
                        apply=apply
                        saved=saved_views
                        current_id=view_id
                    />
                    <cancel::CancelAction status=status selected=selected ask=ask matching=matching />
                    <filters::FilterMenu filters=filters site=filter_site open=filter_open />
                    <filters::SearchBox search=search />
                    <column_settings::ColumnSettings columns=columns density=density saved=view_saved_state />
                </div>
                <EndedRecently ended=ended_recently page=page focus=focus />
                <Show when=move || filter_error.with(Option::is_some)>
                    <div class="notice notice-error" role="alert" data-testid="list-error">{move || filter_error.get()}</div>
                </Show>
                <SelectAllMatching selected=selected shown=listed total=matching_total select_matching=select_matching />
                <tasks_table::TasksTable
                    status=status
                    snapshot=snapshot
                    filtered=filtered
                    is_admin=is_admin
                    running_long=running_long
                    ending=ending
                />
                <ShowMore listed=listed total=matching_total wanted=wanted more=more view_query=view_query />
                </div>
            </main>
            <status_bar::StatusBar status=status snapshot=snapshot link=link slots=slots />
            <task_detail::TaskDetail open=detail changes=changes />
        </div>
    }
}

/// How long an ended task stays in the list with its final status.
const ENDING_SHOWN_MS: u64 = 3_000;
/// How far back "N ended recently" counts.
const ENDED_RECENTLY_MS: f64 = 10.0 * 60_000.0;

/// Keeps the tasks among `tasks` that just ended: in `ending` for a
/// moment, and in `ended_recently` for the link.
fn note_endings(
    tasks: &[site_api::Task],
    ending: RwSignal<Vec<site_api::Task>>,
    ended_recently: RwSignal<Vec<(site_api::Task, f64)>>,
) {
    let ended: Vec<site_api::Task> = tasks
        .iter()
        .filter(|t| t.status.is_terminal())
        .cloned()
        .collect();
    if ended.is_empty() {
        return;
    }
    let now = js_sys::Date::now();
    ended_recently.update(|list| {
        list.retain(|(task, at)| {
            now - at < ENDED_RECENTLY_MS && !ended.iter().any(|e| e.id == task.id)
        });
        list.extend(ended.iter().map(|task| (task.clone(), now)));
    });
    let ids: Vec<site_api::TaskId> = ended.iter().map(|t| t.id).collect();
    ending.update(|list| {
        list.retain(|task| !ids.contains(&task.id));
        list.extend(ended);
    });
    set_timeout(
        move || ending.update(|list| list.retain(|task| !ids.contains(&task.id))),
        std::time::Duration::from_millis(ENDING_SHOWN_MS),
    );
}

/// "N ended recently": a link to the log rows of tasks that left the list
/// in the last minutes.
#[component]
fn EndedRecently(
    ended: RwSignal<Vec<(site_api::Task, f64)>>,
    page: RwSignal<Page>,
    focus: RwSignal<Option<site_api::TaskId>>,
) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    if let Ok(ticker) = set_interval_with_handle(
        move || tick.update(|n| *n += 1),
        std::time::Duration::from_secs(15),
    ) {
        on_cleanup(move || ticker.clear());
    }
    let recent = move || {
        tick.track();
        let now = js_sys::Date::now();
        ended.with(|list| {
            list.iter()
                .filter(|(_, at)| now - at < ENDED_RECENTLY_MS)
                .map(|(task, _)| task.clone())
                .collect::<Vec<_>>()
        })
    };
    let open = move |_| {
        let tasks = recent();
        let Some(last) = tasks.last() else {
            return;
        };
        page.set(match last.kind {
            site_api::TaskKind::Scan => Page::ScanLog,
            site_api::TaskKind::Audit => Page::AuditLog,
        });
        focus.set(Some(last.id));
    };
    view! {
        <Show when=move || !recent().is_empty()>
            <p class="ended-recently">
                <button class="link-button" data-testid="ended-recently" on:click=open
                    title="The log rows of the tasks that left the list in the last 10 minutes">
                    {move || {
                        let tasks = recent();
                        let failed = tasks.iter().filter(|t| t.is_effectively_failed()).count();
                        match failed {
                            0 => format!("{} ended recently", tasks.len()),
                            n => format!("{} ended recently ({n} failed)", tasks.len()),
                        }
                    }}
                </button>
            </p>
        </Show>
    }
}

/// The bar that offers "select all N matching" once every shown row is
/// selected and more match.
#[component]
fn SelectAllMatching(
    selected: RwSignal<std::collections::BTreeSet<site_api::TaskId>>,
    shown: Memo<Vec<site_api::Task>>,
    total: Memo<u64>,
    select_matching: RwSignal<bool>,
) -> impl IntoView {
    let all_shown = move || {
        shown.with(|rows| {
            !rows.is_empty() && selected.with(|set| rows.iter().all(|t| set.contains(&t.id)))
        })
    };
    // Unticking a row ends "all matching".
    Effect::new(move |_| {
        if !all_shown() {
            select_matching.set(false);
        }
    });
    let offer = move || all_shown() && total.get() > shown.with(|rows| rows.len() as u64);
    view! {
        <Show when=offer>
            <div class="select-all-matching" data-testid="select-all-matching-bar">
                {move || if select_matching.get() {
                    view! {
                        <span>{format!("All {} tasks matching the filter are selected.", total.get())}</span>
                        <button class="link-button" on:click=move |_| {
                            select_matching.set(false);
                            selected.update(|set| set.clear());
                        }>"Clear the selection"</button>
                    }.into_any()
                } else {
                    view! {
                        <span>{move || format!("All {} tasks shown are selected.", shown.with(Vec::len))}</span>
                        <button class="link-button" data-testid="select-all-matching" on:click=move |_| select_matching.set(true)>
                            {move || format!("Select all {} matching this filter", total.get())}
                        </button>
                    }.into_any()
                }}
            </div>
        </Show>
    }
}

/// Below the list, while the Site has more matching tasks than it holds:
/// how many are shown, and "Show 1,000 more" (up to [`views::MAX_LISTED`];
/// past that, a filter or the search narrows the list).
#[component]
fn ShowMore(
    listed: Memo<Vec<site_api::Task>>,
    total: Memo<u64>,
    wanted: Memo<u32>,
    more: RwSignal<(Option<taskdeck_ipc::ListQuery>, u32)>,
    view_query: Memo<Option<taskdeck_ipc::ListQuery>>,
) -> impl IntoView {
    let count = move || listed.with(|rows| rows.len() as u64);
    let at_most = move || wanted.get() >= views::MAX_LISTED;
    let beyond = move || total.get() > count();
    let loading = move || u64::from(wanted.get()) > count() && beyond();
    let show_more = move |_| {
        more.set((
            view_query.get_untracked(),
            wanted.get_untracked() + views::FILTERED_PAGE,
        ))
    };
    view! {
        <Show when=beyond>
            <div class="show-more" data-testid="show-more-bar" role="status">
                <span data-testid="rows-shown">
                    {move || format!("Showing {} of {} tasks", views::grouped(count()), views::grouped(total.get()))}
                </span>
                {move || if at_most() {
                    view! { <span class="muted">"Filter or search to reach the others."</span> }.into_any()
                } else {
                    view! {
                        <button
                            data-testid="load-more"
                            disabled=loading
                            on:click=show_more
                        >
                            {move || if loading() {
                                "Loading…".to_owned()
                            } else {
                                format!("Show {} more", views::grouped(u64::from(views::FILTERED_PAGE)))
                            }}
                        </button>
                    }.into_any()
                }}
            </div>
        </Show>
    }
}
