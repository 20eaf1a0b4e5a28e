//! The Active tasks page: its state ([`ActiveTasks`]: the view in force,
//! what is read for it, the ticked tasks, the tasks that just ended) and its
//! components (the toolbar, the table, "N ended recently", "select all N
//! matching", "Show more").

use std::collections::BTreeSet;

use leptos::prelude::*;
use site_api::{Task, TaskId, TaskKind, TaskStatus};
use taskdeck_ipc::{Density, InitiatorFilter, ListQuery, SiteViews, StartedFilter};

use super::filters::{FilterContext, FilterSignals};
use super::pages::Page;
use super::reading::{self, FilteredList};
use super::session::Session;
use super::{cancel, column_settings, filters, tasks_table, view_menu, ListState};
use crate::facets::FacetCounts;
use crate::tasks::SortSpec;
use crate::views::{self, ViewState};

/// How long an ended task stays in the list with its final status.
const ENDING_SHOWN_MS: u64 = 3_000;
/// How far back "N ended recently" counts.
const ENDED_RECENTLY_MS: f64 = 10.0 * 60_000.0;

/// The page's state: one owner for each piece, the rest derived.
#[derive(Clone, Copy)]
pub struct ActiveTasks {
    session: Session,
    /// The filters in force.
    pub filters: FilterSignals,
    /// The search text.
    pub search: RwSignal<String>,
    /// The order, columns, density, ticked tasks and a cancel asked for.
    pub list: ListState,
    /// The connection's saved views, and the one in force.
    saved_views: RwSignal<SiteViews>,
    view_id: RwSignal<String>,
    /// What the list shows, as a view.
    current: Memo<ViewState>,
    /// The view's query, before the rows wanted.
    view_query: Memo<Option<ListQuery>>,
    /// "Show more": the rows wanted, for the query they were asked for.
    more: RwSignal<(Option<ListQuery>, u32)>,
    wanted: Memo<u32>,
    /// What is read from the Site (`None`: the live list).
    query: Memo<Option<ListQuery>>,
    /// The Site refused a filter of revision 1.1.
    older_site: RwSignal<bool>,
    /// The Site's answer to `query`.
    filtered: FilteredList,
    /// The filter menu's counts, read while it is open.
    counts: RwSignal<FacetCounts>,
    filter_open: RwSignal<bool>,
    /// Tasks that just ended: shown with their final status for a moment.
    ending: RwSignal<Vec<Task>>,
    /// Tasks that ended in the last minutes, for "N ended recently".
    ended_recently: RwSignal<Vec<(Task, f64)>>,
    /// "Select all N matching" is on.
    select_matching: RwSignal<bool>,
}

