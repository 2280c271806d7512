//! Identifiers and URL slugs from German text.

/// Turns German text into a stable URL slug: lowercase ASCII, umlauts
/// transliterated (ä→ae, ö→oe, ü→ue, ß→ss), everything else collapsed to `-`.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_dash = false;
    for ch in text.chars().flat_map(char::to_lowercase) {
        let replacement: Option<&str> = match ch {
            'ä' => Some("ae"),
            'ö' => Some("oe"),
            'ü' => Some("ue"),
            'ß' => Some("ss"),
            'é' | 'è' | 'ê' => Some("e"),
            'á' | 'à' | 'â' => Some("a"),
            _ => None,
        };
        let piece: String = match replacement {
            Some(r) => r.to_string(),
            None if ch.is_ascii_alphanumeric() => ch.to_string(),
            None => {
                pending_dash = true;
                continue;
            }
        };
        if pending_dash && !out.is_empty() {
            out.push('-');
        }
        pending_dash = false;
        out.push_str(&piece);
    }
    out
}

/// True when `id` is already a valid identifier (what [`slugify`] would produce).
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && slugify(id) == id
}

/// The closest known identifier to `wanted`, for "did you mean" hints.
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wanted.len() / 3).max(2);
    known
        .into_iter()
        .map(|k| (edit_distance(wanted, k), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_german_letters() {
        assert_eq!(slugify("Bürgerbeteiligung"), "buergerbeteiligung");
        assert_eq!(
            slugify("Straße & Öffentlichkeit"),
            "strasse-oeffentlichkeit"
        );
        assert_eq!(
            slugify("  E-Akte: Grundlagen (Teil 2) "),
            "e-akte-grundlagen-teil-2"
        );
        assert_eq!(slugify("GROSSE Ämter"), "grosse-aemter");
    }

    #[test]
    fn valid_ids_are_fixed_points() {
        assert!(is_valid_id("ozg-grundlagen"));
        assert!(!is_valid_id("OZG_Grundlagen"));
        assert!(!is_valid_id("bürger"));
        assert!(!is_valid_id(""));
    }

    #[test]
    fn suggests_closest_id() {
        let known = ["ozg-grundlagen", "e-akte", "cybersicherheit"];
        assert_eq!(closest("ozg-grundlage", known), Some("ozg-grundlagen"));
        assert_eq!(closest("voellig-anders", known), None);
    }
}
