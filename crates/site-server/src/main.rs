//! The `taskdeck-site` command: `serve --config FILE` and `demo`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use taskdeck_site::demo::{self, DemoOptions};
use taskdeck_site::registration;
use taskdeck_site::{Config, RunningServer};

/// The reference Site server of Taskdeck.
#[derive(Parser)]
#[command(name = "taskdeck-site", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Site server from a TOML configuration file.
    Serve {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
        /// Listen here instead of the file's `listen`: several servers of
        /// one Site share a configuration and differ only in this (the
        /// systemd template unit passes its instance's port).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Manage app registrations (client credentials).
    AppRegistration {
        #[command(subcommand)]
        command: RegistrationCommand,
    },
    /// Manage the secrets of remote Audit Services' agents.
    AgentSecret {
        #[command(subcommand)]
        command: AgentSecretCommand,
    },
    /// Run a self-contained demo Site with live traffic.
    Demo {
        /// Keep the demo's data in this folder (default: a temporary one).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(Subcommand)]
enum RegistrationCommand {
    /// Create a registration; prints its client id and secret once.
    Create {
        /// The owner's email (a user of the configuration).
        #[arg(long)]
        owner: String,
        /// What the registration is for, e.g. "Alice's laptop".
        #[arg(long)]
        name: String,
        /// No tokens after this date (YYYY-MM-DD, UTC) or RFC 3339 time.
        #[arg(long)]
        expires: Option<String>,
        /// Append the registration (with the secret's hash) to this configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AgentSecretCommand {
    /// Create an agent secret: prints it once on standard output; only its
    /// hash is written (with --config, into the service's block).
    Create {
        /// Write the hash as `agent_secret_hash` of the service in this configuration file.
        #[arg(long, requires_all = ["site", "service"])]
        config: Option<PathBuf>,
        /// The Site of the service.
        #[arg(long)]
        site: Option<String>,
        /// The remote Audit Service's id.
        #[arg(long)]
        service: Option<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("taskdeck-site: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("taskdeck-site: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve { config, listen } => {
            let mut config = Config::load(&config).map_err(|e| e.to_string())?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            let server = taskdeck_site::start(config)
                .await
                .map_err(|e| e.to_string())?;
            announce(&server)?;
            wait_for_stop_signal().await;
            server.stop().await;
        }
        Command::AppRegistration {
            command:
                RegistrationCommand::Create {
                    owner,
                    name,
                    expires,
                    config,
                },
        } => {
            let expires_at = expires
                .as_deref()
                .map(registration::parse_expiry)
                .transpose()?;
            let created = registration::create(&owner, &name, expires_at, config.as_deref())?;
            println!("client_id = {}", created.client_id);
            println!("client_secret = {}", created.client_secret);
            match &config {
                Some(path) => eprintln!(
                    "The registration was added to {}; restart the server to use it. The secret is shown only now.",
                    path.display()
                ),
                None => {
                    eprintln!("Add this to the server's configuration (the secret is shown only now):");
                    println!("\n{}", created.toml);
                }
            }
        }
        Command::AgentSecret {
            command:
                AgentSecretCommand::Create {
                    config,
                    site,
                    service,
                },
        } => {
            let target = match (&config, &site, &service) {
                (Some(path), Some(site), Some(service)) => {
                    Some((path.as_path(), site.as_str(), service.as_str()))
                }
                _ => None,
            };
            let created = taskdeck_site::agent_secret::create(target)?;
            println!("{}", created.secret);
            match &config {
                Some(path) => eprintln!(
                    "The secret's hash was written to {}; restart the server to use it. Give the secret above to the agent (--secret-file); it is shown only now.",
                    path.display()
                ),
                None => eprintln!(
                    "Give the secret above to the agent (--secret-file); it is shown only now. Put its hash in the service's block of the server's configuration:\nagent_secret_hash = {}",
                    toml_edit::value(created.hash.as_str())
                ),
            }
        }
        Command::Demo { data, listen } => {
            let demo = demo::start(DemoOptions {
                listen,
                data_dir: data,
                ..DemoOptions::default()
            })
            .await
            .map_err(|e| e.to_string())?;
            for registration in &demo.registrations {
                eprintln!(
                    "demo app registration: {} ({}) client_id={} client_secret={}",
                    registration.owner,
                    registration.role.as_str(),
                    registration.client_id,
                    registration.client_secret,
                );
            }
            eprintln!("demo Site id: {}", demo::DEMO_SITE_ID);
            announce(&demo.server)?;
            wait_for_stop_signal().await;
            demo.stop().await;
        }
    }
    Ok(())
}

/// Prints the one line standard output carries.
fn announce(server: &RunningServer) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", server.url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

async fn wait_for_stop_signal() {
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
}
