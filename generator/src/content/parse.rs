//! Splitting a content file into front matter and body, and parsing YAML
//! with file lines, parser complaints turned into typed German problems.

use super::*;

/// A value with the place in the front matter it was written at.
#[derive(Clone, Debug)]
pub struct Located<T> {
    pub value: T,
    pub referenced: Place,
}

/// Line and column (both from 1) within the YAML text a value was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    line: u64,
    column: u64,
}

impl Place {
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn column(&self) -> u64 {
        self.column
    }
}

thread_local! {
    /// Set while parsed front matter is written to or read from the cache
    /// of `campus build` (see `content::front_cache`). In that form a
    /// [`Located`] carries its place and an amount its cents; otherwise
    /// (YAML in, JSON for templates out) a [`Located`] is just its value
    /// and an amount is read as euros.
    static CACHE_FORM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with values (de)serialized in the cache's form.
pub(crate) fn in_cache_form<R>(f: impl FnOnce() -> R) -> R {
    let before = CACHE_FORM.replace(true);
    let result = f();
    CACHE_FORM.set(before);
    result
}

/// Whether values are (de)serialized in the cache's form just now.
pub(crate) fn cache_form() -> bool {
    CACHE_FORM.get()
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if cache_form() {
            let (value, line, column) = <(T, u64, u64)>::deserialize(deserializer)?;
            return Ok(Located {
                value,
                referenced: Place { line, column },
            });
        }
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        Ok(Located {
            value: spanned.value,
            referenced: Place {
                line: spanned.referenced.line(),
                column: spanned.referenced.column(),
            },
        })
    }
}

impl<T: serde::Serialize> serde::Serialize for Located<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if cache_form() {
            (&self.value, self.referenced.line, self.referenced.column).serialize(serializer)
        } else {
            self.value.serialize(serializer)
        }
    }
}

/// One Markdown file, split into front matter and body.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The file name without `.md`.
    pub id: String,
    pub front: String,
    /// File line of the first front matter line (the one after `---`).
    pub front_line: u64,
    /// File line of the body's first line.
    pub body_line: u64,
    pub body: String,
}

impl SourceFile {
    /// Reads and splits `path`. The file is read into a buffer each thread
    /// keeps, and only the front matter and the body are copied out, each
    /// at its exact size: a body kept in the buffer the whole file was read
    /// into held the front matter's bytes too (a third of an authority's
    /// file; 22 MB of texts at Germany scale).
    pub fn read(path: &Path) -> Result<SourceFile, Problem> {
        thread_local! {
            static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        /// A buffer grown past this by one large file is given back.
        const KEPT_CAPACITY: usize = 1 << 20;
        let unreadable = |e: &std::io::Error| {
            Problem::new(
                path,
                ProblemKind::Unreadable {
                    reason: german_io_error(e),
                },
            )
        };
        READ_BUFFER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            buffer.clear();
            let read = std::fs::File::open(path)
                .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut buffer));
            let parsed = match read {
                Err(e) => Err(unreadable(&e)),
                Ok(_) => match std::str::from_utf8(&buffer) {
                    Ok(text) => Self::parse(path, text),
                    Err(_) => Err(unreadable(&std::io::ErrorKind::InvalidData.into())),
                },
            };
            if buffer.capacity() > KEPT_CAPACITY {
                *buffer = Vec::new();
            }
            parsed
        })
    }

    pub fn parse(path: &Path, text: &str) -> Result<SourceFile, Problem> {
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split_inclusive('\n');
        let first = lines.next().unwrap_or("");
        if first.trim_end() != "---" {
            return Err(Problem::new(path, ProblemKind::MissingFrontMatter).at(1, None));
        }
        let front_start = first.len();
        let mut offset = front_start;
        let mut closing = None;
        for (n, line) in lines.enumerate() {
            if line.trim_end() == "---" {
                closing = Some((n, offset));
                offset += line.len();
                break;
            }
            offset += line.len();
        }
        let Some((n, front_end)) = closing else {
            return Err(Problem::new(path, ProblemKind::UnclosedFrontMatter).at(1, None));
        };
        Ok(SourceFile {
            path: path.to_path_buf(),
            id,
            front: text[front_start..front_end].to_owned(),
            front_line: 2,
            // Opening "---", n front matter lines, closing "---".
            body_line: n as u64 + 3,
            body: text[offset..].to_owned(),
        })
    }

    /// Parses the front matter; errors carry the line in the file.
    pub fn front_matter<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        parse_yaml(&self.front, &self.path, self.front_line - 1)
    }

    /// Converts a line inside the front matter to a line in the file.
    pub fn file_line<T>(&self, value: &Located<T>) -> u64 {
        value.referenced.line() + self.front_line - 1
    }

    pub fn problem(&self, kind: ProblemKind) -> Problem {
        Problem::new(&self.path, kind).at(1, None)
    }

    pub fn problem_at<T>(&self, value: &Located<T>, kind: ProblemKind) -> Problem {
        Problem::new(&self.path, kind).at(self.file_line(value), Some(value.referenced.column()))
    }
}

