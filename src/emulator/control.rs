//! Roles Anywhere's control plane (REST-JSON, as in the service model `rolesanywhere`
//! 2018-05-10): trust anchors, profiles, CRLs and tags, held in memory (optionally saved to a
//! JSON file), and the policy CreateSession is checked against.
//!
//! Resources are stored in the model's own detail shapes (`TrustAnchorDetail`,
//! `ProfileDetail`, `CrlDetail`), so answers are those objects as stored. Routing and
//! validation are pure: [`State::handle`] takes the request parts and returns the answer.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Map, Value};

use super::verify::{parse_role_arn, parse_rolesanywhere_arn, ServiceError};
use crate::identity::Certificate;

/// The account every resource is created in.
pub const ACCOUNT: &str = "123456789012";
/// Largest page a List operation returns.
const MAX_PAGE: usize = 100;
/// Most tags on one resource (TooManyTagsException beyond).
const MAX_TAGS: usize = 50;

/// Everything the control plane created; serialised as the `--state` file.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    #[serde(default)]
    pub trust_anchors: Vec<Value>,
    #[serde(default)]
    pub profiles: Vec<Value>,
    #[serde(default)]
    pub crls: Vec<Value>,
    /// Tags by resource ARN, as `[{"key":…,"value":…}]`.
    #[serde(default)]
    pub tags: BTreeMap<String, Vec<Value>>,
}

/// One answer: status and JSON body (errors are [`ServiceError`]s).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// Whether the state changed (and must be saved).
    pub changed: bool,
}

fn answer(status: u16, body: Value, changed: bool) -> Result<Answer, ServiceError> {
    Ok(Answer {
        status,
        body,
        changed,
    })
}

fn validation(message: impl Into<String>) -> ServiceError {
    ServiceError {
        status: 400,
        code: "ValidationException",
        message: message.into(),
    }
}

fn not_found(kind: &str, id: &str) -> ServiceError {
    ServiceError {
        status: 404,
        code: "ResourceNotFoundException",
        message: format!(
            "{kind} {} not found",
            id.chars().take(64).collect::<String>()
        ),
    }
}

fn denied(message: impl Into<String>) -> ServiceError {
    ServiceError {
        status: 403,
        code: "AccessDeniedException",
        message: message.into(),
    }
}

/// What CreateSession must honour for one (trust anchor, profile, role) when the trust
/// anchor came from the control plane.
#[derive(Debug, Clone)]
pub struct SessionPolicy {
    /// The trust anchor's CA certificates.
    pub anchors: Vec<Certificate>,
    /// The profile's `durationSeconds`.
    pub max_duration_seconds: u32,
    /// The profile's `acceptRoleSessionName`.
    pub accept_role_session_name: bool,
    /// (issuer name DER, serial as big-endian magnitude without leading zeros) of every entry
    /// on the trust anchor's enabled CRLs.
    pub revoked: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A timestamp as the model's `SyntheticTimestamp_date_time` (ISO 8601, UTC).
fn iso8601(now: jiff::Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn new_id() -> String {
    super::request_id()
}

/// The query string as decoded pairs.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                if let Some(b) = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    out.push(b);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The request body as a JSON object (an empty body is an empty object).
fn body_object(body: &[u8]) -> Result<Map<String, Value>, ServiceError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ServiceError {
            status: 400,
            code: "SerializationException",
            message: "Malformed request body: expected a JSON object".to_string(),
        }),
    }
}

fn field_str<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    required: bool,
) -> Result<Option<&'a str>, ServiceError> {
    match obj.get(name) {
        None | Some(Value::Null) if required => Err(validation(format!(
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        ))),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(validation(format!("'{name}' must be a string"))),
    }
}

fn field_bool(obj: &Map<String, Value>, name: &str) -> Result<Option<bool>, ServiceError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(validation(format!("'{name}' must be a boolean"))),
    }
}

fn check_name(name: &str) -> Result<(), ServiceError> {
    let ok = (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" -_".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [ a-zA-Z0-9-_]*",
            name.chars().take(64).collect::<String>()
        )))
    }
}

fn check_duration(obj: &Map<String, Value>) -> Result<Option<u64>, ServiceError> {
    match obj.get("durationSeconds") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(d) if (900..=43200).contains(&d) => Ok(Some(d)),
            _ => Err(validation(format!(
                "1 validation error detected: Value '{v}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"
            ))),
        },
    }
}

