//! `campus bookings list | export | approve | reject | cancel | move | offer`: the office's
//! tools for bookings, waiting lists and enrolments. They work on the same
//! database as `campus serve`; mails are queued in its outbox and sent by
//! the running server's worker (or the next one started).

use campus_forms::booking::{self, Actor, BookingState, Decision, OfficeMove};
use campus_forms::ops::{booking_date, export_bookings_csv};
use campus_forms::store::{BookingFilter, BookingRow};
use campus_forms::AppState;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BookingsCommand,
}

#[derive(clap::Args, Clone, Default)]
struct Filter {
    /// Only this unit (id, e.g. e-akte-einfuehren)
    #[arg(long)]
    einheit: Option<String>,
    /// Only this live date (YYYY-MM-DD) or `naechster`
    #[arg(long)]
    termin: Option<String>,
    /// Only this state (unbestaetigt, freigabe, bestaetigt, warteliste, angebot,
    /// abgelehnt, storniert, verfallen, eingeschrieben)
    #[arg(long)]
    status: Option<String>,
}

#[derive(clap::Subcommand)]
enum BookingsCommand {
    /// Show bookings per unit and live date, with waiting list order.
    List {
        #[command(flatten)]
        filter: Filter,
        /// Also show each booking's history (time, actor, state change).
        #[arg(long)]
        verlauf: bool,
    },
    /// Write bookings as CSV (UTF-8, `;`): to stdout, or one file per live date into a folder.
    Export {
        #[command(flatten)]
        filter: Filter,
        /// Write `<unit>-<date>.csv` per live date into this folder instead of stdout.
        #[arg(long)]
        verzeichnis: Option<PathBuf>,
    },
    /// Approve a booking waiting for approval (number as in `list`, e.g. 17 or B-17).
    Approve { id: String },
    /// Reject a booking waiting for approval.
    Reject { id: String },
    /// Cancel a booking or waiting-list place; a freed place is offered to the next person.
    Cancel { id: String },
    /// Move a confirmed booking to another live date (YYYY-MM-DD) of the same unit;
    /// the freed place goes to the old date's waiting list.
    Move { id: String, termin: String },
    /// Offer a waiting person a free place on a live date (YYYY-MM-DD), whatever
    /// their place on the waiting list.
    Offer { id: String, termin: String },
}

fn filter(f: Filter) -> Result<BookingFilter, String> {
    let state = match f.status.as_deref() {
        None => None,
        Some(s) => Some(BookingState::parse(s).map_err(|_| {
            let known: Vec<&str> = BookingState::ALL.iter().map(|s| s.as_str()).collect();
            format!(
                "Unbekannter Status „{s}“; bekannt sind {}.",
                known.join(", ")
            )
        })?),
    };
    Ok(BookingFilter {
        unit_id: f.einheit,
        live_date: f.termin,
        state,
    })
}

fn parse_id(s: &str) -> Result<i64, String> {
    s.trim_start_matches(['B', 'b'])
        .trim_start_matches('-')
        .parse()
        .map_err(|_| format!("„{s}“ ist keine Vorgangsnummer (z. B. 17 oder B-17)"))
}

/// Who acts: recorded in the booking's history.
fn actor() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unbekannt".into());
    Actor::Office(user)
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

fn run_inner(site: &Path, args: Args) -> Result<(), String> {
    let state = AppState::open(site).map_err(|e| e.to_string())?;
    match args.command {
        BookingsCommand::List { filter: f, verlauf } => {
            let rows = state
                .store
                .bookings(&filter(f)?)
                .map_err(|e| e.to_string())?;
            print_list(&state, &rows, verlauf)?;
            Ok(())
        }
        BookingsCommand::Export {
            filter: f,
            verzeichnis,
        } => {
            let rows = state
                .store
                .bookings(&filter(f)?)
                .map_err(|e| e.to_string())?;
            let vat = state.loaded().site.prices.vat_percent;
            match verzeichnis {
                None => {
                    let n = export_bookings_csv(&rows, vat, std::io::stdout().lock())
                        .map_err(|e| e.to_string())?;
                    eprintln!("{n} Buchungen exportiert.");
                }
                Some(dir) => {
                    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                    let mut groups: Vec<(String, Vec<BookingRow>)> = Vec::new();
                    for b in rows {
                        let date = match booking_date(&b) {
                            "" => "on-demand".to_string(),
                            d => d.to_string(),
                        };
                        let key = format!("{}-{date}", b.unit_id);
                        match groups.iter_mut().find(|(k, _)| *k == key) {
                            Some((_, g)) => g.push(b),
                            None => groups.push((key, vec![b])),
                        }
                    }
                    for (key, group) in &groups {
                        let path = dir.join(format!("{key}.csv"));
                        let file = std::fs::File::create(&path)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        export_bookings_csv(group, vat, std::io::BufWriter::new(file))
                            .map_err(|e| e.to_string())?;
                        eprintln!("{}: {} Buchungen", path.display(), group.len());
                    }
                }
            }
            Ok(())
        }
        BookingsCommand::Approve { id } => decide(&state, parse_id(&id)?, true),
        BookingsCommand::Reject { id } => decide(&state, parse_id(&id)?, false),
        BookingsCommand::Cancel { id } => {
            let id = parse_id(&id)?;
            let actor = actor();
            match booking::with_env(&state, "", |env| booking::cancel(env, id, &actor))
                .map_err(|e| e.to_string())?
            {
                Some(_) => {
                    println!("B-{id} storniert; die Person wird per E-Mail informiert. Ein freier Platz geht an die Warteliste.");
                    Ok(())
                }
                None => Err(format!(
                    "B-{id} gibt es nicht oder sie ist bereits storniert, abgelehnt oder verfallen."
                )),
            }
        }
        BookingsCommand::Move { id, termin } => office_move(&state, parse_id(&id)?, &termin, false),
        BookingsCommand::Offer { id, termin } => office_move(&state, parse_id(&id)?, &termin, true),
    }
}

