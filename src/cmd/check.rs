use campus_generator::{check, BuildOptions};
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Treat this date (YYYY-MM-DD) as today.
    #[arg(long, value_parser = super::parse_date)]
    today: Option<chrono::NaiveDate>,
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    let mut options = BuildOptions::new(site, site.join("public"));
    options.today = args.today;
    let config_problems = super::config_problems(site);
    if !config_problems.0.is_empty() {
        eprintln!("{}", config_problems.sorted());
        return ExitCode::FAILURE;
    }
    match check(&options) {
        Ok((site, files)) => {
            for w in &site.warnings {
                eprintln!("{w}");
            }
            println!(
                "Keine Fehler: {} Lerneinheiten, {} Kurse, {} Kommunen, {} Dateien würden erzeugt.",
                site.units.len(),
                site.courses.len(),
                site.authorities.len(),
                files
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("{problems}");
            ExitCode::FAILURE
        }
    }
}
