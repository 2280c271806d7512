//! Cancellation terms of live bookings (`data/stornobedingungen.yaml`):
//! until how many days before the live date cancelling is free, what share
//! of the price a later cancellation and a no-show cost.

use crate::content::{Located, RawCancellationTerms};
use crate::error::{Problem, ProblemKind};
use crate::money::Cents;
use chrono::NaiveDate;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationTerms {
    /// Cancelling is free up to and including this many days before the date.
    pub free_days_before: i64,
    pub late_percent: i64,
    pub no_show_percent: i64,
}

pub(super) fn link(
    raw: RawCancellationTerms,
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Option<CancellationTerms> {
    let mut ok = true;
    let mut check = |v: &Located<i64>, field: &'static str, max: i64, unit: &str| {
        if !(0..=max).contains(&v.value) {
            ok = false;
            problems.push(
                Problem::new(
                    path,
                    ProblemKind::InvalidValue {
                        field,
                        message: format!("{} ist nicht zwischen 0 und {max} {unit}.", v.value),
                    },
                )
                .at(v.referenced.line(), Some(v.referenced.column())),
            );
        }
    };
    check(
        &raw.kostenfrei_bis_tage_vorher,
        "kostenfrei_bis_tage_vorher",
        365,
        "Tagen",
    );
    check(
        &raw.spaete_stornierung_prozent,
        "spaete_stornierung_prozent",
        100,
        "Prozent",
    );
    check(
        &raw.nichterscheinen_prozent,
        "nichterscheinen_prozent",
        100,
        "Prozent",
    );
    ok.then_some(CancellationTerms {
        free_days_before: raw.kostenfrei_bis_tage_vorher.value,
        late_percent: raw.spaete_stornierung_prozent.value,
        no_show_percent: raw.nichterscheinen_prozent.value,
    })
}

impl CancellationTerms {
    /// The last day on which cancelling a booking for `live_date` is free.
    pub fn free_until(&self, live_date: NaiveDate) -> NaiveDate {
        live_date - chrono::Duration::days(self.free_days_before)
    }

    /// What cancelling on `today` costs (`None`: free).
    pub fn fee(&self, price: Cents, live_date: NaiveDate, today: NaiveDate) -> Option<Cents> {
        (today > self.free_until(live_date) && self.late_percent > 0)
            .then(|| price.percent_of(self.late_percent))
    }

    /// The terms in one German paragraph, for pages and mails.
    pub fn summary(&self) -> String {
        let free = match self.free_days_before {
            0 => "Bis zum Tag vor dem Live-Termin können Sie kostenfrei stornieren".to_string(),
            1 => "Bis einen Tag vor dem Live-Termin können Sie kostenfrei stornieren".to_string(),
            n => format!("Bis {n} Tage vor dem Live-Termin können Sie kostenfrei stornieren"),
        };
        let late = match self.late_percent {
            0 => "auch danach kostet eine Stornierung nichts".to_string(),
            100 => "danach wird der volle Preis berechnet".to_string(),
            p => format!("danach werden {p} % des Preises berechnet"),
        };
        let no_show = match self.no_show_percent {
            0 => "Wer ohne Stornierung nicht teilnimmt, zahlt nichts.".to_string(),
            100 => "Wer ohne Stornierung nicht teilnimmt, zahlt den vollen Preis.".to_string(),
            p => format!("Wer ohne Stornierung nicht teilnimmt, zahlt {p} % des Preises."),
        };
        format!("{free}; {late}. {no_show}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_until_the_deadline_then_the_late_share() {
        let t = CancellationTerms {
            free_days_before: 14,
            late_percent: 50,
            no_show_percent: 100,
        };
        let live = NaiveDate::from_ymd_opt(2027, 3, 17).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2027, 3, d).unwrap();
        assert_eq!(t.free_until(live), day(3));
        assert_eq!(t.fee(Cents(19_900), live, day(3)), None);
        assert_eq!(t.fee(Cents(19_900), live, day(4)), Some(Cents(9_950)));
        assert_eq!(
            t.summary(),
            "Bis 14 Tage vor dem Live-Termin können Sie kostenfrei stornieren; danach werden 50 % des Preises berechnet. Wer ohne Stornierung nicht teilnimmt, zahlt den vollen Preis."
        );
    }
}
