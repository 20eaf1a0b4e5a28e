//! The Active tasks table: the view's columns (the seed's six by default,
//! newest first), sortable headers with draggable edges, and selectable rows.

use chrono::Utc;
use leptos::prelude::*;
use std::collections::BTreeSet;

use site_api::{ActiveTasksPage, TargetType, Task, TaskId};
use taskdeck_ipc::{
    ActiveTasksSnapshot, ColumnKey, ConnectionPhase, ConnectionStatus, Density, ViewColumn,
};

use crate::format::{
    duration_text, initiator_text, progress_percent, start_date_text, start_date_title,
    status_class, status_label, target_type_name,
};
use crate::tasks::{
    page_rows_in_order, visible_rows, visible_window, window_capacity, with_endings, SortSpec,
};

/// A row's height at each density, in CSS pixels (the stylesheet's).
const COMFORTABLE_ROW: f64 = 33.0;
const COMPACT_ROW: f64 = 25.0;
/// The sticky header's height.
const HEADER_HEIGHT: f64 = 34.0;
/// Rows rendered beyond the viewport on each side.
const OVERSCAN: usize = 20;
use crate::views;

/// The table, or what to show instead while there is nothing to list.
#[component]
pub fn TasksTable(
    status: RwSignal<Option<ConnectionStatus>>,
    snapshot: RwSignal<Option<ActiveTasksSnapshot>>,
    filtered: RwSignal<Option<ActiveTasksPage>>,
    /// Whether the user may cancel here.
    is_admin: Signal<bool>,
    /// Tasks a `task_running_long` signal names: highlighted.
    running_long: Signal<BTreeSet<TaskId>>,
    /// Tasks that just ended: shown with their final status for a moment.
    ending: RwSignal<Vec<Task>>,
) -> impl IntoView {
    // The view's columns, sort and density, the ticked tasks, a cancel
    // asked for (the Delete key) and the open detail: the window's, through
    // context.
    let super::ListState {
        sort,
        columns,
        density,
        selected,
        ask,
    } = expect_context();
    let super::OpenDetail(detail) = expect_context();
    // A filtered page from the Site while filters are in force, else the
    // live list with the tasks that just ended in their places.
    let rows = Memo::new(move |_| match filtered.get() {
        Some(page) => page_rows_in_order(&page),
        None => snapshot.with(|s| {
            let live = s.as_ref().map(visible_rows).unwrap_or_default();
            ending.with(|ending| with_endings(live, ending))
        }),
    });
    let shown = Memo::new(move |_| columns.with(|c| views::visible_columns(c)));
    // The keyboard's row, and where a shift-click range starts.
    let cursor = RwSignal::new(None::<TaskId>);
    let anchor = RwSignal::new(None::<TaskId>);
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        let ids: Vec<TaskId> = rows.with_untracked(|rows| rows.iter().map(|t| t.id).collect());
        if ids.is_empty() {
            return;
        }
        let at = cursor
            .get_untracked()
            .and_then(|id| ids.iter().position(|x| *x == id));
        match event.key().as_str() {
            "ArrowDown" | "ArrowUp" => {
                let next = match (at, event.key() == "ArrowDown") {
                    (None, _) => 0,
                    (Some(i), true) => (i + 1).min(ids.len() - 1),
                    (Some(i), false) => i.saturating_sub(1),
                };
                cursor.set(Some(ids[next]));
            }
            " " => {
                if let Some(id) = cursor.get_untracked() {
                    selected.update(|set| {
                        if !set.remove(&id) {
                            set.insert(id);
                        }
                    });
                    anchor.set(Some(id));
                }
            }
            "Enter" => {
                if let Some(id) = cursor.get_untracked() {
                    detail.set(Some(id));
                }
            }
            "Delete" => {
                if !is_admin.get_untracked() {
                    return;
                }
                let chosen: Vec<TaskId> = selected.get_untracked().into_iter().collect();
                let tasks = if chosen.is_empty() {
                    cursor.get_untracked().into_iter().collect()
                } else {
                    chosen
                };
                ask.set(Some(tasks));
            }
            _ => return,
        }
        event.prevent_default();
    };
    // "Running for" moves on by itself.
    let now = RwSignal::new(js_sys::Date::now() as i64);
    if let Ok(ticker) = set_interval_with_handle(
        move || now.set(js_sys::Date::now() as i64),
        std::time::Duration::from_secs(15),
    ) {
        on_cleanup(move || ticker.clear());
    }
    // A User Timing mark when a Site's first rows are in the page, for the
    // window benchmark (`taskdeck:first-rows:<site>`, ms since the page began).
    Effect::new(move |_| {
        let Some(site) = snapshot.with(|s| s.as_ref().map(|s| s.site_id.clone())) else {
            return;
        };
        if !rows.with(Vec::is_empty) {
            super::dom::mark_once(&format!("taskdeck:first-rows:{site}"));
        }
    });
    // Tasks that left the list leave the selection too.
    Effect::new(move |_| {
        let shown: BTreeSet<TaskId> = rows.with(|rows| rows.iter().map(|t| t.id).collect());
        if selected.with_untracked(|set| set.iter().any(|id| !shown.contains(id))) {
            selected.update(|set| set.retain(|id| shown.contains(id)));
        }
    });
    let all_selected = move || {
        rows.with(|rows| {
            !rows.is_empty() && selected.with(|set| rows.iter().all(|t| set.contains(&t.id)))
        })
    };
    let toggle_all = move |_| {
        let select = !all_selected();
        selected.update(|set| {
            rows.with_untracked(|rows| {
                for task in rows {
                    if select {
                        set.insert(task.id);
                    } else {
                        set.remove(&task.id);
                    }
                }
            })
        });
    };
    let placeholder = move || {
        let phase = status.with(|s| s.as_ref().map(|s| s.phase));
        match (
            phase,
            snapshot.with(Option::is_some),
            rows.with(Vec::is_empty),
        ) {
            _ if filtered.with(Option::is_some) && rows.with(Vec::is_empty) => {
                Some("No active task matches the search and filters.")
            }
            (Some(ConnectionPhase::Failed), false, _) => Some("Could not connect to the Site."),
            (_, false, _) => Some("Starting the Demo Site…"),
            (_, true, true) => Some("The queue is empty: no task is queued or running."),
            _ => None,
        }
    };
    // A header edge being dragged: which column, where the pointer started,
    // and the column's width then.
    let resizing = RwSignal::new(None::<(ColumnKey, f64, f64)>);
    let moved = window_event_listener(leptos::ev::pointermove, move |event| {
        if let Some((key, start_x, start_width)) = resizing.get_untracked() {
            let width = start_width + event.client_x() as f64 - start_x;
            columns.update(|c| views::set_column_width(c, key, width));
        }
    });
    let released = window_event_listener(leptos::ev::pointerup, move |_| resizing.set(None));
    on_cleanup(move || {
        moved.remove();
        released.remove();
    });
    // Only the rows in view are in the page (a Site may list 100,000). The
    // page's own scroller (`main.content`) scrolls the list: WebKitGTK
    // repaints a scrolled inner box in full at every frame.
    let table = NodeRef::<leptos::html::Table>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(800.0f64);
    let row_height = move || match density.get() {
        Density::Comfortable => COMFORTABLE_ROW,
        Density::Compact => COMPACT_ROW,
    };
    let window = Memo::new(move |_| {
        visible_window(
            scroll_top.get(),
            viewport.get(),
            row_height(),
            rows.with(Vec::len),
            OVERSCAN,
        )
    });
    // Rows are reused as the list scrolls: each `<tr>` is a slot (a row
    // index modulo the most rows a window holds) showing whichever task
    // falls on it, so a scroll step or a task leaving rewrites cells of
    // rows already built instead of building new ones. A new capacity (a
    // resize, the density) builds them afresh.
    let capacity = Memo::new(move |_| window_capacity(viewport.get(), row_height(), OVERSCAN));
    let slots = Memo::new(move |_| {
        let len = capacity.get();
        window
            .get()
            .map(|index| (index % len, len))
            .collect::<Vec<_>>()
    });
    // How far the rows' top has scrolled past the scroller's top, and the
    // scroller's height; only changes reach the signals.
    let measure = move || {
        let (Some(table), Some(scroller)) = (table.get_untracked(), page_scroller()) else {
            return;
        };
        let past = (scroller.get_bounding_client_rect().top()
            - table.get_bounding_client_rect().top()
            - HEADER_HEIGHT)
            .max(0.0);
        if scroll_top.get_untracked() != past {
            scroll_top.set(past);
        }
        let seen = scroller.client_height() as f64;
        if viewport.get_untracked() != seen {
            viewport.set(seen);
        }
    };
    Effect::new(move |_| {
        if table.get().is_some() {
            measure();
        }
    });
    let resized = window_event_listener(leptos::ev::resize, move |_| measure());
    // Scroll events do not bubble: listen while capturing, at the window.
    let scrolled = wasm_bindgen::closure::Closure::<dyn Fn()>::new(measure);
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback_and_bool(
            "scroll",
            wasm_bindgen::JsCast::unchecked_ref(scrolled.as_ref()),
            true,
        );
    }
    let scrolled = StoredValue::new_local(scrolled);
    on_cleanup(move || {
        resized.remove();
        if let Some(window) = web_sys::window() {
            scrolled.with_value(|scrolled| {
                let _ = window.remove_event_listener_with_callback_and_bool(
                    "scroll",
                    wasm_bindgen::JsCast::unchecked_ref(scrolled.as_ref()),
                    true,
                );
            });
        }
    });
    // The keyboard's row stays in view, rendered or not.
    Effect::new(move |_| {
        let Some(id) = cursor.get() else {
            return;
        };
        let Some(index) = rows.with_untracked(|rows| rows.iter().position(|t| t.id == id)) else {
            return;
        };
        let (Some(table), Some(scroller)) = (table.get_untracked(), page_scroller()) else {
            return;
        };
        let height = row_height();
        // The row's top and bottom relative to the scroller's visible top.
        let offset =
            table.get_bounding_client_rect().top() - scroller.get_bounding_client_rect().top();
        let top = offset + HEADER_HEIGHT + index as f64 * height;
        let seen = scroller.client_height() as f64;
        let now = scroller.scroll_top() as f64;
        if top < HEADER_HEIGHT {
            scroller.set_scroll_top((now + top - HEADER_HEIGHT) as i32);
        } else if top + height > seen {
            scroller.set_scroll_top((now + top + height - seen) as i32);
        }
    });
    let headers = move || {
        columns
            .get()
            .into_iter()
            .filter(|column| column.visible)
            .map(|column| view! { <ColumnHeader column=column sort=sort resizing=resizing /> })
            .collect_view()
    };
    view! {
        <table
            node_ref=table
            class="tasks"
            class:density-compact=move || density.get() == Density::Compact
            data-testid="tasks-table"
            aria-label="Active tasks. Arrow keys move, Space selects, Enter opens, Delete cancels."
            tabindex="0"
            on:keydown=on_key
        >
            <thead>
                <tr>
                    <th scope="col" class="select-cell">
                        <input
                            type="checkbox"
                            data-testid="select-all"
                            aria-label="Select every task shown"
                            prop:checked=all_selected
                            on:change=toggle_all
                        />
                    </th>
                    {headers}
                </tr>
            </thead>
            <tbody>
                <tr class="spacer" aria-hidden="true" style:height=move || format!("{}px", window.get().start as f64 * row_height())></tr>
                <For
                    each=move || slots.get()
                    key=|slot: &(usize, usize)| *slot
                    children=move |(place, len): (usize, usize)| view! {
                        <TaskRow
                            place=place
                            len=len
                            window=window
                            shown=shown
                            now=now
                            rows=rows
                            cursor=cursor
                            anchor=anchor
                            running_long=running_long
                        />
                    }
                />
                <tr class="spacer" aria-hidden="true" style:height=move || {
                    let after = rows.with(Vec::len) - window.get().end;
                    format!("{}px", after as f64 * row_height())
                }></tr>
            </tbody>
        </table>
        <Show when=move || placeholder().is_some()>
            <p class="placeholder" data-testid="tasks-placeholder">{placeholder}</p>
        </Show>
    }
}

