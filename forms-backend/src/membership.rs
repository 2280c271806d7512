//! The membership application (issue 17): an authority applies with the
//! form on `/forms/mitgliedsantrag` (figures from the same
//! [`Membership`] rules as the calculator and the share table), its contact
//! person confirms the address (double opt-in), and the office moves the
//! application through board approval, deposit and membership in the
//! back-office (`verwaltung/membership.rs`), each step with a mail. At the
//! end `draft` writes the content file of the new authority's landing page.
//!
//! Layout: here the states, the steps and the workflow writes; `form` the
//! fields, their validation and the public pages; `draft` the content file.

use crate::mail::Letterhead;
use crate::store::{ApplicationRow, NewConsent, NewSubmission, Store, Tx};
use crate::workflow::{Ctx, WorkflowError, CONSENT_VERSION};
use campus_generator::model::Membership;
use campus_generator::money::group_thousands;
use serde_json::{json, Value};

pub mod draft;
pub mod form;

pub use form::{routes, Application};

/// Name of the form's submissions and consents.
pub const FORM: &str = "mitgliedsantrag";

crate::stored::stored_enum! {
    /// Where an application stands (`membership_applications.state`).
    pub enum ApplicationState ("ein Stand eines Mitgliedsantrags") {
        Received = "eingegangen",
        BoardApproved = "vorstand-zugestimmt",
        DepositReceived = "einlage-eingegangen",
        Member = "mitglied",
        Rejected = "abgelehnt",
    }
}

impl ApplicationState {
    pub fn label(self) -> &'static str {
        match self {
            ApplicationState::Received => "Eingegangen",
            ApplicationState::BoardApproved => "Vorstand hat zugestimmt",
            ApplicationState::DepositReceived => "Einlage eingegangen",
            ApplicationState::Member => "Mitglied",
            ApplicationState::Rejected => "Abgelehnt",
        }
    }

    /// The steps the office can take from here.
    pub fn steps(self) -> &'static [Step] {
        match self {
            ApplicationState::Received => &[Step::BoardApproval, Step::Reject],
            ApplicationState::BoardApproved => &[Step::Deposit, Step::Reject],
            ApplicationState::DepositReceived => &[Step::Admit],
            ApplicationState::Member | ApplicationState::Rejected => &[],
        }
    }
}

/// One move of the office; each sends its own mail to the contact person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    BoardApproval,
    Deposit,
    Admit,
    Reject,
}

impl Step {
    pub const ALL: [Step; 4] = [
        Step::BoardApproval,
        Step::Deposit,
        Step::Admit,
        Step::Reject,
    ];

    /// The last segment of the step's back-office address.
    pub fn path(self) -> &'static str {
        match self {
            Step::BoardApproval => "vorstand",
            Step::Deposit => "einlage",
            Step::Admit => "mitglied",
            Step::Reject => "ablehnen",
        }
    }

    pub fn from_path(path: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.path() == path)
    }

    pub fn to(self) -> ApplicationState {
        match self {
            Step::BoardApproval => ApplicationState::BoardApproved,
            Step::Deposit => ApplicationState::DepositReceived,
            Step::Admit => ApplicationState::Member,
            Step::Reject => ApplicationState::Rejected,
        }
    }

    /// The button's text in the back-office.
    pub fn label(self) -> &'static str {
        match self {
            Step::BoardApproval => "Vorstand hat zugestimmt",
            Step::Deposit => "Einlage ist eingegangen",
            Step::Admit => "Als Mitglied aufnehmen",
            Step::Reject => "Antrag ablehnen",
        }
    }

    /// The mail to the contact person (`templates/mail/<kind>.txt`).
    pub fn mail(self) -> &'static str {
        match self {
            Step::BoardApproval => "mitgliedsantrag-vorstand",
            Step::Deposit => "mitgliedsantrag-einlage",
            Step::Admit => "mitgliedsantrag-mitglied",
            Step::Reject => "mitgliedsantrag-abgelehnt",
        }
    }
}

/// Shares, deposit and yearly fee of `employees` as pages and mails show
/// them (cents for the `euro` filter, "1.500" for the number).
pub fn figures(m: &Membership, employees: u32) -> Value {
    let q = m.quote(employees);
    json!({
        "employees": employees,
        "employees_label": group_thousands(employees.into()),
        "shares": q.shares,
        "deposit": q.deposit.0,
        "annual_fee": q.annual_fee.0,
    })
}

