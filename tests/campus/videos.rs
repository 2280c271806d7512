//! Videos on a page (the sign-language page): files of this site with German
//! captions in a `<video>` with `<track>`; foreign hosts, missing files and
//! files of the wrong kind are build errors at their line.

use crate::support::*;

const PAGE: &str = "content/seiten/gebaerdensprache.md";

fn with_videos(site: &std::path::Path, videos: &str) {
    edit(
        site,
        PAGE,
        "titel: Gebärdensprache\n",
        &format!("titel: Gebärdensprache\nvideos:\n{videos}"),
    );
}

#[test]
fn a_self_hosted_video_plays_with_german_captions() {
    let site = sample();
    // The bytes do not matter to the build: it checks that the files exist.
    write(site.path(), "static/videos/dgs/willkommen.mp4", "mp4");
    write(
        site.path(),
        "static/videos/dgs/willkommen.vtt",
        "WEBVTT\n\n00:00.000 --> 00:03.000\nWillkommen\n",
    );
    with_videos(
        site.path(),
        "  - titel: Willkommen beim KommunalCampus\n    datei: /videos/dgs/willkommen.mp4\n    untertitel: /videos/dgs/willkommen.vtt\n    beschreibung: Wer wir sind und was wir anbieten.\n",
    );
    build(site.path()).unwrap_or_else(|p| panic!("site does not build:\n{p}"));

    let page = html(site.path(), "gebaerdensprache/index.html");
    let video = select(&page, "figure.video video[controls]");
    assert_eq!(video.len(), 1);
    let source = select(&page, "video source")[0].value();
    assert_eq!(source.attr("src"), Some("/videos/dgs/willkommen.mp4"));
    assert_eq!(source.attr("type"), Some("video/mp4"));
    let track = select(&page, "video track")[0].value();
    assert_eq!(track.attr("kind"), Some("captions"));
    assert_eq!(track.attr("srclang"), Some("de"));
    assert_eq!(track.attr("src"), Some("/videos/dgs/willkommen.vtt"));
    assert!(
        track.attr("default").is_some(),
        "captions are on from the start"
    );
    let title = text(&select(&page, "figure.video figcaption")[0]);
    assert_eq!(title, "Willkommen beim KommunalCampus");
    let labelled = video[0].value().attr("aria-labelledby").unwrap();
    assert_eq!(select(&page, &format!("#{labelled}")).len(), 1);
    // The files are published with the site.
    assert!(site
        .path()
        .join("public/videos/dgs/willkommen.vtt")
        .is_file());
}

#[test]
fn foreign_missing_and_wrong_files_are_reported_at_their_lines() {
    let site = sample();
    write(site.path(), "static/videos/dgs/da.mp4", "mp4");
    write(site.path(), "static/videos/dgs/da.srt", "1\n");
    with_videos(
        site.path(),
        concat!(
            "  - titel: Von einem Videoportal\n",
            "    datei: https://videos.example/watch?v=1\n",
            "    untertitel: /videos/dgs/da.vtt\n",
            "  - titel: Falsche Untertitel\n",
            "    datei: /videos/dgs/da.mp4\n",
            "    untertitel: /videos/dgs/da.srt\n",
            "  - titel: Relativer Pfad\n",
            "    datei: videos/dgs/da.mp4\n",
            "    untertitel: //cdn.example/da.vtt\n",
        ),
    );
    let problems = build(site.path()).unwrap_err().to_string();
    let file = "gebaerdensprache.md";
    for (line, says) in [
        (
            5,
            "„https://videos.example/watch?v=1“ liegt auf einem fremden Server",
        ),
        (
            6,
            "Die Datei „/videos/dgs/da.vtt“ gibt es unter static/ nicht",
        ),
        (
            9,
            "„/videos/dgs/da.srt“ ist keine Untertiteldatei im Format WebVTT (.vtt)",
        ),
        (11, "„videos/dgs/da.mp4“ ist kein Pfad dieser Website"),
        (12, "„//cdn.example/da.vtt“ liegt auf einem fremden Server"),
    ] {
        let found = problems
            .lines()
            .any(|l| l.contains(&format!("{file}:{line}:")) && l.contains(says));
        assert!(found, "line {line}: {says}\n{problems}");
    }
    assert!(
        !problems.contains("da.mp4“ gibt es"),
        "the existing video is fine:\n{problems}"
    );
}

#[test]
fn the_sample_page_says_honestly_that_the_videos_are_planned() {
    let site = sample();
    build(site.path()).unwrap_or_else(|p| panic!("sample site does not build:\n{p}"));
    let page = html(site.path(), "gebaerdensprache/index.html");
    assert!(select(&page, "video").is_empty(), "no stand-in video");
    let main = text(&select(&page, "main")[0]);
    assert!(
        main.contains("noch keine Videos in Gebärdensprache"),
        "{main}"
    );
    assert!(main.contains("Untertitel"), "{main}");
}
