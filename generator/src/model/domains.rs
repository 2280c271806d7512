//! Official mail domains of the authorities (`dienstliche_domains`) and the
//! Leitweg-ID check: which address may book at whose expense, and where its
//! invoice goes.

use super::{Authority, Site};
use crate::content::{Located, SourceFile};
use crate::error::{Problem, ProblemKind};
use std::collections::HashMap;

/// The domain part of an address, lower-case; `None` without an `@`.
pub fn domain_of(email: &str) -> Option<String> {
    email
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_lowercase())
        .filter(|d| !d.is_empty())
}

/// A host name as a mail domain: at least two labels of letters, digits and
/// inner hyphens, lower-case, no trailing dot.
pub fn domain_ok(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// Which authority listed which domain, to refuse a domain listed twice.
#[derive(Default)]
pub struct Owners {
    by_domain: HashMap<String, String>,
}

impl Owners {
    /// Records domains already checked (an incremental update of one file).
    pub(crate) fn take(&mut self, name: &str, domains: &[String]) {
        for d in domains {
            self.by_domain.insert(d.clone(), name.to_string());
        }
    }

    /// Checks the domains of authority `name` and records them; returns the
    /// accepted ones.
    pub(crate) fn claim(
        &mut self,
        f: &SourceFile,
        name: &str,
        listed: &[Located<String>],
        problems: &mut Vec<Problem>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for d in listed {
            let value = d.value.trim();
            let bad = |message: String| {
                f.problem_at(
                    d,
                    ProblemKind::InvalidValue {
                        field: "dienstliche_domains",
                        message,
                    },
                )
            };
            if !domain_ok(value) {
                let hint = if value.contains('@') {
                    " Tragen Sie nur den Teil nach dem „@“ ein."
                } else if value != value.to_lowercase() {
                    " Schreiben Sie die Domain klein."
                } else {
                    ""
                };
                problems.push(bad(format!(
                    "„{value}“ ist keine Mail-Domain (z. B. musterstadt.de).{hint}"
                )));
            } else if out.iter().any(|o: &String| o == value) {
                problems.push(bad(format!("„{value}“ steht zweimal in der Liste.")));
            } else if let Some(other) = self.by_domain.get(value) {
                problems.push(bad(format!(
                    "„{value}“ gehört schon zu „{other}“: eine Domain kann nur einer Kommune gehören."
                )));
            } else {
                self.by_domain.insert(value.to_string(), name.to_string());
                out.push(value.to_string());
            }
        }
        out
    }
}

impl Site {
    /// The authority that lists the domain of `email`, if any.
    pub fn authority_by_email(&self, email: &str) -> Option<&Authority> {
        let d = domain_of(email)?;
        self.authorities
            .iter()
            .map(AsRef::as_ref)
            .find(|a| a.mail_domains.contains(&d))
    }
}

/// A Leitweg-ID: coarse address (2 to 12 digits), optional fine address (up
/// to 30 letters or digits), two check digits (ISO 7064 MOD 97-10 over the
/// rest, letters counted as 10 to 35), joined by hyphens.
pub fn leitweg_id_ok(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    let (coarse, fine, check) = match parts.as_slice() {
        [c, k] => (*c, "", *k),
        [c, f, k] => (*c, *f, *k),
        _ => return false,
    };
    let coarse_ok = (2..=12).contains(&coarse.len()) && coarse.bytes().all(|b| b.is_ascii_digit());
    let fine_ok = fine.len() <= 30 && fine.bytes().all(|b| b.is_ascii_alphanumeric());
    let check_ok = check.len() == 2 && check.bytes().all(|b| b.is_ascii_digit());
    if !(coarse_ok && fine_ok && check_ok) {
        return false;
    }
    let mut rest: u32 = 0;
    for c in format!("{coarse}{fine}{check}").chars() {
        let v = c.to_digit(36).unwrap_or(0);
        for digit in if v >= 10 {
            vec![v / 10, v % 10]
        } else {
            vec![v]
        } {
            rest = (rest * 10 + digit) % 97;
        }
    }
    rest == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_exact_host_names() {
        assert!(domain_ok("ahornfeld.example"));
        assert!(domain_ok("kreis-odenwiesen.de"));
        assert!(!domain_ok("@ahornfeld.example"));
        assert!(!domain_ok("Ahornfeld.example"));
        assert!(!domain_ok("localhost"));
        assert!(!domain_ok("-x.de"));
        assert_eq!(
            domain_of("A.B@Stadt.Example").as_deref(),
            Some("stadt.example")
        );
        assert_eq!(domain_of("kein-at"), None);
    }

    #[test]
    fn leitweg_ids_with_check_digits() {
        // The example of the KoSIT XRechnung test suite; one without fine address.
        assert!(leitweg_id_ok("04011000-1234512345-06"));
        assert!(leitweg_id_ok("06412000-71"));
        assert!(!leitweg_id_ok("06412000-17"));
        assert!(!leitweg_id_ok("04011000-1234512345-07"));
        assert!(!leitweg_id_ok("04011000"));
        assert!(!leitweg_id_ok("0401 1000-06"));
    }
}
