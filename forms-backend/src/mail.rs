//! Composing German mails (plain text plus HTML in the site's colours) into
//! outbox rows. A message is formatted once, with a stable Message-ID, and
//! every delivery attempt sends exactly these bytes.

use crate::sign::{hex, random_bytes};
use crate::store::OutgoingMail;
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::Message;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("ungültige Adresse: {0}")]
    Address(String),
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
    /// Paragraphs of plain text; blank lines separate them.
    pub paragraphs: Vec<String>,
    /// An optional call to action: (button text, absolute URL).
    pub action: Option<(String, String)>,
    /// One-click unsubscribe URL (newsletter mails, RFC 8058).
    pub unsubscribe: Option<String>,
}

/// A file attached to a mail (e.g. the `.ics` of a live date).
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub filename: String,
    /// Full MIME type, e.g. `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Sender and site data every mail needs.
#[derive(Debug, Clone)]
pub struct Letterhead {
    pub sender: String,
    pub site_name: String,
    pub base_url: String,
    pub organisation: String,
    pub address_lines: Vec<String>,
}

impl Letterhead {
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
            .date_now();
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
        let body = MultiPart::alternative_plain_html(self.text(draft), self.html(draft));
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

    fn text(&self, draft: &Draft) -> String {
        let mut t = String::new();
        for p in &draft.paragraphs {
            t.push_str(p);
            t.push_str("\n\n");
        }
        if let Some((label, url)) = &draft.action {
            t.push_str(&format!("{label}:\n{url}\n\n"));
        }
        t.push_str(&format!(
            "Mit freundlichen Grüßen\nIhre {}\n\n-- \n{}\n",
            self.organisation, self.organisation
        ));
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
        for p in &draft.paragraphs {
            body.push_str(&format!(
                "<p style=\"margin:0 0 1em\">{}</p>\n",
                escape(p).replace('\n', "<br>")
            ));
        }
        if let Some((label, url)) = &draft.action {
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
            "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"><title>{subject}</title></head>\n<body style=\"margin:0;padding:0;background:#f4f6f8\">\n<div style=\"max-width:40em;margin:0 auto;background:#ffffff;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a\">\n<div style=\"background:#004f80;color:#ffffff;padding:1em 1.5em;font-size:1.25em;font-weight:bold\">{site}</div>\n<div style=\"padding:1.5em\">\n{body}<p style=\"margin:0 0 1em\">Mit freundlichen Grüßen<br>Ihre {org}</p>\n</div>\n<div style=\"padding:1em 1.5em;border-top:1px solid #d0d7de;font-size:.85em;color:#333333\">{org}<br>{footer}<br><a href=\"{base}\" style=\"color:#333333\">{base}</a>{unsubscribe}</div>\n</div>\n</body></html>\n",
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

    fn head() -> Letterhead {
        Letterhead {
            sender: "KommunalCampus <noreply@kommunalcampus.example>".into(),
            site_name: "KommunalCampus".into(),
            base_url: "https://kc.example".into(),
            organisation: "KommunalCampus eG".into(),
            address_lines: vec!["Musterallee 12".into()],
        }
    }

    #[test]
    fn newsletter_mail_has_one_click_headers_and_both_parts() {
        let draft = Draft {
            kind: "newsletter-willkommen",
            to_address: "a@b.de".into(),
            to_name: "Änne Müller".into(),
            reply_to: None,
            subject: "Willkommen beim Newsletter".into(),
            paragraphs: vec!["Hallo <Welt>".into()],
            action: None,
            unsubscribe: Some("https://kc.example/forms/newsletter/abmelden/x.y".into()),
        };
        let mail = head().compose(&draft, None).unwrap();
        let raw = String::from_utf8(mail.raw).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <https://kc.example/forms/newsletter/abmelden/x.y>")
        );
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("text/plain"));
        assert!(raw.contains("text/html"));
        assert!(raw.contains(&format!("Message-ID: {}", mail.message_id)));
        assert_eq!(mail.recipient, "a@b.de");
    }
}
