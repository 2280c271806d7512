//! Step 3–4 of a request: what a valid form causes. Each function runs one
//! `BEGIN IMMEDIATE` transaction that stores the submission, the consent,
//! one-time tokens and the outbox mail together — all or nothing — and
//! returns only after the commit.
//!
//! Answers never depend on whether an address is already known: a known
//! address gets a different *mail*, never a different HTTP answer.

use crate::mail::{Draft, Letterhead};
use crate::sign::{random_token, token_hash, Purpose, Signer};
use crate::store::{params, NewConsent, NewSubmission, OptionalExtension, Store, StoreError, Tx};
use crate::validate::{Contact, NewsletterSignup, Registration};
use campus_generator::urls;
use serde_json::json;
use std::time::Duration;

/// Version of the consent text on the forms (stored with each consent).
pub const CONSENT_VERSION: &str = "datenschutz-2026-11";

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Compose(#[from] crate::mail::ComposeError),
    /// A booking was not in the state a step found it in moments before.
    #[error(transparent)]
    Move(#[from] crate::store::MoveError),
    /// A request that content no longer allows (e.g. the unit was removed).
    #[error("{0}")]
    Invalid(String),
}

/// Everything a workflow step needs besides the form.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub letterhead: &'a Letterhead,
    pub signer: &'a Signer,
    /// Base URL of the backend for links in mails (no trailing slash).
    pub backend_url: &'a str,
    pub office: &'a str,
    pub confirm_valid: Duration,
    pub per_recipient_per_hour: u32,
    pub ip_hash: &'a str,
    pub now: i64,
}

impl Ctx<'_> {
    /// Queues `draft` unless its recipient already got too many mails this
    /// hour (nobody can bomb a victim's mailbox through our forms).
    pub(crate) fn queue(
        &self,
        tx: &Tx,
        draft: &Draft,
        submission: Option<i64>,
    ) -> Result<bool, WorkflowError> {
        if tx.mails_to_since(&draft.to_address, self.now - 3600)? >= self.per_recipient_per_hour {
            tracing::warn!(
                kind = draft.kind,
                "Empfänger-Limit erreicht, Mail nicht eingereiht"
            );
            return Ok(false);
        }
        let mail = self.letterhead.compose(draft, submission)?;
        tx.enqueue(&mail, self.now)?;
        Ok(true)
    }

    pub(crate) fn confirm_token(
        &self,
        tx: &Tx,
        consent: i64,
        submission: i64,
    ) -> Result<String, WorkflowError> {
        let token = random_token();
        tx.insert_token(
            &token_hash(&token),
            Purpose::Confirm,
            Some(consent),
            Some(submission),
            self.now,
            self.now + self.confirm_valid.as_secs() as i64,
        )?;
        Ok(format!("{}{}", self.backend_url, urls::confirm(&token)))
    }

    fn hours_valid(&self) -> u64 {
        self.confirm_valid.as_secs() / 3600
    }

    pub fn unsubscribe_url(&self, email: &str) -> String {
        unsubscribe_url(self.signer, self.backend_url, email)
    }
}

pub fn unsubscribe_url(signer: &Signer, backend_url: &str, email: &str) -> String {
    let token = signer.sign(Purpose::Unsubscribe, email);
    format!("{backend_url}{}", urls::unsubscribe(&token))
}

fn submission<'a>(
    form: &'a str,
    payload: &'a serde_json::Value,
    email: &'a str,
    status: &'a str,
    ctx: &'a Ctx,
) -> NewSubmission<'a> {
    NewSubmission {
        form,
        payload,
        email: Some(email),
        status,
        ip_hash: ctx.ip_hash,
        now: ctx.now,
    }
}

fn consent<'a>(
    submission_id: i64,
    email: &'a str,
    purpose: &'a str,
    ctx: &'a Ctx,
) -> NewConsent<'a> {
    NewConsent {
        submission_id: Some(submission_id),
        email,
        purpose,
        text_version: CONSENT_VERSION,
        ip_hash: ctx.ip_hash,
        now: ctx.now,
    }
}

pub fn register(ctx: &Ctx, r: &Registration) -> Result<(), WorkflowError> {
    ctx.store.write(|tx| register_in(ctx, tx, r))
}

