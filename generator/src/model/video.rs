//! Videos on a page (the sign-language page first of all): files of this
//! site below `static/`, never a third-party player, always with German
//! captions (WebVTT), so they work for deaf visitors, without cookies and
//! under the site's Content-Security-Policy.

use super::checks::{check_image, StaticFiles};
use crate::content::{Located, RawVideo, SourceFile};
use crate::error::{Problem, ProblemKind};
use crate::markdown::{classify, Url};
use serde::Serialize;

/// A checked video: every path names a file below `static/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Video {
    pub title: String,
    pub file: String,
    /// `video/mp4` or `video/webm`, from the file name.
    pub mime: &'static str,
    pub captions: String,
    pub poster: Option<String>,
    pub description: String,
}

const VIDEO_TYPES: [(&str, &str); 2] = [(".mp4", "video/mp4"), (".webm", "video/webm")];

/// The page's videos; each problem (foreign host, missing file, wrong kind
/// of file, no title) is reported at its line.
pub(super) fn link_videos(
    f: &SourceFile,
    raw: Vec<RawVideo>,
    static_files: &StaticFiles,
    problems: &mut Vec<Problem>,
) -> Vec<Video> {
    raw.into_iter()
        .map(|v| {
            if v.titel.value.trim().is_empty() {
                problems.push(f.problem_at(
                    &v.titel,
                    ProblemKind::InvalidValue {
                        field: "videos.titel",
                        message: "Jedes Video braucht einen Titel: Er steht über dem Video und benennt es für Screenreader.".into(),
                    },
                ));
            }
            let lower = v.datei.value.to_lowercase();
            let mime = VIDEO_TYPES
                .iter()
                .find(|(ext, _)| lower.ends_with(ext))
                .map_or("video/mp4", |(_, mime)| *mime);
            local_file(f, &v.datei, "videos.datei", &[".mp4", ".webm"], "kein Video im Format MP4 oder WebM", static_files, problems);
            local_file(f, &v.untertitel, "videos.untertitel", &[".vtt"], "keine Untertiteldatei im Format WebVTT (.vtt)", static_files, problems);
            if let Some(p) = &v.vorschaubild {
                check_image(f, p, static_files, problems);
            }
            Video {
                title: v.titel.value.trim().to_string(),
                file: v.datei.value,
                mime,
                captions: v.untertitel.value,
                poster: v.vorschaubild.map(|p| p.value),
                description: v.beschreibung.trim().to_string(),
            }
        })
        .collect()
}

/// `path` is a file of this site (below `static/`) ending with one of `endings`.
fn local_file(
    f: &SourceFile,
    path: &Located<String>,
    field: &'static str,
    endings: &[&str],
    what: &str,
    static_files: &StaticFiles,
    problems: &mut Vec<Problem>,
) {
    let value = &path.value;
    let message = match classify(value) {
        Url::Https | Url::Http | Url::OtherOrigin => {
            problems.push(f.problem_at(path, ProblemKind::ForeignMedia { url: value.clone() }));
            return;
        }
        Url::Site { .. } => {
            let lower = value.to_lowercase();
            if !endings.iter().any(|e| lower.ends_with(e)) {
                format!("„{value}“ ist {what}.")
            } else if !static_files.0.contains(value) {
                format!("Die Datei „{value}“ gibt es unter static/ nicht. Legen Sie sie dort ab (der Pfad beginnt mit „/“, z. B. /videos/dgs/willkommen.mp4 für static/videos/dgs/willkommen.mp4).")
            } else {
                return;
            }
        }
        _ => format!("„{value}“ ist kein Pfad dieser Website: Solche Pfade beginnen mit „/“, z. B. /videos/dgs/willkommen.mp4 für static/videos/dgs/willkommen.mp4."),
    };
    problems.push(f.problem_at(path, ProblemKind::InvalidValue { field, message }));
}
