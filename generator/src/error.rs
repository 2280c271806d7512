//! Problems found in a site, typed so tests can match on them and
//! formatted in German so editors know what to fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// Which kind of item a reference points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Unit,
    Topic,
    Lecturer,
    Level,
    FaqCategory,
    CompetenceArea,
    Provider,
    Authority,
}

impl RefKind {
    fn german(self) -> &'static str {
        match self {
            RefKind::Unit => "Lerneinheit",
            RefKind::Topic => "Thema",
            RefKind::Lecturer => "Dozentin oder Dozent",
            RefKind::Level => "Niveau",
            RefKind::FaqCategory => "FAQ-Kategorie",
            RefKind::CompetenceArea => "Kompetenzbereich",
            RefKind::Provider => "Bildungsanbieter",
            RefKind::Authority => "Kommune",
        }
    }

    fn unknown(self) -> &'static str {
        match self {
            RefKind::Unit => "Unbekannte Lerneinheit",
            RefKind::Topic => "Unbekanntes Thema",
            RefKind::Lecturer => "Unbekannte Person unter „dozierende“",
            RefKind::Level => "Unbekanntes Niveau",
            RefKind::FaqCategory => "Unbekannte FAQ-Kategorie",
            RefKind::CompetenceArea => "Unbekannter Kompetenzbereich",
            RefKind::Provider => "Unbekannter Bildungsanbieter",
            RefKind::Authority => "Unbekannte Kommune",
        }
    }

    fn where_defined(self) -> &'static str {
        match self {
            RefKind::Unit => "content/einheiten/",
            RefKind::Topic => "content/themen/",
            RefKind::Lecturer => "content/dozierende/",
            RefKind::Level => "data/niveaus.yaml",
            RefKind::FaqCategory => "data/faq-kategorien.yaml",
            RefKind::CompetenceArea => "data/kompetenzen.yaml",
            RefKind::Provider => "content/anbieter/",
            RefKind::Authority => "content/kommunen/",
        }
    }
}

