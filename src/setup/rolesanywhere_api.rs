//! A client of Roles Anywhere's control plane: the REST-JSON API of the service model
//! `rolesanywhere` (2018-05-10), signed with SigV4 `AWS4-HMAC-SHA256` for service
//! `rolesanywhere`.
//!
//! Wire contract: `METHOD /path?query` with a JSON body (`Content-Type: application/json`) for
//! the operations that take one; answers are JSON objects. Errors carry the code in the
//! `X-Amzn-ErrorType` header (or the body's `code`/`__type`) and the text in `message`, the
//! shape CreateSession uses too, so they are read by
//! [`crate::protocol::rolesanywhere::ServiceError`]. List operations page with `nextToken`.
//! Every request goes through the one retry loop ([`http::send_with_retries_as`]).

use jiff::Timestamp;
use serde_json::{json, Value};

pub use super::control_plane_error::ControlPlaneError;
use crate::error::{Error, Result};
use crate::protocol::http::{self, HttpClient, HttpResponse, Outgoing, RetryPolicy, SendError};
use crate::protocol::rolesanywhere::ServiceError;
use crate::protocol::sigv4;
use crate::sts::{AccessKeys, Endpoint};

/// The signing name of the control plane.
const SERVICE: &str = "rolesanywhere";

/// One request: the operation's name (for messages), method, path (unencoded segments joined
/// by `/`), query parameters and JSON body.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub operation: &'static str,
    pub method: &'static str,
    pub path: String,
    pub query: Vec<(&'a str, String)>,
    pub body: Option<Value>,
}

/// A signed request plus what `--debug` may show.
pub struct Signed {
    pub outgoing: Outgoing,
    pub canonical_request: String,
}

/// The request path as sent: each segment percent-encoded once.
fn encoded_path(endpoint: &Endpoint, path: &str) -> String {
    let base = endpoint.path.trim_end_matches('/');
    let rest: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(sigv4::uri_encode)
        .collect();
    format!("{base}/{}", rest.join("/"))
}

/// Signs `req` for `endpoint` with `keys` at `now` (pure: no I/O, no clock).
pub fn sign(keys: &AccessKeys, endpoint: &Endpoint, req: &Request, now: Timestamp) -> Signed {
    let body = req
        .body
        .as_ref()
        .map(|b| b.to_string().into_bytes())
        .unwrap_or_default();
    let path = encoded_path(endpoint, &req.path);
    let query = sigv4::canonical_query(&req.query);
    let mut headers: Vec<(String, String)> = vec![("Host".into(), endpoint.host.clone())];
    if req.body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    // Services other than S3 encode the (already encoded) path segments once more.
    let canonical_uri: String = path
        .split('/')
        .map(sigv4::uri_encode)
        .collect::<Vec<_>>()
        .join("/");
    let signed = crate::sts::client::sign_hmac(
        keys,
        &crate::sts::client::HmacRequest {
            method: req.method,
            canonical_uri: &canonical_uri,
            query: &query,
            headers,
            body: &body,
            region: &endpoint.region,
            service: SERVICE,
        },
        now,
    );
    let (headers, canonical_request) = (signed.headers, signed.canonical_request);
    let url = if query.is_empty() {
        format!("{}{path}", endpoint.origin)
    } else {
        format!("{}{path}?{query}", endpoint.origin)
    };
    Signed {
        outgoing: Outgoing {
            url,
            headers,
            body: zeroize::Zeroizing::new(body),
        },
        canonical_request,
    }
}

/// The control plane of one region, called with one set of keys.
pub struct Client {
    pub endpoint: Endpoint,
    http: HttpClient,
    keys: AccessKeys,
    policy: RetryPolicy,
}

/// Whether an error is the service's "no such resource".
pub fn is_not_found(e: &Error) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<ControlPlaneError>())
        .and_then(ControlPlaneError::service_error)
        .is_some_and(|s| s.code == "ResourceNotFoundException")
}

impl Client {
    pub fn new(
        endpoint: Endpoint,
        http: HttpClient,
        keys: AccessKeys,
        policy: RetryPolicy,
    ) -> Client {
        Client {
            endpoint,
            http,
            keys,
            policy,
        }
    }

    /// Sends `req` and returns the answer's JSON (an empty answer is `{}`).
    pub fn call(&self, req: &Request) -> Result<Value> {
        let build = |now, attempt, max| {
            let signed = sign(&self.keys, &self.endpoint, req, now);
            log::debug!(
                "RolesAnywhere {} attempt {attempt} of {max}: {} {}\ncanonical request (body hashed):\n{}",
                req.operation,
                req.method,
                signed.outgoing.url,
                crate::sts::client::redact_token(&signed.canonical_request)
            );
            Ok(signed.outgoing)
        };
        let parse_error = |resp: &HttpResponse| ServiceError::from_response(resp);
        match http::send_with_retries_as(&self.http, req.method, self.policy, build, parse_error) {
            Ok(resp) => {
                log::debug!("RolesAnywhere {}: HTTP {}", req.operation, resp.status);
                Ok(parse_answer(req.operation, &resp.body)?)
            }
            Err(SendError::Build(e)) => Err(e),
            Err(SendError::Service { error, exhausted }) => Err(ControlPlaneError::Service {
                operation: req.operation,
                exhausted,
                source: error,
            }
            .into()),
            Err(SendError::Transport {
                error,
                url,
                exhausted,
            }) => Err(ControlPlaneError::Transport {
                operation: req.operation,
                method: req.method,
                url,
                exhausted,
                source: error,
            }
            .into()),
        }
    }

