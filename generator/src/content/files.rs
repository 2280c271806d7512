//! Finding and reading files: data files, the Markdown files of a content
//! folder, and everything below `content/` and `data/` the build would not read.

use super::*;

/// Reads a YAML data file under `data/`.
pub fn read_data<T: DeserializeOwned>(path: &Path) -> Result<T, Problem> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problem::new(
            path,
            ProblemKind::Unreadable {
                reason: german_io_error(&e),
            },
        )
    })?;
    parse_yaml(&text, path, 0)
}

/// The Markdown files of one content folder, sorted by name. Editor backup
/// and lock files (`.x.md`, `#x.md#`, `x.md~`) are ignored.
pub fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| is_content_file(p))
        .collect();
    files.sort();
    files
}

pub fn is_content_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".md") && !name.starts_with('.') && !name.starts_with('#')
}

/// Everything below `content/` the build would not read, so nothing an
/// editor wrote disappears silently: unknown folders, subfolders, other
/// files (warnings), Markdown files whose extension is not a lowercase
/// `.md` (errors: meant to be read, but would not be) and folders or files
/// that cannot be read (errors). `folders` are the content folders read.
pub fn unread_files(content_dir: &Path, folders: &[&str]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let ignored = |path: &Path, what| Problem::new(path, ProblemKind::Ignored { what });
    let walk = walkdir::WalkDir::new(content_dir)
        .min_depth(1)
        .max_depth(2)
        .sort_by_file_name();
    let mut entries = walk.into_iter();
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(content_dir).to_path_buf();
                let reason = e
                    .into_io_error()
                    .map_or_else(|| "Verweis im Kreis".to_string(), |io| german_io_error(&io));
                problems.push(Problem::new(path, ProblemKind::Unreadable { reason }));
                continue;
            }
        };
        let path = entry.path();
        let name = entry.file_name().to_string_lossy();
        if name.starts_with('.') || name.starts_with('#') || name.ends_with('~') {
            if entry.file_type().is_dir() {
                entries.skip_current_dir();
            }
            continue;
        }
        let top = entry.depth() == 1;
        if entry.file_type().is_dir() {
            if !(top && folders.contains(&name.as_ref())) {
                problems.push(ignored(
                    path,
                    if top {
                        "ein Ordner, den die Website nicht kennt"
                    } else {
                        "ein Unterordner (nur Dateien direkt im Ordner werden gelesen)"
                    },
                ));
                entries.skip_current_dir();
            }
            continue;
        }
        if top && name == "start.md" {
            continue;
        }
        let lower = name.to_lowercase();
        let stem = name.rsplit_once('.').map_or(name.as_ref(), |(s, _)| s);
        if !top
            && !name.ends_with(".md")
            && (lower.ends_with(".md") || lower.ends_with(".markdown"))
        {
            problems.push(Problem::new(
                path,
                ProblemKind::WrongExtension {
                    suggestion: format!("{stem}.md"),
                },
            ));
        } else if top || !name.ends_with(".md") {
            problems.push(ignored(
                path,
                if top {
                    "eine Datei direkt in content/ (außer start.md)"
                } else {
                    "eine Datei, die keine Markdown-Datei (.md) ist"
                },
            ));
        }
    }
    problems
}

/// YAML files in `data/` that no part of the site reads (a misspelt name
/// would otherwise be dropped silently).
pub fn unread_data_files(data_dir: &Path) -> Vec<Problem> {
    const KNOWN: [&str; 9] = [
        "niveaus.yaml",
        "stornobedingungen.yaml",
        "preise.yaml",
        "mitgliedschaft.yaml",
        "faq-kategorien.yaml",
        "kompetenzen.yaml",
        "rollenprofile.yaml",
        crate::model::evaluation::FILE,
        crate::model::exclusive::FILE,
    ];
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Vec::new();
    };
    let mut problems: Vec<Problem> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
            let lower = name.to_lowercase();
            !KNOWN.contains(&name.as_str()) && (lower.ends_with(".yaml") || lower.ends_with(".yml"))
        })
        .map(|p| {
            Problem::new(
                p,
                ProblemKind::Ignored {
                    what: "eine Datendatei, die die Website nicht kennt (Name genau wie in docs/redaktion.md, Abschnitt 4.9)",
                },
            )
        })
        .collect();
    problems.sort_by(|a, b| a.file.cmp(&b.file));
    problems
}

/// An input/output error in German, without the system's English words.
pub fn german_io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "Die Datei oder der Ordner fehlt.".into(),
        ErrorKind::PermissionDenied => "Keine Berechtigung zum Lesen oder Schreiben.".into(),
        ErrorKind::InvalidData => "Die Datei ist nicht als UTF-8-Text gespeichert.".into(),
        ErrorKind::AlreadyExists => "Es gibt schon eine Datei mit diesem Namen.".into(),
        ErrorKind::StorageFull => "Der Speicherplatz ist voll.".into(),
        ErrorKind::IsADirectory => "Hier steht ein Ordner statt einer Datei.".into(),
        ErrorKind::NotADirectory => "Hier steht eine Datei statt eines Ordners.".into(),
        _ => match e.raw_os_error() {
            Some(code) => format!("Fehler des Betriebssystems (Nummer {code})."),
            None => "Unbekannter Fehler beim Zugriff auf die Datei.".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_editor_temp_files() {
        assert!(is_content_file(Path::new("a/b.md")));
        assert!(!is_content_file(Path::new("a/.b.md.swp")));
        assert!(!is_content_file(Path::new("a/#b.md#")));
        assert!(!is_content_file(Path::new("a/b.md~")));
    }
}