/// A column header: sorts the list on the Site when clicked (if the Site
/// sorts by it); its right edge drags the column's width.
#[component]
fn ColumnHeader(
    column: ViewColumn,
    sort: RwSignal<SortSpec>,
    resizing: RwSignal<Option<(ColumnKey, f64, f64)>>,
) -> impl IntoView {
    let key = column.key;
    let label = key.label();
    let sortable = key.sort_key();
    let state = move || {
        let current = sort.get();
        sortable
            .filter(|&column| current.column == column)
            .map(|_| current.descending)
    };
    let start_resize = move |event: leptos::ev::PointerEvent| {
        event.prevent_default();
        let width = event
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .and_then(|handle| handle.parent_element())
            .map(|th| th.get_bounding_client_rect().width())
            .unwrap_or(120.0);
        resizing.set(Some((key, event.client_x() as f64, width)));
    };
    let title = match sortable {
        Some(_) => format!("Sort by {}", label.to_lowercase()),
        None => label.to_owned(),
    };
    view! {
        <th
            scope="col"
            data-testid=format!("header-{}", key.as_str())
            style:width=column.width.map(|w| format!("{w}px"))
            aria-sort=move || match state() {
                Some(true) => "descending",
                Some(false) => "ascending",
                None => "none",
            }
        >
            {match sortable {
                Some(sort_by) => view! {
                    <button
                        class="sort-button"
                        data-testid=format!("sort-{}", sort_by.as_str())
                        title=title
                        on:click=move |_| sort.update(|s| *s = s.clicked(sort_by))
                    >
                        {label}
                        {move || match state() {
                            Some(true) => " ▼",
                            Some(false) => " ▲",
                            None => "",
                        }}
                    </button>
                }.into_any(),
                None => view! { <span class="header-label">{label}</span> }.into_any(),
            }}
            <span
                class="col-resize"
                role="separator"
                aria-orientation="vertical"
                aria-label=format!("Width of {label}")
                data-testid=format!("resize-{}", key.as_str())
                on:pointerdown=start_resize
            ></span>
        </th>
    }
}

