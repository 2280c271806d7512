//! The evaluation form's questions (`data/bewertung.yaml`): what the
//! backend asks every participant after a live date. Read and checked with
//! the other data files, so a mistake is reported at file:line by
//! `campus check` before the backend ever shows the form.

use crate::content::{self, Located};
use crate::error::{Problem, ProblemKind};
use crate::slug;
use serde::Deserialize;
use std::path::Path;

/// The file, relative to the site's `data/`.
pub const FILE: &str = "bewertung.yaml";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Located<String>,
    frage: String,
    art: Located<String>,
    #[serde(default)]
    hinweis: String,
    #[serde(default)]
    pflicht: bool,
    /// `auswahl`: the choices.
    #[serde(default)]
    optionen: Vec<String>,
    /// `skala`: words for the lowest and highest value (1 and 5).
    #[serde(default)]
    skala_von: String,
    #[serde(default)]
    skala_bis: String,
}

/// What kind of answer a question takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    /// 1 to 5; the office sees counts and the average.
    Scale { low: String, high: String },
    /// One of the choices; the office sees counts.
    Choice(Vec<String>),
    /// Free text; shown only where the person agreed to share it.
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub hint: String,
    pub required: bool,
    pub kind: QuestionKind,
}

/// The highest value of a scale question (the lowest is 1).
pub const SCALE_MAX: u8 = 5;

/// The questions of `data/bewertung.yaml`, empty when the site has none
/// (the backend then sends no evaluation links).
pub fn load(data_dir: &Path, problems: &mut Vec<Problem>) -> Vec<Question> {
    let path = data_dir.join(FILE);
    if !path.exists() {
        return Vec::new();
    }
    let raw: Vec<RawQuestion> = match content::read_data(&path) {
        Ok(r) => r,
        Err(p) => {
            problems.push(p);
            return Vec::new();
        }
    };
    link(raw, &path, problems)
}

fn link(raw: Vec<RawQuestion>, path: &Path, problems: &mut Vec<Problem>) -> Vec<Question> {
    let mut out: Vec<Question> = Vec::new();
    let mut seen: Vec<(String, u64)> = Vec::new();
    for q in raw {
        let at = |v: &Located<String>, kind| {
            Problem::new(path, kind).at(v.referenced.line(), Some(v.referenced.column()))
        };
        if !slug::is_valid_id(&q.id.value) {
            problems.push(at(
                &q.id,
                ProblemKind::InvalidId {
                    id: q.id.value.clone(),
                    suggestion: slug::slugify(&q.id.value),
                },
            ));
            continue;
        }
        if let Some(first) = seen.iter().find(|(id, _)| *id == q.id.value) {
            problems.push(at(
                &q.id,
                ProblemKind::DuplicateEntry {
                    id: q.id.value.clone(),
                    first_line: first.1,
                },
            ));
            continue;
        }
        seen.push((q.id.value.clone(), q.id.referenced.line()));
        let invalid = |field: &'static str, message: String| {
            at(&q.art, ProblemKind::InvalidValue { field, message })
        };
        if q.frage.trim().is_empty() {
            problems.push(invalid(
                "frage",
                format!("Die Frage „{}“ hat keinen Text.", q.id.value),
            ));
            continue;
        }
        let kind = match q.art.value.as_str() {
            "skala" => QuestionKind::Scale {
                low: q.skala_von.clone(),
                high: q.skala_bis.clone(),
            },
            "auswahl" if q.optionen.len() >= 2 => QuestionKind::Choice(q.optionen.clone()),
            "auswahl" => {
                problems.push(invalid(
                    "optionen",
                    format!(
                        "Eine Auswahlfrage braucht mindestens zwei Optionen, „{}“ hat {}.",
                        q.id.value,
                        q.optionen.len()
                    ),
                ));
                continue;
            }
            "text" => QuestionKind::Text,
            other => {
                problems.push(invalid(
                    "art",
                    format!("„{other}“ gibt es nicht: skala, auswahl oder text angeben."),
                ));
                continue;
            }
        };
        if !matches!(kind, QuestionKind::Choice(_)) && !q.optionen.is_empty() {
            problems.push(invalid(
                "optionen",
                "Optionen gibt es nur bei „art: auswahl“.".to_string(),
            ));
            continue;
        }
        out.push(Question {
            id: q.id.value,
            text: q.frage,
            hint: q.hinweis,
            required: q.pflicht,
            kind,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> (Vec<Question>, Vec<Problem>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), text).unwrap();
        let mut problems = Vec::new();
        let q = load(dir.path(), &mut problems);
        (q, problems)
    }

    #[test]
    fn questions_of_all_kinds_load() {
        let (q, problems) = load_text(
            "- id: gesamt\n  frage: Wie zufrieden sind Sie?\n  art: skala\n  pflicht: true\n  skala_von: gar nicht\n  skala_bis: sehr\n\
             - id: weiter\n  frage: Empfehlen Sie die Einheit?\n  art: auswahl\n  optionen: [Ja, Nein]\n\
             - id: anregung\n  frage: Was fehlt?\n  art: text\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(q.len(), 3);
        assert!(q[0].required);
        assert_eq!(
            q[1].kind,
            QuestionKind::Choice(vec!["Ja".into(), "Nein".into()])
        );
        assert_eq!(q[2].kind, QuestionKind::Text);
    }

    #[test]
    fn mistakes_are_reported_at_their_line() {
        let (q, problems) = load_text(
            "- id: gesamt\n  frage: A?\n  art: skale\n\
             - id: gesamt\n  frage: B?\n  art: text\n\
             - id: wahl\n  frage: C?\n  art: auswahl\n  optionen: [Nur eine]\n",
        );
        assert!(q.is_empty(), "{q:?}");
        let texts: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 3, "{texts:?}");
        assert!(
            texts[0].contains(":3:") && texts[0].contains("„skale“"),
            "{texts:?}"
        );
        assert!(
            texts[1].contains(":4:") && texts[1].contains("Zeile 1"),
            "{texts:?}"
        );
        assert!(
            texts[2].contains(":9:") && texts[2].contains("zwei Optionen"),
            "{texts:?}"
        );
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let (_, problems) = load_text("- id: a\n  frage: A?\n  art: text\n  farbe: rot\n");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].to_string().contains("farbe"), "{}", problems[0]);
    }
}
