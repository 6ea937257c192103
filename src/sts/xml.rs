//! The XML answers of STS: a small reader of element paths, and the three responses we use.

use jiff::Timestamp;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::Result;

/// Why an STS answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    NotUtf8,
    Malformed(String),
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XmlError::NotUtf8 => f.write_str("the response is not UTF-8"),
            XmlError::Malformed(why) => write!(f, "malformed XML in the response ({why})"),
        }
    }
}

impl XmlError {
    /// Nothing the user can do: the server sent it.
    pub fn hint(&self) -> Option<&'static str> {
        None
    }
}

impl std::error::Error for XmlError {}

/// Why a 2xx STS answer holds no usable credentials or identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// The `action`'s answer is not XML we can read.
    Xml {
        action: &'static str,
        source: XmlError,
    },
    /// The `action`'s answer has no (or an empty) `Credentials/{field}`.
    Lacks { action: &'static str, field: String },
    /// The `action`'s `Expiration` (`value`) is not an RFC 3339 time.
    BadExpiration { action: &'static str, value: String },
    /// GetCallerIdentity answered with neither `Account` nor `Arn`.
    NoIdentity,
}

impl ResponseError {
    /// Nothing the user can do: the server sent it.
    pub fn hint(&self) -> Option<&'static str> {
        None
    }
}

impl std::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseError::Xml { action, source } => write!(f, "STS {action}: {source}"),
            ResponseError::Lacks { action, field } => {
                write!(f, "STS {action} response lacks Credentials/{field}")
            }
            ResponseError::BadExpiration { action, value } => write!(
                f,
                "STS {action} response has an unreadable Expiration {value:?}"
            ),
            ResponseError::NoIdentity => {
                f.write_str("STS GetCallerIdentity response lacks Account and Arn")
            }
        }
    }
}

impl std::error::Error for ResponseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResponseError::Xml { source, .. } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(XmlError, ResponseError);

/// Collects the text of the elements at the given `/`-separated local-name paths (from the
/// root), e.g. `AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId`. Entity and
/// character references are resolved; every collected value is zeroized on drop.
pub fn xml_values(
    body: &[u8],
    paths: &[&str],
) -> std::result::Result<Vec<Option<Zeroizing<String>>>, XmlError> {
    let mut out: Vec<Option<Zeroizing<String>>> = vec![None; paths.len()];
    walk(body, paths, &mut |i, text| {
        if out[i].is_none() {
            out[i] = Some(Zeroizing::new(text.to_string()));
        }
    })?;
    Ok(out)
}

/// Every element's text at each path (lists such as `…/AttachedPolicies/member/PolicyArn`),
/// in document order.
pub fn xml_lists(
    body: &[u8],
    paths: &[&str],
) -> std::result::Result<Vec<Vec<Zeroizing<String>>>, XmlError> {
    let mut out: Vec<Vec<Zeroizing<String>>> = vec![Vec::new(); paths.len()];
    walk(body, paths, &mut |i, text| {
        out[i].push(Zeroizing::new(text.to_string()));
    })?;
    Ok(out)
}

/// Calls `found(i, text)` for every element at `paths[i]`, text trimmed.
fn walk(
    body: &[u8],
    paths: &[&str],
    found: &mut dyn FnMut(usize, &str),
) -> std::result::Result<(), XmlError> {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut current = Zeroizing::new(String::new());
    let bad = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Start(e) => {
                stack.push(e.local_name().into_inner().to_string());
                current.clear();
            }
            Event::Empty(e) => {
                stack.push(e.local_name().into_inner().to_string());
                store(&stack, paths, found, "");
                stack.pop();
            }
            Event::Text(t) => current.push_str(&t.xml10_content()),
            Event::CData(t) => current.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| bad(&e))? {
                    current.push(c);
                } else {
                    let name = r.xml10_content();
                    let value = quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| bad(&format!("unknown entity &{name};")))?;
                    current.push_str(value);
                }
            }
            Event::End(_) => {
                store(&stack, paths, found, &current);
                current.clear();
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(bad(&"unexpected end of document"))
    }
}

fn store(stack: &[String], paths: &[&str], found: &mut dyn FnMut(usize, &str), text: &str) {
    for (i, p) in paths.iter().enumerate() {
        if p.split('/').count() == stack.len() && p.split('/').zip(stack).all(|(a, b)| a == b) {
            found(i, text.trim());
        }
    }
}

fn credentials_from(
    body: &[u8],
    action: &'static str,
    account_id: Option<String>,
    extra: &[&str],
) -> Result<(Credentials, Vec<Option<String>>)> {
    let prefix = format!("{action}Response/{action}Result/");
    let mut paths: Vec<String> = [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ]
    .iter()
    .map(|f| format!("{prefix}Credentials/{f}"))
    .collect();
    paths.extend(extra.iter().map(|p| format!("{prefix}{p}")));
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let values = xml_values(body, &refs).map_err(|source| ResponseError::Xml { action, source })?;
    let get = |i: usize| -> std::result::Result<Zeroizing<String>, ResponseError> {
        values[i]
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ResponseError::Lacks {
                action,
                field: refs[i].rsplit('/').next().unwrap_or("").to_string(),
            })
    };
    let expiration = get(3)?;
    let expiration_ok = expiration.parse::<Timestamp>().is_ok();
    if !expiration_ok {
        return Err(ResponseError::BadExpiration {
            action,
            value: expiration.to_string(),
        }
        .into());
    }
    let creds = Credentials {
        access_key_id: get(0)?.to_string(),
        secret_access_key: get(1)?,
        session_token: get(2)?,
        expiration: normalize_time(&expiration),
        account_id,
    };
    let extra_values = values[4..]
        .iter()
        .map(|v| v.as_ref().map(|s| s.to_string()))
        .collect();
    Ok((creds, extra_values))
}

