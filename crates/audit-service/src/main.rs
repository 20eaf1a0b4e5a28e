//! `taskdeck-audit-service`: the agent of a remote Audit Service.
//!
//! It connects to the Site server, takes the service's tasks, runs a
//! program for each (the same runner as the server's `command` runner:
//! `taskdeck-runner`), and reports back. Standard output carries one line,
//! `connected to <URL> as <ID>`; logs go to standard error. Exit status 2
//! with a sentence when the server refuses the agent; 0 after SIGTERM.

mod agent;
mod cli;
mod client;
#[cfg(windows)]
mod windows;

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;

use crate::agent::{Agent, Exit};
use crate::cli::Cli;
use crate::client::SiteClient;

/// The exit status of a refused agent.
const REFUSED: u8 = 2;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    #[cfg(windows)]
    if cli.windows_service {
        return windows::run_as_service(cli);
    }
    let shutdown = CancellationToken::new();
    run(cli, shutdown, true)
}

/// Runs the agent until `shutdown` (or a stop signal, with `signals`).
pub fn run(cli: Cli, shutdown: CancellationToken, signals: bool) -> ExitCode {
    let agent = match agent_of(cli, shutdown.clone()) {
        Ok(agent) => agent,
        Err(message) => {
            eprintln!("taskdeck-audit-service: {message}");
            return ExitCode::from(REFUSED);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("taskdeck-audit-service: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let exit = runtime.block_on(async move {
        if signals {
            tokio::spawn(stop_on_signal(shutdown));
        }
        agent.run().await
    });
    // Programs are stopped and reported; nothing left needs the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match exit {
        Exit::Stopped => ExitCode::SUCCESS,
        Exit::Refused(message) => {
            eprintln!("taskdeck-audit-service: {message}");
            ExitCode::from(REFUSED)
        }
    }
}

/// The agent the command line describes: a bad argument is a sentence.
fn agent_of(cli: Cli, shutdown: CancellationToken) -> Result<Agent, String> {
    let secret = cli::read_secret(
        cli.secret_file.as_deref(),
        std::env::var("TASKDECK_AGENT_SECRET").ok(),
    )?;
    let ca = cli
        .ca
        .as_deref()
        .map(|path| {
            std::fs::read(path).map_err(|e| format!("cannot read --ca {}: {e}", path.display()))
        })
        .transpose()?;
    let client = SiteClient::new(&cli.server, &cli.site, &cli.service, ca.as_deref())?;
    Ok(Agent {
        client,
        server: cli.server,
        service: cli.service,
        secret,
        program: cli.program,
        slots: cli.slots,
        shutdown,
    })
}

/// Cancels `shutdown` on SIGTERM or Ctrl-C.
async fn stop_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: no new tasks; stopping the programs that run");
    shutdown.cancel();
}