/// `move` and `offer`: the back-office's functions, with the same answers.
fn office_move(state: &AppState, id: i64, date: &str, offer: bool) -> Result<(), String> {
    let actor = actor();
    let done = booking::with_env(state, "", |env| {
        if offer {
            booking::offer_by_hand(env, id, date, &actor)
        } else {
            booking::move_to_date(env, id, date, &actor)
        }
    })
    .map_err(|e| e.to_string())?;
    match done {
        OfficeMove::Done if offer => {
            println!(
                "B-{id}: Platz am {date} angeboten; die Person erhält das Angebot per E-Mail."
            );
            Ok(())
        }
        OfficeMove::Done => {
            println!("B-{id} auf den {date} umgebucht; die Person wird per E-Mail informiert.");
            Ok(())
        }
        OfficeMove::Full => Err(format!("Der Termin {date} hat keinen freien Platz.")),
        OfficeMove::NoSuchDate => Err(format!(
            "{date} ist kein anderer kommender Termin dieser Lerneinheit."
        )),
        OfficeMove::NotAllowed if offer => Err(format!("B-{id} steht nicht auf der Warteliste.")),
        OfficeMove::NotAllowed => Err(format!("B-{id} ist keine bestätigte Buchung.")),
    }
}

fn decide(state: &AppState, id: i64, approve: bool) -> Result<(), String> {
    let actor = actor();
    let decision = booking::with_env(state, "", |env| {
        booking::decide_by_id(env, id, approve, &actor)
    })
    .map_err(|e| e.to_string())?;
    match decision {
        Decision::Approved(s) => {
            println!(
                "B-{id} freigegeben: {}. Die Person wird per E-Mail informiert.",
                s.label()
            );
            Ok(())
        }
        Decision::Rejected => {
            println!("B-{id} abgelehnt. Die Person wird per E-Mail informiert.");
            Ok(())
        }
        Decision::NotPending => Err(format!(
            "B-{id} wartet nicht auf eine Freigabe (siehe `campus bookings list`)."
        )),
    }
}

fn print_list(state: &AppState, rows: &[BookingRow], history: bool) -> Result<(), String> {
    if rows.is_empty() {
        println!("Keine Buchungen.");
        return Ok(());
    }
    let site = &state.loaded().site;
    let mut last = None;
    let mut place = 0;
    for b in rows {
        let key = (b.unit_id.clone(), booking_date(b).to_string());
        if last.as_ref() != Some(&key) {
            let date = match key.1.as_str() {
                "" => "On-Demand".to_string(),
                booking::NEXT => "nächster möglicher Termin".to_string(),
                d => d.to_string(),
            };
            let capacity = site
                .units
                .iter()
                .find(|u| u.id == b.unit_id)
                .and_then(|u| {
                    u.dates
                        .iter()
                        .find(|d| d.date.format("%Y-%m-%d").to_string() == key.1)
                })
                .map(|d| format!(" – {} Plätze, {} außerhalb vergeben", d.capacity, d.taken))
                .unwrap_or_default();
            println!("\n{} ({}), {date}{capacity}", b.unit_title, b.unit_id);
            last = Some(key);
            place = 0;
        }
        let queue = if b.state == BookingState::Waiting {
            place += 1;
            format!(" #{place}")
        } else {
            String::new()
        };
        println!(
            "  B-{:<5} {:<20} {:<30} {:<35} {}",
            b.id,
            format!("{}{queue}", b.state.label()),
            b.name,
            b.email,
            b.authority_id
        );
        if history {
            for e in state
                .store
                .booking_events(Some(b.id))
                .map_err(|e| e.to_string())?
            {
                let at = chrono::DateTime::from_timestamp(e.at, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_default();
                println!(
                    "          {at}  {} → {}  ({}){}",
                    e.from_state.map_or("–", BookingState::label),
                    e.to_state.label(),
                    e.actor,
                    if e.note.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", e.note)
                    }
                );
            }
        }
    }
    Ok(())
}