fn check_role_arns(
    obj: &Map<String, Value>,
    required: bool,
) -> Result<Option<Value>, ServiceError> {
    match obj.get("roleArns") {
        None | Some(Value::Null) if required => Err(validation(
            "1 validation error detected: Value null at 'roleArns' failed to satisfy constraint: Member must not be null",
        )),
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(arns)) => {
            for arn in arns {
                parse_role_arn(arn.as_str().unwrap_or_default())?;
            }
            Ok(Some(Value::Array(arns.clone())))
        }
        Some(_) => Err(validation("'roleArns' must be a list of role ARNs")),
    }
}

fn check_tags(obj: &Map<String, Value>) -> Result<Vec<Value>, ServiceError> {
    let Some(tags) = obj.get("tags").filter(|t| !t.is_null()) else {
        return Ok(Vec::new());
    };
    let tags = tags
        .as_array()
        .ok_or_else(|| validation("'tags' must be a list of {key, value}"))?;
    let allowed = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _.:/=+@-".contains(&b))
    };
    for tag in tags {
        let key = tag["key"].as_str().unwrap_or_default();
        let value = tag["value"].as_str();
        if !(1..=128).contains(&key.len()) || !allowed(key) {
            return Err(validation(
                "Tag keys must be 1-128 characters of [ a-zA-Z0-9_.:/=+@-]",
            ));
        }
        match value {
            Some(v) if v.len() <= 256 && allowed(v) => {}
            _ => {
                return Err(validation(
                    "Tag values must be 0-256 characters of [ a-zA-Z0-9_.:/=+@-]",
                ))
            }
        }
    }
    Ok(tags.clone())
}

/// The CA certificates of a `CERTIFICATE_BUNDLE` source's PEM data.
pub fn bundle_certificates(pem: &str) -> Result<Vec<Certificate>, String> {
    use der::Encode;
    let parsed = x509_cert::Certificate::load_pem_chain(pem.as_bytes())
        .map_err(|e| format!("x509CertificateData is not PEM certificate data: {e}"))?;
    if parsed.is_empty() {
        return Err("x509CertificateData holds no certificate".to_string());
    }
    parsed
        .iter()
        .map(|c| {
            let der = c.to_der().map_err(|e| e.to_string())?;
            Certificate::from_der(&der).map_err(|e| e.to_string())
        })
        .collect()
}

fn check_source(obj: &Map<String, Value>, required: bool) -> Result<Option<Value>, ServiceError> {
    let source = match obj.get("source") {
        None | Some(Value::Null) if required => {
            return Err(validation(
                "1 validation error detected: Value null at 'source' failed to satisfy constraint: Member must not be null",
            ))
        }
        None | Some(Value::Null) => return Ok(None),
        Some(s) => s,
    };
    let kind = source["sourceType"].as_str().unwrap_or_default();
    let data = &source["sourceData"];
    match kind {
        "CERTIFICATE_BUNDLE" => {
            let pem = data["x509CertificateData"].as_str().unwrap_or_default();
            if pem.is_empty() || pem.len() > 16000 {
                return Err(validation(
                    "x509CertificateData must hold 1-16000 characters of PEM",
                ));
            }
            let certs = bundle_certificates(pem).map_err(validation)?;
            if !certs.iter().all(super::verify::is_ca) {
                return Err(validation("Incorrect basic constraints for CA certificate"));
            }
        }
        "AWS_ACM_PCA" => {
            if data["acmPcaArn"].as_str().unwrap_or_default().is_empty() {
                return Err(validation("acmPcaArn is required for AWS_ACM_PCA"));
            }
        }
        "SELF_SIGNED_REPOSITORY" => {}
        other => {
            return Err(validation(format!(
                "1 validation error detected: Value '{}' at 'source.sourceType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACM_PCA, CERTIFICATE_BUNDLE, SELF_SIGNED_REPOSITORY]",
                other.chars().take(64).collect::<String>()
            )))
        }
    }
    Ok(Some(source.clone()))
}

/// A CRL (PEM or DER) as parsed; errors say why it is not one.
fn parse_crl(data: &[u8]) -> Result<x509_cert::crl::CertificateList, String> {
    use der::{Decode, DecodePem};
    let text = std::str::from_utf8(data)
        .ok()
        .filter(|t| t.contains("-----BEGIN"));
    match text {
        Some(pem) => {
            x509_cert::crl::CertificateList::from_pem(pem.trim()).map_err(|e| e.to_string())
        }
        None => x509_cert::crl::CertificateList::from_der(data).map_err(|e| e.to_string()),
    }
}