/// Parses YAML text; `line_offset` is added to reported lines.
pub fn parse_yaml<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    line_offset: u64,
) -> Result<T, Problem> {
    // An empty front matter block deserializes like an empty mapping.
    let text = if text.trim().is_empty() { "{}" } else { text };
    serde_saphyr::from_str(text).map_err(|e| {
        let location = e.location().filter(|loc| loc.line() > 0);
        // The written line, so messages can name the field and quote the value.
        let written = location.and_then(|loc| {
            let line = text.lines().nth(loc.line() as usize - 1)?;
            let value: String = line.chars().skip(loc.column() as usize - 1).collect();
            Some((line.to_string(), value))
        });
        let (line, value) = written.unwrap_or_default();
        let problem = Problem::new(path, classify(&first_line(&e.to_string()), &line, &value));
        match location {
            Some(loc) => problem.at(loc.line() + line_offset, Some(loc.column())),
            None => problem,
        }
    })
}

/// The field name of a written line (`  titel: x` or `- id: y`).
pub(super) fn field_of(line: &str) -> String {
    let line = line.trim_start().trim_start_matches("- ");
    line.split(':').next().unwrap_or("").trim().to_string()
}

/// True for `2.400` or `1.000.000`: a German thousands separator.
pub(super) fn german_thousands(value: &str) -> bool {
    let mut groups = value.trim().split('.');
    let first = groups.next().unwrap_or("");
    let rest: Vec<&str> = groups.collect();
    (1..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_digit())
        && !rest.is_empty()
        && rest
            .iter()
            .all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()))
}

/// Turns the parser's English message into a typed problem where it is one
/// of the common ones (typo in a field name, a value outside a list, a
/// missing field, a wrong kind of value, an empty or doubled field); any
/// other is a syntax error explained in German. `line` and `value` are the
/// written line and the text from the reported column on (may be empty).
/// No English word of the parser reaches the editor.
pub(crate) fn classify(message: &str, line: &str, value: &str) -> ProblemKind {
    // serde quotes names in backticks: "unknown field `tite`, expected one of
    // `titel`, `format`" (some parsers drop the backticks in the list).
    let names = |list: &str| -> Vec<String> {
        list.split([',', ' '])
            .map(|w| w.trim_matches(|c| c == '`' || c == '\''))
            .filter(|w| !w.is_empty() && *w != "or" && *w != "and")
            .map(str::to_string)
            .collect()
    };
    let quoted = |rest: &str| -> Option<(String, String)> {
        let rest = rest.strip_prefix('`')?;
        let (name, after) = rest.split_once('`')?;
        Some((name.to_string(), after.to_string()))
    };
    // What follows "expected (one of)".
    let allowed_in = |after: &str| -> Vec<String> {
        after
            .split_once("expected one of ")
            .or_else(|| after.split_once("expected "))
            .map(|(_, list)| names(list))
            .unwrap_or_default()
    };
    if let Some((field, after)) = message.strip_prefix("unknown field ").and_then(quoted) {
        let allowed = allowed_in(&after);
        let suggestion =
            crate::slug::closest(&field, allowed.iter().map(String::as_str)).map(Box::from);
        return ProblemKind::UnknownField {
            field,
            allowed: allowed.into(),
            suggestion,
        };
    }
    if let Some((value, after)) = message.strip_prefix("unknown variant ").and_then(quoted) {
        return ProblemKind::UnknownChoice {
            value,
            allowed: allowed_in(&after).into(),
        };
    }
    if let Some((field, _)) = message.strip_prefix("missing field ").and_then(quoted) {
        return ProblemKind::MissingKey { field };
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let field = rest.split(',').next().unwrap_or(rest).trim().to_string();
        return ProblemKind::DuplicateKey { field };
    }
    if message.starts_with("cannot deserialize null") {
        return ProblemKind::BlankText {
            field: field_of(line),
        };
    }
    if german_thousands(value) {
        return ProblemKind::GermanNumber {
            value: value.trim().to_string(),
        };
    }
    let expected = [
        ("string", "ein Text"),
        ("sequence", "eine Liste"),
        ("float", "eine Zahl (z. B. 3 oder 2.5)"),
        ("integer", "eine ganze Zahl"),
        ("f64", "eine Zahl (z. B. 3 oder 2.5)"),
        ("u8", "eine ganze Zahl"),
        ("u16", "eine ganze Zahl"),
        ("u32", "eine ganze Zahl"),
        ("u64", "eine ganze Zahl"),
        ("i64", "eine ganze Zahl"),
        ("bool", "true oder false"),
        ("map", "eine Gruppe von Feldern („name: Wert“, eingerückt)"),
    ];
    let lower = message.to_lowercase();
    let about_a_value = (lower.starts_with("expected ") && !lower.starts_with("expected mapping"))
        || lower.starts_with("invalid ");
    if about_a_value {
        // In "invalid type: X, expected Y" the kind wanted is Y.
        let wanted = lower.rsplit("expected ").next().unwrap_or(&lower);
        if let Some((_, german)) = expected.iter().find(|(word, _)| wanted.contains(word)) {
            return ProblemKind::WrongType { expected: german };
        }
    }
    let explained = [
        ("expected mapping", "Hier wird eine Zeile „feldname: Wert“ erwartet; fehlt der Doppelpunkt nach dem Feldnamen?"),
        ("simple key expected", "Hier wird eine Zeile „feldname: Wert“ erwartet; fehlt der Doppelpunkt nach dem Feldnamen?"),
        ("mapping values are not allowed", "Ein „: “ steht mitten im Wert, oder die Zeile ist weiter eingerückt als die vorige."),
        ("unclosed quote", "Ein Anführungszeichen wird geöffnet, aber nicht geschlossen."),
        ("found a tab", "Die Zeile ist mit einem Tabulator eingerückt."),
        ("tab", "Die Zeile ist mit einem Tabulator eingerückt."),
        ("unexpected character", "Mit diesem Zeichen darf ein Wert nicht beginnen (z. B. „@“ oder „`“)."),
        ("did not find expected", "Die Einrückung oder eine Klammer stimmt nicht."),
        ("indentation", "Die Einrückung stimmt nicht."),
    ];
    let german = explained
        .iter()
        .find(|(english, _)| lower.contains(english))
        .map_or(
            "Diese Stelle lässt sich nicht lesen (Schreibfehler im YAML-Format).",
            |(_, g)| g,
        );
    ProblemKind::Syntax {
        message: german.to_string(),
    }
}