/// The writes of [`register`] inside a transaction the caller commits
/// (the group commit of [`crate::intake`]).
pub fn register_in(ctx: &Ctx, tx: &Tx, r: &Registration) -> Result<(), WorkflowError> {
    if tx.has_confirmed("registrierung", &r.email)? {
        let draft = ctx.letterhead.draft(
            "registrierung-bekannt",
            &r.email,
            &r.name,
            json!({ "name": r.name }),
        )?;
        ctx.queue(tx, &draft, None)?;
        return Ok(());
    }
    let payload = json!(r);
    let id = tx.insert_submission(&submission(
        "registrierung",
        &payload,
        &r.email,
        "unbestaetigt",
        ctx,
    ))?;
    let consent_id = tx.insert_consent(&consent(id, &r.email, "registrierung", ctx))?;
    let link = ctx.confirm_token(tx, consent_id, id)?;
    let draft = ctx.letterhead.draft(
        "registrierung-bestaetigen",
        &r.email,
        &r.name,
        json!({ "name": r.name, "link": link, "hours": ctx.hours_valid() }),
    )?;
    ctx.queue(tx, &draft, Some(id))?;
    Ok(())
}

pub fn contact(ctx: &Ctx, c: &Contact) -> Result<(), WorkflowError> {
    ctx.store.write(|tx| contact_in(ctx, tx, c))
}

/// The writes of [`contact`] inside a transaction the caller commits
/// (the group commit of [`crate::intake`]).
pub fn contact_in(ctx: &Ctx, tx: &Tx, c: &Contact) -> Result<(), WorkflowError> {
    let payload = json!(c);
    let id = tx.insert_submission(&submission(
        "kontakt",
        &payload,
        &c.email,
        "eingegangen",
        ctx,
    ))?;
    // No double opt-in for a contact request: consent is given with the post.
    tx.insert_confirmed_consent(&consent(id, &c.email, "kontakt", ctx), "Formular")?;
    let termine: Vec<String> = c.termine.iter().map(|t| format_termin(t)).collect();
    let mut draft = ctx.letterhead.draft(
        "kontakt-geschaeftsstelle",
        ctx.office,
        "",
        json!({ "contact": {
            "id": id, "name": c.name, "organisation": c.organisation, "email": c.email,
            "infogespraech": c.anliegen == crate::validate::ContactTopic::InfoCall,
            "telefon": c.telefon, "termine": termine, "nachricht": c.nachricht,
        } }),
    )?;
    draft.reply_to = Some(c.email.clone());
    // The office address is not limited per recipient; the per-IP
    // limit protects it.
    let mail = ctx.letterhead.compose(&draft, Some(id))?;
    tx.enqueue(&mail, ctx.now)?;
    Ok(())
}

pub fn newsletter(ctx: &Ctx, n: &NewsletterSignup) -> Result<(), WorkflowError> {
    ctx.store.write(|tx| newsletter_in(ctx, tx, n))
}

/// The writes of [`newsletter`] inside a transaction the caller commits
/// (the group commit of [`crate::intake`]).
pub fn newsletter_in(ctx: &Ctx, tx: &Tx, n: &NewsletterSignup) -> Result<(), WorkflowError> {
    if tx.subscriber_status(&n.email)?.as_deref() == Some("aktiv") {
        let mut draft = ctx.letterhead.draft(
            "newsletter-bekannt",
            &n.email,
            &n.name,
            json!({ "name": n.name }),
        )?;
        draft.unsubscribe = Some(ctx.unsubscribe_url(&n.email));

        ctx.queue(tx, &draft, None)?;
        return Ok(());
    }
    let payload = json!(n);
    let id = tx.insert_submission(&submission(
        "newsletter",
        &payload,
        &n.email,
        "unbestaetigt",
        ctx,
    ))?;
    let consent_id = tx.insert_consent(&consent(id, &n.email, "newsletter", ctx))?;
    tx.upsert_pending_subscriber(&n.email, &n.name, consent_id, ctx.now)?;
    let link = ctx.confirm_token(tx, consent_id, id)?;
    let draft = ctx.letterhead.draft(
        "newsletter-bestaetigen",
        &n.email,
        &n.name,
        json!({ "name": n.name, "link": link, "hours": ctx.hours_valid() }),
    )?;
    ctx.queue(tx, &draft, Some(id))?;
    Ok(())
}

/// The form behind a confirmation link that can still be used (`registrierung`,
/// `newsletter`, `mitgliedsantrag`, …; empty for a link of no form), so its
/// page can say what is confirmed; `None` for a used or expired link.
pub fn confirmation_form(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    store.read(|tx| {
        let Some(row) = tx.find_token(&token_hash(token), now)? else {
            return Ok(None);
        };
        let Some(submission) = row.submission_id else {
            return Ok(Some(String::new()));
        };
        let form: Option<String> = tx
            .query_row(
                "SELECT form FROM submissions WHERE id = ?1",
                params![submission],
                |r| r.get(0),
            )
            .optional()?;
        Ok(Some(form.unwrap_or_default()))
    })
}

