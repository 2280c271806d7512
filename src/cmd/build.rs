use campus_generator::{build_site, BuildOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Output folder; default: public/ inside the site folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Treat this date (YYYY-MM-DD) as today, for reproducible builds.
    #[arg(long, value_parser = super::parse_date)]
    today: Option<chrono::NaiveDate>,
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    let out = args.out.unwrap_or_else(|| site.join("public"));
    let mut options = BuildOptions::new(site, &out);
    options.today = args.today;
    // The next build does only what changed (safe to delete).
    options.cache_dir = Some(site.join(".campus-cache"));
    if campus_generator::is_first_build(&options) {
        crate::allocator::return_freed_memory_soon();
    }
    // Free places on the pages count the bookings made on the platform.
    match campus_forms::booked_places_of(site) {
        Ok(bookings) => options.bookings = bookings.map(std::sync::Arc::new),
        Err(e) => eprintln!(
            "Warnung: Buchungen konnten nicht gelesen werden ({e}); freie Plätze nur laut Inhalt."
        ),
    }
    match build_site(&options) {
        Ok(report) => {
            // One write for all: at Germany scale there are hundreds of
            // warnings, and stderr writes each line on its own.
            let mut err = std::io::BufWriter::new(std::io::stderr().lock());
            for w in &report.warnings {
                let _ = writeln!(err, "{w}");
            }
            for w in &report.repeated_warnings {
                let _ = writeln!(err, "{w}");
            }
            drop(err);
            println!(
                "Fertig: {} Seiten, {} Dateien ({} geändert) in {} ({} ms: Laden {} ms, Rendern und Schreiben {} ms).",
                report.pages,
                report.files,
                report.written,
                out.display(),
                report.duration.as_millis(),
                report.load.as_millis(),
                report.render.as_millis()
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("{problems}");
            eprintln!(
                "Die bisherige Ausgabe in {} bleibt unverändert.",
                out.display()
            );
            ExitCode::FAILURE
        }
    }
}
