//! `campus invoices run | credit`: the office's invoice run. For each
//! authority with something to bill in the month, one invoice with a gap-free
//! number, written as XRechnung (UBL) and PDF, plus one CSV of all lines for
//! the accounting. A correction is a credit note (`credit`), never an edited
//! invoice. See docs/rechnungen.md.

use campus_forms::invoice::{self, Invoice, Period, Seller};
use campus_forms::AppState;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: InvoicesCommand,
}

#[derive(clap::Subcommand)]
enum InvoicesCommand {
    /// Invoice everything binding of a month not invoiced yet, per authority.
    Run {
        /// The month, e.g. 2027-03.
        #[arg(long)]
        monat: String,
        /// Also bill the yearly fee of this year (once per authority and year).
        #[arg(long)]
        jahresbeitrag: Option<i32>,
        /// Folder for the files (default: rechnungen/ in the site folder).
        #[arg(long)]
        verzeichnis: Option<PathBuf>,
        /// Invoice date (YYYY-MM-DD) instead of today.
        #[arg(long)]
        heute: Option<String>,
    },
    /// Credit note reversing an invoice in full (number, e.g. 7 or KC-000007).
    Credit {
        nummer: String,
        #[arg(long)]
        verzeichnis: Option<PathBuf>,
        #[arg(long)]
        heute: Option<String>,
    },
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    match run_inner(site, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn issue_time(heute: Option<String>) -> Result<i64, String> {
    match heute {
        None => Ok(campus_forms::store::now()),
        Some(d) => Ok(super::parse_date(&d)?
            .and_hms_opt(12, 0, 0)
            .expect("noon")
            .and_utc()
            .timestamp()),
    }
}

fn run_inner(site: &Path, args: Args) -> Result<(), String> {
    let config = campus_generator::config::Config::load(site).map_err(|e| e.to_string())?;
    let seller = Seller::from_config(&config)?;
    let state = AppState::open(site).map_err(|e| e.to_string())?;
    let loaded = state.loaded();
    let site_model = &loaded.site;
    let (invoices, dir, csv_name) = match args.command {
        InvoicesCommand::Run {
            monat,
            jahresbeitrag,
            verzeichnis,
            heute,
        } => {
            let period = Period::month(&monat)
                .ok_or_else(|| format!("„{monat}“ ist kein Monat im Format JJJJ-MM."))?;
            let now = issue_time(heute)?;
            let invoices = invoice::run(&state.store, site_model, period, jahresbeitrag, now)
                .map_err(|e| e.to_string())?;
            report_unrecorded(&state, site_model, period)?;
            (invoices, verzeichnis, format!("rechnungen-{monat}.csv"))
        }
        InvoicesCommand::Credit {
            nummer,
            verzeichnis,
            heute,
        } => {
            let n: i64 = nummer
                .trim_start_matches("KC-")
                .parse()
                .map_err(|_| format!("„{nummer}“ ist keine Rechnungsnummer (z. B. KC-000007)."))?;
            let now = issue_time(heute)?;
            let note = invoice::credit_note(&state.store, site_model, n, now)
                .map_err(|e| e.to_string())?;
            let name = format!("gutschrift-{}.csv", note.number());
            (vec![note], verzeichnis, name)
        }
    };
    let dir = dir.unwrap_or_else(|| site.join("rechnungen"));
    if invoices.is_empty() {
        eprintln!("Nichts abzurechnen: keine offenen verbindlichen Buchungen im Zeitraum.");
        return Ok(());
    }
    write_files(&state, &dir, &invoices, &seller, &csv_name)?;
    for inv in &invoices {
        println!(
            "{} {} an {} (Leitweg-ID {}): {} Positionen, netto {}, USt {}, brutto {}",
            if inv.row.credit_note {
                "Gutschrift"
            } else {
                "Rechnung"
            },
            inv.number(),
            inv.buyer.name,
            inv.buyer.leitweg_id,
            inv.lines.len(),
            campus_generator::money::Cents(inv.row.net_cents),
            campus_generator::money::Cents(inv.row.vat_cents),
            campus_generator::money::Cents(inv.row.gross_cents),
        );
    }
    eprintln!("Dateien in {}", dir.display());
    Ok(())
}

/// Confirmed places of the period still without attendance: not billed,
/// named so the office records them and runs the month again.
fn report_unrecorded(
    state: &AppState,
    site: &campus_generator::Site,
    period: Period,
) -> Result<(), String> {
    for s in invoice::statements(&state.store, site, period, None).map_err(|e| e.to_string())? {
        for b in &s.unrecorded {
            eprintln!(
                "Nicht abgerechnet, Anwesenheit fehlt: {} – B-{} {} am {} ({})",
                s.name, b.id, b.unit_title, b.service_date, b.name
            );
        }
    }
    Ok(())
}

fn write_files(
    state: &AppState,
    dir: &Path,
    invoices: &[Invoice],
    seller: &Seller,
    csv_name: &str,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let put = |name: String, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
    };
    for inv in invoices {
        let xml = invoice::xml_of(&state.store, inv, seller).map_err(|e| e.to_string())?;
        put(format!("{}.xml", inv.number()), xml.as_bytes())?;
        let pdf = invoice::pdf::pdf(inv, seller)?;
        put(format!("{}.pdf", inv.number()), &pdf)?;
    }
    let mut csv = Vec::new();
    invoice::csv::write(&mut csv, invoices).map_err(|e| e.to_string())?;
    put(csv_name.to_string(), &csv)
}
