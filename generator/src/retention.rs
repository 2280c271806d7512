//! Retention periods of `[aufbewahrung]` in `campus.toml`: one table of keys
//! and lawful defaults, read by the backend's purge and shown on the privacy
//! page (`[[aufbewahrung:key]]` in a page's Markdown becomes the configured
//! number), so the page and the deletion never disagree.

use crate::config::Config;

/// How a period counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Days after the record's time.
    Days,
    /// Whole years after the end of the calendar year of the record's time
    /// (the limitation period of § 195, § 199 BGB counts this way).
    YearsAfterYearEnd,
}

/// One key of `[aufbewahrung]`.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub key: &'static str,
    pub default: u32,
    pub counted: Counted,
    /// What is kept (German, for docs and messages).
    pub what: &'static str,
}

/// Every period the backend applies, with its default.
pub const PERIODS: &[Period] = &[
    Period {
        key: "registrierung",
        default: 365,
        counted: Counted::Days,
        what: "Registrierungen",
    },
    Period {
        key: "kontakt",
        default: 365,
        counted: Counted::Days,
        what: "Kontaktanfragen",
    },
    Period {
        key: "newsletter",
        default: 365,
        counted: Counted::Days,
        what: "Newsletter-Anmeldungen (ohne aktive Abonnements)",
    },
    Period {
        key: "mail",
        default: 30,
        counted: Counted::Days,
        what: "versandte und gescheiterte E-Mails",
    },
    Period {
        key: "buchungen_jahre",
        default: 3,
        counted: Counted::YearsAfterYearEnd,
        what: "abgeschlossene Buchungen und Einschreibungen (Nachweis und Abrechnung)",
    },
    Period {
        key: "buchungsverlauf_jahre",
        default: 3,
        counted: Counted::YearsAfterYearEnd,
        what: "Verlauf der Buchungen",
    },
    Period {
        key: "einwilligungen_jahre",
        default: 3,
        counted: Counted::YearsAfterYearEnd,
        what: "Nachweise von Einwilligungen nach Widerruf oder Ende der Buchung",
    },
    Period {
        key: "mitgliedsantraege_jahre",
        default: 3,
        counted: Counted::YearsAfterYearEnd,
        what: "abgelehnte Mitgliedsanträge (nach der Ablehnung)",
    },
    Period {
        key: "sitzungen_tage",
        default: 30,
        counted: Counted::Days,
        what: "Anmeldelinks und Sitzungen der Verwaltung",
    },
    Period {
        key: "bewertungen_jahre",
        default: 3,
        counted: Counted::YearsAfterYearEnd,
        what: "Bewertungen (ohne Personenbezug)",
    },
    Period {
        key: "bescheinigungen_jahre",
        default: 10,
        counted: Counted::YearsAfterYearEnd,
        what: "Teilnahmebescheinigungen (zur Prüfung der Echtheit)",
    },
];

pub fn period(key: &str) -> Option<&'static Period> {
    PERIODS.iter().find(|p| p.key == key)
}

/// The configured value of `key` (its default when not set); `None` for an unknown key.
pub fn value(config: &Config, key: &str) -> Option<u32> {
    let p = period(key)?;
    let configured = config
        .rest
        .get("aufbewahrung")
        .and_then(|t| t.get(key))
        .and_then(|v| v.as_integer())
        .and_then(|v| u32::try_from(v).ok());
    Some(configured.unwrap_or(p.default))
}

/// Replaces every `[[aufbewahrung:key]]` in `markdown` with the configured
/// number; unknown keys stay as written (see [`unknown_keys`]).
pub fn expand(markdown: &str, config: &Config) -> String {
    const OPEN: &str = "[[aufbewahrung:";
    if !markdown.contains(OPEN) {
        return markdown.to_string();
    }
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        match after.find("]]") {
            Some(end) if value(config, after[..end].trim()).is_some() => {
                let n = value(config, after[..end].trim()).unwrap_or_default();
                out.push_str(&n.to_string());
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str(OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Keys named in `[[aufbewahrung:…]]` that no period has.
pub fn unknown_keys(markdown: &str) -> Vec<String> {
    markdown
        .split("[[aufbewahrung:")
        .skip(1)
        .filter_map(|s| s.split_once("]]").map(|(k, _)| k.trim().to_string()))
        .filter(|k| period(k).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!("[site]\nname = \"T\"\nadresse = \"https://t.example\"\n[kontakt]\norganisation = \"T eG\"\nstrasse = \"S 1\"\nort = \"1 O\"\nemail = \"t@t.example\"\ntelefon = \"0\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn placeholders_show_the_configured_value_or_the_default() {
        let c = config("[aufbewahrung]\nbuchungen_jahre = 4\n");
        let text = "Buchungen [[aufbewahrung:buchungen_jahre]] Jahre, Mails [[aufbewahrung: mail ]] Tage, [[aufbewahrung:gibtsnicht]] bleibt.";
        assert_eq!(
            expand(text, &c),
            "Buchungen 4 Jahre, Mails 30 Tage, [[aufbewahrung:gibtsnicht]] bleibt."
        );
        assert_eq!(unknown_keys(text), vec!["gibtsnicht".to_string()]);
        assert_eq!(value(&config(""), "bescheinigungen_jahre"), Some(10));
    }
}