/// The list operations' `pageSize` and `nextToken` (an offset, as we hand it out).
fn page(query: &[(String, String)]) -> Result<(usize, usize), ServiceError> {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let size = match get("pageSize") {
        None => 50,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| validation("pageSize must be between 1 and 100"))?,
    };
    let start = match get("nextToken") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| validation("Invalid nextToken"))?,
    };
    Ok((start, size))
}

fn list(items: &[Value], key: &str, query: &[(String, String)]) -> Result<Answer, ServiceError> {
    let (start, size) = page(query)?;
    let slice: Vec<Value> = items.iter().skip(start).take(size).cloned().collect();
    let mut body = json!({ key: slice });
    if start + size < items.len() {
        body["nextToken"] = json!((start + size).to_string());
    }
    answer(200, body, false)
}

/// Which collection a path names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    TrustAnchor,
    Profile,
    Crl,
}

impl Kind {
    fn id_field(self) -> &'static str {
        match self {
            Kind::TrustAnchor => "trustAnchorId",
            Kind::Profile => "profileId",
            Kind::Crl => "crlId",
        }
    }
    fn wrapper(self) -> &'static str {
        match self {
            Kind::TrustAnchor => "trustAnchor",
            Kind::Profile => "profile",
            Kind::Crl => "crl",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Kind::TrustAnchor => "Trust anchor",
            Kind::Profile => "Profile",
            Kind::Crl => "CRL",
        }
    }
    fn arn_field(self) -> &'static str {
        match self {
            Kind::TrustAnchor => "trustAnchorArn",
            Kind::Profile => "profileArn",
            Kind::Crl => "crlArn",
        }
    }
}

impl State {
    fn items(&self, kind: Kind) -> &Vec<Value> {
        match kind {
            Kind::TrustAnchor => &self.trust_anchors,
            Kind::Profile => &self.profiles,
            Kind::Crl => &self.crls,
        }
    }

    fn items_mut(&mut self, kind: Kind) -> &mut Vec<Value> {
        match kind {
            Kind::TrustAnchor => &mut self.trust_anchors,
            Kind::Profile => &mut self.profiles,
            Kind::Crl => &mut self.crls,
        }
    }

    fn position(&self, kind: Kind, id: &str) -> Result<usize, ServiceError> {
        self.items(kind)
            .iter()
            .position(|v| v[kind.id_field()] == id)
            .ok_or_else(|| not_found(kind.label(), id))
    }

    fn wrapped(kind: Kind, item: &Value) -> Value {
        json!({ kind.wrapper(): item })
    }

    fn has_arn(&self, arn: &str) -> bool {
        [Kind::TrustAnchor, Kind::Profile, Kind::Crl]
            .iter()
            .any(|&k| self.items(k).iter().any(|v| v[k.arn_field()] == arn))
    }

