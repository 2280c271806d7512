//! The shared search vectors (`tests/search-vectors.json`): the Rust side.
//! `tests/js/search.test.js` holds the browser script to the same file.

use campus_generator::search::{self, Index, Source};
use serde_json::Value;
use std::path::PathBuf;

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/search-vectors.json")
}

fn vectors() -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors_path()).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn built(v: &Value) -> Index {
    let sources: Vec<Source> = serde_json::from_value(v["sources"].clone()).unwrap();
    search::build_index(&sources)
}

#[test]
fn index_tokens_match_the_vectors() {
    let v = vectors();
    for case in v["index_tokens"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        assert_eq!(
            search::index_tokens(text),
            strings(&case["tokens"]),
            "{text}"
        );
    }
}

#[test]
fn query_terms_match_the_vectors() {
    let v = vectors();
    for case in v["query_terms"].as_array().unwrap() {
        let q = case["query"].as_str().unwrap();
        let want: Vec<search::Term> = serde_json::from_value(case["terms"].clone()).unwrap();
        assert_eq!(search::query_terms(q), want, "{q}");
    }
}

#[test]
fn committed_index_is_what_the_generator_builds() {
    let mut v = vectors();
    let index = built(&v);
    let fresh = serde_json::to_value(&index).unwrap();
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        v["index"] = fresh;
        std::fs::write(
            vectors_path(),
            serde_json::to_string_pretty(&v).unwrap() + "\n",
        )
        .unwrap();
        return;
    }
    assert_eq!(
        v["index"], fresh,
        "run UPDATE_VECTORS=1 cargo test -p campus-generator --test vectors"
    );
}

#[test]
fn queries_give_the_expected_ranking() {
    let v = vectors();
    let index = built(&v);
    for case in v["queries"].as_array().unwrap() {
        let q = case["q"].as_str().unwrap();
        let results = index.search(q);
        let got: Vec<(String, u32)> = results
            .hits
            .iter()
            .map(|h| (index.docs[h.doc].url.clone(), h.score))
            .collect();
        let want: Vec<(String, u32)> = serde_json::from_value(case["expect"].clone()).unwrap();
        assert_eq!(got, want, "query {q:?}");
        // "Meinten Sie …?": only where the vector names a corrected query.
        assert_eq!(
            results.suggestion.as_deref(),
            case["suggestion"].as_str(),
            "suggestion for {q:?}"
        );
    }
}

#[test]
fn catalog_filter_matches_the_vectors() {
    use campus_generator::discovery::{CatalogFilter, FilterUnit};
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/filter-vectors.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let units: Vec<(String, FilterUnit)> = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_string(),
                serde_json::from_value(u.clone()).unwrap(),
            )
        })
        .collect();
    for case in v["cases"].as_array().unwrap() {
        let filter: CatalogFilter = serde_json::from_value(case["filter"].clone()).unwrap();
        let got: Vec<&str> = units
            .iter()
            .filter(|(_, u)| filter.matches(u))
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(got, strings(&case["expect"]), "{filter:?}");
    }
}
