//! `campus backup --to FILE`: a consistent copy of the form database while
//! the service keeps running, and next to it the signing key (without it,
//! links in mails already sent stop working after a restore).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The backup file to write (must not exist yet); the signing key goes to FILE.signaturschluessel.
    #[arg(long)]
    to: PathBuf,
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    match backup(site, &args.to) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn backup(site: &Path, to: &Path) -> Result<String, String> {
    let config = campus_generator::config::Config::load(site).map_err(|p| p.to_string())?;
    let settings = campus_forms::Settings::load(site, &config).map_err(|e| e.to_string())?;
    let Some(database) = settings.database.file() else {
        return Err(format!(
            "Die Datenbank liegt auf PostgreSQL ({}): campus backup sichert nur SQLite. \
             Sichern Sie sie mit pg_dump (siehe docs/betrieb.md, „Wann und wie auf PostgreSQL umziehen“).",
            settings.database
        ));
    };
    if !database.is_file() {
        return Err(format!(
            "Es gibt noch keine Datenbank ({}): nichts zu sichern.",
            database.display()
        ));
    }
    campus_forms::runtime_ops::backup(database, to)?;
    let mut message = format!("Datenbank gesichert: {}", to.display());
    let key = settings.data_dir.join("signing.key");
    if key.is_file() {
        let mut copy = to.as_os_str().to_owned();
        copy.push(".signaturschluessel");
        let copy = PathBuf::from(copy);
        copy_private(&key, &copy).map_err(|e| format!("{}: {e}", copy.display()))?;
        message.push_str(&format!(
            "\nSignaturschlüssel gesichert: {}",
            copy.display()
        ));
    }
    Ok(message)
}

/// Copies a secret so that only the owner can read the copy.
fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let bytes = std::fs::read(from)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    file.write_all(&bytes)?;
    file.sync_all()
}
