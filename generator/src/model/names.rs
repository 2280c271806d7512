//! An authority's name as a German sentence needs it: with its article and in
//! its case ("für die Stadt Ahornfeld", "Beschäftigte des Landkreises
//! Falkenried", "bei der Gemeinde Rebenau"). The rule follows the kind of
//! authority; odd names ("Markt Oberau", "Verbandsgemeinde …") get their four
//! forms from the front matter (`namensformen`).

use crate::content::{AuthorityKind, RawNameForms};
use serde::Serialize;

/// "Stadt Lindenfeld", "Landkreis Musterkreis": the name with its kind in front
/// unless it already starts with it.
pub fn display_name(kind: AuthorityKind, name: &str) -> String {
    let kind = match kind {
        AuthorityKind::Gemeinde => "Gemeinde",
        AuthorityKind::Stadt => "Stadt",
        AuthorityKind::Landkreis => "Landkreis",
    };
    if name.starts_with(kind) {
        name.to_string()
    } else {
        format!("{kind} {name}")
    }
}

/// The four cases, each with its article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameForms {
    /// "die Stadt Ahornfeld", "der Landkreis Falkenried"
    pub nominative: String,
    /// "der Stadt Ahornfeld", "des Landkreises Falkenried"
    pub genitive: String,
    /// "der Stadt Ahornfeld", "dem Landkreis Falkenried"
    pub dative: String,
    /// "die Stadt Ahornfeld", "den Landkreis Falkenried"
    pub accusative: String,
}

impl NameForms {
    /// The forms of `display_name` ("Landkreis Falkenried") by the rule of
    /// its kind, unless the editor wrote them out.
    pub fn new(kind: AuthorityKind, display_name: &str, written: Option<&RawNameForms>) -> Self {
        if let Some(w) = written {
            return NameForms {
                nominative: w.nominativ.trim().to_string(),
                genitive: w.genitiv.trim().to_string(),
                dative: w.dativ.trim().to_string(),
                accusative: w.akkusativ.trim().to_string(),
            };
        }
        match kind {
            // Feminine: die, der, der, die; the name itself does not change.
            AuthorityKind::Gemeinde | AuthorityKind::Stadt => NameForms {
                nominative: format!("die {display_name}"),
                genitive: format!("der {display_name}"),
                dative: format!("der {display_name}"),
                accusative: format!("die {display_name}"),
            },
            // Masculine: der, des, dem, den; the genitive adds -es to "Landkreis".
            AuthorityKind::Landkreis => {
                let genitive = match display_name.strip_prefix("Landkreis") {
                    Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
                        format!("des Landkreises{rest}")
                    }
                    _ => format!("des {display_name}"),
                };
                NameForms {
                    nominative: format!("der {display_name}"),
                    genitive,
                    dative: format!("dem {display_name}"),
                    accusative: format!("den {display_name}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_follow_the_kind() {
        let stadt = NameForms::new(AuthorityKind::Stadt, "Stadt Ahornfeld", None);
        assert_eq!(
            format!("für {}", stadt.accusative),
            "für die Stadt Ahornfeld"
        );
        assert_eq!(stadt.genitive, "der Stadt Ahornfeld");
        let kreis = NameForms::new(AuthorityKind::Landkreis, "Landkreis Falkenried", None);
        assert_eq!(
            format!("Beschäftigte {}", kreis.genitive),
            "Beschäftigte des Landkreises Falkenried"
        );
        assert_eq!(kreis.nominative, "der Landkreis Falkenried");
        assert_eq!(kreis.dative, "dem Landkreis Falkenried");
        assert_eq!(kreis.accusative, "den Landkreis Falkenried");
        let gemeinde = NameForms::new(AuthorityKind::Gemeinde, "Gemeinde Rebenau", None);
        assert_eq!(gemeinde.dative, "der Gemeinde Rebenau");
    }

    #[test]
    fn written_forms_win() {
        let written = RawNameForms {
            nominativ: "der Markt Oberau".into(),
            genitiv: "des Marktes Oberau ".into(),
            dativ: "dem Markt Oberau".into(),
            akkusativ: "den Markt Oberau".into(),
        };
        let forms = NameForms::new(
            AuthorityKind::Gemeinde,
            "Gemeinde Markt Oberau",
            Some(&written),
        );
        assert_eq!(forms.genitive, "des Marktes Oberau");
        assert_eq!(forms.accusative, "den Markt Oberau");
    }
}
