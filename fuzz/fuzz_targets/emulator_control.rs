//! The emulator's control plane (the Roles Anywhere REST-JSON API): sequences of arbitrary
//! requests against one state. Invariants: no panic; every answer is 2xx with a JSON body or a
//! service error; an answer that says nothing changed left the state as it was; the state
//! always serialises and reads back equal (what `--state DIR` saves is what it loads).
#![no_main]

use arbitrary::Arbitrary;
use aws_signing_helper::emulator::control::State;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Request {
    method: u8,
    path: PathChoice,
    suffix: String,
    query: String,
    body: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
enum PathChoice {
    TrustAnchors,
    TrustAnchor,
    Profiles,
    Profile,
    Crls,
    Crl,
    Tag,
    ListTags,
    Raw(String),
}

fuzz_target!(|requests: Vec<Request>| {
    let mut state = State::default();
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    for r in requests.into_iter().take(32) {
        let method = ["GET", "POST", "PUT", "PATCH", "DELETE"][usize::from(r.method) % 5];
        let base = match &r.path {
            PathChoice::TrustAnchors => "/trustanchors".to_string(),
            PathChoice::TrustAnchor => "/trustanchor/".to_string(),
            PathChoice::Profiles => "/profiles".to_string(),
            PathChoice::Profile => "/profile/".to_string(),
            PathChoice::Crls => "/crls".to_string(),
            PathChoice::Crl => "/crl/".to_string(),
            PathChoice::Tag => "/TagResource".to_string(),
            PathChoice::ListTags => "/ListTagsForResource".to_string(),
            PathChoice::Raw(p) => p.clone(),
        };
        let path = format!("{base}{}", r.suffix);
        let before = state.clone();
        match state.handle(method, &path, &r.query, &r.body, "us-east-1", now) {
            Ok(answer) => {
                assert!((200..300).contains(&answer.status), "{answer:?}");
                if !answer.changed {
                    assert_eq!(state, before, "{method} {path}: unchanged, yet the state moved");
                }
            }
            Err(_) => assert_eq!(state, before, "{method} {path}: an error changed the state"),
        }
        let saved = serde_json::to_vec(&state).expect("the state serialises");
        let loaded: State = serde_json::from_slice(&saved).expect("and reads back");
        assert_eq!(loaded, state);
    }
});