impl ActiveTasks {
    /// The page's state for `session`'s Site, nothing filtered.
    pub fn new(session: Session) -> ActiveTasks {
        let filters = FilterSignals {
            statuses: RwSignal::new(BTreeSet::<TaskStatus>::new()),
            kinds: RwSignal::new(BTreeSet::<TaskKind>::new()),
            target_types: RwSignal::new(BTreeSet::new()),
            initiator: RwSignal::new(None::<InitiatorFilter>),
            scope: RwSignal::new(String::new()),
            started: RwSignal::new(None::<StartedFilter>),
            audit_service: RwSignal::new(None::<String>),
        };
        let search = RwSignal::new(String::new());
        let list = ListState {
            sort: RwSignal::new(SortSpec::default()),
            columns: RwSignal::new(ViewState::default().columns),
            density: RwSignal::new(Density::default()),
            selected: RwSignal::new(BTreeSet::new()),
            ask: RwSignal::new(None),
        };
        let current = Memo::new(move |_| ViewState {
            columns: list.columns.get(),
            sort: list.sort.get(),
            statuses: filters.statuses.get(),
            kinds: filters.kinds.get(),
            target_types: filters.target_types.get(),
            initiator: filters.initiator.get(),
            scope: filters.scope.get(),
            started: filters.started.get(),
            audit_service: filters.audit_service.get(),
            search: search.get(),
            density: list.density.get(),
        });
        let me = session.me();
        let view_query =
            Memo::new(move |_| me.with(|me| current.with(|view| view.query(me.as_deref()))));
        let more = RwSignal::new((None::<ListQuery>, views::FILTERED_PAGE));
        // A new filter starts again at one page.
        let wanted = Memo::new(move |_| {
            let current = view_query.get();
            more.with(|(of, rows)| match *of == current {
                true => *rows,
                false => views::FILTERED_PAGE,
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
        let filtered = reading::keep_filtered_list(query, session.changes, older_site);
        let filter_open = RwSignal::new(false);
        let revision = Signal::derive(move || match filtered.page.get() {
            Some(page) => page.revision,
            None => session
                .snapshot
                .with(|s| s.as_ref().map(|s| s.page.revision).unwrap_or(0)),
        });
        // The counts depend on the filters only, not on the order or the rows shown.
        let facet_query = Memo::new(move |_| query.get().map(|q| q.filters()));
        let counts = reading::keep_facets(
            facet_query.into(),
            revision,
            filter_open.into(),
            filtered.settled(query),
            older_site,
        );
        let select_matching = RwSignal::new(false);
        // A new filter ends "all matching".
        Effect::new(move |_| {
            query.track();
            select_matching.set(false);
        });
        ActiveTasks {
            session,
            filters,
            search,
            list,
            saved_views: RwSignal::new(SiteViews::default()),
            view_id: RwSignal::new(taskdeck_ipc::DEFAULT_VIEW_ID.to_owned()),
            current,
            view_query,
            more,
            wanted,
            query,
            older_site,
            filtered,
            counts,
            filter_open,
            ending: RwSignal::new(Vec::new()),
            ended_recently: RwSignal::new(Vec::new()),
            select_matching,
        }
    }

    /// Puts `state` in force (a saved view chosen).
    fn apply(self, state: ViewState) {
        let (filters, list) = (self.filters, self.list);
        list.columns.set(state.columns);
        list.sort.set(state.sort);
        filters.statuses.set(state.statuses);
        filters.kinds.set(state.kinds);
        filters.target_types.set(state.target_types);
        filters.initiator.set(state.initiator);
        filters.scope.set(state.scope);
        filters.started.set(state.started);
        filters.audit_service.set(state.audit_service);
        self.search.set(state.search);
        list.density.set(state.density);
    }

    /// Another Site is shown: nothing read for the last one stays.
    pub fn forget_site(self) {
        self.filtered.page.set(None);
        self.filtered.answered.set(None);
        self.older_site.set(false);
        self.counts.set(FacetCounts::default());
        self.list.selected.update(|set| set.clear());
        self.ending.set(Vec::new());
        self.ended_recently.set(Vec::new());
    }

    /// Whether the page reads its rows from the Site (a filter in force)
    /// rather than showing the live list.
    pub fn reads_from_site(self) -> bool {
        self.query.with_untracked(Option::is_some)
    }

    /// Keeps the tasks among `tasks` (of the shown Site) that just ended:
    /// in the list for a moment, and in "N ended recently".
    pub fn note_endings(self, tasks: &[Task]) {
        let ended: Vec<Task> = tasks
            .iter()
            .filter(|t| t.status.is_terminal())
            .cloned()
            .collect();
        if ended.is_empty() {
            return;
        }
        let now = js_sys::Date::now();
        self.ended_recently.update(|list| {
            list.retain(|(task, at)| {
                now - at < ENDED_RECENTLY_MS && !ended.iter().any(|e| e.id == task.id)
            });
            list.extend(ended.iter().map(|task| (task.clone(), now)));
        });
        let ids: Vec<TaskId> = ended.iter().map(|t| t.id).collect();
        let ending = self.ending;
        ending.update(|list| {
            list.retain(|task| !ids.contains(&task.id));
            list.extend(ended);
        });
        set_timeout(
            move || ending.update(|list| list.retain(|task| !ids.contains(&task.id))),
            std::time::Duration::from_millis(ENDING_SHOWN_MS),
        );
    }

    /// The tasks the list holds (the live snapshot, or what the Site answered).
    fn listed(self) -> Memo<Vec<Task>> {
        let (filtered, snapshot) = (self.filtered.page, self.session.snapshot);
        Memo::new(move |_| match filtered.get() {
            Some(page) => crate::tasks::page_rows_in_order(&page),
            None => snapshot.with(|s| {
                s.as_ref()
                    .map(crate::tasks::visible_rows)
                    .unwrap_or_default()
            }),
        })
    }

    /// How many tasks match (the Site's count).
    fn matching_total(self) -> Memo<u64> {
        let (filtered, snapshot) = (self.filtered.page, self.session.snapshot);
        Memo::new(move |_| match filtered.get() {
            Some(page) => page.total,
            None => snapshot.with(|s| s.as_ref().map(|s| s.page.total).unwrap_or(0)),
        })
    }
}

/// The page: toolbar, notes, the table and "Show more".
#[component]
pub fn ActiveTasksPage(
    state: ActiveTasks,
    page: RwSignal<Page>,
    /// The task a log should show (from "N ended recently").
    focus: RwSignal<Option<TaskId>>,
) -> impl IntoView {
    let session = state.session;
    let listed = state.listed();
    let total = state.matching_total();
    let (query, select_matching) = (state.query, state.select_matching);
    let matching = Signal::derive(move || {
        select_matching
            .get()
            .then(|| (query.get().unwrap_or_default(), total.get()))
    });
    let filtered = state.filtered.page;
    let filter_site = FilterContext {
        counts: state.counts,
        services: expect_context::<super::audit_services::Services>().list,
        older_site: state.older_site.into(),
        me: session.me().into(),
        matching: Signal::derive(move || filtered.with(|p| p.as_ref().map(|p| p.total))),
    };
    let saved = state.saved_views;
    let view_id = state.view_id;
    let view_saved_state = Signal::derive(move || {
        saved.with(|saved| view_id.with(|id| views::saved_state(saved, id)))
    });
    let error = state.filtered.error;
    view! {
        <div class="toolbar" role="toolbar" aria-label="Active tasks">
            <view_menu::ViewMenu
                connection=session.connection()
                current=state.current
                apply=Callback::new(move |view| state.apply(view))
                saved=saved
                current_id=view_id
            />
            <super::new_task::NewTask />
            <cancel::CancelAction status=session.status selected=state.list.selected ask=state.list.ask matching=matching />
            <filters::FilterMenu filters=state.filters site=filter_site open=state.filter_open />
            <filters::SearchBox search=state.search />
            <column_settings::ColumnSettings columns=state.list.columns density=state.list.density saved=view_saved_state />
        </div>
        <EndedRecently ended=state.ended_recently page=page focus=focus />
        <Show when=move || error.with(Option::is_some)>
            <div class="notice notice-error" role="alert" data-testid="list-error">{move || error.get()}</div>
        </Show>
        <SelectAllMatching selected=state.list.selected shown=listed total=total select_matching=select_matching />
        <tasks_table::TasksTable
            status=session.status
            snapshot=session.snapshot
            filtered=filtered
            is_admin=session.is_admin()
            running_long=session.running_long()
            ending=state.ending
        />
        <ShowMore listed=listed total=total wanted=state.wanted more=state.more view_query=state.view_query />
    }
}

/// "N ended recently": a link to the log rows of tasks that left the list
/// in the last minutes.
#[component]
fn EndedRecently(
    ended: RwSignal<Vec<(Task, f64)>>,
    page: RwSignal<Page>,
    focus: RwSignal<Option<TaskId>>,
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
        page.set(Page::log_of(last.kind));
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
    selected: RwSignal<BTreeSet<TaskId>>,
    shown: Memo<Vec<Task>>,
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
    listed: Memo<Vec<Task>>,
    total: Memo<u64>,
    wanted: Memo<u32>,
    more: RwSignal<(Option<ListQuery>, u32)>,
    view_query: Memo<Option<ListQuery>>,
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
