//! Form posts: body parsing, validation, storing through the intake queue,
//! and the answers (thank-you redirect, form again, send-again page).

use super::*;

pub(super) fn parse_body(
    headers: &HeaderMap,
    bytes: &[u8],
    json: bool,
) -> Result<Vec<(String, String)>, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-www-form-urlencoded");
    if content_type.starts_with("application/json") {
        let map: serde_json::Map<String, Value> =
            serde_json::from_slice(bytes).map_err(|_| AppError::Unsupported { json: true })?;
        Ok(map
            .into_iter()
            .filter_map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    Value::Bool(true) => "ja".into(),
                    Value::Bool(false) => String::new(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((k, v))
            })
            .collect())
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(bytes).map_err(|_| AppError::Unsupported { json })
    } else {
        Err(AppError::Unsupported { json })
    }
}

/// Where a form sends people after success: a page of the site, never a
/// target taken from the request.
pub(super) fn site_redirect(loaded: &Loaded, path: &'static str) -> Response {
    debug_assert!(path.starts_with('/') && !path.starts_with("//"));
    let c = &loaded.site.config;
    let location = if c.forms.url.is_empty() {
        path.to_string()
    } else {
        format!("{}{path}", c.site.base_url)
    };
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ASCII path"),
        )],
    )
        .into_response()
}

pub(super) fn success(loaded: &Loaded, kind: FormKind, json: bool) -> Response {
    if json {
        return Json(json!({ "ok": true })).into_response();
    }
    site_redirect(
        loaded,
        match kind {
            FormKind::Registrierung => "/formular/danke-registrierung/",
            FormKind::Kontakt => "/formular/danke-kontakt/",
            FormKind::Newsletter => "/formular/danke-newsletter/",
            FormKind::Buchung => "/formular/danke-buchung/",
            FormKind::Einschreibung => "/formular/danke-einschreibung/",
            FormKind::Veranstaltung => "/formular/danke-veranstaltung/",
        },
    )
}

pub(super) async fn submit(
    State(state): State<AppState>,
    kind: FormKind,
    format: Format,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let json = format.is_json();
    let limited = check_ip_limit(&state, &parts, json).await;
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| AppError::TooLarge { json })?;
    let input = Input::from_pairs(kind, parse_body(&parts.headers, &bytes, json)?);
    let loaded = state.loaded();
    let ip = match limited {
        Ok(ip) => ip,
        // A person over the limit keeps what they typed: the page repeats it
        // with a button to send it once the wait is over.
        Err(AppError::RateLimited {
            json: false,
            retry_after,
        }) => return Ok(too_many(&state, &loaded, kind, &input, retry_after).into_response()),
        Err(e) => return Err(e),
    };
    if !input.honeypot.is_empty() {
        // Bots get the normal answer and nothing is stored or sent.
        tracing::info!(form = kind.name(), "Honeypot ausgefüllt, Anfrage verworfen");
        return Ok(success(&loaded, kind, json));
    }
    let valid = match validate::validate(
        kind,
        &input,
        &loaded.site,
        state.settings.clock.berlin_now(),
    ) {
        Ok(v) => v,
        Err(errors) => {
            return Ok(invalid(&state, &loaded, kind, &input, errors, json).into_response())
        }
    };
    let stamp = state.check_form_stamp(&input.ts);
    if stamp != FormStamp::Valid {
        tracing::info!(
            form = kind.name(),
            ?stamp,
            "Formular ohne gültigen Zeitstempel"
        );
        return Ok(resend(&state, &loaded, kind, &input, stamp, json).into_response());
    }
    let ip_hash = state.signer.ip_hash(&ip);
    if let Valid::Booking(b) = valid {
        // Bookings read and take places in their own transactions.
        let st = state.clone();
        let requested = tokio::task::spawn_blocking(move || {
            crate::booking::with_env(&st, &ip_hash, |env| crate::booking::request(env, &b))
        })
        .await??;
        if let crate::booking::Requested::Existing(existing) = requested {
            tracing::info!(
                form = kind.name(),
                "Buchung für diese Einheit besteht bereits"
            );
            return Ok(booking::already_booked(&state, &existing, json));
        }
    } else {
        // Registration, contact and newsletter go through the group commit.
        let st = state.clone();
        let ld = loaded.clone();
        let job: crate::intake::Job = Box::new(move |tx| {
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
            match &valid {
                Valid::Registration(r) => workflow::register_in(&ctx, tx, r),
                Valid::Contact(c) => workflow::contact_in(&ctx, tx, c),
                Valid::Newsletter(n) => workflow::newsletter_in(&ctx, tx, n),
                Valid::Booking(_) => unreachable!("handled above"),
            }
        });
        match state.intake.submit(job).await {
            Ok(()) => {}
            Err(IntakeError::Busy) => return Ok(busy(&loaded, kind, &input, json).into_response()),
            Err(e) => return Err(e.into()),
        }
    }
    state.wake.notify_one();
    tracing::info!(form = kind.name(), "Formular gespeichert");
    Ok(success(&loaded, kind, json))
}