/// The parser's message without its own location (relative to the front
/// matter, so misleading): ours, in file lines, is printed in front.
pub(super) fn first_line(message: &str) -> String {
    let mut line = message.lines().next().unwrap_or(message).trim();
    line = line.strip_prefix("error: ").unwrap_or(line);
    if let Some(rest) = line.strip_prefix("line ") {
        if let Some((_, after)) = rest.split_once(": ") {
            line = after;
        }
    }
    match line.rfind(" at line ") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_body() {
        let f = SourceFile::parse(Path::new("x/abc.md"), "---\ntitel: A\n---\nText\n").unwrap();
        assert_eq!(f.id, "abc");
        assert_eq!(f.front, "titel: A\n");
        assert_eq!(f.body, "Text\n");
        assert_eq!(f.body_line, 4);
        // A byte order mark before the opening line is not part of anything.
        let f = SourceFile::parse(Path::new("a.md"), "\u{feff}---\ntitel: A\n---\nText\n").unwrap();
        assert_eq!(
            (f.front.as_str(), f.body.as_str()),
            ("titel: A\n", "Text\n")
        );
    }

    #[test]
    fn a_read_file_keeps_front_matter_and_body_at_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.md");
        let front = format!("titel: {}\n", "A".repeat(3000));
        std::fs::write(&path, format!("\u{feff}---\n{front}---\nText\n")).unwrap();
        let f = SourceFile::read(&path).unwrap();
        assert_eq!(
            (f.front.as_str(), f.body.as_str()),
            (front.as_str(), "Text\n")
        );
        assert_eq!(f.body_line, 4);
        // Not the capacity of the whole file: the body is a copy of its own.
        assert!(f.body.capacity() < 100, "{}", f.body.capacity());
        // The next file read on this thread is not mixed with the first.
        std::fs::write(&path, "---\ntitel: B\n---\n").unwrap();
        let g = SourceFile::read(&path).unwrap();
        assert_eq!((g.front.as_str(), g.body.as_str()), ("titel: B\n", ""));
        std::fs::write(&path, b"---\ntitel: \xff\n---\n").unwrap();
        let e = SourceFile::read(&path).unwrap_err();
        assert_eq!(
            e.kind,
            ProblemKind::Unreadable {
                reason: "Die Datei ist nicht als UTF-8-Text gespeichert.".into()
            }
        );
    }

    #[test]
    fn missing_and_unclosed_front_matter() {
        let e = SourceFile::parse(Path::new("a.md"), "titel: A\n").unwrap_err();
        assert_eq!(e.kind, ProblemKind::MissingFrontMatter);
        let e = SourceFile::parse(Path::new("a.md"), "---\ntitel: A\n").unwrap_err();
        assert_eq!(e.kind, ProblemKind::UnclosedFrontMatter);
    }

    #[test]
    fn yaml_errors_carry_file_lines() {
        let f = SourceFile::parse(
            Path::new("a.md"),
            "---\ntitel: A\nkurzbeschreibung: B\nfalsch: 1\n---\n",
        )
        .unwrap();
        let e = f.front_matter::<RawTopic>().unwrap_err();
        assert!(
            matches!(&e.kind, ProblemKind::UnknownField { field, .. } if field == "falsch"),
            "{e}"
        );
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn located_values_know_their_line() {
        let f = SourceFile::parse(
            Path::new("a.md"),
            "---\nfrage: Was?\n\nkategorie: kosten\n---\nAntwort\n",
        )
        .unwrap();
        let faq = f.front_matter::<RawFaq>().unwrap();
        assert_eq!(f.file_line(&faq.kategorie), 4);
    }

    #[test]
    fn parser_messages_become_typed_problems() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Item {
            titel: String,
            format: Format,
            stunden: f64,
            themen: Vec<String>,
        }
        let kind = |yaml: &str| {
            parse_yaml::<Item>(yaml, Path::new("x.md"), 1)
                .unwrap_err()
                .kind
        };
        let ok = "titel: A\nformat: hybrid\nstunden: 3\nthemen: [a]\n";
        assert!(matches!(
            kind(&ok.replace("stunden:", "stunde:")),
            ProblemKind::UnknownField { field, suggestion: Some(s), allowed }
                if field == "stunde" && &*s == "stunden" && allowed.len() == 4
        ));
        assert!(matches!(
            kind(&ok.replace("hybrid", "praesenz")),
            ProblemKind::UnknownChoice { value, allowed }
                if value == "praesenz" && *allowed == ["hybrid", "on-demand"]
        ));
        assert!(matches!(
            kind(&ok.replace("titel: A\n", "")),
            ProblemKind::MissingKey { field } if field == "titel"
        ));
        assert!(matches!(
            kind(&ok.replace("stunden: 3", "stunden: drei")),
            ProblemKind::WrongType { expected } if expected.contains("Zahl")
        ));
        assert!(matches!(
            kind(&ok.replace("themen: [a]", "themen: a")),
            ProblemKind::WrongType {
                expected: "eine Liste"
            }
        ));
        // An unquoted text starting with "[" reads as a list.
        assert!(matches!(
            kind(&ok.replace("titel: A", "titel: [A")),
            ProblemKind::WrongType {
                expected: "ein Text"
            }
        ));
    }

    #[test]
    fn every_parser_complaint_is_german() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Item {
            titel: String,
            anzahl: Option<u32>,
        }
        let problem = |yaml: &str| parse_yaml::<Item>(yaml, Path::new("x.md"), 1).unwrap_err();
        assert_eq!(
            problem("titel: A\nanzahl: 2.400\n").kind,
            ProblemKind::GermanNumber {
                value: "2.400".into()
            }
        );
        assert_eq!(
            problem("titel:\n").kind,
            ProblemKind::BlankText {
                field: "titel".into()
            }
        );
        let doubled = problem("titel: A\ntitel: B\n");
        assert_eq!(
            doubled.kind,
            ProblemKind::DuplicateKey {
                field: "titel".into()
            }
        );
        assert_eq!(doubled.line, Some(3));
        assert!(matches!(
            problem("titel: A\nanzahl: -1\n").kind,
            ProblemKind::WrongType {
                expected: "eine ganze Zahl"
            }
        ));
        // Whatever the parser says, no English and no Rust words.
        for yaml in [
            "titel A\n",
            "titel: a: b\n",
            "titel: \"offen\n",
            "titel: a\n\tanzahl: 1\n",
            "titel: `a`\n",
            "titel: @a\n",
            "- a\n",
            "titel: A\nanzahl: 2.400\n",
            "titel:\n",
            "titel: A\ntitel: B\n",
            "titel: A\nanzahl: -1\n",
        ] {
            let text = problem(yaml).to_string();
            for word in [
                "expected", "mapping", "Option", "String", "u32", "invalid", "Policy", "scalar",
                "YAML:",
            ] {
                assert!(!text.contains(word), "{yaml:?}: {text}");
            }
        }
    }
}
