//! Resolving references: raw front matter and data into linked items whose
//! references are indices into the site's vectors.

use super::*;

pub(super) fn link_lecturer(f: SourceFile, l: RawLecturer) -> Lecturer {
    Lecturer {
        id: f.id,
        name: l.name,
        role: l.funktion,
        body: f.body,
        source: f.path,
    }
}

pub(super) fn link_faq(
    f: SourceFile,
    q: RawFaq,
    categories: &HashMap<&str, usize>,
    problems: &mut Vec<Problem>,
) -> FaqEntry {
    let category =
        resolve(&f, &q.kategorie, RefKind::FaqCategory, categories, problems).unwrap_or(0);
    FaqEntry {
        id: f.id,
        question: q.frage,
        category,
        order: q.reihenfolge,
        body: f.body,
        source: f.path,
    }
}

pub(super) fn link_page(
    f: SourceFile,
    p: RawPage,
    static_files: &StaticFiles,
    problems: &mut Vec<Problem>,
) -> Page {
    let videos = super::video::link_videos(&f, p.videos, static_files, problems);
    Page {
        id: f.id,
        title: p.titel,
        description: p.beschreibung,
        template: p.vorlage,
        videos,
        body: f.body,
        source: f.path,
    }
}

pub(super) fn collect<T>(r: Result<T, Problem>, problems: &mut Vec<Problem>) -> Option<T> {
    r.map_err(|p| problems.push(p)).ok()
}

/// Adds ids of unparseable files with an index that is never used: the run
/// fails on their own problem, and references to them are not "unknown".
pub(super) fn with_broken<'a>(
    mut ids: HashMap<&'a str, usize>,
    broken: &'a [String],
) -> HashMap<&'a str, usize> {
    for id in broken {
        ids.entry(id.as_str()).or_insert(usize::MAX);
    }
    ids
}

pub(super) fn index_of<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
    ids.enumerate().map(|(i, id)| (id, i)).collect()
}

/// Keeps files whose id is valid and unique within their folder.
pub(super) fn accept_ids<T>(
    items: Vec<(SourceFile, T)>,
    problems: &mut Vec<Problem>,
) -> Vec<(SourceFile, T)> {
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (file, item) in items {
        if !slug::is_valid_id(&file.id) {
            problems.push(file.problem(ProblemKind::InvalidId {
                id: file.id.clone(),
                suggestion: slug::slugify(&file.id),
            }));
        } else if let Some(other) = seen.get(&file.id) {
            problems.push(file.problem(ProblemKind::DuplicateId {
                id: file.id.clone(),
                other: other.clone(),
            }));
        } else {
            seen.insert(file.id.clone(), file.path.clone());
            out.push((file, item));
        }
    }
    out
}

pub(super) fn resolve<K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(
    file: &SourceFile,
    reference: &content::Located<String>,
    kind: RefKind,
    known: &HashMap<K, usize>,
    problems: &mut Vec<Problem>,
) -> Option<usize> {
    let id = reference.value.as_str();
    if let Some(i) = known.get(id) {
        return Some(*i);
    }
    let suggestion = slug::closest(id, known.keys().map(|k| k.borrow())).map(str::to_string);
    problems.push(file.problem_at(
        reference,
        ProblemKind::UnknownReference {
            kind,
            id: id.to_string(),
            suggestion,
        },
    ));
    None
}

pub(super) fn resolve_list<K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(
    file: &SourceFile,
    references: &[content::Located<String>],
    kind: RefKind,
    known: &HashMap<K, usize>,
    problems: &mut Vec<Problem>,
) -> Vec<usize> {
    let mut out = Vec::with_capacity(references.len());
    for r in references {
        if let Some(i) = resolve(file, r, kind, known, problems) {
            if out.contains(&i) {
                problems.push(file.problem_at(
                    r,
                    ProblemKind::DuplicateReference {
                        kind,
                        id: r.value.clone(),
                    },
                ));
            } else {
                out.push(i);
            }
        }
    }
    out
}

