//! Loading the theme's templates into Tera, the filters they use, the
//! conversion of view values, and template errors as problems.

use super::*;

/// One template file: where it lives and what it says.
pub struct TemplateSource {
    pub path: PathBuf,
    pub text: String,
}

/// Template sources by name ("unit.html", "forms/buchung.html", ...).
pub type TemplateSources = BTreeMap<String, TemplateSource>;

/// Loads the theme's templates, then the site's overrides of the same names.
pub fn load_templates(root: &Path, config: &Config) -> Result<Tera, Problems> {
    compile_templates(&read_templates(root, config)?, root, config)
}

/// Reads the theme's template files, then the site's overrides of the same
/// names, so a site can replace any single template.
pub fn read_templates(root: &Path, config: &Config) -> Result<TemplateSources, Problems> {
    let theme_templates = config.theme_dir(root).join("templates");
    let override_dir = root.join("templates");
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in [&theme_templates, &override_dir] {
        for entry in walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.file_type().is_file() {
                let name = entry
                    .path()
                    .strip_prefix(dir)
                    .expect("below dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(name, entry.into_path());
            }
        }
    }
    if files.is_empty() {
        return Err(Problem::new(
            &theme_templates,
            ProblemKind::Template {
                message: "Keine Vorlagen gefunden.".into(),
            },
        )
        .into());
    }
    let mut sources = TemplateSources::new();
    let mut problems = Vec::new();
    for (name, path) in files {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                sources.insert(name, TemplateSource { path, text });
            }
            Err(e) => problems.push(
                Problem::new(
                    &path,
                    ProblemKind::Template {
                        message: format!("Datei nicht lesbar: {e}"),
                    },
                )
                .relative_to(root),
            ),
        }
    }
    if problems.is_empty() {
        Ok(sources)
    } else {
        Err(Problems(problems).sorted())
    }
}

/// Compiles the templates read by [`read_templates`] with the theme's
/// filters registered.
pub fn compile_templates(
    sources: &TemplateSources,
    root: &Path,
    config: &Config,
) -> Result<Tera, Problems> {
    let theme_templates = config.theme_dir(root).join("templates");
    let path_of = |name: &str| {
        sources
            .get(name)
            .map_or_else(|| theme_templates.join(name), |s| s.path.clone())
    };
    // Parse each file alone first so every syntax error names its own file
    // (adding them together stops at the first one).
    let mut problems = Vec::new();
    for (name, source) in sources {
        let mut alone = new_tera();
        if let Err(e) = alone.add_raw_template(name, &source.text) {
            if matches!(e.kind(), tera::ErrorKind::SyntaxError(_)) {
                problems.extend(template_problems(&e, &path_of, root));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems).sorted());
    }
    let mut tera = new_tera();
    tera.add_raw_templates(sources.iter().map(|(name, s)| (name, &s.text)))
        .map_err(|e| Problems(template_problems(&e, &path_of, root)).sorted())?;
    Ok(tera)
}

/// A Tera instance with the theme's filters and escaping settings.
pub(super) fn new_tera() -> Tera {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".xml"]);
    // Tera's optional fast escaping leaves `'` alone; escape the five
    // characters HTML needs, and no others (an escaped "/" makes every URL
    // unreadable in the page source).
    tera.set_escape_fn(write_escaped_html);
    register_filters(&mut tera);
    tera
}
/// Tera's value of a JSON value of the views. Whole floats become integers:
/// templates print `8`, not Tera 2's `8.0` (as Tera 1 did, and as editors
/// write it).
pub fn tera_value(v: &Value) -> tera::Value {
    tera::Value::from_serializable(&ForTera(v))
}

pub(super) struct ForTera<'a>(&'a Value);

impl serde::Serialize for ForTera<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                    s.serialize_i64(f as i64)
                }
                _ => n.serialize(s),
            },
            Value::Array(items) => s.collect_seq(items.iter().map(ForTera)),
            Value::Object(map) => s.collect_map(map.iter().map(|(k, v)| (k, ForTera(v)))),
            other => other.serialize(s),
        }
    }
}

/// Problems for a Tera error, each at the file and line it names.
/// `path_of` maps a template name to its file.
pub(super) fn template_problems(
    e: &tera::Error,
    path_of: &dyn Fn(&str) -> PathBuf,
    root: &Path,
) -> Vec<Problem> {
    let at = |name: &str, message: &str, line: Option<u64>| {
        let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
        let p = Problem::new(path_of(name), ProblemKind::Template { message }).relative_to(root);
        match line {
            Some(l) => p.at(l, None),
            None => p,
        }
    };
    if let tera::ErrorKind::SyntaxError(r) | tera::ErrorKind::RenderingError(r) = e.kind() {
        return vec![at(
            r.filename(),
            r.message(),
            Some(r.span().start_line as u64),
        )];
    }
    // Checks across templates (unknown filter, component, block, ...) come
    // as one message of reports: "error: <message>\n --> <name>:<line>:<col>".
    let text = e.to_string();
    let mut found = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        let Some(message) = l.strip_prefix("error: ") else {
            continue;
        };
        let locus = lines
            .peek()
            .and_then(|n| n.trim_start().strip_prefix("--> "));
        if let Some((name, line)) = locus.and_then(|n| {
            let mut parts = n.rsplitn(3, ':');
            let (_col, line) = (parts.next()?, parts.next()?);
            Some((parts.next()?, line.parse().ok()?))
        }) {
            found.push(at(name, message, Some(line)));
        }
    }
    if found.is_empty() {
        let mut message = text;
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        found.push(at("", &message, None));
    }
    found
}

pub(super) fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    for ch in input.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn write_escaped_html(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(escape_html(input).as_bytes())
}

pub(super) fn register_filters(tera: &mut Tera) {
    tera.register_filter("euro", euro);
    tera.register_filter("date_long", date_long);
    tera.register_filter("date_short", date_short);
    tera.register_filter("sentence_start", sentence_start);
}

/// The first letter upper-case, the rest as it is ("die Stadt X" → "Die Stadt X");
/// Tera's `capitalize` would lower-case the name.
pub(super) fn sentence_start(
    v: &tera::Value,
    _: tera::Kwargs,
    _: &tera::State,
) -> tera::TeraResult<String> {
    let s = v
        .as_str()
        .ok_or_else(|| tera::Error::message("sentence_start: Text erwartet"))?;
    let mut chars = s.chars();
    Ok(chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default())
}

pub(super) fn euro(v: &tera::Value, _: tera::Kwargs, _: &tera::State) -> tera::TeraResult<String> {
    let cents = v
        .as_i64()
        .ok_or_else(|| tera::Error::message("euro: Zahl (Cent) erwartet"))?;
    Ok(Cents(cents).to_string())
}

pub(super) fn date_long(
    v: &tera::Value,
    _: tera::Kwargs,
    _: &tera::State,
) -> tera::TeraResult<String> {
    Ok(time::german_long_date(date_of(v)?))
}

pub(super) fn date_short(
    v: &tera::Value,
    _: tera::Kwargs,
    _: &tera::State,
) -> tera::TeraResult<String> {
    Ok(time::german_short_date(date_of(v)?))
}

pub(super) fn date_of(v: &tera::Value) -> tera::TeraResult<NaiveDate> {
    let s = v
        .as_str()
        .ok_or_else(|| tera::Error::message("Datum als Text erwartet"))?;
    crate::model::parse_date(s).ok_or_else(|| tera::Error::message(format!("kein Datum: {s}")))
}
