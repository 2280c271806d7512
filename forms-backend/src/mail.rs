//! Composing German mails (plain text plus HTML in the site's colours) into
//! outbox rows. The texts come from the theme's `mail/<kind>.txt` (or the
//! site's own template of that name): code passes only data. A message is
//! formatted once, with a stable Message-ID, and every delivery attempt
//! sends exactly these bytes.

use crate::sign::{hex, random_bytes};
use crate::store::OutgoingMail;
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::Message;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::pages::Pages;
use campus_generator::time;
use campus_generator::typography::keep_together;

/// A Tera error with its causes (the cause names the missing variable).
fn error_chain(e: &tera::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("ungültige Adresse: {0}")]
    Address(String),
    #[error("Mail-Vorlage {template}: {message}")]
    Template { template: String, message: String },
    #[error("Mail: {0}")]
    Build(#[from] lettre::error::Error),
}

/// One mail to write into the outbox.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: &'static str,
    pub to_address: String,
    /// Display name of the recipient; validated single-line text.
    pub to_name: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub blocks: Vec<Block>,
    /// One-click unsubscribe URL (newsletter mails, RFC 8058).
    pub unsubscribe: Option<String>,
}

/// One part of a mail's text, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph; single line breaks stay.
    Text(String),
    /// A call to action: a button in HTML, "label:\nurl" in plain text.
    Button { label: String, url: String },
}

/// Subject and text of a mail as its template wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailText {
    pub subject: String,
    pub blocks: Vec<Block>,
}

/// Reads a rendered mail template: the first line is `Betreff: ...`, then
/// paragraphs separated by blank lines; a paragraph that is only
/// `[Text](https://...)` becomes a button.
pub fn parse_mail_text(text: &str) -> Result<MailText, String> {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let first = lines.next().unwrap_or("").trim();
    let subject = first
        .strip_prefix("Betreff:")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("Die erste Zeile muss „Betreff: …“ sein, nicht „{first}“."))?
        .to_string();
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    for line in lines.chain(std::iter::once("")) {
        if !line.trim().is_empty() {
            paragraph.push(line.trim_end());
            continue;
        }
        if paragraph.is_empty() {
            continue;
        }
        let text = paragraph.join("\n");
        paragraph.clear();
        let button = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(')'))
            .and_then(|t| t.split_once("]("))
            .filter(|(label, url)| !label.contains('\n') && !url.contains(char::is_whitespace));
        blocks.push(match button {
            Some((label, url)) => Block::Button {
                label: label.to_string(),
                url: url.to_string(),
            },
            None => Block::Text(text),
        });
    }
    if blocks.is_empty() {
        return Err("Die Mail hat keinen Text.".into());
    }
    Ok(MailText { subject, blocks })
}

/// A file attached to a mail (e.g. the `.ics` of a live date).
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub filename: String,
    /// Full MIME type, e.g. `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Sender and site data every mail needs, and the templates of its texts.
#[derive(Debug, Clone)]
pub struct Letterhead {
    pub sender: String,
    pub site_name: String,
    pub base_url: String,
    pub organisation: String,
    pub address_lines: Vec<String>,
    pub texts: Arc<Pages>,
}

impl Letterhead {
    /// Renders `mail/<kind>.txt` with `values` into subject and text.
    pub fn text(&self, kind: &str, values: Value) -> Result<MailText, ComposeError> {
        let template = format!("mail/{kind}.txt");
        let text = self.render(&template, values)?;
        parse_mail_text(&text).map_err(|message| ComposeError::Template { template, message })
    }

    /// Renders a mail template with `values` plus what every mail template
    /// gets: `organisation`, `site_name`, `base_url`, `live_start`, `live_end`.
    pub fn render(&self, template: &str, values: Value) -> Result<String, ComposeError> {
        let mut values = match values {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        for (key, value) in [
            ("organisation", json!(self.organisation)),
            ("site_name", json!(self.site_name)),
            ("base_url", json!(self.base_url)),
            ("live_start", json!(time::live_start_text())),
            ("live_end", json!(time::live_end_text())),
        ] {
            values.entry(key).or_insert(value);
        }
        self.texts
            .part(template, Value::Object(values))
            .map_err(|e| ComposeError::Template {
                template: template.to_string(),
                message: error_chain(&e),
            })
    }

    /// A mail of `kind` to one person, its text from the template.
    pub fn draft(
        &self,
        kind: &'static str,
        to_address: &str,
        to_name: &str,
        values: Value,
    ) -> Result<Draft, ComposeError> {
        let MailText { subject, blocks } = self.text(kind, values)?;
        Ok(Draft {
            kind,
            to_address: to_address.to_string(),
            to_name: to_name.to_string(),
            reply_to: None,
            subject,
            blocks,
            unsubscribe: None,
        })
    }

    fn sender(&self) -> Result<Mailbox, ComposeError> {
        self.sender
            .parse()
            .map_err(|_| ComposeError::Address(self.sender.clone()))
    }

    /// Formats `draft` into an outbox row.
    pub fn compose(
        &self,
        draft: &Draft,
        submission_id: Option<i64>,
    ) -> Result<OutgoingMail, ComposeError> {
        self.compose_with(draft, submission_id, &[])
    }

    /// Like [`Letterhead::compose`], with files attached (multipart/mixed).
    pub fn compose_with(
        &self,
        draft: &Draft,
        submission_id: Option<i64>,
        attachments: &[FileAttachment],
    ) -> Result<OutgoingMail, ComposeError> {
        let from = self.sender()?;
        let address: lettre::Address = draft
            .to_address
            .parse()
            .map_err(|_| ComposeError::Address(draft.to_address.clone()))?;
        let name = (!draft.to_name.is_empty()).then(|| draft.to_name.clone());
        let to = Mailbox::new(name, address.clone());
        let message_id = format!("<{}@{}>", hex(&random_bytes()[..16]), from.email.domain());
        let mut builder = Message::builder()
            .message_id(Some(message_id.clone()))
            .from(from.clone())
            .to(to)
            .subject(draft.subject.clone())
            .date_now()
            // Every mail of the backend follows an event, none is typed by a
            // person (RFC 3834): out-of-office replies stay away.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        if let Some(reply) = &draft.reply_to {
            let reply: lettre::Address = reply
                .parse()
                .map_err(|_| ComposeError::Address(reply.clone()))?;
            builder = builder.reply_to(Mailbox::new(None, reply));
        }
        if let Some(url) = &draft.unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let body = MultiPart::alternative_plain_html(self.plain(draft), self.html(draft));
        let message = if attachments.is_empty() {
            builder.multipart(body)?
        } else {
            let mut mixed = MultiPart::mixed().multipart(body);
            for a in attachments {
                let content_type = ContentType::parse(&a.content_type)
                    .map_err(|_| ComposeError::Address(a.content_type.clone()))?;
                mixed = mixed.singlepart(
                    Attachment::new(a.filename.clone()).body(a.body.clone(), content_type),
                );
            }
            builder.multipart(mixed)?
        };
        Ok(OutgoingMail {
            message_id,
            kind: draft.kind.to_string(),
            envelope_from: from.email.to_string(),
            recipient: address.to_string(),
            raw: message.formatted(),
            submission_id,
        })
    }

