//! The theme renderer of one loaded site. Every page and mail text the
//! backend produces comes from a template of the theme (`forms/*.html`,
//! `mail/*.txt`) or from the site's own `templates/` file of the same name;
//! code passes only data. The templates and the views of the site's pages
//! are made once per loaded site (views again when the day changes, since
//! next dates depend on it), not per request. If a page cannot be rendered,
//! a plain German page is served instead.

use crate::mail::escape;
use campus_generator::error::{Problem, Problems};
use campus_generator::render::{self, RenderOptions, Views};
use campus_generator::Site;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tera::Tera;

pub struct Pages {
    site: Arc<Site>,
    tera: Tera,
    views: Mutex<Arc<Views>>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl Pages {
    /// Loads the theme's templates and the site's overrides and makes the views.
    pub fn new(site: Arc<Site>) -> Result<Pages, Problems> {
        let tera = render::load_templates(&site.root, &site.config)?;
        let views = Views::build(&site, &tera, &options());
        Ok(Pages {
            site,
            tera,
            views: Mutex::new(Arc::new(views)),
        })
    }

    pub fn tera(&self) -> &Tera {
        &self.tera
    }

    /// Render options for now (one page per request: no list fragments).
    pub fn options(&self) -> RenderOptions {
        options()
    }

    /// The views for `options.today`, made again only when the day changed.
    pub fn views(&self, options: &RenderOptions) -> Arc<Views> {
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        if views.today() != options.today {
            *views = Arc::new(Views::build(&self.site, &self.tera, options));
        }
        views.clone()
    }

    /// The site's page at `url` (e.g. the contact page) with `extra` values
    /// (e.g. `form`); `None` when the site has no page there.
    pub fn site_page(
        &self,
        url: &str,
        extra: &[(&'static str, Value)],
    ) -> Result<Option<String>, Problem> {
        let options = self.options();
        let views = self.views(&options);
        render::render_page(&self.site, &self.tera, &views, &options, url, extra)
    }

    /// Any template with the context every page gets plus `extra`.
    pub fn template(
        &self,
        template: &'static str,
        url: &str,
        title: &str,
        extra: &[(&'static str, Value)],
    ) -> Result<String, Problem> {
        let views = self.views(&self.options());
        render::render_template(&self.site, &self.tera, &views, template, url, title, extra)
    }

    /// One of the backend's own pages (`forms/*.html`); its texts are in the
    /// template. `fallback_title` heads the plain page shown if it fails.
    pub fn own(
        &self,
        template: &'static str,
        url: &str,
        fallback_title: &str,
        extra: &[(&'static str, Value)],
    ) -> String {
        self.template(template, url, fallback_title, extra)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, template, "Seite des Formular-Backends nicht darstellbar");
                fallback(
                    fallback_title,
                    &format!(
                        "Diese Seite kann wegen eines technischen Fehlers nicht vollständig angezeigt werden. Bei Fragen schreiben Sie uns an {}.",
                        self.site.config.kontakt.email
                    ),
                )
            })
    }

    /// A template without the page context (a part of a page, a mail text).
    pub fn part(&self, template: &str, values: Value) -> Result<String, tera::Error> {
        let ctx = tera::Context::from_value(values)?;
        self.tera.render(template, &ctx)
    }
}

fn options() -> RenderOptions {
    RenderOptions {
        today: chrono::Local::now().date_naive(),
        stamp: chrono::Utc::now().naive_utc(),
        live_reload: false,
        // One page per request: finished catalog entries would cost more
        // than they save.
        list_fragments: false,
    }
}

/// What the theme's `forms/fehler.html` shows (`fehler` in its context):
/// put into the extensions of a plain error answer, which the router's
/// [`crate::web::app`] layer then renders in the theme.
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage(pub &'static str);

/// A minimal page when the theme cannot render one of ours.
pub fn fallback(title: &str, message: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title><link rel=\"stylesheet\" href=\"/assets/campus.css\"></head>\n<body><main><h1>{t}</h1><p>{m}</p><p><a href=\"/\">Zur Startseite</a></p></main></body></html>\n",
        t = escape(title),
        m = escape(message)
    )
}
