//! `oes`: the OES API server and its administration commands.

use std::process::ExitCode;

use api::config::{LogFormat, Settings};
use api::startup::{self, Application};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's allocator: see `api::memory`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "oes",
    version,
    about = "OES API: the headless API of a live-performance agency"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
    /// With no command: fill an empty database with demo data before serving.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Fill an empty database with demo data first.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and load the reference geography, then exit.
    Migrate,
    /// Run the background work without serving HTTP: the change log's webhook
    /// dispatcher, `OES_WEBHOOK_WORKERS` delivery workers (at least one) and the mail
    /// outbox's sender, sharing the work with any other `oes worker` or `oes serve` on
    /// the same database.
    Worker,
    /// Print the OpenAPI document (YAML, or JSON with --json).
    Openapi {
        #[arg(long)]
        json: bool,
    },
    /// Load a new vintage of the reference geography from a folder holding
    /// `regions.csv`, `departments.csv` and `communes.csv` (the columns of the shipped files).
    /// Running servers pick it up when they restart.
    Reference {
        #[arg(long, value_name = "DIR", required_unless_present = "embedded")]
        dir: Option<std::path::PathBuf>,
        /// Load the copy shipped in this binary instead.
        #[arg(long, conflicts_with = "dir")]
        embedded: bool,
    },
    /// Administer accounts from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Add data: `--demo` for a realistic start, `--scale N` for benchmarks.
    Seed {
        #[arg(long)]
        demo: bool,
        #[arg(long, value_name = "N")]
        scale: Option<u64>,
        /// Performances to add (with a production for every ten) to the companies and
        /// venues seeded before or with --scale.
        #[arg(long, value_name = "M")]
        performances: Option<u64>,
        /// Grant dossiers to add (in a call of their own, in a mix of states) for the
        /// companies seeded before or with --scale, with their performances.
        #[arg(long, value_name = "D")]
        dossiers: Option<u64>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account with an agency role (the first administrator, typically).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "staff", "reviewer"])]
        role: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn init_logs(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Human => builder.init(),
    }
}

/// A bar on a terminal; log lines every 100,000 when the output goes to a file or a pipe.
struct Progress {
    bar: indicatif::ProgressBar,
    what: &'static str,
}

impl Progress {
    fn advance_to(&self, done: u64) {
        self.bar.set_position(done);
        let count = self.bar.length().unwrap_or(done);
        if self.bar.is_hidden() && (done.is_multiple_of(100_000) || done == count) {
            tracing::info!(done, count, what = self.what, "seeding");
        }
    }

    fn finish(&self) {
        self.bar.finish();
    }
}

fn progress_bar(count: u64, what: &'static str) -> Result<Progress, String> {
    let bar = indicatif::ProgressBar::new(count).with_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {wide_bar} {human_pos}/{human_len} ({per_sec}, {eta} left)",
        )
        .map_err(|e| e.to_string())?,
    );
    bar.set_message(what);
    Ok(Progress { bar, what })
}