    fn plain(&self, draft: &Draft) -> String {
        let mut t = String::new();
        for block in &draft.blocks {
            match block {
                Block::Text(p) => t.push_str(&format!("{p}\n\n")),
                Block::Button { label, url } => t.push_str(&format!("{label}:\n{url}\n\n")),
            }
        }
        t.push_str(&format!("-- \n{}\n", self.organisation));
        for l in &self.address_lines {
            t.push_str(l);
            t.push('\n');
        }
        t.push_str(&self.base_url);
        t.push('\n');
        if let Some(url) = &draft.unsubscribe {
            t.push_str(&format!("\nNewsletter abbestellen: {url}\n"));
        }
        t
    }

    fn html(&self, draft: &Draft) -> String {
        let mut body = String::new();
        for block in &draft.blocks {
            let (label, url) = match block {
                Block::Text(p) => {
                    body.push_str(&format!(
                        "<p style=\"margin:0 0 1em\">{}</p>\n",
                        escape(&keep_together(p)).replace('\n', "<br>")
                    ));
                    continue;
                }
                Block::Button { label, url } => (label, url),
            };
            body.push_str(&format!(
                "<p style=\"margin:1.5em 0\"><a href=\"{u}\" style=\"display:inline-block;background:#004f80;color:#ffffff;padding:.75em 1.25em;border-radius:4px;text-decoration:none;font-weight:bold\">{l}</a></p>\n<p style=\"margin:0 0 1em;font-size:.9em\">Falls der Knopf nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:<br>{u}</p>\n",
                u = escape(url),
                l = escape(label)
            ));
        }
        let footer = self
            .address_lines
            .iter()
            .map(|l| escape(l))
            .collect::<Vec<_>>()
            .join("<br>");
        let unsubscribe = draft.unsubscribe.as_ref().map_or(String::new(), |u| {
            format!(
                "<br><a href=\"{}\" style=\"color:#333333\">Newsletter abbestellen</a>",
                escape(u)
            )
        });
        format!(
            "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"><title>{subject}</title></head>\n<body style=\"margin:0;padding:0;background:#f4f6f8\">\n<div style=\"max-width:40em;margin:0 auto;background:#ffffff;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a\">\n<div style=\"background:#004f80;color:#ffffff;padding:1em 1.5em;font-size:1.25em;font-weight:bold\">{site}</div>\n<div style=\"padding:1.5em\">\n{body}</div>\n<div style=\"padding:1em 1.5em;border-top:1px solid #d0d7de;font-size:.85em;color:#333333\">{org}<br>{footer}<br><a href=\"{base}\" style=\"color:#333333\">{base}</a>{unsubscribe}</div>\n</div>\n</body></html>\n",
            subject = escape(&draft.subject),
            site = escape(&self.site_name),
            org = escape(&self.organisation),
            base = escape(&self.base_url),
        )
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_text_has_a_subject_paragraphs_and_buttons() {
        let text = "\n\nBetreff: Bitte bestätigen Sie\n\nGuten Tag Eva,\n\nerste Zeile   \nzweite Zeile\n\n\n[Jetzt bestätigen](https://kc.example/forms/bestaetigen/x)\n\n[kein](Knopf mit Leerzeichen)\n";
        let mail = parse_mail_text(text).unwrap();
        assert_eq!(mail.subject, "Bitte bestätigen Sie");
        assert_eq!(
            mail.blocks,
            vec![
                Block::Text("Guten Tag Eva,".into()),
                Block::Text("erste Zeile\nzweite Zeile".into()),
                Block::Button {
                    label: "Jetzt bestätigen".into(),
                    url: "https://kc.example/forms/bestaetigen/x".into()
                },
                Block::Text("[kein](Knopf mit Leerzeichen)".into()),
            ]
        );
        let err = parse_mail_text("Bitte bestätigen\n\nText").unwrap_err();
        assert!(err.contains("Betreff"), "{err}");
        assert!(parse_mail_text("Betreff: Nur Betreff\n").is_err());
    }
}
