//! Cancel: the toolbar button, the confirmation, and each task's outcome.
//!
//! The button is enabled when rows are selected and the user is a Site
//! Administrator on this Site; a Site User sees it disabled, with a tooltip
//! that says why.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use site_api::{CancelResponse, TaskId};
use taskdeck_ipc::{commands, ConnectionStatus};

use crate::bridge;
use crate::format::cancel_outcome_text;

#[derive(Serialize)]
struct CancelArgs {
    tasks: Vec<String>,
}

/// What the dialog shows.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Closed,
    Confirm(Vec<TaskId>),
    Working(Vec<TaskId>),
    Done(Result<CancelResponse, String>),
}

/// The Cancel button and its dialog.
#[component]
pub fn CancelAction(
    status: RwSignal<Option<ConnectionStatus>>,
    selected: RwSignal<BTreeSet<TaskId>>,
) -> impl IntoView {
    let stage = RwSignal::new(Stage::Closed);
    let is_admin = move || {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| s.site.as_ref())
                .is_some_and(|site| site.role.is_admin())
        })
    };
    let count = move || selected.with(BTreeSet::len);
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
    let confirm = move |_| {
        let Stage::Confirm(tasks) = stage.get_untracked() else {
            return;
        };
        stage.set(Stage::Working(tasks.clone()));
        spawn_local(async move {
            let args = CancelArgs {
                tasks: tasks.iter().map(ToString::to_string).collect(),
            };
            let result: Result<CancelResponse, _> =
                bridge::invoke_with(commands::CANCEL_TASKS, &args).await;
            if result.is_ok() {
                selected.update(|set| set.retain(|id| !tasks.contains(id)));
            }
            stage.set(Stage::Done(result.map_err(|e| e.to_string())));
        });
    };
    view! {
        <button
            class="button button-danger"
            data-testid="cancel-button"
            disabled=disabled
            title=title
            aria-label=title
            on:click=move |_| stage.set(Stage::Confirm(selected.get_untracked().into_iter().collect()))
        >
            {move || if count() > 0 { format!("Cancel ({})", count()) } else { "Cancel".to_owned() }}
        </button>
        {move || match stage.get() {
            Stage::Closed => None,
            Stage::Confirm(tasks) | Stage::Working(tasks) => {
                let working = matches!(stage.get_untracked(), Stage::Working(_));
                Some(view! {
                    <div class="dialog-backdrop">
                        <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="cancel-title">
                            <h2 id="cancel-title">{format!("Cancel {} task(s)?", tasks.len())}</h2>
                            <ul class="dialog-list">
                                {tasks.iter().take(20).map(|id| view! { <li>{id.label()}</li> }).collect_view()}
                            </ul>
                            {(tasks.len() > 20).then(|| view! { <p>{format!("and {} more", tasks.len() - 20)}</p> })}
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
                                <ul class="dialog-list">
                                    {response.results.into_iter().map(|r| view! {
                                        <li data-outcome=format!("{:?}", r.outcome).to_lowercase()>
                                            {cancel_outcome_text(r.task, r.outcome, r.status)}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(message) => view! { <p class="notice notice-error">{message}</p> }.into_any(),
                        }}
                        <div class="dialog-buttons">
                            <button class="button" on:click=move |_| stage.set(Stage::Closed)>"Close"</button>
                        </div>
                    </div>
                </div>
            }.into_any()),
        }}
    }
}
