//! The IAM calls setup makes, on [`crate::iam`] (Query API, global endpoint): a role, its
//! trust policy, tags and managed policies. The two lists are read in one page: IAM's default
//! `MaxItems` (100) is above a role's quotas (50 tags, at most 20 managed policies).

use crate::error::{Error, Result};
use crate::iam::{call, Iam};
use crate::sts::{xml_lists, xml_values, AccessKeys, ServiceError, XmlError};

/// A role as GetRole shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub arn: String,
    /// The trust policy document (JSON, URL-decoded).
    pub trust_policy: String,
}

/// IAM with the caller's keys.
pub struct Roles {
    pub iam: Iam,
    keys: AccessKeys,
}

/// An IAM answer setup cannot read.
#[derive(Debug)]
pub enum RoleAnswerError {
    /// The answer to `action` is not the XML expected.
    Xml {
        action: &'static str,
        source: XmlError,
    },
    /// The CreateRole answer names no role ARN.
    NoRoleArn,
}

impl RoleAnswerError {
    /// Nothing the user can do: the answer is IAM's.
    pub fn hint(&self) -> Option<&'static str> {
        None
    }
}

impl std::fmt::Display for RoleAnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoleAnswerError::Xml { action, source } => {
                write!(f, "operation error IAM: {action}: {source}")
            }
            RoleAnswerError::NoRoleArn => {
                f.write_str("operation error IAM: CreateRole: the answer holds no role ARN")
            }
        }
    }
}

impl std::error::Error for RoleAnswerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RoleAnswerError::Xml { source, .. } => Some(source),
            RoleAnswerError::NoRoleArn => None,
        }
    }
}

crate::error::typed_error!(RoleAnswerError);

fn xml_error(action: &'static str) -> impl Fn(XmlError) -> RoleAnswerError {
    move |source| RoleAnswerError::Xml { action, source }
}

/// `%XX` escapes decoded (IAM answers policy documents URL-encoded).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = s
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The policy document as JSON text: URL-decoded when it is encoded (AWS), as is when not.
pub fn policy_document(raw: &str) -> String {
    if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        percent_decode(raw)
    }
}

impl Roles {
    pub fn new(iam: Iam, keys: AccessKeys) -> Roles {
        Roles { iam, keys }
    }

