//! `campus forms purge` and `campus forms export --form <name>`: operations
//! on the form backend's database (see the `[backend]` and `[aufbewahrung]`
//! tables of campus.toml).

use campus_forms::store::Store;
use campus_forms::Settings;
use campus_generator::config::Config;
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: FormsCommand,
}

#[derive(clap::Subcommand)]
enum FormsCommand {
    /// Delete data past its retention period ([aufbewahrung] in campus.toml).
    Purge,
    /// Write the submissions of one form as CSV (UTF-8, `;`) to stdout.
    Export {
        /// registrierung, kontakt or newsletter
        #[arg(long)]
        form: String,
    },
}

fn open(site: &Path) -> Result<(Settings, Store), String> {
    let config = Config::load(site).map_err(|p| p.to_string())?;
    let settings = Settings::load(site, &config).map_err(|e| e.to_string())?;
    let store = Store::open(&settings.database).map_err(|e| e.to_string())?;
    Ok((settings, store))
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    let (settings, store) = match open(site) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match args.command {
        FormsCommand::Purge => match campus_forms::ops::purge(&store, &settings) {
            Ok(r) => {
                println!(
                    "Gelöscht: {} Einsendungen nach Ablauf der Frist, {} unbestätigte Anmeldungen, {} Newsletter-Anmeldungen, {} Einwilligungen, {} Links, {} E-Mails, {} Buchungen, {} Einträge im Buchungsverlauf, {} Einwilligungen zu Buchungen, {} Anmeldelinks und Sitzungen der Verwaltung, {} Bewertungen, {} Teilnahmebescheinigungen, {} Kursbuchungen, {} Anfragen exklusiver Kurse, {} abgelehnte Mitgliedsanträge.",
                    r.submissions, r.unconfirmed, r.subscribers, r.consents, r.tokens, r.mails,
                    r.journey.bookings, r.journey.booking_events, r.journey.consents, r.journey.sessions,
                    r.journey.evaluations, r.journey.certificates, r.journey.course_bookings,
                    r.journey.exclusive_requests, r.journey.membership_applications
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        FormsCommand::Export { form } => {
            let stdout = std::io::stdout().lock();
            match campus_forms::ops::export_csv(&store, &form, stdout) {
                Ok(n) => {
                    eprintln!("{n} Einsendungen exportiert.");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
