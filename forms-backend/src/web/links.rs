//! Pages behind links in mails: double opt-in confirmation and newsletter
//! unsubscribe (GET shows a button, POST acts).

use super::*;

pub(super) fn link_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // "same-origin": the token in the URL never goes to another site, and
    // the button's POST carries our Origin ("no-referrer" makes browsers
    // send `Origin: null`, which the Origin check must refuse).
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    r
}

/// GET (and HEAD) only shows a button: mail scanners that follow links
/// confirm nothing.
pub(super) async fn confirm_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let store = state.store.clone();
    let now = state.settings.clock.now();
    let t = token.clone();
    let form =
        tokio::task::spawn_blocking(move || workflow::confirmation_form(&store, &t, now)).await??;
    let valid = form.is_some();
    let loaded = state.loaded();
    let application = form.as_deref() == Some(crate::membership::FORM);
    let html = loaded.pages.own(
        "forms/bestaetigen.html",
        "/forms/bestaetigen/",
        if application {
            "Mitgliedsantrag bestätigen"
        } else {
            "Anmeldung bestätigen"
        },
        &[
            ("valid", json!(valid)),
            ("formular", json!(form.unwrap_or_default())),
            ("action", json!(urls::confirm(&token))),
        ],
    );
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok(link_headers((status, html_headers(), html).into_response()))
}

pub(super) async fn confirm_post(
    State(state): State<AppState>,
    Path(token): Path<String>,
    format: Format,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, _) = req.into_parts();
    let json = format.is_json();
    let ip = check_ip_limit(&state, &parts, json).await?;
    let ua = super::extract::user_agent(&parts.headers);
    let ip_hash = state.signer.ip_hash(&ip);
    let st = state.clone();
    let loaded = state.loaded();
    let ld = loaded.clone();
    let confirmed = tokio::task::spawn_blocking(move || {
        let ctx = Ctx {
            store: &st.store,
            letterhead: &ld.letterhead,
            signer: &st.signer,
            backend_url: &ld.backend_url,
            office: &st.settings.office,
            confirm_valid: st.settings.confirm_valid,
            per_recipient_per_hour: st.settings.per_recipient_per_hour,
            ip_hash: &ip_hash,
            now: st.settings.clock.now(),
        };
        workflow::confirm(&ctx, &token, &ua)
    })
    .await??;
    if !confirmed {
        let html = (!json).then(|| {
            loaded.pages.own(
                "forms/bestaetigen.html",
                "/forms/bestaetigen/",
                "Link nicht mehr gültig",
                &[("valid", json!(false)), ("action", json!(""))],
            )
        });
        return Err(AppError::Gone { html });
    }
    state.wake.notify_one();
    if json {
        return Ok(Json(json!({ "ok": true })).into_response());
    }
    Ok(link_headers(site_redirect(
        &loaded,
        "/formular/bestaetigt/",
    )))
}

pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let valid = state
        .signer
        .verify(crate::sign::Purpose::Unsubscribe, &token)
        .is_some();
    let loaded = state.loaded();
    let html = loaded.pages.own(
        "forms/abmelden.html",
        "/forms/newsletter/abmelden/",
        "Newsletter abbestellen",
        &[
            ("valid", json!(valid)),
            ("done", json!(false)),
            ("action", json!(urls::unsubscribe(&token))),
        ],
    );
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    link_headers((status, html_headers(), html).into_response())
}

/// Both the button on the page and RFC 8058 one-click posts
/// (`List-Unsubscribe=One-Click`) land here.
pub(super) async fn unsubscribe_post(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let store = state.store.clone();
    let now = state.settings.clock.now();
    let signer = state.signer.clone();
    let done =
        tokio::task::spawn_blocking(move || workflow::unsubscribe(&store, &signer, &token, now))
            .await??;
    let loaded = state.loaded();
    let html = loaded.pages.own(
        "forms/abmelden.html",
        "/forms/newsletter/abmelden/",
        "Newsletter abbestellen",
        &[
            ("valid", json!(done)),
            ("done", json!(done)),
            ("action", json!("")),
        ],
    );
    let status = if done {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok(link_headers((status, html_headers(), html).into_response()))
}
