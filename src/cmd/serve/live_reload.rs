//! The live-reload script and its event stream (development only).

use super::*;

pub(super) async fn live_reload_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        LIVE_RELOAD_JS,
    )
}

/// Server-sent events: "reload" after a good build, "fehler" with the report
/// after a bad one. A freshly (re)connected page learns the current state.
pub(super) async fn live_reload_events(
    State(live): State<Arc<LiveSite>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let mut rx = live.state.subscribe();
    let initial = rx.borrow_and_update().clone();
    let first = match initial {
        BuildState::Failed { report, .. } => Some(Event::default().event("fehler").data(report)),
        BuildState::Ok { generation, .. } => Some(
            Event::default()
                .event("bereit")
                .data(generation.to_string()),
        ),
    };
    let stream = futures_util::stream::unfold((first, rx), |(pending, mut rx)| async move {
        if let Some(event) = pending {
            return Some((Ok(event), (None, rx)));
        }
        rx.changed().await.ok()?;
        let event = match rx.borrow_and_update().clone() {
            BuildState::Ok { reload, .. } => Event::default().event("reload").data(reload.as_str()),
            BuildState::Failed { report, .. } => Event::default().event("fehler").data(report),
        };
        Some((Ok(event), (None, rx)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

pub(super) const LIVE_RELOAD_JS: &str = r#"// Injected by `campus serve` only: reloads the page after each good build
// and shows build errors over the page until they are fixed.
(function () {
  var source = new EventSource("/__campus/live-reload");
  var box = null;
  // A reload would throw away what somebody typed into a form or cancel a
  // form being sent (a booking changes the free places on the very page):
  // once a form is touched, this page stays as it is.
  var touched = false;
  function keep() { touched = true; }
  document.addEventListener("input", keep, true);
  document.addEventListener("submit", keep, true);
  // The event lists the changed pages (one path per line) or "*" for all.
  source.addEventListener("reload", function (event) {
    var paths = event.data.split("\n");
    if (touched) { if (box) { box.remove(); box = null; } return; }
    if (box || paths.indexOf("*") >= 0 || paths.indexOf(window.location.pathname) >= 0) {
      window.location.reload();
    }
  });
  source.addEventListener("bereit", function () { if (box) { window.location.reload(); } });
  source.addEventListener("fehler", function (event) {
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.className = "campus-build-fehler";
      document.body.prepend(box);
    }
    box.textContent = "";
    var title = document.createElement("strong");
    title.textContent = "Die Website konnte nicht gebaut werden. Angezeigt wird die letzte fehlerfreie Fassung.";
    var pre = document.createElement("pre");
    pre.textContent = event.data;
    box.appendChild(title);
    box.appendChild(pre);
  });
})();
"#;
