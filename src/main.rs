//! `campus`: one binary for editors and operators of KommunalCampus.

mod allocator;
mod cmd;
mod http;

/// Version and git commit the binary was built from.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (Commit ",
    env!("CAMPUS_GIT_COMMIT"),
    ")"
);

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "campus",
    version = LONG_VERSION,
    about = "KommunalCampus: Website bauen, prüfen und mit Formular-Backend ausliefern"
)]
struct Cli {
    /// Site folder (with campus.toml); default: the current folder.
    #[arg(long, global = true, default_value = ".")]
    site: PathBuf,
    /// Log format: text (default) or json (one object per line, for log collectors). Filter with RUST_LOG.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output folder (default: public/).
    Build(cmd::build::Args),
    /// Check content and templates without writing anything.
    Check(cmd::check::Args),
    /// For operators: serve the built public/ and the form backend (production; no watcher, no live reload).
    Run(cmd::run::Args),
    /// For editors: build, serve with the form backend, rebuild on changes, live reload (development only).
    Serve(cmd::serve::Args),
    /// For operators: consistent copy of the form database (and signing key) while the service runs.
    Backup(cmd::backup::Args),
    /// For operators: move the form database from SQLite to PostgreSQL (db copy --to postgres://…).
    Db(cmd::db::Args),
    /// Form backend data: purge expired data, export submissions as CSV.
    Forms(cmd::forms::Args),
    /// Bookings for the office: list, export (CSV per live date), approve, reject, cancel.
    Bookings(cmd::bookings::Args),
    /// Invoices for the office: per authority and month a PDF and an XRechnung, a CSV for accounting; credit notes.
    Invoices(cmd::invoices::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = campus_forms::BUILD_COMMIT.set(env!("CAMPUS_GIT_COMMIT"));
    // RUST_LOG filters (e.g. `campus_forms=debug`), default: info.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    if cli.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    match cli.command {
        Command::Build(args) => cmd::build::run(&cli.site, args),
        Command::Check(args) => cmd::check::run(&cli.site, args),
        Command::Run(args) => cmd::run::run(&cli.site, args),
        Command::Serve(args) => cmd::serve::run(&cli.site, args),
        Command::Backup(args) => cmd::backup::run(&cli.site, args),
        Command::Db(args) => cmd::db::run(&cli.site, args),
        Command::Forms(args) => cmd::forms::run(&cli.site, args),
        Command::Bookings(args) => cmd::bookings::run(&cli.site, args),
        Command::Invoices(args) => cmd::invoices::run(&cli.site, args),
    }
}
