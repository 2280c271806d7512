//! `campus`: one binary for editors and operators of KommunalCampus.

mod cmd;
mod http;

/// The version shown by `campus --version` and `/healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

// Rendering thousands of pages allocates many small JSON values; mimalloc
// handles that with less CPU than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "campus",
    version,
    about = "KommunalCampus: Website bauen, prüfen und mit Formular-Backend ausliefern"
)]
struct Cli {
    /// Site folder (with campus.toml); default: the current folder.
    #[arg(long, global = true, default_value = ".")]
    site: PathBuf,
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
    /// Form backend data: purge expired data, export submissions as CSV.
    Forms(cmd::forms::Args),
    /// Bookings for the office: list, export (CSV per live date), approve, reject, cancel.
    Bookings(cmd::bookings::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Structured logs of the form backend; RUST_LOG-style filtering is left
    // to the operator's log system.
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Build(args) => cmd::build::run(&cli.site, args),
        Command::Check(args) => cmd::check::run(&cli.site, args),
        Command::Run(args) => cmd::run::run(&cli.site, args),
        Command::Serve(args) => cmd::serve::run(&cli.site, args),
        Command::Forms(args) => cmd::forms::run(&cli.site, args),
        Command::Bookings(args) => cmd::bookings::run(&cli.site, args),
    }
}
