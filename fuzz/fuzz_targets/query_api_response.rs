//! What STS or IAM (or anything posing as them) answers over the Query API. Input: `name:
//! value` header lines, an empty line, then the XML body (no empty line: all body). The body
//! goes through the four success parsers (GetSessionToken, GetFederationToken, AssumeRole,
//! GetCallerIdentity) and the service-error reader, whose error then goes through the MFA
//! refusal check.
//!
//! Invariants: parsed credentials have every field, and an expiration in the normal form;
//! the same values written back as XML parse to the same credentials (and error fields to the
//! same error); a parse error never shows the SecretAccessKey or SessionToken it read; the
//! user's error shows the code and message read; a code counts as refused only for
//! AccessDenied with STS's invalid-MFA wording.
#![no_main]

#[path = "common/http_input.rs"]
mod http_input;

use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::iam::SERVICE as IAM;
use aws_signing_helper::protocol::http::HttpResponse;
use aws_signing_helper::sts::mfa::is_rejected;
use aws_signing_helper::sts::{
    parse_assume_role, parse_caller_identity, parse_federation_token, parse_session_token,
    xml_values, ServiceError, STS,
};
use aws_signing_helper::Error;
use libfuzzer_sys::fuzz_target;

/// XML text for `s`: what XML must escape, and CR (which a reader turns into LF) as a
/// reference.
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

/// A success answer of `action` holding `creds` (and `arn` at `arn_path`).
fn render(action: &str, creds: &Credentials, arn_path: Option<(&str, &str)>) -> Vec<u8> {
    let extra = match arn_path {
        Some((element, arn)) => format!("<{element}><Arn>{}</Arn></{element}>", esc(arn)),
        None => String::new(),
    };
    format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>{extra}<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials></{action}Result></{action}Response>",
        esc(&creds.access_key_id),
        esc(&creds.secret_access_key),
        esc(&creds.session_token),
        esc(&creds.expiration),
    )
    .into_bytes()
}

fn same(a: &Credentials, b: &Credentials) {
    assert_eq!(a.access_key_id, b.access_key_id);
    assert_eq!(a.secret_access_key.as_str(), b.secret_access_key.as_str());
    assert_eq!(a.session_token.as_str(), b.session_token.as_str());
    assert_eq!(a.expiration, b.expiration);
    assert_eq!(a.account_id, b.account_id);
}

fn check_creds(c: &Credentials) {
    assert!(!c.access_key_id.is_empty() && !c.secret_access_key.is_empty());
    assert!(!c.session_token.is_empty());
    let t: jiff::Timestamp = c.expiration.parse().expect("a readable expiration");
    assert_eq!(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(), c.expiration);
}

/// Every word the credentials parsers' own messages use: a secret made of them alone may
/// show up in an error without having leaked.
const WORDING: &str = "STS GetSessionToken GetFederationToken AssumeRole response lacks Credentials/AccessKeyId Credentials/SecretAccessKey Credentials/SessionToken Credentials/Expiration has an unreadable Expiration";

/// A failed parse of `action` must not show the secrets the body holds at their places.
fn no_secret_in(e: &Error, body: &[u8], action: &str) {
    let p = format!("{action}Response/{action}Result/Credentials/");
    let paths = [
        format!("{p}SecretAccessKey"),
        format!("{p}SessionToken"),
        format!("{p}Expiration"),
    ];
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let Ok(v) = xml_values(body, &refs) else {
        return;
    };
    let expiration = v[2].as_deref().map(String::as_str).unwrap_or("");
    let shown = format!("{e}\n{e:?}");
    for secret in v[..2].iter().flatten() {
        let s = secret.as_str();
        if s.len() >= 8 && !WORDING.contains(s) && !format!("{expiration:?}").contains(s) {
            assert!(
                !shown.contains(s),
                "{action}: the error shows a secret: {shown}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (headers, body, status) = http_input::split(data);
    let account = Some("123456789012".to_string());

    match parse_session_token(body, account.clone()) {
        Ok(c) => {
            check_creds(&c);
            let again = parse_session_token(&render("GetSessionToken", &c, None), account.clone());
            same(&c, &again.expect("written back, it parses"));
        }
        Err(e) => no_secret_in(&e, body, "GetSessionToken"),
    }
    match parse_federation_token(body, None) {
        Ok((c, arn)) => {
            check_creds(&c);
            let arn = arn.unwrap_or_default();
            let doc = render("GetFederationToken", &c, Some(("FederatedUser", &arn)));
            let (again, arn_again) =
                parse_federation_token(&doc, None).expect("written back, it parses");
            same(&c, &again);
            assert_eq!(arn_again.unwrap_or_default(), arn);
        }
        Err(e) => no_secret_in(&e, body, "GetFederationToken"),
    }
    match parse_assume_role(body, account.clone()) {
        Ok(r) => {
            check_creds(&r.credentials);
            let arn = r.assumed_role_arn.clone().unwrap_or_default();
            let doc = render(
                "AssumeRole",
                &r.credentials,
                Some(("AssumedRoleUser", &arn)),
            );
            let again = parse_assume_role(&doc, account.clone()).expect("written back, it parses");
            same(&r.credentials, &again.credentials);
            assert_eq!(again.assumed_role_arn.unwrap_or_default(), arn);
        }
        Err(e) => no_secret_in(&e, body, "AssumeRole"),
    }
    if let Ok(id) = parse_caller_identity(body) {
        assert!(!id.account.is_empty() || !id.arn.is_empty());
        let doc = format!(
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
            esc(&id.arn), esc(&id.user_id), esc(&id.account)
        );
        assert_eq!(
            parse_caller_identity(doc.as_bytes()).expect("written back, it parses"),
            id
        );
    }

    let resp = HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    };
    for service in [STS, IAM] {
        let se = ServiceError::from_response(service, "AssumeRole", &resp);
        assert!(!se.code.is_empty());
        assert_eq!(se.service, service.label);
        // Written back as an ErrorResponse, the same fields (as the reader trims them).
        let doc = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            esc(&se.code), esc(&se.message), esc(&se.request_id)
        );
        let back = HttpResponse {
            status,
            headers: vec![],
            body: doc.into_bytes(),
        };
        let again = ServiceError::from_response(service, "AssumeRole", &back);
        assert_eq!(again.code, se.code.trim());
        assert_eq!(again.message, se.message.trim());
        assert_eq!(again.request_id, se.request_id.trim());

        let rejected_wording = {
            let m = se.message.to_ascii_lowercase();
            m.contains("multifactorauthentication failed") && m.contains("invalid mfa")
        };
        let refused = se.code == "AccessDenied" && rejected_wording;
        let (code, message) = (se.code.clone(), se.message.clone());
        let e = se.into_error(Some(3));
        let shown = e.message().to_string();
        assert!(
            shown.contains(&format!("api error {code}: {message}")),
            "{shown}"
        );
        assert_eq!(is_rejected(&e), refused, "{shown}");
        // Only a service's answer counts, never the same words in another error.
        assert!(!is_rejected(&Error::new(shown)));
    }
});
