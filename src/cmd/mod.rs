pub mod backup;
pub mod bookings;
pub mod build;
pub mod check;
pub mod db;
pub mod forms;
pub mod run;
pub mod serve;

/// Parses `--heute` style overrides of today's date (for reproducible output).
pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("„{s}“ ist kein Datum im Format JJJJ-MM-TT"))
}