/// The row of one slot: the task at the window's index that is `place`
/// modulo `len`, its cells in the view's column order, every one following the
/// task shown.
#[component]
fn TaskRow(
    place: usize,
    len: usize,
    window: Memo<std::ops::Range<usize>>,
    shown: Memo<Vec<ColumnKey>>,
    now: RwSignal<i64>,
    rows: Memo<Vec<Task>>,
    cursor: RwSignal<Option<TaskId>>,
    anchor: RwSignal<Option<TaskId>>,
    running_long: Signal<BTreeSet<TaskId>>,
) -> impl IntoView {
    let selected = expect_context::<super::ListState>().selected;
    let super::OpenDetail(detail) = expect_context();
    let task = Memo::new(move |_| {
        let window = window.get();
        let index = window.start + (place + len - window.start % len) % len;
        debug_assert!(window.len() <= len);
        rows.with(|rows| rows.get(index).cloned())
    });
    let id = Memo::new(move |_| task.with(|t| t.as_ref().map(|t| t.id)));
    let is_selected = move || {
        id.get()
            .is_some_and(|id| selected.with(|set| set.contains(&id)))
    };
    let is_cursor = move || id.get().is_some() && cursor.get() == id.get();
    // A click toggles; a shift-click selects the range from the last one.
    let on_check = move |event: leptos::ev::MouseEvent| {
        let Some(id) = id.get_untracked() else {
            return;
        };
        let from = anchor.get_untracked();
        match from.filter(|_| event.shift_key()) {
            Some(from) => {
                let range: Vec<TaskId> = rows.with_untracked(|rows| {
                    let ids: Vec<TaskId> = rows.iter().map(|t| t.id).collect();
                    match (
                        ids.iter().position(|x| *x == from),
                        ids.iter().position(|x| *x == id),
                    ) {
                        (Some(a), Some(b)) => ids[a.min(b)..=a.max(b)].to_vec(),
                        _ => vec![id],
                    }
                });
                selected.update(|set| set.extend(range));
            }
            None => selected.update(|set| {
                if !set.remove(&id) {
                    set.insert(id);
                }
            }),
        }
        anchor.set(Some(id));
        cursor.set(Some(id));
    };
    let read = move |f: fn(&Task) -> String| move || task.with(|t| t.as_ref().map(f));
    let status = move || task.with(|t| t.as_ref().map(|t| t.status));
    let cells = move || {
        shown
            .get()
            .into_iter()
            .map(|key| cell(key, task, now))
            .collect_view()
    };
    view! {
        <tr
            data-testid="task-row"
            data-task-id=read(|t| t.id.to_string())
            data-status=move || status().map(|s| s.as_str())
            data-ending=move || status().filter(|s| s.is_terminal()).map(|_| "true")
            data-start-date=read(|t| t.start_date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            class:selected=is_selected
            class:cursor=is_cursor
            class:running-long=move || id.get().is_some_and(|id| running_long.with(|set| set.contains(&id)))
            aria-selected=move || is_selected().to_string()
            on:dblclick=move |_| {
                if let Some(id) = id.get_untracked() {
                    detail.set(Some(id));
                }
            }
        >
            <td class="select-cell">
                <input
                    type="checkbox"
                    data-testid="select-row"
                    aria-label=read(|t| format!("Select {}", t.label))
                    prop:checked=is_selected
                    on:click=on_check
                />
            </td>
            {cells}
        </tr>
    }
}

/// The cell in column `key` of the row showing `task`; its text, title
/// and icon follow the task.
fn cell(key: ColumnKey, task: Memo<Option<Task>>, now: RwSignal<i64>) -> AnyView {
    let offset = super::dom::local_offset();
    let testid = format!("cell-{}", key.as_str());
    let text = move |f: fn(&Task) -> String| move || task.with(|t| t.as_ref().map(f));
    match key {
        ColumnKey::Target => {
            let target_type = Signal::derive(move || {
                task.with(|t| t.as_ref().map(|t| t.target.target_type))
            });
            view! {
                <td data-testid=testid>
                    <TargetIcon target_type=target_type />
                    <span class="target-name">{text(|t| t.target.name.clone())}</span>
                </td>
            }
            .into_any()
        }
        ColumnKey::Task => {
            let detail = use_context::<super::OpenDetail>();
            view! {
                <td data-testid=testid class="mono">
                    <button
                        class="link-button task-link"
                        data-testid="open-task"
                        title="Show the details"
                        on:click=move |_| {
                            let id = task.with_untracked(|t| t.as_ref().map(|t| t.id));
                            if let (Some(super::OpenDetail(detail)), Some(id)) = (detail, id) {
                                detail.set(Some(id));
                            }
                        }
                    >
                        {text(|t| t.label.clone())}
                    </button>
                </td>
            }
            .into_any()
        }
        ColumnKey::StartDate => {
            let shown = move || {
                task.with(|t| {
                    t.as_ref().map(|t| {
                        let today = chrono::DateTime::<Utc>::from_timestamp_millis(now.get_untracked())
                            .unwrap_or(t.start_date)
                            .with_timezone(&offset)
                            .date_naive();
                        start_date_text(t.start_date, offset, today)
                    })
                })
            };
            let title = move || task.with(|t| t.as_ref().map(|t| start_date_title(t.start_date, offset)));
            view! { <td data-testid=testid title=title>{shown}</td> }.into_any()
        }
        ColumnKey::Scope => view! { <td data-testid=testid>{text(|t| t.scope.clone())}</td> }.into_any(),
        ColumnKey::Initiator => {
            view! { <td data-testid=testid>{text(initiator_text)}</td> }.into_any()
        }
        ColumnKey::Status => {
            let title = text(|t| {
                t.progress
                    .filter(|p| p.total > 0)
                    .map(|p| format!("{}% ({} of {})", p.done * 100 / p.total, p.done, p.total))
                    .unwrap_or_else(|| status_label(t).to_owned())
            });
            let class = move || task.with(|t| t.as_ref().map(|t| status_class(t.status)));
            view! {
                <td data-testid=testid title=title>
                    <span class=class>{text(|t| status_label(t).to_owned())}</span>
                </td>
            }
            .into_any()
        }
        ColumnKey::AuditService => view! {
            <td data-testid=testid>
                {text(|t| t.audit_service.as_ref().map_or_else(|| "—".to_owned(), |s| s.name.clone()))}
            </td>
        }
        .into_any(),
        ColumnKey::RunningFor => {
            let shown = move || {
                let since = task.with(|t| t.as_ref().and_then(|t| t.running_since));
                since
                    .and_then(|since| {
                        chrono::DateTime::<Utc>::from_timestamp_millis(now.get())
                            .map(|now| duration_text(now - since))
                    })
                    .unwrap_or_else(|| "—".to_owned())
            };
            view! { <td data-testid=testid class="numeric">{shown}</td> }.into_any()
        }
        ColumnKey::Progress => {
            let percent = Memo::new(move |_| task.with(|t| t.as_ref().and_then(progress_percent)));
            view! {
                <td data-testid=testid>
                    {move || match percent.get() {
                        Some(percent) => view! {
                            <div
                                class="progress"
                                role="progressbar"
                                aria-valuemin="0"
                                aria-valuemax="100"
                                aria-valuenow=percent.to_string()
                                title=format!("{percent}%")
                            >
                                <div class="progress-bar" style:width=format!("{percent}%")></div>
                            </div>
                        }
                        .into_any(),
                        None => "—".into_any(),
                    }}
                </td>
            }
            .into_any()
        }
        ColumnKey::Unknown => view! { <td></td> }.into_any(),
    }
}

/// The element that scrolls the page's content.
fn page_scroller() -> Option<web_sys::Element> {
    web_sys::window()?
        .document()?
        .query_selector("main.content")
        .ok()
        .flatten()
}

/// A small icon for a device, a Segment or a cloud resource (following
/// the row's task).
#[component]
fn TargetIcon(target_type: Signal<Option<TargetType>>) -> impl IntoView {
    let path = move || {
        target_type.get().map(|target_type| match target_type {
            // A monitor.
            TargetType::Device => "M2 3h12v8H2z M6 13h4 M8 11v2",
            // Three linked nodes.
            TargetType::Segment => "M3 8h10 M3 4v8 M13 4v8 M8 8v5",
            // A cloud.
            TargetType::CloudResource => {
                "M4 12h8a3 3 0 0 0 0-6 4 4 0 0 0-7.5 1A2.5 2.5 0 0 0 4 12z"
            }
        })
    };
    let name = move || target_type.get().map(target_type_name);
    view! {
        <svg class="target-icon" viewBox="0 0 16 16" width="16" height="16" role="img" aria-label=name>
            <title>{name}</title>
            <path d=path fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
    }
}