/// Uses a confirmation token: records the confirmation with the confirming
/// request and queues the welcome mail. False if the link is not valid.
pub fn confirm(ctx: &Ctx, token: &str, user_agent: &str) -> Result<bool, WorkflowError> {
    ctx.store.write(|tx| {
        let Some(row) = tx.use_token(&token_hash(token), ctx.now)? else {
            return Ok(false);
        };
        if row.purpose != Purpose::Confirm {
            return Ok(false);
        }
        let Some(consent_id) = row.consent_id else {
            return Ok(false);
        };
        let ua: String = user_agent
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        let Some(consent) = tx.confirm_consent(consent_id, ctx.now, ctx.ip_hash, &ua)? else {
            return Ok(false);
        };
        if let Some(id) = row.submission_id {
            tx.confirm_submission(id, ctx.now)?;
        }
        let draft = match consent.purpose.as_str() {
            crate::membership::FORM => {
                // An application enters the office's list once; a second
                // use of an (unexpired) link sends nothing more.
                let draft = match row.submission_id {
                    Some(id) => crate::membership::confirmed(ctx, tx, id)?,
                    None => None,
                };
                let Some(draft) = draft else {
                    return Ok(true);
                };
                draft
            }
            "newsletter" => {
                tx.activate_subscriber(&consent.email, ctx.now)?;
                let mut draft =
                    ctx.letterhead
                        .draft("newsletter-willkommen", &consent.email, "", json!({}))?;
                draft.unsubscribe = Some(ctx.unsubscribe_url(&consent.email));
                draft
            }
            _ => ctx.letterhead.draft(
                "registrierung-willkommen",
                &consent.email,
                "",
                json!({ "link": format!("{}{}", ctx.letterhead.base_url, urls::CATALOG) }),
            )?,
        };
        let mail = ctx.letterhead.compose(&draft, row.submission_id)?;
        tx.enqueue(&mail, ctx.now)?;
        Ok(true)
    })
}

/// Removes the address behind a signed unsubscribe token. The answer is the
/// same whether or not it was subscribed; false only for a forged token.
pub fn unsubscribe(
    store: &Store,
    signer: &Signer,
    token: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(email) = signer.verify(Purpose::Unsubscribe, token) else {
        return Ok(false);
    };
    store.write(|tx| tx.unsubscribe(&email, now))?;
    Ok(true)
}

/// "Mittwoch, 10. Februar 2027, 10:00 Uhr" of a proposed date (`YYYY-MM-DDTHH:MM`, local time).
pub(crate) fn format_termin(iso: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(iso, "%Y-%m-%dT%H:%M")
        .map(|t| {
            format!(
                "{}, {} Uhr",
                campus_generator::time::german_long_date(t.date()),
                t.format("%H:%M")
            )
        })
        .unwrap_or_else(|_| iso.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Table;

    #[test]
    fn a_bad_address_is_a_mail_error_and_nothing_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("x.db")).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let sample_site = campus_generator::model::load(&root).unwrap();
        let letterhead = Letterhead {
            sender: "KommunalCampus <keine adresse>".into(),
            site_name: "KommunalCampus".into(),
            base_url: "https://campus.example".into(),
            organisation: String::new(),
            address_lines: Vec::new(),
            texts: std::sync::Arc::new(
                crate::pages::Pages::new(std::sync::Arc::new(sample_site)).unwrap(),
            ),
        };
        let signer = Signer::from_text("k");
        let ctx = Ctx {
            store: &store,
            letterhead: &letterhead,
            signer: &signer,
            backend_url: "https://campus.example",
            office: "office@campus.example",
            confirm_valid: Duration::from_secs(3600),
            per_recipient_per_hour: 10,
            ip_hash: "h",
            now: 1_000,
        };
        let r = register(
            &ctx,
            &Registration {
                name: "Eva Muster".into(),
                email: "eva@gemeinde.example".into(),
                kommune: "andere".into(),
                organisation: "Zweckverband Test".into(),
            },
        );
        let e = r.unwrap_err();
        assert!(
            matches!(
                &e,
                WorkflowError::Compose(crate::mail::ComposeError::Address(_))
            ),
            "{e:?}"
        );
        assert!(!e.to_string().contains("Datenbank"), "{e}");
        // The web error keeps it as its source; the log line names the cause once.
        let logged = crate::web::error_chain(&crate::web::AppError::from(e));
        assert_eq!(
            logged,
            "interner Fehler: ungültige Adresse: KommunalCampus <keine adresse>"
        );
        // The submission and its consent written before the mail went with it.
        assert_eq!(store.count(Table::Submissions).unwrap(), 0);
        assert_eq!(store.count(Table::Consents).unwrap(), 0);
    }
}
