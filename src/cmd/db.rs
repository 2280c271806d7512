//! `campus db copy --to postgres://…`: moves the form database from the
//! SQLite file to PostgreSQL (see docs/betrieb.md, "Wann und wie auf
//! PostgreSQL umziehen").

use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(clap::Subcommand)]
enum DbCommand {
    /// Copy the SQLite database into an empty PostgreSQL database (stop the service first); verified by row counts.
    Copy {
        /// Target, e.g. postgres://campus@db.example/campus
        #[arg(long)]
        to: String,
    },
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    match args.command {
        DbCommand::Copy { to } => match copy(site, &to) {
            Ok(message) => {
                println!("{message}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("{message}");
                ExitCode::FAILURE
            }
        },
    }
}

fn copy(site: &Path, to: &str) -> Result<String, String> {
    use campus_forms::store::{Location, Store};
    let config = campus_generator::config::Config::load(site).map_err(|p| p.to_string())?;
    let settings = campus_forms::Settings::load(site, &config).map_err(|e| e.to_string())?;
    let Some(from) = settings.database.file() else {
        return Err(format!(
            "Die Datenbank ist schon PostgreSQL ({}); kopiert wird aus einer SQLite-Datei.",
            settings.database
        ));
    };
    let target = Location::parse(to, site);
    if !matches!(target, Location::Postgres(_)) {
        return Err(format!(
            "--to {to}: erwartet wird eine PostgreSQL-Adresse (postgres://…)."
        ));
    }
    let report = Store::copy_sqlite_to_postgres(from, to).map_err(|e| e.to_string())?;
    let mut message = format!("Kopiert von {} nach {target}:", from.display());
    for (table, rows) in &report {
        message.push_str(&format!(
            "\n  {table}: {rows} Zeilen (gezählt auf beiden Seiten)"
        ));
    }
    message.push_str(
        "\nStellen Sie nun CAMPUS_DATABASE (oder [backend] datenbank) auf die PostgreSQL-Adresse um.",
    );
    Ok(message)
}
