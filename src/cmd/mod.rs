pub mod backup;
pub mod bookings;
pub mod build;
pub mod check;
pub mod db;
pub mod forms;
pub mod invoices;
pub mod run;
pub mod serve;

/// Every table `campus.toml` may have, with the type that reads it.
pub fn known_tables() -> Vec<campus_generator::config::KnownTable> {
    use campus_generator::config::KnownTable;
    let mut tables = campus_generator::config::generator_tables();
    tables.extend(campus_forms::config::known_tables());
    tables.push(KnownTable::of::<serve::RawServe>("serve"));
    tables.push(KnownTable::of::<run::RawBetrieb>("betrieb"));
    tables
}

/// All problems of the site's `campus.toml` (unknown tables and keys with
/// the closest known name, wrong types), each at its line and column.
pub fn config_problems(site: &std::path::Path) -> campus_generator::error::Problems {
    let path = site.join(campus_generator::config::CONFIG_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        // Unreadable: the loader that follows says so in its own words.
        return campus_generator::error::Problems(Vec::new());
    };
    campus_generator::error::Problems(campus_generator::config::check_tables(
        &text,
        &path,
        &known_tables(),
    ))
}

/// Parses `--heute` style overrides of today's date (for reproducible output).
pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("„{s}“ ist kein Datum im Format JJJJ-MM-TT"))
}
