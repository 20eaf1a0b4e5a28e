//! Running ended tasks again from a log: a row's "Run again", the ticked
//! rows', and "Run failed again" for every failed row the log's filters
//! match (counted first, confirmed, then created in batches with their
//! progress shown and a summary at the end). Both roles may.

use leptos::prelude::*;
use site_api::{CreateTaskRequest, LogQuery, TaskKind};
use taskdeck_ipc::{request, RunSummary};

use super::session::{request_action, Session};
use crate::bridge;

/// How many of a run's new tasks its summary names one by one.
const ITEMS_LISTED: usize = 100;

/// Creates tasks on the shown Site and keeps the summary.
pub type RunAction = Action<request::RunTasks, Result<RunSummary, String>>;

/// A new run action.
pub fn run_action() -> RunAction {
    request_action::<request::RunTasks>()
}

/// While `run` runs, how far it has got; then its summary (`testid`).
#[component]
pub fn RunOutcome(run: RunAction, testid: &'static str) -> impl IntoView {
    let session = Session::get();
    move || {
        if run.pending().get() {
            // Progress of this run (not of one before it).
            let asked = run
                .input()
                .with(|input| input.as_ref().map(|i| i.tasks.len()));
            let text = session
                .run_progress
                .get()
                .filter(|progress| Some(progress.total as usize) == asked)
                .map(|progress| progress.sentence())
                .unwrap_or_else(|| "Starting…".to_owned());
            return Some(
                view! { <p class="notice" role="status" data-testid=format!("{testid}-progress")>{text}</p> }
                    .into_any(),
            );
        }
        run.value().get().map(|result| match result {
            Ok(summary) => {
                let class = match summary.is_complete() {
                    true => "notice notice-ok",
                    false => "notice notice-error",
                };
                // Task by task, as Cancel reports: each one started (the
                // first hundred), then how many more.
                let shown: Vec<String> = summary
                    .created
                    .iter()
                    .take(ITEMS_LISTED)
                    .map(|id| id.to_string())
                    .collect();
                let more = summary.created.len().saturating_sub(ITEMS_LISTED);
                let several = summary.created.len() > 1;
                view! {
                    <div class=class role="status">
                        <p data-testid=testid>{summary.sentence()}</p>
                        {several.then(|| view! {
                            <details data-testid=format!("{testid}-items")>
                                <summary>"Each task started"</summary>
                                <p class="mono">{shown.join(", ")}
                                    {(more > 0).then(|| format!(" and {} more", crate::views::grouped(more as u64)))}
                                </p>
                            </details>
                        })}
                    </div>
                }
                .into_any()
            }
            Err(error) => {
                view! { <p class="notice notice-error" role="alert" data-testid=testid>{error}</p> }
                    .into_any()
            }
        })
    }
}

/// "Run failed again": counts the failed rows `query` matches in `kind`'s
/// log, asks, then runs them all again.
#[component]
pub fn RetryFailed(kind: TaskKind, query: Memo<LogQuery>) -> impl IntoView {
    let counting = Action::new_local(move |query: &LogQuery| {
        let asked = bridge::send(request::FailedInLog {
            kind,
            query: query.clone(),
        });
        async move { asked.await.map_err(|e| e.to_string()) }
    });
    let asking = RwSignal::new(false);
    let run = run_action();
    let start = move |_| {
        counting.dispatch(query.get_untracked());
        asking.set(true);
    };
    let confirm = move |tasks: Vec<CreateTaskRequest>| {
        asking.set(false);
        run.dispatch(request::RunTasks { tasks });
    };
    let dialog = move || {
        if counting.pending().get() {
            return view! { <p data-testid="retry-counting">"Counting the failed tasks these filters match…"</p> }
                .into_any();
        }
        match counting.value().get() {
            None => ().into_any(),
            Some(Err(error)) => view! { <p class="notice notice-error" role="alert" data-testid="retry-error">{error}</p> }
                .into_any(),
            Some(Ok(tasks)) if tasks.is_empty() => view! {
                <p data-testid="retry-count" data-count="0">"No failed task matches these filters."</p>
            }
            .into_any(),
            Some(Ok(tasks)) => {
                let n = tasks.len();
                let tasks = StoredValue::new(tasks);
                view! {
                    <p data-testid="retry-count" data-count=n.to_string()>
                        {format!(
                            "Run {} failed {} again? Each starts as a new task with the same target and scope, started by you.",
                            crate::views::grouped(n as u64),
                            if n == 1 { "task" } else { "tasks" },
                        )}
                    </p>
                    <button class="button button-primary" data-testid="retry-confirm"
                        on:click=move |_| confirm(tasks.get_value())>
                        {format!("Run {} again", crate::views::grouped(n as u64))}
                    </button>
                }
                .into_any()
            }
        }
    };
    view! {
        <button class="button" data-testid="retry-failed" on:click=start
            disabled=move || run.pending().get()
            title="Run again every failed task (failed, or ended with errors) these filters match">
            "Run failed again…"
        </button>
        <Show when=move || asking.get()>
            <div class="dialog-backdrop">
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="retry-title" data-testid="retry-dialog">
                    <h2 id="retry-title">"Run failed tasks again"</h2>
                    {dialog}
                    <div class="dialog-buttons">
                        <button class="button" data-testid="retry-close" on:click=move |_| asking.set(false)>"Close"</button>
                    </div>
                </div>
            </div>
        </Show>
        <RunOutcome run=run testid="retry-summary" />
    }
}
