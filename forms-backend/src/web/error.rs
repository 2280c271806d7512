//! One error type for every handler, with `From` conversions that keep the
//! source, and the form shown again as a normal answer.

use super::*;

/// The one error type of the handlers. HTML or JSON, as the client asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Anfrage von fremder Herkunft")]
    Forbidden { json: bool },
    #[error("Anfrage zu groß")]
    TooLarge { json: bool },
    #[error("Format nicht unterstützt")]
    Unsupported { json: bool },
    /// Over the limit of one client and form; seconds until a place is free.
    #[error("Anfrage-Limit erreicht")]
    RateLimited { json: bool, retry_after: u64 },
    #[error("Seite nicht gefunden")]
    NotFound { json: bool },
    /// A form's address opened with GET (a bookmark of the answer page).
    #[error("Methode nicht erlaubt")]
    MethodNotAllowed { json: bool },
    /// A link that is used, expired or forged (410).
    #[error("Link nicht mehr gültig")]
    Gone { html: Option<String> },
    /// Logged with its whole chain of causes; the client sees a generic
    /// German message.
    #[error("interner Fehler")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

impl From<workflow::WorkflowError> for AppError {
    fn from(e: workflow::WorkflowError) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

impl From<IntakeError> for AppError {
    fn from(e: IntakeError) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

/// "cause: its cause: …", each message once (errors that print their
/// source in their own message are not repeated).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // HTML answers carry the theme's error page to render (see `themed_errors`);
        // the plain page stays if the theme cannot render it.
        let simple =
            |status: StatusCode, json: bool, page: &'static str, title: &str, message: &str| {
                if json {
                    (
                        status,
                        Json(json!({ "ok": false, "errors": { "formular": message } })),
                    )
                        .into_response()
                } else {
                    let mut r =
                        (status, html_headers(), pages::fallback(title, message)).into_response();
                    r.extensions_mut().insert(pages::ErrorPage(page));
                    r
                }
            };
        match self {
            AppError::Forbidden { json } => simple(
                StatusCode::FORBIDDEN,
                json,
                "fremde-herkunft",
                "Anfrage abgelehnt",
                "Dieses Formular kann nur von den Seiten des KommunalCampus aus abgeschickt werden.",
            ),
            AppError::TooLarge { json } => simple(
                StatusCode::PAYLOAD_TOO_LARGE,
                json,
                "zu-gross",
                "Zu viele Daten",
                "Ihre Angaben sind zu umfangreich. Bitte kürzen Sie Ihre Nachricht.",
            ),
            AppError::Unsupported { json } => simple(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json,
                "format",
                "Format nicht unterstützt",
                "Bitte senden Sie das Formular als normales HTML-Formular oder als JSON.",
            ),
            AppError::RateLimited { json, retry_after } => {
                let mut r = simple(
                    StatusCode::TOO_MANY_REQUESTS,
                    json,
                    "zu-viele",
                    "Zu viele Anfragen",
                    "Von Ihrem Anschluss kamen in kurzer Zeit sehr viele Anfragen. Bitte versuchen Sie es in einigen Minuten erneut.",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                r
            }
            AppError::NotFound { json } => simple(
                StatusCode::NOT_FOUND,
                json,
                "nicht-gefunden",
                "Seite nicht gefunden",
                "Diese Adresse gibt es nicht.",
            ),
            AppError::MethodNotAllowed { json } => simple(
                    StatusCode::METHOD_NOT_ALLOWED,
                    json,
                    "methode",
                    "Diese Adresse nimmt nur Formulare an",
                    "Diese Adresse nimmt nur abgeschickte Formulare an. Bitte öffnen Sie das Formular auf der Seite des KommunalCampus.",
            ),
            AppError::Gone { html: Some(html) } => (StatusCode::GONE, html_headers(), html).into_response(),
            AppError::Gone { html: None } => (
                StatusCode::GONE,
                Json(json!({ "ok": false, "errors": { "link": "Dieser Link ist nicht mehr gültig." } })),
            )
                .into_response(),
            AppError::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "Interner Fehler");
                let mut r = (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    html_headers(),
                    pages::fallback(
                        "Das hat leider nicht geklappt",
                        "Ihre Angaben konnten wegen eines technischen Fehlers nicht gespeichert werden. Bitte versuchen Sie es später erneut oder schreiben Sie uns eine E-Mail.",
                    ),
                )
                    .into_response();
                r.extensions_mut().insert(pages::ErrorPage("technik"));
                r
            }
        }
    }
}

/// The form shown again with messages and the values kept (invalid
/// values, a missing or too young timestamp, overload): a normal answer of
/// a form post, not an error.
#[derive(Debug)]
pub struct FormAgain {
    pub(super) status: StatusCode,
    pub(super) body: FormAgainBody,
    /// Seconds to wait before sending again (overload).
    pub(super) retry_after: Option<u64>,
}

#[derive(Debug)]
pub(super) enum FormAgainBody {
    Html(String),
    Json(Value),
}

impl IntoResponse for FormAgain {
    fn into_response(self) -> Response {
        let mut r = match self.body {
            FormAgainBody::Html(html) => (self.status, html_headers(), html).into_response(),
            FormAgainBody::Json(value) => (self.status, Json(value)).into_response(),
        };
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

pub(crate) fn html_headers() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

/// When to try again, for the theme: `{ minutes, at }` (`at` is the local
/// time "14:05", so a person need not count).
pub(crate) fn retry_context(secs: u64, berlin_now: chrono::NaiveDateTime) -> Value {
    let at = berlin_now + chrono::Duration::seconds(secs as i64);
    json!({
        "seconds": secs,
        "minutes": secs.div_ceil(60),
        "at": at.format("%H:%M").to_string(),
    })
}