/// The application number people and the office quote.
pub fn number(id: i64) -> String {
    format!("M-{id}")
}

/// Stores a valid application unconfirmed and asks its contact person to
/// confirm the address; the office sees it only after that.
pub fn submit(ctx: &Ctx, a: &Application) -> Result<(), WorkflowError> {
    ctx.store.write(|tx| {
        let payload = json!(a);
        let id = tx.insert_submission(&NewSubmission {
            form: FORM,
            payload: &payload,
            email: Some(&a.contact_email),
            status: "unbestaetigt",
            ip_hash: ctx.ip_hash,
            now: ctx.now,
        })?;
        let consent = tx.insert_consent(&NewConsent {
            submission_id: Some(id),
            email: &a.contact_email,
            purpose: FORM,
            text_version: CONSENT_VERSION,
            ip_hash: ctx.ip_hash,
            now: ctx.now,
        })?;
        let link = ctx.confirm_token(tx, consent, id)?;
        let draft = ctx.letterhead.draft(
            "mitgliedsantrag-bestaetigen",
            &a.contact_email,
            &a.contact_name,
            json!({ "application": a, "link": link, "hours": ctx.confirm_valid.as_secs() / 3600 }),
        )?;
        ctx.queue(tx, &draft, Some(id))?;
        Ok(())
    })
}

/// After the contact person confirmed the address: the application enters
/// the office's list (once, however often the link is used), the office
/// gets a notice, and the returned mail tells the contact person.
pub(crate) fn confirmed(
    ctx: &Ctx,
    tx: &Tx,
    submission_id: i64,
) -> Result<Option<crate::mail::Draft>, WorkflowError> {
    let Some(payload) = tx.submission_payload(submission_id)? else {
        return Ok(None);
    };
    let Some(id) = tx.insert_membership_application(submission_id, &payload, ctx.now)? else {
        return Ok(None);
    };
    let a: Application = serde_json::from_value(payload)
        .map_err(|e| WorkflowError::Invalid(format!("Mitgliedsantrag {id}: {e}")))?;
    let values = json!({
        "application": a, "number": number(id),
        "link": format!("{}/verwaltung/mitgliedsantraege/{id}", ctx.backend_url),
    });
    let office = ctx.letterhead.draft(
        "mitgliedsantrag-geschaeftsstelle",
        ctx.office,
        "",
        values.clone(),
    )?;
    tx.enqueue(
        &ctx.letterhead.compose(&office, Some(submission_id))?,
        ctx.now,
    )?;
    Ok(Some(ctx.letterhead.draft(
        "mitgliedsantrag-eingegangen",
        &a.contact_email,
        &a.contact_name,
        values,
    )?))
}

/// What one office step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    Done,
    /// Not in the state the page showed (a second click, another tab).
    Unchanged,
    NotFound,
}

/// Takes `step` on application `id` if it is still in state `expected`:
/// the conditional update, its event with `actor`, the office's action log
/// and the mail to the contact person commit together or not at all.
pub fn advance(
    store: &Store,
    letterhead: &Letterhead,
    id: i64,
    step: Step,
    expected: ApplicationState,
    actor: &str,
    now: i64,
) -> Result<Moved, WorkflowError> {
    store.write(|tx| {
        let Some(row) = tx.membership_application(id)? else {
            return Ok(Moved::NotFound);
        };
        if !expected.steps().contains(&step)
            || !tx.move_membership_application(id, expected, step.to(), actor, now)?
        {
            return Ok(Moved::Unchanged);
        }
        tx.record_office_action(
            actor,
            &format!("mitgliedsantrag-{}", step.path()),
            &number(id),
            now,
        )?;
        let a = application_of(&row)?;
        let draft = letterhead.draft(
            step.mail(),
            &a.contact_email,
            &a.contact_name,
            json!({ "application": a, "number": number(id) }),
        )?;
        tx.enqueue(&letterhead.compose(&draft, None)?, now)?;
        Ok(Moved::Done)
    })
}

/// The form's values of a stored application.
pub fn application_of(row: &ApplicationRow) -> Result<Application, WorkflowError> {
    serde_json::from_value(row.payload.clone())
        .map_err(|e| WorkflowError::Invalid(format!("Mitgliedsantrag {}: {e}", row.id)))
}