/// RFC 3339 in UTC with whole seconds (`2024-01-01T00:00:00Z`), which every SDK parses.
fn normalize_time(s: &str) -> String {
    s.parse::<Timestamp>()
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// Parses a GetSessionToken response.
pub fn parse_session_token(body: &[u8], account_id: Option<String>) -> Result<Credentials> {
    credentials_from(body, "GetSessionToken", account_id, &[]).map(|(c, _)| c)
}

/// Parses a GetFederationToken response; returns the credentials and the federated user's
/// ARN.
pub fn parse_federation_token(
    body: &[u8],
    account_id: Option<String>,
) -> Result<(Credentials, Option<String>)> {
    let (credentials, extra) = credentials_from(
        body,
        "GetFederationToken",
        account_id,
        &["FederatedUser/Arn"],
    )?;
    Ok((credentials, extra.into_iter().next().flatten()))
}

/// What AssumeRole returned.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub credentials: Credentials,
    /// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    pub assumed_role_arn: Option<String>,
}

/// Parses an AssumeRole response; the account comes from the role ARN.
pub fn parse_assume_role(body: &[u8], account_id: Option<String>) -> Result<AssumedRole> {
    let (credentials, extra) =
        credentials_from(body, "AssumeRole", account_id, &["AssumedRoleUser/Arn"])?;
    Ok(AssumedRole {
        credentials,
        assumed_role_arn: extra.into_iter().next().flatten(),
    })
}

/// What GetCallerIdentity returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// Parses a GetCallerIdentity response.
pub fn parse_caller_identity(body: &[u8]) -> Result<CallerIdentity> {
    let p = "GetCallerIdentityResponse/GetCallerIdentityResult/";
    let v = xml_values(
        body,
        &[
            &format!("{p}Account"),
            &format!("{p}Arn"),
            &format!("{p}UserId"),
        ],
    )?;
    let get = |i: usize| v[i].as_ref().map(|s| s.to_string()).unwrap_or_default();
    if get(0).is_empty() && get(1).is_empty() {
        return Err(ResponseError::NoIdentity.into());
    }
    Ok(CallerIdentity {
        account: get(0),
        arn: get(1),
        user_id: get(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSUME: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>dev</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/s&amp;1</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:s</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLE&#43;x</SessionToken>
      <Expiration>2019-11-09T13:34:41.123456Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;

    #[test]
    fn parses_assume_role() {
        let r = parse_assume_role(ASSUME.as_bytes(), Some("123456789012".into())).unwrap();
        assert_eq!(r.credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(
            r.credentials.session_token.as_str(),
            "AQoDYXdzEPT//////////wEXAMPLE+x"
        );
        assert_eq!(r.credentials.expiration, "2019-11-09T13:34:41Z");
        assert_eq!(
            r.assumed_role_arn.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/demo/s&1")
        );
        assert!(parse_session_token(ASSUME.as_bytes(), None).is_err());
        assert!(parse_assume_role(b"<AssumeRoleResponse><AssumeRoleResult>", None).is_err());
        assert!(parse_assume_role(b"not xml at all", None).is_err());
        assert!(parse_assume_role(b"\xff\xfe", None).is_err());
    }

    #[test]
    fn parses_caller_identity() {
        let body = br#"<GetCallerIdentityResponse><GetCallerIdentityResult><UserId>AKIA</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/a</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>"#;
        let id = parse_caller_identity(body).unwrap();
        assert_eq!(id.account, "123456789012");
        assert_eq!(id.arn, "arn:aws:iam::123456789012:user/a");
    }

    #[test]
    fn errors_render_todays_text_and_stay_typed() {
        let typed = |e: &crate::error::Error| {
            std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<ResponseError>())
                .cloned()
        };
        let e = parse_session_token(ASSUME.as_bytes(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "STS GetSessionToken response lacks Credentials/Expiration"
        );
        assert_eq!(
            typed(&e),
            Some(ResponseError::Lacks {
                action: "GetSessionToken",
                field: "Expiration".into()
            })
        );
        let e = parse_assume_role(b"\xff\xfe", None).unwrap_err();
        assert_eq!(e.to_string(), "STS AssumeRole: the response is not UTF-8");
        assert_eq!(
            typed(&e),
            Some(ResponseError::Xml {
                action: "AssumeRole",
                source: XmlError::NotUtf8
            })
        );
        let bad = ASSUME.replace("2019-11-09T13:34:41.123456Z", "soon");
        let e = parse_assume_role(bad.as_bytes(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "STS AssumeRole response has an unreadable Expiration \"soon\""
        );
        let e = parse_caller_identity(b"<GetCallerIdentityResponse/>").unwrap_err();
        assert_eq!(
            e.to_string(),
            "STS GetCallerIdentity response lacks Account and Arn"
        );
        assert_eq!(typed(&e), Some(ResponseError::NoIdentity));
        let e = parse_caller_identity(b"\xff").unwrap_err();
        assert_eq!(e.to_string(), "the response is not UTF-8");
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<XmlError>()));
    }
}