    fn send(&self, c: &crate::sts::Call) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.iam.send(&self.keys, c)
    }

    /// The role, or `None` when there is none of that name.
    pub fn get_role(&self, name: &str) -> Result<Option<Role>> {
        let answer = match self.send(&call("GetRole").param("RoleName", name)) {
            Ok(a) => a,
            Err(e) if is_no_such_entity(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(parse_get_role(&answer).map(Some)?)
    }

    /// Creates the role with this trust policy and tags; returns its ARN.
    pub fn create_role(&self, name: &str, policy: &str, tags: &[(&str, &str)]) -> Result<String> {
        let mut c = call("CreateRole")
            .param("RoleName", name)
            .param("AssumeRolePolicyDocument", policy)
            .param(
                "Description",
                "Made by aws_signing_helper setup for IAM Roles Anywhere",
            );
        for (i, (k, v)) in tags.iter().enumerate() {
            c = c
                .param(format!("Tags.member.{}.Key", i + 1), *k)
                .param(format!("Tags.member.{}.Value", i + 1), *v);
        }
        let answer = self.send(&c)?;
        Ok(parse_create_role(&answer)?)
    }

    pub fn update_assume_role_policy(&self, name: &str, policy: &str) -> Result<()> {
        self.send(
            &call("UpdateAssumeRolePolicy")
                .param("RoleName", name)
                .param("PolicyDocument", policy),
        )
        .map(|_| ())
    }

    /// The role's tags.
    pub fn role_tags(&self, name: &str) -> Result<Vec<(String, String)>> {
        let answer = self.send(&call("ListRoleTags").param("RoleName", name))?;
        Ok(parse_role_tags(&answer)?)
    }

    /// The ARNs of the managed policies attached to the role.
    pub fn attached_policies(&self, name: &str) -> Result<Vec<String>> {
        let answer = self.send(&call("ListAttachedRolePolicies").param("RoleName", name))?;
        Ok(parse_attached_policies(&answer)?)
    }

    pub fn attach_policy(&self, name: &str, policy_arn: &str) -> Result<()> {
        self.send(
            &call("AttachRolePolicy")
                .param("RoleName", name)
                .param("PolicyArn", policy_arn),
        )
        .map(|_| ())
    }

    pub fn detach_policy(&self, name: &str, policy_arn: &str) -> Result<()> {
        self.send(
            &call("DetachRolePolicy")
                .param("RoleName", name)
                .param("PolicyArn", policy_arn),
        )
        .map(|_| ())
    }

    pub fn delete_role(&self, name: &str) -> Result<()> {
        self.send(&call("DeleteRole").param("RoleName", name))
            .map(|_| ())
    }
}

/// A GetRole answer: the role's ARN and trust policy (empty when absent).
pub fn parse_get_role(answer: &[u8]) -> Result<Role, RoleAnswerError> {
    let p = "GetRoleResponse/GetRoleResult/Role/";
    let v = xml_values(
        answer,
        &[&format!("{p}Arn"), &format!("{p}AssumeRolePolicyDocument")],
    )
    .map_err(xml_error("GetRole"))?;
    let get = |i: usize| v[i].as_ref().map(|s| s.to_string()).unwrap_or_default();
    Ok(Role {
        arn: get(0),
        trust_policy: policy_document(&get(1)),
    })
}

/// A CreateRole answer: the new role's ARN.
pub fn parse_create_role(answer: &[u8]) -> Result<String, RoleAnswerError> {
    let v = xml_values(answer, &["CreateRoleResponse/CreateRoleResult/Role/Arn"])
        .map_err(xml_error("CreateRole"))?;
    v[0].as_ref()
        .map(|s| s.to_string())
        .ok_or(RoleAnswerError::NoRoleArn)
}

/// A ListRoleTags answer: (key, value) in order.
pub fn parse_role_tags(answer: &[u8]) -> Result<Vec<(String, String)>, RoleAnswerError> {
    let p = "ListRoleTagsResponse/ListRoleTagsResult/Tags/member/";
    let lists = xml_lists(answer, &[&format!("{p}Key"), &format!("{p}Value")])
        .map_err(xml_error("ListRoleTags"))?;
    Ok(lists[0]
        .iter()
        .zip(&lists[1])
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// A ListAttachedRolePolicies answer: the policies' ARNs.
pub fn parse_attached_policies(answer: &[u8]) -> Result<Vec<String>, RoleAnswerError> {
    let lists = xml_lists(
        answer,
        &["ListAttachedRolePoliciesResponse/ListAttachedRolePoliciesResult/AttachedPolicies/member/PolicyArn"],
    )
    .map_err(xml_error("ListAttachedRolePolicies"))?;
    Ok(lists[0].iter().map(|s| s.to_string()).collect())
}

/// Whether an IAM error is `NoSuchEntity`.
fn is_no_such_entity(e: &Error) -> bool {
    ServiceError::in_chain(e).is_some_and(|s| s.code == "NoSuchEntity")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_decoded_when_encoded() {
        assert_eq!(
            policy_document("%7B%22Version%22%3A%222012-10-17%22%7D"),
            "{\"Version\":\"2012-10-17\"}"
        );
        assert_eq!(policy_document("{\"a\":\"50%\"}"), "{\"a\":\"50%\"}");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn lists_are_read_in_order() {
        let body = b"<ListRoleTagsResponse><ListRoleTagsResult><Tags><member><Key>a</Key><Value>1</Value></member><member><Key>b</Key><Value></Value></member></Tags></ListRoleTagsResult></ListRoleTagsResponse>";
        let p = "ListRoleTagsResponse/ListRoleTagsResult/Tags/member/";
        let lists = xml_lists(body, &[&format!("{p}Key"), &format!("{p}Value")]).unwrap();
        let keys: Vec<&str> = lists[0].iter().map(|s| s.as_str()).collect();
        let values: Vec<&str> = lists[1].iter().map(|s| s.as_str()).collect();
        assert_eq!((keys, values), (vec!["a", "b"], vec!["1", ""]));
    }

    #[test]
    fn unreadable_answers_render_the_old_line_and_stay_typed() {
        let e: Error = parse_create_role(b"<CreateRoleResponse/>")
            .unwrap_err()
            .into();
        assert_eq!(
            e.to_string(),
            "operation error IAM: CreateRole: the answer holds no role ARN"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<RoleAnswerError>()),
            Some(RoleAnswerError::NoRoleArn)
        ));
        let e: Error = parse_get_role(b"\xff\xfe").unwrap_err().into();
        let typed = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<RoleAnswerError>())
            .expect("a RoleAnswerError");
        let RoleAnswerError::Xml { action, source } = typed else {
            panic!("{typed:?}")
        };
        assert_eq!(*action, "GetRole");
        assert_eq!(
            e.message(),
            format!("operation error IAM: GetRole: {source}")
        );
        assert!(e.hint_text().is_none());
        assert!(std::error::Error::source(typed).is_some_and(|c| c.is::<XmlError>()));
    }
}
