//! What every handler learns from the request before it runs: the answer format.

use super::*;

/// How the client wants its answers, decided once per request: JSON when
/// it sends or accepts JSON (the page script), HTML otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

impl Format {
    pub fn of(headers: &HeaderMap) -> Format {
        let has = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("application/json"))
        };
        if has(header::ACCEPT) || has(header::CONTENT_TYPE) {
            Format::Json
        } else {
            Format::Html
        }
    }

    pub fn is_json(self) -> bool {
        self == Format::Json
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Format, Self::Rejection> {
        Ok(Format::of(&parts.headers))
    }
}

/// The client's `User-Agent` ("" without one), kept with a confirmation as
/// part of its proof.
pub(crate) fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}
