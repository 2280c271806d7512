//! Pages the backend renders itself, in the site's theme: they extend the
//! theme's `base.html` and get the same `site` context as generated pages
//! (via `campus_generator::render`). If the theme cannot render them, a
//! plain German fallback page is served instead.

use crate::mail::escape;

pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "forms/buchung.html",
        r#"{% extends "base.html" %}
{% block content %}
<article class="seite formular-ergebnis">
  <h1>{{ page_title }}</h1>
  <p>{{ message }}</p>
  {% if facts %}
  <dl class="fakten">
    {% for f in facts %}<div><dt>{{ f[0] }}</dt><dd>{{ f[1] }}</dd></div>
    {% endfor %}
  </dl>
  {% endif %}
  {% if action %}
  <form method="post" action="{{ action }}">
    <p><button type="submit" class="knopf">{{ button }}</button></p>
  </form>
  {% endif %}
  {% if other_url %}<p><a href="{{ other_url }}">{{ other_label }}</a></p>{% endif %}
  {% if not valid %}
  <p>Bei Fragen schreiben Sie uns an <a href="mailto:{{ site.contact.email }}">{{ site.contact.email }}</a>.</p>
  {% endif %}
</article>
{% endblock content %}
"#,
    ),
    (
        "forms/bestaetigen.html",
        r#"{% extends "base.html" %}
{% block content %}
<article class="seite formular-ergebnis">
  <h1>{{ page_title }}</h1>
  {% if valid %}
  <p>Bitte bestätigen Sie mit dem Knopf, dass Sie sich angemeldet haben. Erst dann wird Ihre Anmeldung wirksam.</p>
  <form method="post" action="{{ action }}">
    <p><button type="submit" class="knopf">Jetzt bestätigen</button></p>
  </form>
  {% else %}
  <p>Dieser Bestätigungslink ist nicht mehr gültig. Vielleicht haben Sie ihn schon benutzt, oder er ist abgelaufen.</p>
  <p>Sie können sich jederzeit erneut anmelden. Bei Fragen schreiben Sie uns an <a href="mailto:{{ site.contact.email }}">{{ site.contact.email }}</a>.</p>
  {% endif %}
</article>
{% endblock content %}
"#,
    ),
    (
        "forms/abmelden.html",
        r#"{% extends "base.html" %}
{% block content %}
<article class="seite formular-ergebnis">
  <h1>{{ page_title }}</h1>
  {% if done %}
  <p>Sie erhalten unseren Newsletter nicht mehr. Ihre Adresse ist aus dem Verteiler gelöscht.</p>
  {% elif valid %}
  <p>Möchten Sie den Newsletter des KommunalCampus abbestellen?</p>
  <form method="post" action="{{ action }}">
    <p><button type="submit" class="knopf">Newsletter abbestellen</button></p>
  </form>
  {% else %}
  <p>Dieser Link ist nicht gültig. Bitte schreiben Sie uns an <a href="mailto:{{ site.contact.email }}">{{ site.contact.email }}</a>, wir tragen Sie dann aus.</p>
  {% endif %}
</article>
{% endblock content %}
"#,
    ),
    (
        "forms/erneut.html",
        r#"{% extends "base.html" %}
{% block content %}
<article class="seite formular-ergebnis">
  <h1>{{ page_title }}</h1>
  <p>{{ message }}</p>
  <form method="post" action="{{ action }}">
    {% for f in fields %}<input type="hidden" name="{{ f.name }}" value="{{ f.value }}">
    {% endfor %}<input type="hidden" name="ts" value="{{ ts }}">
    <p><button type="submit" class="knopf">Jetzt absenden</button></p>
  </form>
</article>
{% endblock content %}
"#,
    ),
    (
        "forms/rechner.html",
        r#"{% extends "base.html" %}
{% block content %}
<article class="seite">
  <h1>{{ page_title }}</h1>
  {% if quote %}
  <p>Für eine Kommune mit {{ quote.employees_label }} Beschäftigten:</p>
  <dl class="rechner-ergebnis">
    <dt>Geschäftsanteile</dt><dd>{{ quote.shares }}</dd>
    <dt>Einlage (einmalig)</dt><dd>{{ quote.deposit | euro }}</dd>
    <dt>Jahresbeitrag vor Minderung</dt><dd>{{ quote.annual_fee | euro }}</dd>
  </dl>
  <p>Der Jahresbeitrag sinkt um {{ reduction_percent }} % der Buchungen Ihrer Beschäftigten im Vorjahr, höchstens um {{ reduction_max_percent }} %.</p>
  {% else %}
  <p class="fehlermeldung" role="alert">{{ error }}</p>
  {% endif %}
  <form method="get" action="{{ action }}">
    <div class="feld">
      <label for="rechner-beschaeftigte">Zahl der Beschäftigten</label>
      <input type="number" id="rechner-beschaeftigte" name="beschaeftigte" min="1" inputmode="numeric" value="{{ employees }}" required>
    </div>
    <p><button type="submit" class="knopf">Berechnen</button></p>
  </form>
  <p><a href="/mitgliedschaft/">Zurück zur Seite Mitgliedschaft</a></p>
</article>
{% endblock content %}
"#,
    ),
    (
        "forms/meldung.html",
        r#"{% extends "base.html" %}
{% block content %}
<article class="seite formular-ergebnis">
  <h1>{{ page_title }}</h1>
  <p>{{ message }}</p>
  {% if errors %}<ul class="fehlerliste">{% for e in errors %}<li>{{ e }}</li>{% endfor %}</ul>{% endif %}
  <p><a href="{{ back }}">Zurück</a></p>
</article>
{% endblock content %}
"#,
    ),
];