/// What a unit's references resolve against.
pub(super) struct UnitRefs<'a> {
    pub(super) levels: &'a HashMap<&'a str, usize>,
    pub(super) topics: &'a HashMap<&'a str, usize>,
    pub(super) lecturers: &'a HashMap<&'a str, usize>,
    pub(super) providers: &'a HashMap<&'a str, usize>,
    /// Authority ids (an internal unit names its owner).
    pub(super) authorities: &'a HashMap<&'a str, usize>,
    /// All unit ids (for prerequisites), including broken files.
    pub(super) units: &'a HashMap<&'a str, usize>,
    pub(super) areas: &'a HashMap<&'a str, usize>,
    pub(super) area_list: &'a [CompetenceArea],
}

/// The unit of `f` with its links resolved; takes the file's body (a
/// unit's text is some 5 KB, and the file stays behind for messages).
pub(super) fn link_unit(
    f: &mut SourceFile,
    u: RawUnit,
    refs: &UnitRefs,
    problems: &mut Vec<Problem>,
) -> Unit {
    let (levels, topics, lecturers) = (refs.levels, refs.topics, refs.lecturers);
    let level = resolve(f, &u.niveau, RefKind::Level, levels, problems).unwrap_or(0);
    if u.themen.value.is_empty() {
        problems.push(f.problem_at(
            &u.themen,
            ProblemKind::InvalidValue {
                field: "themen",
                message: "Mindestens ein Thema angeben.".into(),
            },
        ));
    }
    let topic_list = resolve_list(f, &u.themen.value, RefKind::Topic, topics, problems);
    let lecturer_list = resolve_list(f, &u.dozierende, RefKind::Lecturer, lecturers, problems);
    let internal_to = u.intern_fuer.as_ref().and_then(|a| {
        resolve(f, a, RefKind::Authority, refs.authorities, problems).filter(|i| *i != usize::MAX)
    });
    let provider = u.anbieter.as_ref().and_then(|p| {
        resolve(f, p, RefKind::Provider, refs.providers, problems).filter(|i| *i != usize::MAX)
    });
    if !(u.aufwand_stunden.value > 0.0 && u.aufwand_stunden.value <= 500.0) {
        problems.push(f.problem_at(
            &u.aufwand_stunden,
            ProblemKind::InvalidValue {
                field: "aufwand_stunden",
                message: "Eine Stundenzahl größer als 0 angeben.".into(),
            },
        ));
    }
    let mut dates = Vec::new();
    match (u.format, &u.termine, &u.start_link) {
        (Format::Hybrid, _, Some(link)) => problems.push(f.problem_at(
            link,
            ProblemKind::ForbiddenField {
                field: "start_link",
                why: "Hybrid-Einheiten starten mit dem Live-Termin",
            },
        )),
        (Format::OnDemand, Some(t), _) => problems.push(f.problem_at(
            t,
            ProblemKind::ForbiddenField {
                field: "termine",
                why: "On-Demand-Einheiten haben keine Live-Termine",
            },
        )),
        (Format::OnDemand, None, None) => problems.push(f.problem(ProblemKind::MissingField {
            field: "start_link",
            why: "On-Demand-Einheiten brauchen den Link zum Start",
        })),
        _ => {}
    }
    for (field, link) in [
        ("start_link", &u.start_link),
        ("vorbereitung_link", &u.vorbereitung_link),
    ]
    .into_iter()
    .filter_map(|(field, link)| Some((field, link.as_ref()?)))
    {
        if link.value.starts_with("http://") {
            problems.push(f.problem_at(
                link,
                ProblemKind::InsecureLink {
                    url: link.value.clone(),
                },
            ));
        }
        if !(link.value.starts_with("https://") || link.value.starts_with("http://")) {
            problems.push(f.problem_at(
                link,
                ProblemKind::InvalidValue {
                    field,
                    message: "Der Link muss mit https:// beginnen.".into(),
                },
            ));
        }
    }
    for raw in u.termine.iter().flat_map(|t| t.value.iter()) {
        let Some(date) = parse_date(&raw.datum.value) else {
            problems.push(f.problem_at(
                &raw.datum,
                ProblemKind::InvalidDate {
                    value: raw.datum.value.clone(),
                },
            ));
            continue;
        };
        if crate::time::is_weekend(date) {
            problems.push(f.problem_at(
                &raw.datum,
                ProblemKind::WeekendDate {
                    value: raw.datum.value.clone(),
                },
            ));
        }
        if dates.iter().any(|d: &LiveDate| d.date == date) {
            problems.push(f.problem_at(
                &raw.datum,
                ProblemKind::DuplicateDate {
                    value: raw.datum.value.clone(),
                },
            ));
        }
        if raw.plaetze.value == 0 {
            problems.push(f.problem_at(
                &raw.plaetze,
                ProblemKind::InvalidValue {
                    field: "plaetze",
                    message: "Ein Termin braucht mindestens einen Platz.".into(),
                },
            ));
        }
        if raw.vergeben > raw.plaetze.value {
            problems.push(f.problem_at(
                &raw.plaetze,
                ProblemKind::Overbooked {
                    date: raw.datum.value.clone(),
                    capacity: raw.plaetze.value,
                    taken: raw.vergeben,
                },
            ));
        }
        dates.push(LiveDate {
            date,
            capacity: raw.plaetze.value,
            taken: raw.vergeben,
            line: f.file_line(&raw.datum),
        });
    }
    dates.sort_by_key(|d| d.date);
    let mut raises = Vec::new();
    for (area_id, level) in &u.kompetenzstufen {
        let Some(&area) = refs.areas.get(area_id.as_str()) else {
            let suggestion = slug::closest(area_id, refs.areas.keys().copied()).map(str::to_string);
            problems.push(f.problem_at(
                level,
                ProblemKind::UnknownReference {
                    kind: RefKind::CompetenceArea,
                    id: area_id.clone(),
                    suggestion,
                },
            ));
            continue;
        };
        let max = refs.area_list[area].max_level();
        if !(1..=i64::from(max)).contains(&level.value) {
            problems.push(f.problem_at(
                level,
                ProblemKind::LevelOutOfRange {
                    area: area_id.clone(),
                    level: level.value,
                    max: max.into(),
                },
            ));
            continue;
        }
        raises.push((area, level.value as u8));
    }
    raises.sort_unstable();
    let mut prerequisites = Vec::new();
    for r in &u.voraussetzungen {
        if r.value == f.id {
            problems.push(f.problem_at(
                r,
                ProblemKind::PrerequisiteCycle {
                    cycle: vec![f.id.clone(), f.id.clone()],
                },
            ));
            continue;
        }
        if let Some(i) = resolve(f, r, RefKind::Unit, refs.units, problems) {
            if prerequisites.contains(&i) {
                problems.push(f.problem_at(
                    r,
                    ProblemKind::DuplicateReference {
                        kind: RefKind::Unit,
                        id: r.value.clone(),
                    },
                ));
            } else if i != usize::MAX {
                prerequisites.push(i);
            }
        }
    }
    Unit {
        id: f.id.clone(),
        title: u.titel,
        summary: u.kurzbeschreibung,
        format: u.format,
        level,
        topics: topic_list,
        lecturers: lecturer_list,
        provider,
        internal_to,
        workload_hours: u.aufwand_stunden.value,
        competences: u.kompetenzen,
        dates,
        start_link: u.start_link.map(|l| l.value),
        preparation_link: u.vorbereitung_link.map(|l| l.value),
        raises,
        prerequisites,
        body: std::mem::take(&mut f.body),
        source: f.path.clone(),
    }
}