/// The form page again: the site's own page with
/// `form { name, values, errors, error_list, ts }` in its context, which the
/// theme's form macros use to show the input and the messages.
pub(super) fn invalid(
    state: &AppState,
    loaded: &Loaded,
    kind: FormKind,
    input: &Input,
    errors: Errors,
    json: bool,
) -> FormAgain {
    if json {
        return FormAgain {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: FormAgainBody::Json(json!({ "ok": false, "errors": errors })),
            retry_after: None,
        };
    }
    let page_url = kind.page_url(input);
    let error_list: Vec<Value> = kind
        .fields()
        .iter()
        .filter_map(|f| errors.get(*f).map(|m| json!({ "field": f, "message": m })))
        .collect();
    // Every field of the form, so templates need not ask whether one is there.
    let values: serde_json::Map<String, Value> = kind
        .fields()
        .iter()
        .map(|f| (f.to_string(), json!(input.get(f))))
        .collect();
    let form = json!({
        "name": kind.name(), "values": values, "errors": errors,
        "error_list": error_list, "ts": state.form_stamp(),
    });
    let html = match loaded.pages.site_page(&page_url, &[("form", form)]) {
        Ok(Some(html)) => html,
        other => {
            if let Err(e) = other {
                tracing::error!(error = %e, "Formularseite nicht darstellbar");
            }
            let messages: Vec<&Value> = error_list.iter().map(|e| &e["message"]).collect();
            loaded.pages.own(
                "forms/meldung.html",
                &page_url,
                "Bitte prüfen Sie Ihre Angaben",
                &[("errors", json!(messages)), ("back", json!(page_url))],
            )
        }
    };
    FormAgain {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body: FormAgainBody::Html(html),
        retry_after: None,
    }
}

pub(super) const BUSY_MESSAGE: &str = "Gerade gehen sehr viele Anfragen gleichzeitig ein. Ihre Angaben sind noch nicht gespeichert. Bitte senden Sie sie in einigen Sekunden noch einmal ab.";

fn send_again_fields(kind: FormKind, input: &Input) -> Vec<Value> {
    kind.fields()
        .iter()
        .filter_map(|f| {
            input
                .values
                .get(*f)
                .map(|v| json!({ "name": f, "value": v }))
        })
        .collect()
}

/// The page repeating a form's values with a button to send them again
/// (`forms/erneut.html`; its texts per `reason` are in the template).
pub(super) fn send_again_page(
    loaded: &Loaded,
    kind: FormKind,
    input: &Input,
    reason: &str,
    ts: &str,
) -> String {
    let fields = send_again_fields(kind, input);
    let action = urls::form(kind.name());
    loaded.pages.own(
        "forms/erneut.html",
        &action,
        "Formular absenden",
        &[
            ("reason", json!(reason)),
            ("fields", json!(fields)),
            ("ts", json!(ts)),
            ("action", json!(action)),
        ],
    )
}

/// The 429 answer of a form post over the limit: the page repeating the
/// values (with the form's `ts`) and when to send them again.
pub(super) fn too_many(
    state: &AppState,
    loaded: &Loaded,
    kind: FormKind,
    input: &Input,
    retry_after: u64,
) -> FormAgain {
    let retry = retry_context(retry_after, state.settings.clock.berlin_now());
    let fields = send_again_fields(kind, input);
    let action = urls::form(kind.name());
    let html = loaded.pages.own(
        "forms/erneut.html",
        &action,
        "Zu viele Anfragen",
        &[
            ("reason", json!("zu-viele")),
            ("fields", json!(fields)),
            ("ts", json!(input.ts)),
            ("action", json!(action)),
            ("retry", retry),
        ],
    );
    FormAgain {
        status: StatusCode::TOO_MANY_REQUESTS,
        body: FormAgainBody::Html(html),
        retry_after: Some(retry_after),
    }
}

/// The 503 answer under overload: JSON, or a page repeating the values
/// (with the form's still valid `ts`) and a button to send them again.
pub(super) fn busy(loaded: &Loaded, kind: FormKind, input: &Input, json: bool) -> FormAgain {
    let retry_after = Some(crate::intake::RETRY_AFTER_SECS);
    let body = if json {
        FormAgainBody::Json(json!({ "ok": false, "errors": { "formular": BUSY_MESSAGE } }))
    } else {
        FormAgainBody::Html(send_again_page(
            loaded,
            kind,
            input,
            "ueberlastet",
            &input.ts,
        ))
    };
    FormAgain {
        status: StatusCode::SERVICE_UNAVAILABLE,
        body,
        retry_after,
    }
}

pub(super) fn resend(
    state: &AppState,
    loaded: &Loaded,
    kind: FormKind,
    input: &Input,
    stamp: FormStamp,
    json: bool,
) -> FormAgain {
    if json {
        return stamp_json(state, stamp);
    }
    let ts = state.form_stamp();
    FormAgain {
        status: StatusCode::OK,
        body: FormAgainBody::Html(send_again_page(
            loaded,
            kind,
            input,
            stamp_reason(stamp).0,
            &ts,
        )),
        retry_after: None,
    }
}

/// Why a form is sent again (the reason the "send again" page shows) and
/// the message for JSON clients, for a timestamp that is not valid.
pub(super) fn stamp_reason(stamp: FormStamp) -> (&'static str, &'static str) {
    match stamp {
        FormStamp::TooFast => ("zu-schnell", "Das ging sehr schnell. Bitte bestätigen Sie, dass Sie das Formular absenden möchten."),
        _ => ("zeitstempel", "Bitte bestätigen Sie noch einmal, dass Sie das Formular absenden möchten. Ihre Angaben sind unten schon eingetragen."),
    }
}

/// The JSON answer to a post whose timestamp is not valid: the message and
/// a fresh timestamp to send with again.
pub(super) fn stamp_json(state: &AppState, stamp: FormStamp) -> FormAgain {
    FormAgain {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body: FormAgainBody::Json(
            json!({ "ok": false, "errors": { "ts": stamp_reason(stamp).1 }, "ts": state.form_stamp() }),
        ),
        retry_after: None,
    }
}

pub(super) async fn form_token(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(json!({ "ts": state.form_stamp() })),
    )
        .into_response()
}