/// A minimal page when the theme cannot render one of ours.
pub fn fallback(title: &str, message: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title><link rel=\"stylesheet\" href=\"/assets/campus.css\"></head>\n<body><main><h1>{t}</h1><p>{m}</p><p><a href=\"/\">Zur Startseite</a></p></main></body></html>\n",
        t = escape(title),
        m = escape(message)
    )
}

/// Makes a rendered form page show the person's input again, where the
/// theme has not done so itself (empty `value`, empty textarea, no selected
/// option, unchecked consent). Only the form posting to `/forms/<form>` is
/// touched, and only fields the form has.
pub fn keep_values(html: String, form: &str, values: &[(String, String)]) -> String {
    let marker = format!("/forms/{form}\"");
    let Some(pos) = html.find(&marker) else {
        return html;
    };
    let Some(start) = html[..pos].rfind("<form") else {
        return html;
    };
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let mut part = html[start..end].to_string();
    for (name, value) in values {
        if value.is_empty() {
            continue;
        }
        let needle = format!("name=\"{name}\"");
        let Some(at) = part.find(&needle) else {
            continue;
        };
        let Some(tag_start) = part[..at].rfind('<') else {
            continue;
        };
        let Some(tag_len) = part[tag_start..].find('>') else {
            continue;
        };
        let tag_end = tag_start + tag_len;
        let tag = part[tag_start..tag_end].to_string();
        if tag.starts_with("<input") {
            if tag.contains("type=\"checkbox\"") {
                if tag.contains(&format!("value=\"{}\"", escape(value)))
                    && !tag.contains(" checked")
                {
                    part.insert_str(tag_end, " checked");
                }
            } else if tag.contains("value=\"\"") {
                let new = tag.replacen("value=\"\"", &format!("value=\"{}\"", escape(value)), 1);
                part.replace_range(tag_start..tag_end, &new);
            } else if !tag.contains(" value=") {
                part.insert_str(at + needle.len(), &format!(" value=\"{}\"", escape(value)));
            }
        } else if tag.starts_with("<textarea") {
            if part[tag_end + 1..].starts_with("</textarea>") {
                part.insert_str(tag_end + 1, &escape(value));
            }
        } else if tag.starts_with("<select") {
            let close = part[tag_end..]
                .find("</select>")
                .map_or(part.len(), |c| tag_end + c);
            if !part[tag_end..close].contains(" selected") {
                let option = format!("<option value=\"{}\"", escape(value));
                if let Some(o) = part[tag_end..close].find(&option) {
                    part.insert_str(tag_end + o + option.len(), " selected");
                }
            }
        }
    }
    let mut out = html[..start].to_string();
    out.push_str(&part);
    out.push_str(&html[end..]);
    out
}

/// Puts a list of the errors above the form when the theme does not show
/// them itself, and fills the form's empty `ts` field with a fresh token.
pub fn annotate_form_page(
    html: String,
    form: &str,
    errors: &[(String, String)],
    ts: &str,
) -> String {
    let mut html = html.replacen(
        "name=\"ts\" value=\"\"",
        &format!("name=\"ts\" value=\"{}\"", escape(ts)),
        1,
    );
    let shown = errors.iter().any(|(_, m)| html.contains(&escape(m)));
    if shown {
        return html;
    }
    let mut list = String::from(
        "<div class=\"fehler-zusammenfassung\" role=\"alert\" tabindex=\"-1\">\n<h2>Bitte prüfen Sie Ihre Angaben</h2>\n<ul>\n",
    );
    for (field, message) in errors {
        list.push_str(&format!(
            "<li><a href=\"#{form}-{field}\">{}</a></li>\n",
            escape(message)
        ));
    }
    list.push_str("</ul>\n</div>\n");
    let marker = format!("/forms/{form}\"");
    if let Some(pos) = html.find(&marker) {
        if let Some(start) = html[..pos].rfind("<form") {
            html.insert_str(start, &list);
            return html;
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_in_the_right_form_only() {
        let html = r#"<form action="/forms/newsletter"><input type="email" name="email"></form>
<form action="/forms/kontakt"><input type="text" id="k-name" name="name">
<textarea id="k-n" name="nachricht" rows="6"></textarea>
<select name="kommune"><option value="">Bitte</option><option value="a">A</option></select>
<input type="checkbox" name="einwilligung" value="ja" required>
<input type="text" name="website" value=""></form>"#;
        let values = vec![
            ("name".to_string(), "Eva \"E\" <x>".to_string()),
            ("nachricht".to_string(), "Hallo & tschüss".to_string()),
            ("kommune".to_string(), "a".to_string()),
            ("einwilligung".to_string(), "ja".to_string()),
            ("email".to_string(), "e@x.de".to_string()),
        ];
        let out = keep_values(html.to_string(), "kontakt", &values);
        assert!(
            out.contains(r#"name="name" value="Eva &quot;E&quot; &lt;x&gt;""#),
            "{out}"
        );
        assert!(out.contains(">Hallo &amp; tschüss</textarea>"));
        assert!(out.contains(r#"<option value="a" selected>"#));
        assert!(out.contains(r#"value="ja" required checked>"#));
        assert!(
            out.contains(r#"<input type="email" name="email">"#),
            "other form untouched"
        );
        assert!(out.contains(r#"name="website" value="""#));
    }
}
