//! Cancel: the toolbar button, the confirmation, and each task's outcome.
//!
//! The button is enabled when rows are selected and the user is a Site
//! Administrator on this Site; a Site User sees it disabled, with a tooltip
//! that says why.

use std::collections::BTreeSet;

use leptos::prelude::*;
use site_api::{CancelResponse, TaskId};
use taskdeck_ipc::{ConnectionStatus, ListQuery};

use crate::bridge;
use crate::format::cancel_outcome_text;
use taskdeck_ipc::request;

/// What a cancel is about: these tasks, or every task matching a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelScope {
    /// These tasks.
    Tasks(Vec<TaskId>),
    /// Every active task matching `query` (`count` when it was asked).
    Matching {
        /// The list's filters.
        query: Box<ListQuery>,
        /// How many matched.
        count: u64,
    },
}

impl CancelScope {
    fn title(&self) -> String {
        match self {
            CancelScope::Tasks(tasks) => format!("Cancel {} task(s)?", tasks.len()),
            CancelScope::Matching { count, .. } => {
                format!("Cancel all {count} task(s) matching the filter?")
            }
        }
    }
}

/// What the dialog shows.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Closed,
    Confirm(CancelScope),
    Working(CancelScope),
    Done(Result<CancelResponse, String>),
}

/// The Cancel button and its dialog. `ask` opens the confirmation for
/// other tasks (a banner's Cancel, the Delete key); `matching` is set while
/// "all N matching" is selected.
#[component]
pub fn CancelAction(
    status: RwSignal<Option<ConnectionStatus>>,
    selected: RwSignal<BTreeSet<TaskId>>,
    ask: RwSignal<Option<Vec<TaskId>>>,
    matching: Signal<Option<(ListQuery, u64)>>,
) -> impl IntoView {
    let stage = RwSignal::new(Stage::Closed);
    let is_admin = move || {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| s.site.as_ref())
                .is_some_and(|site| site.role.is_admin())
        })
    };
    Effect::new(move |_| {
        if let Some(tasks) = ask.get() {
            ask.set(None);
            if is_admin() && !tasks.is_empty() {
                stage.set(Stage::Confirm(CancelScope::Tasks(tasks)));
            }
        }
    });
    let count = move || match matching.get() {
        Some((_, count)) => count as usize,
        None => selected.with(BTreeSet::len),
    };
    let disabled = move || !is_admin() || count() == 0;
    let title = move || {
        if !is_admin() {
            "Only Site Administrators can cancel tasks on this Site.".to_owned()
        } else if count() == 0 {
            "Select the tasks to cancel.".to_owned()
        } else {
            format!("Cancel {} selected task(s)", count())
        }
    };
    let open = move |_| {
        let scope = match matching.get_untracked() {
            Some((query, count)) => CancelScope::Matching {
                query: Box::new(query),
                count,
            },
            None => CancelScope::Tasks(selected.get_untracked().into_iter().collect()),
        };
        stage.set(Stage::Confirm(scope));
    };
    // The cancel itself; its answer ends the dialog's work. (The dialog's
    // button is disabled while one is in flight.)
    let cancel = Action::new_local(move |scope: &CancelScope| {
        let scope = scope.clone();
        async move {
            let result: Result<CancelResponse, _> = match &scope {
                CancelScope::Tasks(tasks) => {
                    let args = request::CancelTasks {
                        tasks: tasks.clone(),
                    };
                    bridge::request(&args).await
                }
                CancelScope::Matching { query, .. } => {
                    let args = request::CancelMatching {
                        query: (**query).clone(),
                    };
                    bridge::request(&args).await
                }
            };
            if let Ok(response) = &result {
                let done: BTreeSet<TaskId> = response.results.iter().map(|r| r.task).collect();
                selected.update(|set| set.retain(|id| !done.contains(id)));
            }
            result.map_err(|e| e.to_string())
        }
    });
    Effect::new(move |_| {
        if let Some(result) = cancel.value().get() {
            stage.set(Stage::Done(result));
        }
    });
    let confirm = move |_| {
        let Stage::Confirm(scope) = stage.get_untracked() else {
            return;
        };
        stage.set(Stage::Working(scope.clone()));
        cancel.dispatch(scope);
    };
    view! {
        <button
            class="button button-danger"
            data-testid="cancel-button"
            disabled=disabled
            title=title
            aria-label=title
            on:click=open
        >
            {move || if count() > 0 { format!("Cancel ({})", count()) } else { "Cancel".to_owned() }}
        </button>
        {move || match stage.get() {
            Stage::Closed => None,
            Stage::Confirm(scope) | Stage::Working(scope) => {
                let working = matches!(stage.get_untracked(), Stage::Working(_));
                let tasks = match &scope {
                    CancelScope::Tasks(tasks) => tasks.clone(),
                    CancelScope::Matching { .. } => Vec::new(),
                };
                Some(view! {
                    <div class="dialog-backdrop">
                        <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="cancel-title">
                            <h2 id="cancel-title">{scope.title()}</h2>
                            <ul class="dialog-list">
                                {tasks.iter().take(20).map(|id| view! { <li>{id.label()}</li> }).collect_view()}
                            </ul>
                            {(tasks.len() > 20).then(|| view! { <p>{format!("and {} more", tasks.len() - 20)}</p> })}
                            {matches!(scope, CancelScope::Matching { .. }).then(|| view! {
                                <p>"Every queued or running task that matches the search and filters now, also those not shown."</p>
                            })}
                            <p>"Running tasks are stopped on their Audit Service."</p>
                            <div class="dialog-buttons">
                                <button class="button" on:click=move |_| stage.set(Stage::Closed) disabled=working>"Keep them"</button>
                                <button class="button button-danger" data-testid="cancel-confirm" on:click=confirm disabled=working>
                                    {if working { "Cancelling…" } else { "Cancel tasks" }}
                                </button>
                            </div>
                        </div>
                    </div>
                }.into_any())
            }
            Stage::Done(result) => Some(view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" data-testid="cancel-result">
                        <h2>"Cancel"</h2>
                        {match result {
                            Ok(response) => view! {
                                <p data-testid="cancel-summary">{outcome_summary(&response)}</p>
                                <ul class="dialog-list">
                                    {response.results.into_iter().take(50).map(|r| view! {
                                        <li data-outcome=format!("{:?}", r.outcome).to_lowercase()>
                                            {cancel_outcome_text(r.task, r.outcome, r.status)}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(message) => view! { <p class="notice notice-error">{message}</p> }.into_any(),
                        }}
                        <div class="dialog-buttons">
                            <button class="button" data-testid="cancel-close" on:click=move |_| stage.set(Stage::Closed)>"Close"</button>
                        </div>
                    </div>
                </div>
            }.into_any()),
        }}
    }
}

/// "3 cancelled, 1 had already ended, 1 not found".
fn outcome_summary(response: &CancelResponse) -> String {
    use site_api::CancelOutcome;
    let count = |outcome: CancelOutcome| {
        response
            .results
            .iter()
            .filter(|r| r.outcome == outcome)
            .count()
    };
    let mut parts = vec![format!("{} cancelled", count(CancelOutcome::Cancelled))];
    let ended = count(CancelOutcome::AlreadyTerminal);
    if ended > 0 {
        parts.push(format!("{ended} had already ended"));
    }
    let missing = count(CancelOutcome::NotFound);
    if missing > 0 {
        parts.push(format!("{missing} not found"));
    }
    parts.join(", ")
}