    /// Routes and answers one control-plane request. `region` is the caller's (from its
    /// SigV4 scope); new resources' ARNs are in it.
    pub fn handle(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
        region: &str,
        now: jiff::Timestamp,
    ) -> Result<Answer, ServiceError> {
        let query = query_pairs(query);
        let segments: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(decode)
            .collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let kind_of = |s: &str| match s {
            "trustanchor" => Some(Kind::TrustAnchor),
            "profile" => Some(Kind::Profile),
            "crl" => Some(Kind::Crl),
            _ => None,
        };
        match (method, segs.as_slice()) {
            ("POST", ["trustanchors"]) => self.create_trust_anchor(body, region, now),
            ("GET", ["trustanchors"]) => list(&self.trust_anchors, "trustAnchors", &query),
            ("POST", ["profiles"]) => self.create_profile(body, region, now),
            ("GET", ["profiles"]) => list(&self.profiles, "profiles", &query),
            ("POST", ["crls"]) => self.import_crl(body, region, now),
            ("GET", ["crls"]) => list(&self.crls, "crls", &query),
            ("POST", ["TagResource"]) => self.tag_resource(body),
            ("POST", ["UntagResource"]) => self.untag_resource(body),
            ("GET", ["ListTagsForResource"]) => {
                let arn = query
                    .iter()
                    .find(|(k, _)| k == "resourceArn")
                    .map(|(_, v)| v.as_str())
                    .ok_or_else(|| validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null"))?;
                if !self.has_arn(arn) {
                    return Err(not_found("Resource", arn));
                }
                let tags = self.tags.get(arn).cloned().unwrap_or_default();
                answer(200, json!({ "tags": tags }), false)
            }
            (_, [kind, id]) if kind_of(kind).is_some() => {
                let kind = kind_of(kind).unwrap_or(Kind::Crl);
                let i = self.position(kind, id)?;
                match method {
                    "GET" => answer(200, Self::wrapped(kind, &self.items(kind)[i]), false),
                    "DELETE" => {
                        let item = self.items_mut(kind).remove(i);
                        if let Some(arn) = item[kind.arn_field()].as_str() {
                            self.tags.remove(arn);
                        }
                        answer(200, Self::wrapped(kind, &item), true)
                    }
                    "PATCH" => self.update(kind, i, body, now),
                    _ => Err(unknown(method, path)),
                }
            }
            ("POST", [kind, id, action @ ("enable" | "disable")]) if kind_of(kind).is_some() => {
                let kind = kind_of(kind).unwrap_or(Kind::Crl);
                let i = self.position(kind, id)?;
                let item = &mut self.items_mut(kind)[i];
                item["enabled"] = json!(*action == "enable");
                item["updatedAt"] = json!(iso8601(now));
                answer(200, Self::wrapped(kind, item), true)
            }
            _ => Err(unknown(method, path)),
        }
    }

    fn create_trust_anchor(
        &mut self,
        body: &[u8],
        region: &str,
        now: jiff::Timestamp,
    ) -> Result<Answer, ServiceError> {
        let obj = body_object(body)?;
        let name = field_str(&obj, "name", true)?.unwrap_or_default();
        check_name(name)?;
        let source = check_source(&obj, true)?;
        let enabled = field_bool(&obj, "enabled")?.unwrap_or(false);
        let tags = check_tags(&obj)?;
        let id = new_id();
        let arn = format!("arn:aws:rolesanywhere:{region}:{ACCOUNT}:trust-anchor/{id}");
        let at = iso8601(now);
        let notifications: Vec<Value> = ["CA_CERTIFICATE_EXPIRY", "END_ENTITY_CERTIFICATE_EXPIRY"]
            .iter()
            .map(|event| {
                json!({"enabled": true, "event": event, "threshold": 45, "channel": "ALL", "configuredBy": "rolesanywhere.amazonaws.com"})
            })
            .collect();
        let item = json!({
            "trustAnchorId": id,
            "trustAnchorArn": arn,
            "name": name,
            "source": source,
            "enabled": enabled,
            "createdAt": at,
            "updatedAt": at,
            "notificationSettings": notifications,
        });
        self.trust_anchors.push(item.clone());
        self.tags.insert(arn, tags);
        answer(201, Self::wrapped(Kind::TrustAnchor, &item), true)
    }

    fn create_profile(
        &mut self,
        body: &[u8],
        region: &str,
        now: jiff::Timestamp,
    ) -> Result<Answer, ServiceError> {
        let obj = body_object(body)?;
        let name = field_str(&obj, "name", true)?.unwrap_or_default();
        check_name(name)?;
        let role_arns = check_role_arns(&obj, true)?;
        let duration = check_duration(&obj)?.unwrap_or(3600);
        let tags = check_tags(&obj)?;
        let id = new_id();
        let arn = format!("arn:aws:rolesanywhere:{region}:{ACCOUNT}:profile/{id}");
        let at = iso8601(now);
        let mut item = json!({
            "profileId": id,
            "profileArn": arn,
            "name": name,
            "requireInstanceProperties": field_bool(&obj, "requireInstanceProperties")?.unwrap_or(false),
            "enabled": field_bool(&obj, "enabled")?.unwrap_or(false),
            "createdBy": format!("arn:aws:iam::{ACCOUNT}:root"),
            "roleArns": role_arns,
            "managedPolicyArns": obj.get("managedPolicyArns").cloned().unwrap_or(json!([])),
            "createdAt": at,
            "updatedAt": at,
            "durationSeconds": duration,
            "acceptRoleSessionName": field_bool(&obj, "acceptRoleSessionName")?.unwrap_or(false),
            "attributeMappings": [],
        });
        if let Some(policy) = field_str(&obj, "sessionPolicy", false)? {
            item["sessionPolicy"] = json!(policy);
        }
        self.profiles.push(item.clone());
        self.tags.insert(arn, tags);
        answer(201, Self::wrapped(Kind::Profile, &item), true)
    }

    fn import_crl(
        &mut self,
        body: &[u8],
        region: &str,
        now: jiff::Timestamp,
    ) -> Result<Answer, ServiceError> {
        let obj = body_object(body)?;
        let name = field_str(&obj, "name", true)?.unwrap_or_default();
        check_name(name)?;
        let anchor_arn = field_str(&obj, "trustAnchorArn", true)?.unwrap_or_default();
        parse_rolesanywhere_arn(anchor_arn, "trust-anchor", "trustAnchorArn")?;
        let data_b64 = field_str(&obj, "crlData", true)?.unwrap_or_default();
        let data = base64::engine::general_purpose::STANDARD
            .decode(data_b64)
            .map_err(|_| validation("crlData must be base64"))?;
        if data.is_empty() || data.len() > 300_000 {
            return Err(validation("crlData must be 1-300000 bytes"));
        }
        parse_crl(&data).map_err(|e| validation(format!("Invalid CRL: {e}")))?;
        let tags = check_tags(&obj)?;
        let id = new_id();
        let arn = format!("arn:aws:rolesanywhere:{region}:{ACCOUNT}:crl/{id}");
        let at = iso8601(now);
        let item = json!({
            "crlId": id,
            "crlArn": arn,
            "name": name,
            "enabled": field_bool(&obj, "enabled")?.unwrap_or(true),
            "crlData": data_b64,
            "trustAnchorArn": anchor_arn,
            "createdAt": at,
            "updatedAt": at,
        });
        self.crls.push(item.clone());
        self.tags.insert(arn, tags);
        answer(201, Self::wrapped(Kind::Crl, &item), true)
    }

    fn update(
        &mut self,
        kind: Kind,
        i: usize,
        body: &[u8],
        now: jiff::Timestamp,
    ) -> Result<Answer, ServiceError> {
        let obj = body_object(body)?;
        let mut changes = Map::new();
        if let Some(name) = field_str(&obj, "name", false)? {
            check_name(name)?;
            changes.insert("name".into(), json!(name));
        }
        match kind {
            Kind::TrustAnchor => {
                if let Some(source) = check_source(&obj, false)? {
                    changes.insert("source".into(), source);
                }
            }
            Kind::Profile => {
                if let Some(arns) = check_role_arns(&obj, false)? {
                    changes.insert("roleArns".into(), arns);
                }
                if let Some(d) = check_duration(&obj)? {
                    changes.insert("durationSeconds".into(), json!(d));
                }
                if let Some(b) = field_bool(&obj, "acceptRoleSessionName")? {
                    changes.insert("acceptRoleSessionName".into(), json!(b));
                }
                if let Some(p) = field_str(&obj, "sessionPolicy", false)? {
                    changes.insert("sessionPolicy".into(), json!(p));
                }
                if let Some(m) = obj.get("managedPolicyArns").filter(|m| m.is_array()) {
                    changes.insert("managedPolicyArns".into(), m.clone());
                }
            }
            Kind::Crl => {
                if let Some(data_b64) = field_str(&obj, "crlData", false)? {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(data_b64)
                        .map_err(|_| validation("crlData must be base64"))?;
                    parse_crl(&data).map_err(|e| validation(format!("Invalid CRL: {e}")))?;
                    changes.insert("crlData".into(), json!(data_b64));
                }
            }
        }
        let item = &mut self.items_mut(kind)[i];
        for (k, v) in changes {
            item[k.as_str()] = v;
        }
        item["updatedAt"] = json!(iso8601(now));
        answer(200, Self::wrapped(kind, item), true)
    }

    fn tag_resource(&mut self, body: &[u8]) -> Result<Answer, ServiceError> {
        let obj = body_object(body)?;
        let arn = field_str(&obj, "resourceArn", true)?.unwrap_or_default();
        if !obj.contains_key("tags") {
            return Err(validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"));
        }
        let new = check_tags(&obj)?;
        if !self.has_arn(arn) {
            return Err(not_found("Resource", arn));
        }
        let tags = self.tags.entry(arn.to_string()).or_default();
        for tag in new {
            match tags.iter_mut().find(|t| t["key"] == tag["key"]) {
                Some(t) => *t = tag,
                None => tags.push(tag),
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(ServiceError {
                status: 400,
                code: "TooManyTagsException",
                message: format!("A resource can have at most {MAX_TAGS} tags"),
            });
        }
        answer(201, json!({}), true)
    }

    fn untag_resource(&mut self, body: &[u8]) -> Result<Answer, ServiceError> {
        let obj = body_object(body)?;
        let arn = field_str(&obj, "resourceArn", true)?.unwrap_or_default();
        let keys: Vec<&str> = obj
            .get("tagKeys")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !self.has_arn(arn) {
            return Err(not_found("Resource", arn));
        }
        if let Some(tags) = self.tags.get_mut(arn) {
            tags.retain(|t| !keys.iter().any(|k| t["key"] == *k));
        }
        answer(200, json!({}), true)
    }

    /// Whether CreateSession is checked against this state (a trust anchor was created).
    pub fn governs_sessions(&self) -> bool {
        !self.trust_anchors.is_empty()
    }

    /// What a CreateSession naming these ARNs must honour, or why the service refuses it.
    pub fn session_policy(
        &self,
        trust_anchor_arn: &str,
        profile_arn: &str,
        role_arn: &str,
    ) -> Result<SessionPolicy, ServiceError> {
        let anchor = self
            .trust_anchors
            .iter()
            .find(|t| t["trustAnchorArn"] == trust_anchor_arn)
            .ok_or_else(|| denied(format!("Trust anchor {trust_anchor_arn} does not exist")))?;
        if anchor["enabled"] != true {
            return Err(denied(format!(
                "Trust anchor {trust_anchor_arn} is disabled"
            )));
        }
        let profile = self
            .profiles
            .iter()
            .find(|p| p["profileArn"] == profile_arn)
            .ok_or_else(|| denied(format!("Profile {profile_arn} does not exist")))?;
        if profile["enabled"] != true {
            return Err(denied(format!("Profile {profile_arn} is disabled")));
        }
        let lists_role = profile["roleArns"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r == role_arn));
        if !lists_role {
            return Err(denied(format!(
                "Role {role_arn} is not in the roleArns of profile {profile_arn}"
            )));
        }
        // Only CERTIFICATE_BUNDLE anchors hold certificates the emulator can chain to.
        let anchors = anchor["source"]["sourceData"]["x509CertificateData"]
            .as_str()
            .and_then(|pem| bundle_certificates(pem).ok())
            .unwrap_or_default();
        let mut revoked = Vec::new();
        for crl in self
            .crls
            .iter()
            .filter(|c| c["trustAnchorArn"] == trust_anchor_arn && c["enabled"] == true)
        {
            let Some(list) = crl["crlData"]
                .as_str()
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|d| parse_crl(&d).ok())
            else {
                continue;
            };
            use der::Encode;
            let Ok(issuer) = list.tbs_cert_list.issuer.to_der() else {
                continue;
            };
            for entry in list.tbs_cert_list.revoked_certificates.iter().flatten() {
                let bytes = entry.serial_number.as_bytes();
                let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
                revoked.push((issuer.clone(), bytes[start..].to_vec()));
            }
        }
        Ok(SessionPolicy {
            anchors,
            max_duration_seconds: profile["durationSeconds"]
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or(3600),
            accept_role_session_name: profile["acceptRoleSessionName"] == true,
            revoked,
        })
    }
}

fn unknown(method: &str, path: &str) -> ServiceError {
    ServiceError {
        status: 404,
        code: "UnknownOperationException",
        message: format!(
            "Unknown operation {method} {}",
            path.chars().take(64).collect::<String>()
        ),
    }
}

/// The region of a SigV4 `Authorization` header's credential scope, when it is one signed
/// for `rolesanywhere` (the emulator does not check HMAC signatures: it has no secret keys).
pub fn caller_region(authorization: Option<&str>) -> Result<String, ServiceError> {
    let missing = || {
        denied(
            "Missing Authentication Token: sign the request with SigV4 for service 'rolesanywhere'",
        )
    };
    let auth = authorization.ok_or_else(missing)?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(missing)?;
    let credential = rest
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("Credential="))
        .ok_or_else(missing)?;
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [_, _, region, "rolesanywhere", "aws4_request"] if !region.is_empty() => {
            Ok((*region).to_string())
        }
        _ => Err(denied(
            "Credential should be scoped to a valid region and service 'rolesanywhere'",
        )),
    }
}