    /// Every item of a List operation (`GET /path`), following `nextToken`.
    pub fn list_all(&self, operation: &'static str, path: &str, key: &str) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        // A bound against a service that keeps handing out tokens.
        for _ in 0..1000 {
            let mut query = vec![("pageSize", "100".to_string())];
            if let Some(t) = &token {
                query.push(("nextToken", t.clone()));
            }
            let page = self.call(&Request {
                operation,
                method: "GET",
                path: path.to_string(),
                query,
                body: None,
            })?;
            items.extend(page[key].as_array().cloned().unwrap_or_default());
            match page["nextToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(items),
            }
        }
        Err(ControlPlaneError::TooManyPages { operation }.into())
    }

    /// The tags of a resource, as (key, value).
    pub fn tags(&self, arn: &str) -> Result<Vec<(String, String)>> {
        let answer = self.call(&Request {
            operation: "ListTagsForResource",
            method: "GET",
            path: "ListTagsForResource".into(),
            query: vec![("resourceArn", arn.to_string())],
            body: None,
        })?;
        Ok(tags_of(&answer))
    }
}

/// A successful answer's JSON (an empty answer is `{}`).
pub fn parse_answer(operation: &str, body: &[u8]) -> Result<Value, ControlPlaneError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|source| ControlPlaneError::NotJson {
        operation: operation.to_string(),
        source,
    })
}

/// The tags of a ListTagsForResource answer, as (key, value); a missing or non-text one is
/// empty.
pub fn tags_of(answer: &Value) -> Vec<(String, String)> {
    answer["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|t| {
                    (
                        t["key"].as_str().unwrap_or_default().to_string(),
                        t["value"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::aws_config::Settings;
    use zeroize::Zeroizing;

    fn keys(token: Option<&str>) -> AccessKeys {
        AccessKeys {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            session_token: token.map(|t| Zeroizing::new(t.to_string())),
        }
    }

    fn endpoint(url: &str) -> Endpoint {
        // The same URL splitting as every endpoint; only the region matters for signing.
        crate::sts::resolve_endpoint("eu-west-1", url, &Settings::default()).unwrap()
    }

    #[test]
    fn paths_and_queries_are_encoded_on_the_wire() {
        let req = Request {
            operation: "ListTagsForResource",
            method: "GET",
            path: "ListTagsForResource".into(),
            query: vec![(
                "resourceArn",
                "arn:aws:rolesanywhere:eu-west-1:1:trust-anchor/x".into(),
            )],
            body: None,
        };
        let now: Timestamp = "2024-05-06T07:08:09Z".parse().unwrap();
        let s = sign(&keys(None), &endpoint("https://h:8443/base/"), &req, now);
        assert_eq!(
            s.outgoing.url,
            "https://h:8443/base/ListTagsForResource?resourceArn=arn%3Aaws%3Arolesanywhere%3Aeu-west-1%3A1%3Atrust-anchor%2Fx"
        );
        assert!(s.outgoing.body.is_empty());
        assert!(!s.outgoing.headers.iter().any(|(n, _)| n == "Content-Type"));
        let auth = &s.outgoing.headers.last().unwrap().1;
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240506/eu-west-1/rolesanywhere/aws4_request, SignedHeaders=host;x-amz-date, Signature="),
            "{auth}"
        );
    }

    /// Cross-check against the AWS SDK's own signer (aws-sigv4) on the same requests.
    #[test]
    fn signature_matches_aws_sigv4_crate() {
        let now: Timestamp = "2024-05-06T07:08:09Z".parse().unwrap();
        let requests = [
            Request {
                operation: "CreateTrustAnchor",
                method: "POST",
                path: "trustanchors".into(),
                query: vec![],
                body: Some(json!({"name": "a b", "enabled": true})),
            },
            Request {
                operation: "ListProfiles",
                method: "GET",
                path: "profiles".into(),
                query: vec![("pageSize", "100".into()), ("nextToken", "a/b+c".into())],
                body: None,
            },
            Request {
                operation: "DeleteProfile",
                method: "DELETE",
                path: "profile/0b2a5f1e-1111-2222-3333-444455556666".into(),
                query: vec![],
                body: None,
            },
        ];
        for token in [None, Some("FQoGZXIvYXdzEBYaD+token/with=chars")] {
            for req in &requests {
                let k = keys(token);
                let ours = sign(
                    &k,
                    &endpoint("https://rolesanywhere.eu-west-1.amazonaws.com"),
                    req,
                    now,
                );
                let theirs = crate::sts::client::tests::reference_authorization(
                    &k,
                    ("eu-west-1", "rolesanywhere"),
                    (req.method, &ours.outgoing.url),
                    &ours.outgoing.headers,
                    &ours.outgoing.body,
                    now,
                );
                let mine = &ours.outgoing.headers.last().unwrap().1;
                assert_eq!(mine, &theirs, "{} token {token:?}", req.operation);
            }
        }
    }
}
