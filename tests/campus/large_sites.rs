//! Behaviour that only shows with many authorities, as on a Germany-wide site.

use crate::support::*;

#[test]
fn many_authorities_switch_forms_to_a_typed_name() {
    let site = fixture("minimal");
    let template = read(site.path(), "content/kommunen/nichtmitglied.md");
    for i in 0..campus_generator::render::AUTHORITY_SELECT_LIMIT {
        let text = template.replace("name: Nichtmitglied", &format!("name: Gemeinde Nummer {i}"));
        write(
            site.path(),
            &format!("content/kommunen/gemeinde-{i}.md"),
            &text,
        );
    }
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let doc = html(site.path(), "lerneinheiten/hybrid-eins/index.html");
    assert!(
        select(&doc, "select[name='kommune']").is_empty(),
        "no 300-option select on every page"
    );
    assert_eq!(select(&doc, "input[name='kommune'][type='text']").len(), 1);
    let list: serde_json::Value =
        serde_json::from_str(&read(site.path(), "public/kommunen.json")).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        campus_generator::render::AUTHORITY_SELECT_LIMIT + 2
    );

    // The backend resolves what people type.
    let s = load(site.path());
    assert_eq!(
        s.find_authority("gemeinde nummer 7").map(|a| a.id.as_str()),
        Some("gemeinde-7")
    );
    assert!(
        s.find_authority("Nummer 7").is_none(),
        "names must match whole"
    );
    assert_eq!(
        s.find_authority("Stadt Mitgliedsstadt")
            .map(|a| a.id.as_str()),
        Some("mitgliedsstadt")
    );
    assert_eq!(
        s.find_authority("mitgliedsstadt").map(|a| a.id.as_str()),
        Some("mitgliedsstadt")
    );
}

#[test]
fn few_authorities_are_offered_in_a_select() {
    let site = fixture("minimal");
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let doc = html(site.path(), "lerneinheiten/hybrid-eins/index.html");
    let options: Vec<String> = select(&doc, "select[name='kommune'] option")
        .iter()
        .map(|o| o.value().attr("value").unwrap().to_string())
        .collect();
    assert_eq!(options, ["", "nichtmitglied", "mitgliedsstadt", "andere"]);
}
