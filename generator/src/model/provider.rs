//! Education providers and their quality facts: the lecturers the Fachbeirat
//! qualified and the external audits or certifications.

use super::*;
use crate::content::{ProviderKind, RawProvider};
use link::{parse_date, resolve, resolve_list};

#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub kind: ProviderKind,
    pub place: String,
    /// When the provider was onboarded against the quality criteria.
    pub onboarded: NaiveDate,
    /// Lecturers (indices) the Fachbeirat qualified, with the decision date.
    pub qualified: Vec<(usize, NaiveDate)>,
    pub certifications: Vec<Certification>,
    pub body: String,
    pub source: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Certification {
    pub title: String,
    pub body: String,
    pub date: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// Units (indices) the audit covers; empty: the whole provider.
    pub units: Vec<usize>,
}

impl Certification {
    pub fn covers(&self, unit: usize) -> bool {
        self.units.is_empty() || self.units.contains(&unit)
    }
}

impl Provider {
    /// The date the Fachbeirat qualified `lecturer` for this provider.
    pub fn qualified_on(&self, lecturer: usize) -> Option<NaiveDate> {
        self.qualified
            .iter()
            .find(|(l, _)| *l == lecturer)
            .map(|(_, d)| *d)
    }
}

impl ProviderKind {
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Hochschule => "Hochschule",
            ProviderKind::Kammer => "Kammer",
            ProviderKind::Unternehmen => "Unternehmen",
            ProviderKind::Verwaltung => "Verwaltung",
        }
    }
}

fn date(
    f: &SourceFile,
    value: &content::Located<String>,
    problems: &mut Vec<Problem>,
) -> Option<NaiveDate> {
    let parsed = parse_date(&value.value);
    if parsed.is_none() {
        problems.push(f.problem_at(
            value,
            ProblemKind::InvalidDate {
                value: value.value.clone(),
            },
        ));
    }
    parsed
}

pub(super) fn link_provider(
    f: SourceFile,
    p: RawProvider,
    lecturers: &HashMap<&str, usize>,
    units: &HashMap<&str, usize>,
    problems: &mut Vec<Problem>,
) -> Provider {
    let onboarded = date(&f, &p.aufgenommen, problems).unwrap_or_default();
    let mut qualified: Vec<(usize, NaiveDate)> = Vec::new();
    for q in &p.dozierende {
        let lecturer = resolve(&f, &q.person, RefKind::Lecturer, lecturers, problems);
        let on = date(&f, &q.qualifiziert, problems);
        let Some(l) = lecturer else { continue };
        if qualified.iter().any(|(x, _)| *x == l) {
            problems.push(f.problem_at(
                &q.person,
                ProblemKind::DuplicateReference {
                    kind: RefKind::Lecturer,
                    id: q.person.value.clone(),
                },
            ));
        } else if let Some(on) = on {
            qualified.push((l, on));
        }
    }
    let mut certifications = Vec::new();
    for c in p.zertifizierungen {
        let on = date(&f, &c.datum, problems);
        let until = c.gueltig_bis.as_ref().and_then(|u| date(&f, u, problems));
        if let (Some(on), Some(until_value), Some(u)) = (on, &c.gueltig_bis, until) {
            if u <= on {
                problems.push(
                    f.problem_at(
                        until_value,
                        ProblemKind::InvalidValue {
                            field: "gueltig_bis",
                            message:
                                "Das Ende der Gültigkeit muss nach dem Datum der Prüfung liegen."
                                    .into(),
                        },
                    ),
                );
            }
        }
        if c.bezeichnung.trim().is_empty() || c.stelle.trim().is_empty() {
            problems.push(f.problem_at(
                &c.datum,
                ProblemKind::BlankText {
                    field: if c.bezeichnung.trim().is_empty() {
                        "zertifizierungen.bezeichnung".into()
                    } else {
                        "zertifizierungen.stelle".into()
                    },
                },
            ));
        }
        let covered = resolve_list(&f, &c.einheiten, RefKind::Unit, units, problems);
        if let Some(on) = on {
            certifications.push(Certification {
                units: covered.into_iter().filter(|u| *u != usize::MAX).collect(),
                title: c.bezeichnung,
                body: c.stelle,
                date: on,
                valid_until: until,
            });
        }
    }
    Provider {
        id: f.id,
        name: p.name,
        kind: p.art,
        place: p.ort,
        onboarded,
        qualified,
        certifications,
        body: f.body,
        source: f.path,
    }
}
