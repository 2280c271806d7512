//! `dienstliche_domains` and `leitweg_id` in authority files are checked like
//! every other field: syntax, no domain listed by two authorities, file and
//! line in the message.

use crate::support::*;
use campus_generator::ProblemKind;
use std::path::Path;

fn problems_of(site: &Path) -> Vec<campus_generator::Problem> {
    match build(site) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    }
}

#[test]
fn the_sample_site_lists_domains_and_leitweg_ids_for_every_authority() {
    let site = load(&repo_root());
    assert!(!site.authorities.is_empty());
    for a in &site.authorities {
        assert!(!a.mail_domains.is_empty(), "{} lists no domains", a.id);
        assert!(a.leitweg_id.is_some(), "{} has no Leitweg-ID", a.id);
        assert!(a.billing_address.is_some(), "{} has no address", a.id);
        assert!(a.accepts_email(&a.contact.email), "{}", a.contact.email);
    }
}

#[test]
fn a_domain_of_two_authorities_and_a_bad_one_name_file_and_line() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/kommunen/mitgliedsstadt.md",
        "freigabe: kommune\n",
        "freigabe: kommune\ndienstliche_domains: [stadt.example]\n",
    );
    edit(
        site.path(),
        "content/kommunen/nichtmitglied.md",
        "freigabe: genossenschaft\n",
        "freigabe: genossenschaft\ndienstliche_domains:\n  - gemeinde.example\n  - stadt.example\n  - \"@Gemeinde.example\"\nleitweg_id: \"06412000-17\"\n",
    );
    let all = problems_of(site.path());
    let messages: Vec<(Option<u64>, String)> = all
        .iter()
        .filter(|p| p.file == Path::new("content/kommunen/nichtmitglied.md"))
        .map(|p| match &p.kind {
            ProblemKind::InvalidValue { field, message } => (p.line, format!("{field}: {message}")),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(messages.len(), 3, "{all:#?}");
    assert_eq!(messages[0].0, Some(17));
    assert!(
        messages[0]
            .1
            .contains("„stadt.example“ gehört schon zu „Mitgliedsstadt“"),
        "{messages:?}"
    );
    assert_eq!(messages[1].0, Some(18));
    assert!(
        messages[1].1.contains("nur den Teil nach dem „@“"),
        "{messages:?}"
    );
    assert_eq!(messages[2].0, Some(19));
    assert!(messages[2].1.starts_with("leitweg_id:"), "{messages:?}");
}