/// What is wrong. Each variant knows its German explanation and fix.
#[derive(Clone, Debug, PartialEq)]
pub enum ProblemKind {
    /// A file could not be read.
    Unreadable { reason: String },
    /// A Markdown file does not start with a `---` front matter block.
    MissingFrontMatter,
    /// The front matter block is opened but never closed.
    UnclosedFrontMatter,
    /// YAML/TOML syntax error reported by the parser (its own words).
    Syntax { message: String },
    /// A problem in one table of `campus.toml` (`table` is None for the
    /// table names themselves); worded for TOML, not for front matter.
    Config {
        table: Option<String>,
        problem: Box<ProblemKind>,
    },
    /// A field name the item does not have (usually a typo).
    UnknownField {
        field: String,
        allowed: Box<[String]>,
        suggestion: Option<Box<str>>,
    },
    /// A value outside a fixed list (e.g. `format: praesenz`).
    UnknownChoice {
        value: String,
        allowed: Box<[String]>,
    },
    /// A required field is missing from the front matter or data file.
    MissingKey { field: String },
    /// A value of the wrong kind, e.g. a word where a number belongs.
    WrongType { expected: &'static str },
    /// The file name is not a valid identifier.
    InvalidId { id: String, suggestion: String },
    /// Two files produce the same identifier.
    DuplicateId { id: String, other: PathBuf },
    /// A reference to an item that does not exist.
    UnknownReference {
        kind: RefKind,
        id: String,
        suggestion: Option<String>,
    },
    /// The same item is listed twice in one list.
    DuplicateReference { kind: RefKind, id: String },
    /// A date that is not `YYYY-MM-DD` or does not exist.
    InvalidDate { value: String },
    /// A live date on a Saturday or Sunday.
    WeekendDate { value: String },
    /// The same live date twice in one unit.
    DuplicateDate { value: String },
    /// More places taken than available.
    Overbooked {
        date: String,
        capacity: u32,
        taken: u32,
    },
    /// A field that must be present for this kind of item.
    MissingField {
        field: &'static str,
        why: &'static str,
    },
    /// A field that must not be present for this kind of item.
    ForbiddenField {
        field: &'static str,
        why: &'static str,
    },
    /// A value outside what is allowed.
    InvalidValue {
        field: &'static str,
        message: String,
    },
    /// A course with too few or too many units.
    CourseUnitCount { count: usize },
    /// A course requires more electives than it lists.
    ElectiveCount { required: u32, available: usize },
    /// An image path that does not exist below `static/`.
    MissingImage { path: String },
    /// A page every site must have.
    MissingRequiredPage { id: &'static str },
    /// The membership share brackets do not form a clean staircase.
    InvalidShareBrackets { message: String },
    /// A competence level outside the area's levels (0 to `max`).
    LevelOutOfRange {
        area: String,
        level: i64,
        max: usize,
    },
    /// Units that are (directly or indirectly) their own prerequisite.
    PrerequisiteCycle { cycle: Vec<String> },
    /// A template failed to parse or render.
    Template { message: String },
    /// The output could not be written.
    Output { reason: String },
    /// Raw HTML in a Markdown body (`tag` without angle brackets, e.g. `iframe`).
    RawHtml { tag: String },
    /// A link or image URL that could run code in the visitor's browser.
    UnsafeUrl { url: String },
    /// An image, video or embed from another server.
    ForeignMedia { url: String },
    /// A link inside the site that is not written from the site's root.
    RelativeLink { url: String },
    /// A link or image to a page, anchor or file of this site that does not exist.
    BrokenLink {
        url: String,
        missing: LinkTarget,
        suggestion: Option<String>,
    },
    /// Warning: a link to another site without encryption.
    InsecureLink { url: String },
    /// An SVG file with something that runs code or loads from elsewhere.
    UnsafeSvg { found: &'static str },
    /// `campus build --out` pointed at a folder it must not replace.
    UnsafeOutDir { reason: String },
    /// Warning: a file or folder the build does not read.
    Ignored { what: &'static str },
    /// A content file whose extension is written in another case (`.MD`).
    WrongExtension { suggestion: String },
    /// A static file whose path a page of the site takes.
    TakenPath { url: String },
    /// The same entry twice in a data file.
    DuplicateEntry { id: String, first_line: u64 },
    /// The same field twice in one block.
    DuplicateKey { field: String },
    /// A required text that is empty or only spaces.
    BlankText { field: String },
    /// A number written the German way (`2.400`) where a whole number belongs.
    GermanNumber { value: String },
    /// Warning: a live date that has passed.
    PastDate { value: String },
    /// A draft's placeholder (the back-office's landing-page draft) still in the file.
    Placeholder { marker: &'static str },
}

/// What a broken link misses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkTarget {
    Page,
    Anchor,
    File,
}

impl ProblemKind {
    /// What went wrong, in German.
    pub fn message(&self) -> String {
        match self {
            ProblemKind::Unreadable { reason } => format!("Datei kann nicht gelesen werden: {reason}"),
            ProblemKind::MissingFrontMatter => "Die Datei beginnt nicht mit einem Kopfbereich (Front Matter) zwischen zwei Zeilen „---“.".into(),
            ProblemKind::UnclosedFrontMatter => "Der Kopfbereich wird mit „---“ geöffnet, aber nicht wieder geschlossen.".into(),
            ProblemKind::Syntax { message } => message.clone(),
            ProblemKind::Config { table: None, problem } => match &**problem {
                ProblemKind::UnknownField { field, .. } => format!("Die Tabelle [{field}] gibt es in campus.toml nicht."),
                other => other.message(),
            },
            ProblemKind::Config { table: Some(table), problem } => match &**problem {
                ProblemKind::UnknownField { field, .. } => format!("Den Schlüssel „{field}“ gibt es in der Tabelle [{table}] nicht."),
                ProblemKind::MissingKey { field } => format!("In der Tabelle [{table}] fehlt der Pflichtschlüssel „{field}“."),
                other => format!("[{table}]: {}", other.message()),
            },
            ProblemKind::UnknownField { field, .. } => format!("Das Feld „{field}“ gibt es hier nicht."),
            ProblemKind::UnknownChoice { value, allowed } => format!("„{value}“ ist hier nicht erlaubt; möglich sind: {}.", allowed.join(", ")),
            ProblemKind::MissingKey { field } => format!("Das Pflichtfeld „{field}“ fehlt."),
            ProblemKind::WrongType { expected } => format!("Hier wird {expected} erwartet."),
            ProblemKind::InvalidId { id, .. } => format!("Der Dateiname „{id}“ ist keine gültige Kennung."),
            ProblemKind::DuplicateId { id, other } => format!("Die Kennung „{id}“ gibt es schon in {}.", other.display()),
            ProblemKind::UnknownReference { kind, id, .. } => format!("{} „{id}“.", kind.unknown()),
            ProblemKind::DuplicateReference { kind, id } => format!("{} „{id}“ steht doppelt in der Liste.", kind.german()),
            ProblemKind::InvalidDate { value } => format!("„{value}“ ist kein gültiges Datum."),
            ProblemKind::WeekendDate { value } => format!("Der Live-Termin {value} fällt auf ein Wochenende."),
            ProblemKind::DuplicateDate { value } => format!("Der Termin {value} steht doppelt in der Liste."),
            ProblemKind::Overbooked { date, capacity, taken } => format!("Termin {date}: {taken} Plätze vergeben, aber nur {capacity} vorhanden."),
            ProblemKind::MissingField { field, why } => format!("Das Feld „{field}“ fehlt ({why})."),
            ProblemKind::ForbiddenField { field, why } => format!("Das Feld „{field}“ ist hier nicht erlaubt ({why})."),
            ProblemKind::InvalidValue { field, message } => format!("Ungültiger Wert in „{field}“: {message}"),
            ProblemKind::CourseUnitCount { count } => format!("Ein Kurs besteht aus 3 bis 6 Lerneinheiten, hier sind es {count}."),
            ProblemKind::ElectiveCount { required, available } => format!("Es sollen {required} Wahlpflicht-Einheiten belegt werden, aber nur {available} stehen zur Wahl."),
            ProblemKind::MissingImage { path } => format!("Das Bild „{path}“ gibt es nicht."),
            ProblemKind::MissingRequiredPage { id } => format!("Die Pflichtseite „{id}“ fehlt."),
            ProblemKind::InvalidShareBrackets { message } => format!("Die Staffel der Geschäftsanteile ist fehlerhaft: {message}"),
            ProblemKind::LevelOutOfRange { area, level, max } => format!("Die Stufe {level} gibt es im Kompetenzbereich „{area}“ nicht (Stufen 0 bis {max})."),
            ProblemKind::PrerequisiteCycle { cycle } => format!("Die Voraussetzungen bilden einen Kreis: {}.", cycle.join(" → ")),
            ProblemKind::Template { message } => format!("Vorlagenfehler: {message}"),
            ProblemKind::Output { reason } => format!("Ausgabe kann nicht geschrieben werden: {reason}"),
            ProblemKind::RawHtml { tag } => format!("HTML-Code („<{tag}>“) ist im Text nicht erlaubt."),
            ProblemKind::UnsafeUrl { url } => format!("Die Adresse „{url}“ könnte im Browser Programmcode ausführen und wird nicht veröffentlicht."),
            ProblemKind::ForeignMedia { url } => format!("„{url}“ liegt auf einem fremden Server. Bilder, Videos und Einbettungen müssen von dieser Website selbst kommen: Jeder Abruf verrät dem fremden Server die Besucherinnen und Besucher (Datenschutz), und fremde Inhalte lassen sich nicht auf Barrierefreiheit (BITV 2.0) prüfen."),
            ProblemKind::RelativeLink { url } => format!("Der Link „{url}“ beginnt nicht mit „/“, „#“ oder „https://“."),
            ProblemKind::BrokenLink { url, missing, .. } => match missing {
                LinkTarget::Page => format!("Die Seite „{url}“ gibt es auf dieser Website nicht."),
                LinkTarget::Anchor => format!("Die Sprungmarke in „{url}“ gibt es auf der Seite nicht."),
                LinkTarget::File => format!("Die Datei „{url}“ gibt es unter static/ nicht."),
            },
            ProblemKind::InsecureLink { url } => format!("Der Link „{url}“ ist unverschlüsselt (http://)."),
            ProblemKind::UnsafeSvg { found } => format!("Die SVG-Datei enthält {found}."),
            ProblemKind::UnsafeOutDir { reason } => format!("In diesen Ordner wird nicht gebaut: {reason}"),
            ProblemKind::Ignored { what } => format!("Wird nicht veröffentlicht: {what}."),
            ProblemKind::WrongExtension { .. } => "Die Endung der Datei ist nicht „.md“ (klein geschrieben); die Datei wird so nicht gelesen.".into(),
            ProblemKind::TakenPath { url } => format!("Die Adresse „{url}“ gehört einer Seite, die die Website selbst erzeugt; diese Datei würde überschrieben."),
            ProblemKind::DuplicateEntry { id, first_line } => format!("Der Eintrag „{id}“ steht schon in Zeile {first_line}."),
            ProblemKind::BlankText { field } => format!("Das Feld „{field}“ ist leer."),
            ProblemKind::DuplicateKey { field } => format!("Das Feld „{field}“ steht zweimal."),
            ProblemKind::GermanNumber { value } => format!("„{value}“ ist hier keine ganze Zahl: Der Punkt trennt in den Dateien Nachkommastellen, nicht Tausender."),
            ProblemKind::PastDate { value } => format!("Der Live-Termin {value} liegt in der Vergangenheit."),
            ProblemKind::Placeholder { marker } => format!("Hier steht noch der Platzhalter „{marker}“: Diese Stelle des Entwurfs ist nicht ausgefüllt."),
        }
    }

    /// What the editor should do about it, in German.
    pub fn hint(&self) -> String {
        match self {
            ProblemKind::Unreadable { .. } => "Prüfen Sie, ob die Datei existiert und als UTF-8 gespeichert ist.".into(),
            ProblemKind::MissingFrontMatter | ProblemKind::UnclosedFrontMatter => "Beginnen Sie die Datei mit einer Zeile „---“, dann die Felder, dann wieder eine Zeile „---“.".into(),
            ProblemKind::Syntax { .. } => "Korrigieren Sie die Schreibweise an der genannten Stelle (Doppelpunkt nach dem Feldnamen, Einrückung mit Leerzeichen, Text mit „:“ in Anführungszeichen).".into(),
            ProblemKind::Config { table, problem } => match (&**problem, table) {
                (ProblemKind::UnknownField { suggestion: Some(s), .. }, _) => format!("Meinten Sie „{s}“? Alle Tabellen und Schlüssel beschreibt docs/betrieb.md."),
                (ProblemKind::UnknownField { allowed, .. }, _) => format!("Erlaubt sind: {}.", allowed.join(", ")),
                (ProblemKind::MissingKey { field }, Some(table)) => format!("Ergänzen Sie in [{table}] eine Zeile „{field} = …“."),
                (ProblemKind::MissingKey { field }, None) => format!("Ergänzen Sie die Tabelle {field} (siehe docs/betrieb.md)."),
                (ProblemKind::Syntax { .. }, _) => "Korrigieren Sie die Schreibweise an der genannten Stelle: „schluessel = wert“, Tabellen als [name], Texte in Anführungszeichen.".into(),
                _ => "Texte stehen in Anführungszeichen, Zahlen und true/false ohne, Listen als [\"a\", \"b\"]; siehe docs/betrieb.md.".into(),
            },
            ProblemKind::UnknownField { suggestion: Some(s), .. } => format!("Meinten Sie „{s}“? Feldnamen werden genau so geschrieben wie in docs/redaktion.md."),
            ProblemKind::UnknownField { allowed, .. } => format!("Erlaubt sind: {}.", allowed.join(", ")),
            ProblemKind::UnknownChoice { .. } => "Schreiben Sie einen der genannten Werte, genau so geschrieben.".into(),
            ProblemKind::MissingKey { field } => format!("Ergänzen Sie eine Zeile „{field}: …“ (siehe docs/redaktion.md)."),
            ProblemKind::WrongType { expected: "ein Text" } => "Setzen Sie den Text in Anführungszeichen, wenn er mit [, {, *, & oder # beginnt oder „: “ enthält.".into(),
            ProblemKind::WrongType { .. } => "Korrigieren Sie den Wert an der genannten Stelle; Listen schreiben Sie als [a, b] oder als Zeilen mit „- “.".into(),
            ProblemKind::InvalidId { suggestion, .. } => format!("Benennen Sie die Datei um in „{suggestion}.md“ (nur Kleinbuchstaben, Ziffern und Bindestriche; ä→ae, ö→oe, ü→ue, ß→ss)."),
            ProblemKind::DuplicateId { .. } => "Geben Sie einer der beiden Dateien einen anderen Namen.".into(),
            ProblemKind::UnknownReference { kind, suggestion, .. } => match suggestion {
                Some(s) => format!("Meinten Sie „{s}“? Sonst legen Sie die Datei in {} an.", kind.where_defined()),
                None => format!("Verwenden Sie eine Kennung aus {} oder legen Sie dort einen Eintrag an.", kind.where_defined()),
            },
            ProblemKind::DuplicateReference { .. } => "Entfernen Sie den doppelten Eintrag.".into(),
            ProblemKind::InvalidDate { .. } => "Schreiben Sie Daten als JJJJ-MM-TT, z. B. 2027-02-10.".into(),
            ProblemKind::WeekendDate { .. } => "Live-Tutorien finden montags bis freitags statt: wählen Sie einen Werktag.".into(),
            ProblemKind::DuplicateDate { .. } => "Entfernen Sie den doppelten Termin oder ändern Sie das Datum.".into(),
            ProblemKind::Overbooked { .. } => "Erhöhen Sie „plaetze“ oder verringern Sie „vergeben“.".into(),
            ProblemKind::MissingField { field, .. } => format!("Ergänzen Sie „{field}:“ im Kopfbereich."),
            ProblemKind::ForbiddenField { field, .. } => format!("Entfernen Sie „{field}:“ oder ändern Sie das Format."),
            ProblemKind::InvalidValue { .. } => "Korrigieren Sie den Wert (siehe docs/redaktion.md).".into(),
            ProblemKind::CourseUnitCount { .. } => "Ergänzen oder streichen Sie Einträge unter „einheiten“.".into(),
            ProblemKind::ElectiveCount { .. } => "Verringern Sie „wahlpflicht_anzahl“ oder ergänzen Sie Wahlpflicht-Einheiten.".into(),
            ProblemKind::MissingImage { .. } => "Legen Sie das Bild unter static/ ab oder korrigieren Sie den Pfad (er beginnt mit „/“, z. B. /bilder/kommunen/logo.svg).".into(),
            ProblemKind::MissingRequiredPage { id } => format!("Legen Sie content/seiten/{id}.md an."),
            ProblemKind::InvalidShareBrackets { .. } => "Die Obergrenzen („bis“) müssen aufsteigen; nur die letzte Stufe hat keine Obergrenze.".into(),
            ProblemKind::LevelOutOfRange { max, .. } => format!("Geben Sie eine ganze Zahl von 0 bis {max} an (die Stufen stehen in data/kompetenzen.yaml)."),
            ProblemKind::PrerequisiteCycle { .. } => "Eine Lerneinheit kann nicht (auch nicht über Umwege) ihre eigene Voraussetzung sein: streichen Sie einen Eintrag unter „voraussetzungen“.".into(),
            ProblemKind::Template { .. } => "Korrigieren Sie die Vorlage an der genannten Stelle.".into(),
            ProblemKind::Output { .. } => "Prüfen Sie Schreibrechte und freien Speicherplatz.".into(),
            ProblemKind::RawHtml { tag } => html_hint(tag).into(),
            ProblemKind::UnsafeUrl { .. } => "Verlinken Sie Seiten dieser Website (/kontakt/), andere Websites mit https://…, E-Mail-Adressen mit mailto:… oder Telefonnummern mit tel:….".into(),
            ProblemKind::ForeignMedia { .. } => "Legen Sie die Datei unter static/ ab (Nutzungsrechte klären) und verweisen Sie mit /bilder/… darauf, oder setzen Sie einen Link auf die fremde Seite.".into(),
            ProblemKind::RelativeLink { url } => format!("Schreiben Sie Seiten dieser Website mit „/“ am Anfang (z. B. „/{}“), andere Websites mit „https://“.", url.trim_start_matches("./")),
            ProblemKind::BrokenLink { suggestion: Some(s), .. } => format!("Meinten Sie „{s}“?"),
            ProblemKind::BrokenLink { missing: LinkTarget::Anchor, .. } => "Sprungmarken entstehen aus Überschriften: „## Ablauf und Termine“ wird zu „#ablauf-und-termine“.".into(),
            ProblemKind::BrokenLink { .. } => "Prüfen Sie die Adresse: Seiten enden mit „/“ (z. B. /kurse/), Dateien liegen unter static/.".into(),
            ProblemKind::InsecureLink { .. } => "Schreiben Sie „https://“, wenn die Website das anbietet; der Link wird sonst so veröffentlicht.".into(),
            ProblemKind::UnsafeSvg { .. } => "Entfernen Sie das Genannte aus der Datei (z. B. im Grafikprogramm als „einfaches SVG“ speichern, Texte in Pfade umwandeln).".into(),
            ProblemKind::UnsafeOutDir { .. } => "Wählen Sie mit --out einen leeren oder von campus build angelegten Ordner außerhalb von content/, data/, static/, themes/ und templates/, z. B. public/.".into(),
            ProblemKind::Ignored { .. } => "Verschieben oder löschen Sie die Datei, wenn sie nicht dorthin gehört (siehe docs/redaktion.md, Abschnitt 1).".into(),
            ProblemKind::WrongExtension { suggestion } => format!("Benennen Sie die Datei um in „{suggestion}“."),
            ProblemKind::TakenPath { .. } => "Benennen oder verschieben Sie die Datei unter static/.".into(),
            ProblemKind::DuplicateEntry { .. } => "Entfernen Sie einen der beiden Einträge oder geben Sie ihm eine andere Kennung.".into(),
            ProblemKind::BlankText { .. } => "Schreiben Sie einen Text hinter den Doppelpunkt.".into(),
            ProblemKind::DuplicateKey { .. } => "Löschen Sie eine der beiden Zeilen.".into(),
            ProblemKind::GermanNumber { value } => format!("Schreiben Sie die Zahl ohne Punkt: {}.", value.replace('.', "")),
            ProblemKind::PastDate { .. } => "Entfernen Sie den Termin oder tragen Sie ein künftiges Datum ein; vergangene Termine erscheinen nicht mehr auf der Website.".into(),
            ProblemKind::Placeholder { .. } => "Ersetzen Sie den Platzhalter durch den fertigen Text (siehe docs/redaktion.md, Abschnitt 4.5, „Der Entwurf für ein neues Mitglied“).".into(),
        }
    }

    /// Warnings are reported but do not stop the build.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            ProblemKind::InsecureLink { .. }
                | ProblemKind::Ignored { .. }
                | ProblemKind::PastDate { .. }
        )
    }
}

/// What to write in Markdown instead of an HTML tag.
fn html_hint(tag: &str) -> &'static str {
    match tag {
        "b" | "strong" => "Schreiben Sie **fett** statt HTML.",
        "i" | "em" => "Schreiben Sie *kursiv* statt HTML.",
        "a" => "Schreiben Sie Links als [Linktext](/seite/) oder [Linktext](https://…).",
        "img" => "Schreiben Sie Bilder als ![Beschreibung des Bildes](/bilder/datei.png); die Datei liegt unter static/.",
        "br" => "Einen Zeilenumbruch erhalten Sie mit einem „\\“ am Zeilenende; einen neuen Absatz mit einer Leerzeile.",
        "p" | "div" | "span" => "Absätze trennen Sie mit einer Leerzeile; Gestaltung übernimmt die Website.",
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => "Schreiben Sie Überschriften als „## Überschrift“.",
        "ul" | "ol" | "li" => "Schreiben Sie Listen als Zeilen mit „- “ oder „1. “ am Anfang.",
        "table" | "tr" | "td" | "th" => "Schreiben Sie Tabellen mit „|“ (siehe docs/redaktion.md).",
        "iframe" | "video" | "audio" | "embed" | "object" | "script" | "style" | "form" => "Einbettungen, Skripte und Formulare sind nicht erlaubt; setzen Sie stattdessen einen Link: [Video beim Anbieter ansehen](https://…).",
        _ => "Schreiben Sie den Text in Markdown (siehe docs/redaktion.md); ein „<“ als Zeichen schreiben Sie als „\\<“.",
    }
}

/// One problem, located in a file (and line and column where known).
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub kind: ProblemKind,
}

impl Problem {
    pub fn new(file: impl Into<PathBuf>, kind: ProblemKind) -> Self {
        Problem {
            file: file.into(),
            line: None,
            column: None,
            kind,
        }
    }

    pub fn at(mut self, line: u64, column: Option<u64>) -> Self {
        self.line = Some(line);
        self.column = column;
        self
    }

    /// The file relative to `root`, for shorter messages.
    pub fn relative_to(mut self, root: &Path) -> Self {
        if let Ok(rel) = self.file.strip_prefix(root) {
            self.file = rel.to_path_buf();
        }
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        let severity = if self.kind.is_warning() {
            "Warnung"
        } else {
            "Fehler"
        };
        write!(
            f,
            ": {severity}: {}\n    → {}",
            self.kind.message(),
            self.kind.hint()
        )
    }
}

/// All problems of one run, sorted by file and line.
#[derive(Clone, Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn sorted(mut self) -> Self {
        self.0
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        let n = self.0.len();
        write!(f, "{n} Fehler gefunden.")
    }
}

impl std::error::Error for Problems {}

impl From<Problem> for Problems {
    fn from(p: Problem) -> Self {
        Problems(vec![p])
    }
}
