//! Incremental updates: applying edits of single content files to a loaded
//! site without re-linking the rest.

use super::*;

/// What [`patch`] made.
#[derive(Debug)]
pub struct Patched {
    pub site: Site,
    /// Indices of the units read again.
    pub units: Vec<usize>,
}

/// Applies edits of content files that already belong to `prev` without
/// re-linking the rest: after one saved file, a Germany-scale site would
/// otherwise re-link 13,000 items. Problems are those [`load_with`] would
/// report, since every other file was valid in `prev`.
///
/// `None` when the change needs [`load_with`]: a new, deleted or renamed
/// file, a topic (topic order comes from topic content), the home page,
/// data, config or static files, or new prerequisites (cycles span files).
pub fn patch(
    prev: &Site,
    changed: &[PathBuf],
    loader: &content::Loader,
) -> Option<Result<Patched, Problems>> {
    let content_dir = prev.root.join("content");
    let mut edits: Vec<(&str, &Path, String)> = Vec::new();
    for path in changed {
        let rel = path.strip_prefix(&content_dir).ok()?;
        let mut parts = rel.components();
        let folder = parts.next()?.as_os_str().to_str()?;
        let _file = parts.next()?;
        if parts.next().is_some() || !content::is_content_file(path) {
            // Only `.md` files directly in a content folder are read: editor
            // temp files and anything deeper change nothing.
            continue;
        }
        if !path.is_file() {
            return None;
        }
        let id = path.file_stem()?.to_str()?.to_string();
        let folder = match folder {
            "einheiten" | "kommunen" | "kurse" | "dozierende" | "faq" | "seiten" => folder,
            _ => return None,
        };
        edits.push((folder, path.as_path(), id));
    }
    edits.sort_by(|a, b| a.1.cmp(b.1));
    edits.dedup_by(|a, b| a.1 == b.1);

    let mut site = prev.clone();
    let mut problems = Vec::new();
    let mut units_read = Vec::new();
    let level_ids = index_of(prev.levels.iter().map(|l| l.id.as_str()));
    let topic_ids = index_of(prev.topics.iter().map(|t| t.id.as_str()));
    let lecturer_ids = index_of(prev.lecturers.iter().map(|l| l.id.as_str()));
    let unit_ids = index_of(prev.units.iter().map(|u| u.id.as_str()));
    let provider_ids = index_of(prev.providers.iter().map(|p| p.id.as_str()));
    let authority_ids = index_of(prev.authorities.iter().map(|a| a.id.as_str()));
    // Only edits of authorities and courses check internal units.
    let internal = edits
        .iter()
        .any(|(folder, _, _)| matches!(*folder, "kommunen" | "kurse"))
        .then(|| {
            let ids: Vec<String> = prev.authorities.iter().map(|a| a.id.clone()).collect();
            super::internal::InternalUnits::of(prev.units.iter().map(|u| u.internal_to), &ids)
        });
    let area_ids = index_of(prev.competence_areas.iter().map(|a| a.id.as_str()));
    let category_ids = index_of(prev.faq_categories.iter().map(|c| c.id.as_str()));
    let refs = UnitRefs {
        levels: &level_ids,
        topics: &topic_ids,
        lecturers: &lecturer_ids,
        providers: &provider_ids,
        authorities: &authority_ids,
        units: &unit_ids,
        areas: &area_ids,
        area_list: &prev.competence_areas,
    };
    fn position<'a>(mut ids: impl Iterator<Item = &'a str>, id: &str) -> Option<usize> {
        ids.position(|x| x == id)
    }
    let statics = StaticFiles::list(&prev.root.join("static"));
    let mut new_links = Vec::new();
    for (folder, path, _) in &edits {
        let relative = path.strip_prefix(&prev.root).unwrap_or(path);
        site.warnings
            .retain(|w| w.file != relative && w.file != *path);
        if let Ok(f) = SourceFile::read(path) {
            let id = f.id.clone();
            links::check_body(
                &f,
                &page_url(folder, &id),
                &statics.0,
                &mut problems,
                &mut new_links,
            );
        }
    }
    // Most edits leave the links as they were: then the list stays shared.
    let edited = |file: &Path| edits.iter().any(|(_, path, _)| *path == file);
    let old_links = prev.links.iter().filter(|l| edited(&l.file));
    if edits.len() != 1 || !old_links.eq(new_links.iter()) {
        let links = Arc::make_mut(&mut site.links);
        links.retain(|l| !edited(&l.file));
        links.extend(new_links);
    }
    for (folder, path, id) in edits {
        match folder {
            "einheiten" => {
                let i = *unit_ids.get(id.as_str())?;
                match loader.load_file::<RawUnit>(path) {
                    Ok((mut f, raw)) => {
                        let unit = link_unit(&mut f, raw, &refs, &mut problems);
                        // Owners are checked across files (authorities, courses).
                        if unit.prerequisites != prev.units[i].prerequisites
                            || unit.internal_to != prev.units[i].internal_to
                        {
                            return None;
                        }
                        site.units[i] = Arc::new(unit);
                        units_read.push(i);
                    }
                    Err(p) => problems.push(p),
                }
            }
            "kommunen" => {
                let i = position(prev.authorities.iter().map(|a| a.id.as_str()), &id)?;
                match loader.load_file::<RawAuthority>(path) {
                    Ok((f, raw)) => {
                        // Domains of the other authorities stay taken.
                        let mut owners = domains::Owners::default();
                        for (j, other) in prev.authorities.iter().enumerate() {
                            if j != i {
                                owners.take(&other.name, &other.mail_domains);
                            }
                        }
                        let internal = internal.as_ref().expect("made for authority edits");
                        internal.check_refs(
                            &f,
                            raw.einheiten.iter(),
                            Some(i),
                            &unit_ids,
                            &mut problems,
                        );
                        let mut a =
                            link_authority(f, raw, &unit_ids, &statics, &mut owners, &mut problems);
                        internal.attach(i, &mut a);
                        site.authorities[i] = Arc::new(a);
                    }
                    Err(p) => problems.push(p),
                }
            }
            "kurse" => {
                let i = position(prev.courses.iter().map(|c| c.id.as_str()), &id)?;
                match loader.load_file::<RawCourse>(path) {
                    Ok((f, raw)) => {
                        let written = raw.einheiten.value.iter().map(|cu| &cu.einheit);
                        let internal = internal.as_ref().expect("made for course edits");
                        internal.check_refs(&f, written, None, &unit_ids, &mut problems);
                        // The exclusive price comes from data/ (unchanged here).
                        let exclusive = site.courses[i].exclusive;
                        site.courses[i] = link_course(f, raw, &unit_ids, &mut problems);
                        site.courses[i].exclusive = exclusive;
                    }
                    Err(p) => problems.push(p),
                }
            }
            "dozierende" => {
                let i = position(prev.lecturers.iter().map(|l| l.id.as_str()), &id)?;
                match loader.load_file::<RawLecturer>(path) {
                    Ok((f, raw)) => site.lecturers[i] = link_lecturer(f, raw),
                    Err(p) => problems.push(p),
                }
            }
            "faq" => {
                let i = position(prev.faq.iter().map(|e| e.id.as_str()), &id)?;
                match loader.load_file::<RawFaq>(path) {
                    Ok((f, raw)) => site.faq[i] = link_faq(f, raw, &category_ids, &mut problems),
                    Err(p) => problems.push(p),
                }
            }
            _ => {
                let i = position(prev.pages.iter().map(|p| p.id.as_str()), &id)?;
                match loader.load_file::<RawPage>(path) {
                    Ok((f, raw)) => site.pages[i] = link_page(f, raw, &statics, &mut problems),
                    Err(p) => problems.push(p),
                }
            }
        }
    }
    let (warnings, problems): (Vec<Problem>, Vec<Problem>) = problems
        .into_iter()
        .map(|p| p.relative_to(&prev.root))
        .partition(|p| p.kind.is_warning());
    if !problems.is_empty() {
        return Some(Err(Problems(problems).sorted()));
    }
    site.warnings.extend(warnings);
    Some(Ok(Patched {
        site,
        units: units_read,
    }))
}