pub(super) fn link_areas(
    raw: Vec<RawCompetenceArea>,
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Vec<CompetenceArea> {
    let mut out: Vec<CompetenceArea> = Vec::with_capacity(raw.len());
    let mut seen: Vec<(String, u64)> = Vec::new();
    for a in raw {
        let at = |v: &content::Located<String>, kind| {
            Problem::new(path, kind).at(v.referenced.line(), Some(v.referenced.column()))
        };
        if !slug::is_valid_id(&a.id.value) {
            problems.push(at(
                &a.id,
                ProblemKind::InvalidId {
                    id: a.id.value.clone(),
                    suggestion: slug::slugify(&a.id.value),
                },
            ));
            continue;
        }
        if let Some(first) = seen.iter().find(|(id, _)| *id == a.id.value) {
            problems.push(at(
                &a.id,
                ProblemKind::DuplicateEntry {
                    id: a.id.value.clone(),
                    first_line: first.1,
                },
            ));
            continue;
        }
        seen.push((a.id.value.clone(), a.id.referenced.line()));
        if !(2..=6).contains(&a.stufen.value.len()) {
            problems.push(
                Problem::new(
                    path,
                    ProblemKind::InvalidValue {
                        field: "stufen",
                        message: format!(
                            "Zwischen 2 und 6 Stufen angeben (ab Stufe 0), hier sind es {}.",
                            a.stufen.value.len()
                        ),
                    },
                )
                .at(
                    a.stufen.referenced.line(),
                    Some(a.stufen.referenced.column()),
                ),
            );
        }
        out.push(CompetenceArea {
            id: a.id.value,
            name: a.name,
            description: a.beschreibung,
            levels: a.stufen.value,
        });
    }
    out
}

pub(super) fn link_profiles(
    raw: Vec<RawRoleProfile>,
    path: &Path,
    areas: &[CompetenceArea],
    area_ids: &HashMap<&str, usize>,
    problems: &mut Vec<Problem>,
) -> Vec<RoleProfile> {
    let mut out: Vec<RoleProfile> = Vec::with_capacity(raw.len());
    let mut seen: Vec<(String, u64)> = Vec::new();
    for p in raw {
        let at = |line: u64, col: u64, kind| Problem::new(path, kind).at(line, Some(col));
        if !slug::is_valid_id(&p.id.value) {
            problems.push(at(
                p.id.referenced.line(),
                p.id.referenced.column(),
                ProblemKind::InvalidId {
                    id: p.id.value.clone(),
                    suggestion: slug::slugify(&p.id.value),
                },
            ));
            continue;
        }
        if let Some(first) = seen.iter().find(|(id, _)| *id == p.id.value) {
            problems.push(at(
                p.id.referenced.line(),
                p.id.referenced.column(),
                ProblemKind::DuplicateEntry {
                    id: p.id.value.clone(),
                    first_line: first.1,
                },
            ));
            continue;
        }
        seen.push((p.id.value.clone(), p.id.referenced.line()));
        let mut targets = vec![0u8; areas.len()];
        for (area_id, level) in &p.ziele {
            let (line, col) = (level.referenced.line(), level.referenced.column());
            let Some(&area) = area_ids.get(area_id.as_str()) else {
                problems.push(at(
                    line,
                    col,
                    ProblemKind::UnknownReference {
                        kind: RefKind::CompetenceArea,
                        id: area_id.clone(),
                        suggestion: slug::closest(area_id, area_ids.keys().copied())
                            .map(str::to_string),
                    },
                ));
                continue;
            };
            let max = areas[area].max_level();
            if !(0..=i64::from(max)).contains(&level.value) {
                problems.push(at(
                    line,
                    col,
                    ProblemKind::LevelOutOfRange {
                        area: area_id.clone(),
                        level: level.value,
                        max: max.into(),
                    },
                ));
                continue;
            }
            targets[area] = level.value as u8;
        }
        out.push(RoleProfile {
            id: p.id.value,
            name: p.name,
            description: p.beschreibung,
            targets,
        });
    }
    out
}

/// Strict `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    if value.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

pub(super) fn link_course(
    f: SourceFile,
    c: RawCourse,
    units: &HashMap<&str, usize>,
    problems: &mut Vec<Problem>,
) -> Course {
    let count = c.einheiten.value.len();
    if !(3..=6).contains(&count) {
        problems.push(f.problem_at(&c.einheiten, ProblemKind::CourseUnitCount { count }));
    }
    let mut list: Vec<CourseUnit> = Vec::new();
    for cu in &c.einheiten.value {
        if let Some(unit) = resolve(&f, &cu.einheit, RefKind::Unit, units, problems) {
            if list.iter().any(|x| x.unit == unit) {
                problems.push(f.problem_at(
                    &cu.einheit,
                    ProblemKind::DuplicateReference {
                        kind: RefKind::Unit,
                        id: cu.einheit.value.clone(),
                    },
                ));
            } else {
                list.push(CourseUnit { unit, role: cu.art });
            }
        }
    }
    let electives = c
        .einheiten
        .value
        .iter()
        .filter(|cu| cu.art == UnitRole::Wahlpflicht)
        .count();
    let required = match &c.wahlpflicht_anzahl {
        Some(n) => {
            if n.value as usize > electives {
                problems.push(f.problem_at(
                    n,
                    ProblemKind::ElectiveCount {
                        required: n.value,
                        available: electives,
                    },
                ));
            }
            n.value
        }
        None => u32::from(electives > 0),
    };
    Course {
        id: f.id,
        title: c.titel,
        summary: c.kurzbeschreibung,
        units: list,
        electives_required: required,
        certificate: c.zertifikat,
        exclusive: None,
        body: f.body,
        source: f.path,
    }
}

pub(super) fn link_authority(
    f: SourceFile,
    a: RawAuthority,
    units: &HashMap<&str, usize>,
    static_files: &StaticFiles,
    domain_owners: &mut domains::Owners,
    problems: &mut Vec<Problem>,
) -> Authority {
    let mail_domains = domain_owners.claim(&f, &a.name, &a.dienstliche_domains, problems);
    let leitweg_id = a.leitweg_id.as_ref().map(|l| {
        if !domains::leitweg_id_ok(&l.value) {
            problems.push(f.problem_at(
                l,
                ProblemKind::InvalidValue {
                    field: "leitweg_id",
                    message: format!(
                        "„{}“ ist keine Leitweg-ID (Aufbau: Grobadressierung, optional Feinadressierung, zweistellige Prüfziffer, z. B. 08111-4711-63).",
                        l.value
                    ),
                },
            ));
        }
        l.value.clone()
    });
    let unit_list = resolve_list(&f, &a.einheiten, RefKind::Unit, units, problems);
    check_image(&f, &a.logo, static_files, problems);
    check_image(&f, &a.bild.datei, static_files, problems);
    if a.bild.alt.value.trim().is_empty() {
        problems.push(f.problem_at(
            &a.bild.alt,
            ProblemKind::InvalidValue {
                field: "bild.alt",
                message: "Beschreiben Sie das Bild für Menschen, die es nicht sehen können.".into(),
            },
        ));
    }
    if !a.ansprechperson.email.contains('@') {
        problems.push(f.problem(ProblemKind::InvalidValue {
            field: "ansprechperson.email",
            message: format!("„{}“ ist keine E-Mail-Adresse.", a.ansprechperson.email),
        }));
    }
    match (a.freigabe.value, &a.freigabe_email) {
        (Approval::Kommune, None) => problems.push(f.problem_at(
            &a.freigabe,
            ProblemKind::MissingField {
                field: "freigabe_email",
                why: "bei „freigabe: kommune“ gehen Buchungsanfragen an diese Adresse",
            },
        )),
        (Approval::Kommune, Some(e)) if !e.contains('@') => problems.push(f.problem_at(
            &a.freigabe,
            ProblemKind::InvalidValue {
                field: "freigabe_email",
                message: format!("„{e}“ ist keine E-Mail-Adresse."),
            },
        )),
        _ => {}
    }
    let names = super::NameForms::new(
        a.art,
        &super::names::display_name(a.art, &a.name),
        a.namensformen.as_ref(),
    );
    Authority {
        id: f.id,
        names,
        name: a.name,
        kind: a.art,
        member: a.mitglied,
        employees: a.beschaeftigte,
        logo: a.logo.value,
        picture: Picture {
            file: a.bild.datei.value,
            alt: a.bild.alt.value,
        },
        units: unit_list,
        contact: a.ansprechperson,
        approval: a.freigabe.value,
        approver_email: a.freigabe_email,
        mail_domains,
        leitweg_id,
        billing_address: a.rechnungsanschrift,
        body: f.body,
        source: f.path,
    }
}

pub(super) fn link_membership(
    m: RawMembership,
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Option<Membership> {
    let mut brackets = Vec::new();
    let mut last_upper = 0u32;
    let count = m.staffel.len();
    for (i, b) in m.staffel.iter().enumerate() {
        let line = b.referenced.line();
        let bad = |message: String| {
            Problem::new(path, ProblemKind::InvalidShareBrackets { message })
                .at(line, Some(b.referenced.column()))
        };
        match b.value.bis {
            Some(u) if u <= last_upper => problems.push(bad(format!(
                "„bis: {u}“ ist nicht größer als die vorige Stufe ({last_upper})."
            ))),
            None if i + 1 != count => {
                problems.push(bad("Nur die letzte Stufe darf ohne „bis“ sein.".into()))
            }
            Some(_) if i + 1 == count => problems.push(bad(
                "Die letzte Stufe braucht kein „bis“: sie gilt für alle größeren Kommunen.".into(),
            )),
            _ => {}
        }
        last_upper = b.value.bis.unwrap_or(last_upper);
        brackets.push((b.value.bis, b.value.anteile));
    }
    if brackets.is_empty() {
        problems.push(Problem::new(
            path,
            ProblemKind::InvalidShareBrackets {
                message: "Keine Stufen angegeben.".into(),
            },
        ));
        return None;
    }
    // The fee rule: a factor on the deposit, reduced by a share of the
    // bookings up to a cap; percentages outside 0..=100 are typos.
    let mut rule_ok = true;
    let mut check = |v: &content::Located<i64>,
                     field: &'static str,
                     range: std::ops::RangeInclusive<i64>,
                     message: &str| {
        if !range.contains(&v.value) {
            rule_ok = false;
            problems.push(
                Problem::new(
                    path,
                    ProblemKind::InvalidValue {
                        field,
                        message: format!("{} (hier {}).", message, v.value),
                    },
                )
                .at(v.referenced.line(), Some(v.referenced.column())),
            );
        }
    };
    check(
        &m.jahresbeitrag_faktor,
        "jahresbeitrag_faktor",
        0..=100,
        "Der Jahresbeitrag ist ein ganzes Vielfaches der Einlage von 0 bis 100",
    );
    let r = &m.beitragsminderung;
    check(
        &r.prozent_der_buchungen,
        "prozent_der_buchungen",
        0..=100,
        "Ein Anteil der Buchungen in Prozent von 0 bis 100",
    );
    check(
        &r.hoechstens_prozent,
        "hoechstens_prozent",
        0..=100,
        "Die Minderung beträgt höchstens 0 bis 100 Prozent des Jahresbeitrags",
    );
    if !rule_ok {
        return None;
    }
    Some(Membership {
        share_value: Cents::from_euros(m.anteil_euro),
        brackets,
        annual_fee_factor: m.jahresbeitrag_faktor.value,
        reduction_percent_of_bookings: r.prozent_der_buchungen.value,
        reduction_max_percent: r.hoechstens_prozent.value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_dates() {
        assert!(parse_date("2027-02-10").is_some());
        assert!(parse_date("2027-2-10").is_none());
        assert!(parse_date("2027-02-30").is_none());
        assert!(parse_date("10.02.2027").is_none());
    }
}
