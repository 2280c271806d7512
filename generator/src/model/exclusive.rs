//! Prices of a whole course booked exclusively for one authority's staff
//! (`data/exklusivkurse.yaml`): one gross price for the course (members;
//! non-members pay the surcharge of `data/preise.yaml`) up to a group size.
//! Read with the other data files, so a wrong course or price is reported
//! at file:line by `campus check`.

use super::Course;
use crate::content::{self, Located};
use crate::error::{Problem, ProblemKind};
use crate::money::Cents;
use crate::slug;
use serde::Deserialize;
use std::path::Path;

/// The file, relative to the site's `data/`.
pub const FILE: &str = "exklusivkurse.yaml";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExclusive {
    kurs: Located<String>,
    /// Gross euros for members, e.g. `7900` or `7900.50`.
    preis: Located<Cents>,
    teilnehmende_hoechstens: Located<u32>,
}

/// What a course costs as a whole for one authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExclusivePrice {
    /// Gross, for members.
    pub member: Cents,
    pub max_participants: u32,
}

/// Reads the file if there is one and sets `exclusive` of the courses it names.
pub(super) fn load(data: &Path, courses: &mut [Course], problems: &mut Vec<Problem>) {
    let path = data.join(FILE);
    if !path.exists() {
        return;
    }
    let raw: Vec<RawExclusive> = match content::read_data(&path) {
        Ok(r) => r,
        Err(p) => {
            problems.push(p);
            return;
        }
    };
    for r in raw {
        let Some(i) = courses.iter().position(|c| c.id == r.kurs.value) else {
            let hint = slug::closest(&r.kurs.value, courses.iter().map(|c| c.id.as_str()))
                .map(|s| format!(" Meinten Sie „{s}“?"))
                .unwrap_or_default();
            problems.push(at(
                &path,
                &r.kurs,
                "kurs",
                format!("Den Kurs „{}“ gibt es nicht.{hint}", r.kurs.value),
            ));
            continue;
        };
        if r.preis.value.is_zero() {
            problems.push(at(
                &path,
                &r.preis,
                "preis",
                "Ein exklusiver Kurs braucht einen Preis über 0 Euro.".into(),
            ));
            continue;
        }
        if r.teilnehmende_hoechstens.value == 0 {
            problems.push(at(
                &path,
                &r.teilnehmende_hoechstens,
                "teilnehmende_hoechstens",
                "Die Gruppengröße muss mindestens 1 sein.".into(),
            ));
            continue;
        }
        if courses[i].exclusive.is_some() {
            problems.push(at(
                &path,
                &r.kurs,
                "kurs",
                format!("Der Kurs „{}“ steht zweimal in der Liste.", r.kurs.value),
            ));
            continue;
        }
        courses[i].exclusive = Some(ExclusivePrice {
            member: r.preis.value,
            max_participants: r.teilnehmende_hoechstens.value,
        });
    }
}

/// A problem of `field` at the place of `v` in the file.
fn at<T>(path: &Path, v: &Located<T>, field: &'static str, message: String) -> Problem {
    Problem::new(path, ProblemKind::InvalidValue { field, message })
        .at(v.referenced.line(), Some(v.referenced.column()))
}