fn main() -> ExitCode {
    api::memory::configure_allocator();
    // A missing .env is the normal case.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    if let Some(Command::Openapi { json }) = cli.command {
        let document = api::openapi::document();
        let text = if json {
            document.to_pretty_json().map_err(|e| e.to_string())
        } else {
            document.to_yaml().map_err(|e| e.to_string())
        };
        return match text {
            Ok(text) => {
                print!("{text}");
                if json {
                    println!();
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("cannot print the document: {error}");
                ExitCode::FAILURE
            }
        };
    }
    init_logs(&cli.settings);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let settings = cli.settings;
    tracing::info!(
        database = %persistence::db::redact(settings.database_url.expose_secret()),
        "opening database"
    );
    let state = startup::prepare(&settings)?;
    match cli.command {
        None => serve(settings, state, cli.demo),
        Some(Command::Serve { demo }) => serve(settings, state, demo || cli.demo),
        Some(Command::Worker) => {
            let webhooks = api::webhooks::WebhookSettings::from_settings(&settings);
            let mails = api::mail::worker::Worker::new(
                state.pool.clone(),
                state.mailer.key().clone(),
                &settings,
            )?;
            tracing::info!(
                webhook_workers = webhooks.workers.max(1),
                "delivering webhooks and mails"
            );
            actix_web::rt::System::new().block_on(async move {
                let mails = actix_web::rt::spawn(mails.run());
                let delivered =
                    api::webhooks::run(state.pool, state.sealer, state.mailer, webhooks).await;
                mails.abort();
                delivered
            })?;
            Ok(())
        }
        Some(Command::Migrate) => {
            tracing::info!("database is up to date");
            Ok(())
        }
        Some(Command::Seed {
            demo,
            scale,
            performances,
            dossiers,
        }) => {
            let mut conn = state.pool.get()?;
            if demo {
                let created = api::seed::demo(&mut conn, &state.geography)?;
                tracing::info!(created, "demo data");
            }
            if let Some(count) = scale {
                let bar = progress_bar(count, "structures")?;
                api::seed::scale(&mut conn, &state.geography, count, |done| {
                    bar.advance_to(done)
                })?;
                bar.finish();
            }
            if let Some(count) = performances {
                let bar = progress_bar(count, "performances")?;
                api::seed::scale_performances(&mut conn, &state.geography, count, |done| {
                    bar.advance_to(done)
                })?;
                bar.finish();
            }
            if let Some(count) = dossiers {
                let bar = progress_bar(count, "dossiers")?;
                api::seed::scale_dossiers(&mut conn, &state.geography, count, |done| {
                    bar.advance_to(done)
                })?;
                bar.finish();
            }
            if !demo && scale.is_none() && performances.is_none() && dossiers.is_none() {
                return Err("say --demo, --scale N, --performances M or --dossiers D".into());
            }
            Ok(())
        }
        Some(Command::Reference { dir, .. }) => {
            let files = match &dir {
                Some(dir) => {
                    let read = |name: &str| {
                        std::fs::read_to_string(dir.join(name))
                            .map_err(|e| format!("{}: {e}", dir.join(name).display()))
                    };
                    Some((
                        read("regions.csv")?,
                        read("departments.csv")?,
                        read("communes.csv")?,
                    ))
                }
                None => None,
            };
            let sources = match &files {
                Some((regions, departments, communes)) => persistence::reference::Sources {
                    regions,
                    departments,
                    communes,
                },
                None => persistence::reference::Sources::embedded(),
            };
            let mut conn = state.pool.get()?;
            let report = persistence::reference::load(&mut conn, sources)?;
            if report.loaded {
                tracing::info!(
                    communes = report.communes,
                    departments = report.departments,
                    "reference geography replaced"
                );
            } else {
                tracing::info!("reference geography already up to date");
            }
            Ok(())
        }
        Some(Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    role,
                    name,
                    password_stdin,
                },
        }) => {
            let password: SecretString = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                // Both copies are wiped when dropped.
                let line = SecretString::from(line);
                line.expose_secret()
                    .trim_end_matches(['\r', '\n'])
                    .to_owned()
                    .into()
            } else {
                api::auth::secrets::random_secret()
            };
            let new = domain::access::NewAccount::parse(&email, &name, password.expose_secret())
                .map_err(|e| e.to_string())?;
            let role = domain::access::AgencyRole::parse(&role).map_err(|e| e.to_string())?;
            let hash = api::auth::passwords::hash(password.expose_secret())?;
            let mut conn = state.pool.get()?;
            let account =
                persistence::identity::accounts::create(&mut conn, new, hash, Some(role))?;
            tracing::info!(id = %account.id, role = role.as_str(), "account created");
            if !password_stdin {
                // Shown once: only its hash is kept.
                println!("{}", password.expose_secret());
            }
            Ok(())
        }
        Some(Command::Openapi { .. }) => Ok(()),
    }
}

fn serve(
    settings: Settings,
    state: startup::State,
    demo: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    if demo {
        let mut conn = state.pool.get()?;
        let created = api::seed::demo(&mut conn, &state.geography)?;
        if created > 0 {
            tracing::info!(created, "demo structures added");
        }
    }
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings, state)?;
        let host = settings
            .bind
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or("127.0.0.1");
        let base = format!("http://{host}:{}", app.port());
        tracing::info!("listening on {base}  (docs: {base}/docs/, spec: {base}/openapi.json)");
        eprintln!("OES API listening on {base}\n  docs: {base}/docs/\n  spec: {base}/openapi.json");
        app.run_until_stopped().await?;
        Ok(())
    })
}
