//! What `setup` reads from IAM (GetRole, CreateRole, ListRoleTags, ListAttachedRolePolicies:
//! XML, the trust policy URL-encoded) and from the Roles Anywhere control plane (JSON answers,
//! ListTagsForResource's tags). Input: the answer's body, given to every reader.
//!
//! Invariants: what is read, written back as the service writes it, reads the same (the trust
//! policy URL-encoded as IAM sends it); a list reader's first item is what the one-value reader
//! finds at the same path; an empty answer is `{}`.
#![no_main]

use aws_signing_helper::setup::iam::{
    parse_attached_policies, parse_create_role, parse_get_role, parse_role_tags,
    policy_document,
};
use aws_signing_helper::setup::rolesanywhere_api::{parse_answer, tags_of};
use aws_signing_helper::sts::{xml_lists, xml_values};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// XML text for `s` (CR as a reference: a reader turns a raw one into LF).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Every byte but the unreserved ones as `%XX`, as IAM encodes policy documents.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fuzz_target!(|body: &[u8]| {
    if let Ok(role) = parse_get_role(body) {
        let doc = format!(
            "<GetRoleResponse><GetRoleResult><Role><Arn>{}</Arn><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument></Role></GetRoleResult></GetRoleResponse>",
            esc(&role.arn),
            url_encode(&role.trust_policy)
        );
        let again = parse_get_role(doc.as_bytes()).expect("written back, it parses");
        // A decoded policy that is not UTF-8 was made valid (U+FFFD), and is what reads back.
        assert_eq!(again, role);
    }
    if let Ok(arn) = parse_create_role(body) {
        let doc = format!(
            "<CreateRoleResponse><CreateRoleResult><Role><Arn>{}</Arn></Role></CreateRoleResult></CreateRoleResponse>",
            esc(&arn)
        );
        assert_eq!(parse_create_role(doc.as_bytes()).ok(), Some(arn));
    }
    if let Ok(tags) = parse_role_tags(body) {
        let members: String = tags
            .iter()
            .map(|(k, v)| format!("<member><Key>{}</Key><Value>{}</Value></member>", esc(k), esc(v)))
            .collect();
        let doc = format!("<ListRoleTagsResponse><ListRoleTagsResult><Tags>{members}</Tags></ListRoleTagsResult></ListRoleTagsResponse>");
        assert_eq!(parse_role_tags(doc.as_bytes()).ok(), Some(tags));
    }
    if let Ok(arns) = parse_attached_policies(body) {
        let members: String = arns
            .iter()
            .map(|a| format!("<member><PolicyArn>{}</PolicyArn></member>", esc(a)))
            .collect();
        let doc = format!("<ListAttachedRolePoliciesResponse><ListAttachedRolePoliciesResult><AttachedPolicies>{members}</AttachedPolicies></ListAttachedRolePoliciesResult></ListAttachedRolePoliciesResponse>");
        assert_eq!(parse_attached_policies(doc.as_bytes()).ok(), Some(arns));
    }
    let paths = [
        "ListRoleTagsResponse/ListRoleTagsResult/Tags/member/Key",
        "GetRoleResponse/GetRoleResult/Role/Arn",
    ];
    match (xml_values(body, &paths), xml_lists(body, &paths)) {
        (Ok(one), Ok(all)) => {
            for (v, l) in one.iter().zip(&all) {
                assert_eq!(
                    v.as_deref().map(String::as_str),
                    l.first().map(|s| s.as_str())
                );
            }
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("the readers disagree: {:?} / {:?}", a.is_ok(), b.is_ok()),
    }

    if let Ok(text) = std::str::from_utf8(body) {
        // A JSON policy document passes as is, and its URL-encoded form decodes to it.
        if text.trim_start().starts_with('{') {
            assert_eq!(policy_document(text), text);
            assert_eq!(policy_document(&url_encode(text)), text);
        }
    }

    match parse_answer("ListTagsForResource", body) {
        Ok(answer) => {
            if body.iter().all(u8::is_ascii_whitespace) {
                assert_eq!(answer, json!({}));
            }
            let tags = tags_of(&answer);
            let back: Vec<Value> = tags
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect();
            assert_eq!(tags_of(&json!({ "tags": back })), tags);
        }
        Err(e) => assert!(e
            .to_string()
            .contains("operation error RolesAnywhere: ListTagsForResource")),
    }
});
