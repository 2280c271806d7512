//! Checks that span files: data entries, prerequisite cycles, static files
//! and images, and dropping problems that are consequences of others.

use super::*;

/// One cause, one error: a reference that fails only because the file
/// defining it has an error of its own (a data file that did not load, a
/// content file with an invalid name) is not reported a second time in the
/// files that are correct.
pub(super) fn drop_consequences(problems: &mut Vec<Problem>, defined_in: &[(RefKind, &PathBuf)]) {
    let failed: Vec<RefKind> = defined_in
        .iter()
        .filter(|(_, file)| {
            problems
                .iter()
                .any(|p| p.file == **file && !p.kind.is_warning())
        })
        .map(|(kind, _)| *kind)
        .collect();
    let misnamed: std::collections::HashSet<String> = problems
        .iter()
        .filter_map(|p| match &p.kind {
            ProblemKind::InvalidId { id, suggestion } => Some([id.clone(), suggestion.clone()]),
            _ => None,
        })
        .flatten()
        .collect();
    problems.retain(|p| match &p.kind {
        ProblemKind::UnknownReference { kind, id, .. } => {
            !failed.contains(kind) && !misnamed.contains(id)
        }
        ProblemKind::LevelOutOfRange { .. } => !failed.contains(&RefKind::CompetenceArea),
        _ => true,
    });
}

/// Entries of a data list: each id once, each name written.
pub(super) fn check_data_entries<'a>(
    path: &Path,
    entries: impl Iterator<Item = (&'a content::Located<String>, &'a str)>,
    problems: &mut Vec<Problem>,
) {
    let mut first: HashMap<&str, u64> = HashMap::new();
    for (id, name) in entries {
        let at =
            |kind| Problem::new(path, kind).at(id.referenced.line(), Some(id.referenced.column()));
        if let Some(line) = first.get(id.value.as_str()) {
            problems.push(at(ProblemKind::DuplicateEntry {
                id: id.value.clone(),
                first_line: *line,
            }));
        } else {
            first.insert(&id.value, id.referenced.line());
        }
        if name.trim().is_empty() {
            problems.push(at(ProblemKind::BlankText {
                field: "name".into(),
            }));
        }
    }
}

/// Reports every cycle in the prerequisite graph once, at the entry that
/// closes it (depth-first search; linear in units plus prerequisites).
pub(super) fn check_prerequisite_cycles(
    units: &[Unit],
    written: &[(SourceFile, Vec<content::Located<String>>)],
    problems: &mut Vec<Problem>,
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; units.len()];
    for start in 0..units.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Explicit stack of (unit, next prerequisite position).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::Open;
        while let Some(&mut (u, ref mut next)) = stack.last_mut() {
            if let Some(&p) = units[u].prerequisites.get(*next) {
                *next += 1;
                match mark[p] {
                    Mark::New => {
                        mark[p] = Mark::Open;
                        stack.push((p, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|(x, _)| *x == p).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[from..]
                            .iter()
                            .map(|(x, _)| units[*x].id.clone())
                            .collect();
                        cycle.push(units[p].id.clone());
                        let (file, refs) = &written[u];
                        let kind = ProblemKind::PrerequisiteCycle { cycle };
                        problems.push(match refs.iter().find(|r| r.value == units[p].id) {
                            Some(r) => file.problem_at(r, kind),
                            None => file.problem(kind),
                        });
                    }
                    Mark::Done => {}
                }
            } else {
                mark[u] = Mark::Done;
                stack.pop();
            }
        }
    }
}
/// The files below `static/`, as site paths ("/bilder/logo.svg").
pub(super) struct StaticFiles(pub(super) std::collections::HashSet<String>);

impl StaticFiles {
    pub(super) fn list(dir: &Path) -> StaticFiles {
        StaticFiles(
            walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .filter_map(|e| {
                    let rel = e
                        .path()
                        .strip_prefix(dir)
                        .ok()?
                        .to_string_lossy()
                        .replace('\\', "/");
                    Some(format!("/{rel}"))
                })
                .collect(),
        )
    }
}

/// Every SVG file below `static/` is checked for scripts and references
/// (see [`crate::svg`]).
pub(super) fn check_svg_files(dir: &Path, files: &StaticFiles, problems: &mut Vec<Problem>) {
    for site_path in &files.0 {
        if !site_path.to_ascii_lowercase().ends_with(".svg") {
            continue;
        }
        let path = dir.join(site_path.trim_start_matches('/'));
        match std::fs::read_to_string(&path) {
            Ok(text) => problems.extend(crate::svg::check(&path, &text)),
            Err(e) => problems.push(Problem::new(
                &path,
                ProblemKind::Unreadable {
                    reason: crate::content::german_io_error(&e),
                },
            )),
        }
    }
}

pub(super) fn check_image(
    f: &SourceFile,
    path: &content::Located<String>,
    static_files: &StaticFiles,
    problems: &mut Vec<Problem>,
) {
    use crate::markdown::{classify, Url};
    if matches!(
        classify(&path.value),
        Url::Https | Url::Http | Url::OtherOrigin
    ) {
        problems.push(f.problem_at(
            path,
            ProblemKind::ForeignMedia {
                url: path.value.clone(),
            },
        ));
        return;
    }
    let ok = static_files.0.contains(&path.value);
    if !ok {
        problems.push(f.problem_at(
            path,
            ProblemKind::MissingImage {
                path: path.value.clone(),
            },
        ));
    }
}
