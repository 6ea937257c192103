//! The steps of `setup` in order ([`apply`]) and of `setup --delete` ([`delete`]). Each step
//! first reads (List/Get), then makes at most the one call that brings the resource where it
//! should be; under `--dry-run` that call is only reported.

use std::path::Path;

use serde_json::{json, Value};

use super::iam::Roles;
use super::plan::{Action, Step};
use super::rolesanywhere_api::{Client, Request};
use super::{CaSource, SetupError, Spec, TAG_KEY};
use crate::doctor::{self, Finding, Status};
use crate::error::Result;
use crate::files::{self, aws_config};
use crate::identity::{file as idfile, pkcs12, Certificate};
use crate::pki;

/// Stands for an ARN that a dry run would have created.
const NOT_YET: &str = "(not created yet)";

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub steps: Vec<Step>,
    /// doctor's findings on the result (apply only).
    pub findings: Vec<Finding>,
    pub trust_anchor_arn: String,
    pub profile_arn: String,
    pub role_arn: String,
}

/// The services setup calls.
pub struct Services<'a> {
    pub rolesanywhere: &'a Client,
    pub iam: &'a Roles,
}

struct Run<'a> {
    spec: &'a Spec,
    report: &'a mut dyn FnMut(&Step),
    out: Outcome,
}

impl Run<'_> {
    /// Records a step; runs `call` unless it is a dry run (or nothing changes).
    fn step<T>(&mut self, step: Step, call: impl FnOnce() -> Result<T>) -> Result<Option<T>> {
        let result = if step.changes() && !self.spec.dry_run {
            Some(call().map_err(|cause| SetupError::Step {
                resource: step.resource.clone(),
                cause,
            })?)
        } else {
            None
        };
        (self.report)(&step);
        self.out.steps.push(step);
        Ok(result)
    }
}

fn ours(tags: &[(String, String)], name: &str) -> bool {
    tags.iter().any(|(k, v)| k == TAG_KEY && v == name)
}

fn not_ours(kind: &'static str, name: &str) -> SetupError {
    SetupError::NotOurs {
        kind,
        name: name.to_string(),
    }
}

fn read_pem(path: &Path, what: &'static str) -> Result<String> {
    Ok(files::read_text(path, files::CAP_PEM, what)?.to_string())
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// The CA certificate PEM (`None` on a dry run that would create it).
fn ensure_ca(run: &mut Run) -> Result<Option<String>> {
    let (cert, key) = run.spec.ca_paths();
    let resource = format!("CA {}", cert.display());
    match &run.spec.ca {
        CaSource::Given { .. } => {
            let pem = read_pem(&cert, "CA certificate")?;
            let found = idfile::load_certificates(&cert)?;
            if !found.first().is_some_and(Certificate::is_ca) {
                return Err(SetupError::NotCa { cert }.into());
            }
            if !exists(&key) {
                return Err(SetupError::NoCaKey { key }.into());
            }
            run.step(
                Step::new(resource, "given", Action::Check("used where it is".into())),
                || Ok(()),
            )?;
            Ok(Some(pem))
        }
        CaSource::Own if exists(&cert) => {
            run.step(Step::new(resource, "pki ca", Action::Unchanged), || Ok(()))?;
            Ok(Some(read_pem(&cert, "CA certificate")?))
        }
        CaSource::Own => {
            let spec = run.spec;
            let made = run.step(Step::new(resource, "pki ca", Action::Create), || {
                let ca = pki::new_ca(
                    &format!("{} setup CA", spec.name),
                    pki::KeyAlg::EcP256,
                    3650,
                )?;
                files::Dir::create_private(&spec.dir)?;
                pki::write_private(&key, ca.key_pem.as_bytes())?;
                pki::write_public(&cert, ca.cert_pem.as_bytes())?;
                Ok(ca.cert_pem)
            })?;
            Ok(made)
        }
    }
}

/// doctor on the client certificate: with the CA as trust anchor, and the ARNs when known.
fn diagnose(spec: &Spec, anchors: &[Certificate], arns: [&str; 3]) -> Result<Vec<Finding>> {
    let (cert, key) = spec.client_paths();
    let identity = idfile::load(&idfile::FileSource {
        certificate: Some(cert.clone()),
        private_key: Some(key),
        intermediates: None,
        password: None,
    })?;
    let Some(leaf) = identity.certificate.as_ref() else {
        return Err(SetupError::NoCertificate { cert }.into());
    };
    let matches = pkcs12::key_matches(identity.signer.as_ref(), leaf);
    let [ta, profile, role] = arns;
    let keep = |a: &str| if a == NOT_YET { "" } else { a }.to_string();
    let (ta, profile, role) = (keep(ta), keep(profile), keep(role));
    let mut findings = doctor::diagnose(&doctor::Input {
        leaf,
        chain: &identity.chain,
        key_matches: Some(matches),
        trust_anchors: anchors,
        trust_anchor_arn: &ta,
        profile_arn: &profile,
        role_arn: &role,
        region: "",
        now: jiff::Timestamp::now(),
        warn_days: 30,
        clock_synchronized: None,
        crls: &[],
    });
    let cn = doctor::derive(leaf, "")
        .tags
        .into_iter()
        .find(|(k, _)| k == "x509Subject/CN")
        .map(|(_, v)| v);
    if cn.as_deref() != Some(spec.cn.as_str()) {
        findings.push(Finding {
            check: "subject",
            status: Status::Fail,
            message: format!("its CN is {cn:?}, not {:?}", spec.cn),
            fix: None,
        });
    }
    Ok(findings)
}

/// Why the client certificate must be issued again, if it must.
fn reissue_reason(findings: &[Finding]) -> Option<String> {
    findings
        .iter()
        .find(|f| f.status == Status::Fail || (f.check == "validity" && f.status == Status::Warn))
        .map(|f| format!("{}: {}", f.check, f.message))
}

fn ensure_client(run: &mut Run, ca_pem: Option<&str>) -> Result<()> {
    let spec = run.spec;
    let (cert, key) = spec.client_paths();
    let resource = format!("client certificate {} (CN {})", cert.display(), spec.cn);
    let anchors = match ca_pem {
        Some(pem) => idfile::certificates_from_bytes(&spec.ca_paths().0, pem.as_bytes())?,
        None => Vec::new(),
    };
    let action = if !exists(&cert) || ca_pem.is_none() {
        Action::Create
    } else {
        match reissue_reason(&diagnose(spec, &anchors, ["", "", ""])?) {
            Some(why) => Action::Update(format!("issued again ({why})")),
            None => Action::Unchanged,
        }
    };
    run.step(Step::new(resource, "pki issue", action), || {
        let (ca_cert, ca_key) = spec.ca_paths();
        let ca_key_text = files::read_text(&ca_key, files::CAP_PEM, "CA private key")?;
        let ca_key_pem = pki::plain_key_pem(
            &ca_key_text,
            spec.ca_key_password.as_deref().map(String::as_str),
            &format!("--ca-key {}", ca_key.display()),
            "AWS_SIGNING_HELPER_CA_KEY_PASSWORD",
            "AWS_SIGNING_HELPER_CA_KEY_PASSWORD (setup takes no password on the command line)",
        )?;
        let issued = pki::issue_client(
            ca_pem.unwrap_or_default(),
            &ca_key_pem,
            &pki::ClientSpec {
                common_name: &spec.cn,
                organization: None,
                alg: pki::KeyAlg::EcP256,
                days: 365,
                sans: Vec::new(),
            },
        )
        .map_err(|cause| SetupError::Issue {
            ca: ca_cert.to_path_buf(),
            cause,
        })?;
        files::Dir::create_private(&spec.dir)?;
        pki::write_private(&key, issued.key_pem.as_bytes())?;
        pki::write_public(&cert, issued.cert_pem.as_bytes())?;
        Ok(())
    })?;
    Ok(())
}

fn same_pem(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<String>();
    norm(a) == norm(b)
}

/// A resource of a List answer with this name that carries our tag; an error when one with
/// the name lacks it.
fn find_named(
    ra: &Client,
    items: &[Value],
    arn_field: &str,
    kind: &'static str,
    name: &str,
) -> Result<Option<Value>> {
    let Some(item) = items.iter().find(|i| i["name"] == name) else {
        return Ok(None);
    };
    let arn = item[arn_field].as_str().unwrap_or_default();
    if ours(&ra.tags(arn)?, name) {
        Ok(Some(item.clone()))
    } else {
        Err(not_ours(kind, name).into())
    }
}

fn tag_list(name: &str) -> Value {
    json!([{ "key": TAG_KEY, "value": name }])
}

fn post(op: &'static str, path: String, body: Option<Value>) -> Request<'static> {
    Request {
        operation: op,
        method: "POST",
        path,
        query: Vec::new(),
        body,
    }
}

fn ensure_trust_anchor(
    run: &mut Run,
    ra: &Client,
    ca_pem: Option<&str>,
    found: Option<Value>,
) -> Result<String> {
    let name = run.spec.name.clone();
    let resource = format!("trust anchor {name:?}");
    let source = |pem: &str| json!({"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": pem}});
    let Some(found) = found else {
        let body = json!({
            "name": name,
            "source": source(ca_pem.unwrap_or_default()),
            "enabled": true,
            "tags": tag_list(&name),
        });
        let made = run.step(
            Step::new(resource, "rolesanywhere CreateTrustAnchor", Action::Create),
            || {
                ra.call(&post(
                    "CreateTrustAnchor",
                    "trustanchors".into(),
                    Some(body),
                ))
            },
        )?;
        return Ok(made
            .and_then(|m| {
                m["trustAnchor"]["trustAnchorArn"]
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_else(|| NOT_YET.to_string()));
    };
    let id = found["trustAnchorId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let arn = found["trustAnchorArn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let held = found["source"]["sourceData"]["x509CertificateData"]
        .as_str()
        .unwrap_or_default();
    let is_bundle = found["source"]["sourceType"] == "CERTIFICATE_BUNDLE";
    let mut changed = false;
    if let Some(pem) = ca_pem.filter(|pem| !is_bundle || !same_pem(held, pem)) {
        changed = true;
        let body = json!({ "source": source(pem) });
        run.step(
            Step::new(
                resource.clone(),
                "rolesanywhere UpdateTrustAnchor",
                Action::Update("it holds another CA certificate".into()),
            ),
            || {
                ra.call(&Request {
                    method: "PATCH",
                    ..post("UpdateTrustAnchor", format!("trustanchor/{id}"), Some(body))
                })
            },
        )?;
    }
    if found["enabled"] != true {
        changed = true;
        run.step(
            Step::new(
                resource.clone(),
                "rolesanywhere EnableTrustAnchor",
                Action::Update("it was disabled".into()),
            ),
            || {
                ra.call(&post(
                    "EnableTrustAnchor",
                    format!("trustanchor/{id}/enable"),
                    None,
                ))
            },
        )?;
    }
    if !changed {
        run.step(
            Step::new(
                resource,
                "rolesanywhere ListTrustAnchors",
                Action::Unchanged,
            ),
            || Ok(()),
        )?;
    }
    Ok(arn)
}

/// Whether two policy documents say the same (as JSON values).
fn same_policy(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn ensure_role(
    run: &mut Run,
    iam: &Roles,
    ta_arn: &str,
    found: Option<super::iam::Role>,
) -> Result<String> {
    let name = run.spec.name.clone();
    let resource = format!("role {name}");
    let policy = doctor::trust_policy(&run.spec.cn, ta_arn);
    let arn = match found {
        None => {
            let made = run.step(
                Step::new(&resource, "iam CreateRole", Action::Create),
                || iam.create_role(&name, &policy, &[(TAG_KEY, &name)]),
            )?;
            made.unwrap_or_else(|| NOT_YET.to_string())
        }
        Some(role) => {
            let action = if same_policy(&role.trust_policy, &policy) {
                Action::Unchanged
            } else {
                Action::Update("its trust policy differs".into())
            };
            run.step(
                Step::new(&resource, "iam UpdateAssumeRolePolicy", action),
                || iam.update_assume_role_policy(&name, &policy),
            )?;
            role.arn
        }
    };
    // Managed policies: exactly the ones asked for.
    let attached = if arn == NOT_YET {
        Vec::new()
    } else {
        iam.attached_policies(&name)?
    };
    for want in &run.spec.policy_arns {
        let action = if attached.contains(want) {
            Action::Unchanged
        } else {
            Action::Create
        };
        run.step(
            Step::new(
                format!("policy {want} on role {name}"),
                "iam AttachRolePolicy",
                action,
            ),
            || iam.attach_policy(&name, want),
        )?;
    }
    for extra in attached
        .iter()
        .filter(|a| !run.spec.policy_arns.contains(a))
    {
        run.step(
            Step::new(
                format!("policy {extra} on role {name}"),
                "iam DetachRolePolicy",
                Action::Update("not asked for (--policy-arn)".into()),
            ),
            || iam.detach_policy(&name, extra),
        )?;
    }
    Ok(arn)
}

fn ensure_profile(
    run: &mut Run,
    ra: &Client,
    role_arn: &str,
    found: Option<Value>,
) -> Result<String> {
    let name = run.spec.name.clone();
    let resource = format!("profile {name:?}");
    let Some(found) = found else {
        let body = json!({
            "name": name,
            "roleArns": [role_arn],
            "enabled": true,
            "tags": tag_list(&name),
        });
        let made = run.step(
            Step::new(resource, "rolesanywhere CreateProfile", Action::Create),
            || ra.call(&post("CreateProfile", "profiles".into(), Some(body))),
        )?;
        return Ok(made
            .and_then(|m| m["profile"]["profileArn"].as_str().map(str::to_string))
            .unwrap_or_else(|| NOT_YET.to_string()));
    };
    let id = found["profileId"].as_str().unwrap_or_default().to_string();
    let arn = found["profileArn"].as_str().unwrap_or_default().to_string();
    let mut changed = false;
    if found["roleArns"] != json!([role_arn]) {
        changed = true;
        let body = json!({ "roleArns": [role_arn] });
        run.step(
            Step::new(
                resource.clone(),
                "rolesanywhere UpdateProfile",
                Action::Update(format!("its roles are {}", found["roleArns"])),
            ),
            || {
                ra.call(&Request {
                    method: "PATCH",
                    ..post("UpdateProfile", format!("profile/{id}"), Some(body))
                })
            },
        )?;
    }
    if found["enabled"] != true {
        changed = true;
        run.step(
            Step::new(
                resource.clone(),
                "rolesanywhere EnableProfile",
                Action::Update("it was disabled".into()),
            ),
            || ra.call(&post("EnableProfile", format!("profile/{id}/enable"), None)),
        )?;
    }
    if !changed {
        run.step(
            Step::new(resource, "rolesanywhere ListProfiles", Action::Unchanged),
            || Ok(()),
        )?;
    }
    Ok(arn)
}

/// A word of a `credential_process` line, double-quoted when it holds anything but safe
/// characters (the AWS CLI and SDKs split the line like a POSIX shell).
pub fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if safe {
        word.to_string()
    } else {
        let escaped = word.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

/// The `credential_process` line for these ARNs.
pub fn credential_process_line(spec: &Spec, ta: &str, profile: &str, role: &str) -> String {
    let (cert, key) = spec.client_paths();
    let mut words = vec![
        spec.binary.display().to_string(),
        "credential-process".into(),
        "--certificate".into(),
        cert.display().to_string(),
        "--private-key".into(),
        key.display().to_string(),
        "--trust-anchor-arn".into(),
        ta.into(),
        "--profile-arn".into(),
        profile.into(),
        "--role-arn".into(),
        role.into(),
    ];
    if let Some(endpoint) = &spec.session_endpoint {
        words.extend(["--endpoint".to_string(), endpoint.clone()]);
    }
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

fn ensure_config(run: &mut Run, line: &str, region: &str) -> Result<()> {
    let spec = run.spec;
    let path = &spec.config_path;
    let section = aws_config::profile_section(&spec.profile_name);
    let old = files::shared_files::read_trusted(path, "AWS config file")?.unwrap_or_default();
    let get = |k| files::credentials_file::get_key(&old, &section, k);
    let resource = format!("[{section}] in {}", path.display());
    let action = match (get("credential_process"), get("region")) {
        (None, _) => Action::Create,
        (Some(l), Some(r)) if l == line && r == region => Action::Unchanged,
        (Some(l), _) if l != line => Action::Update("its credential_process differs".into()),
        _ => Action::Update("its region differs".into()),
    };
    run.step(
        Step::new(resource, "write credential_process", action),
        || {
            aws_config::write_profile_keys(
                path,
                &spec.profile_name,
                &[("credential_process", line), ("region", region)],
            )
        },
    )?;
    Ok(())
}

/// The trust anchor, role and profile of this name that exist (and carry our tag), found
/// before anything is made: one of that name without the tag stops the run at once.
struct Existing {
    trust_anchor: Option<Value>,
    role: Option<super::iam::Role>,
    profile: Option<Value>,
}

fn find_existing(name: &str, services: &Services) -> Result<Existing> {
    let ra = services.rolesanywhere;
    let anchors = ra.list_all("ListTrustAnchors", "trustanchors", "trustAnchors")?;
    let trust_anchor = find_named(ra, &anchors, "trustAnchorArn", "trust anchor", name)?;
    let profiles = ra.list_all("ListProfiles", "profiles", "profiles")?;
    let profile = find_named(ra, &profiles, "profileArn", "profile", name)?;
    let role = match services.iam.get_role(name)? {
        Some(role) if ours(&services.iam.role_tags(name)?, name) => Some(role),
        Some(_) => return Err(not_ours("role", name).into()),
        None => None,
    };
    Ok(Existing {
        trust_anchor,
        role,
        profile,
    })
}

/// Makes (or finds) everything, in order; `report` sees every step as it is done.
pub fn apply(spec: &Spec, services: &Services, report: &mut dyn FnMut(&Step)) -> Result<Outcome> {
    super::check_name(&spec.name)?;
    for arn in &spec.policy_arns {
        super::check_policy_arn(arn)?;
    }
    let mut run = Run {
        spec,
        report,
        out: Outcome::default(),
    };
    let ra = services.rolesanywhere;
    let existing = find_existing(&spec.name, services)?;
    let ca_pem = ensure_ca(&mut run)?;
    ensure_client(&mut run, ca_pem.as_deref())?;
    let ta = ensure_trust_anchor(&mut run, ra, ca_pem.as_deref(), existing.trust_anchor)?;
    let role = ensure_role(&mut run, services.iam, &ta, existing.role)?;
    let profile = ensure_profile(&mut run, ra, &role, existing.profile)?;
    if exists(&spec.client_paths().0) && ca_pem.is_some() {
        let (ca_cert, _) = spec.ca_paths();
        let anchors = idfile::load_certificates(&ca_cert)?;
        let findings = diagnose(spec, &anchors, [&ta, &profile, &role])?;
        let fails = findings.iter().filter(|f| f.status == Status::Fail).count();
        let warns = findings.iter().filter(|f| f.status == Status::Warn).count();
        let step = Step::new(
            "the client certificate",
            "doctor",
            Action::Check(format!("{fails} problem(s), {warns} warning(s)")),
        );
        run.step(step, || Ok(()))?;
        run.out.findings = findings;
        if fails > 0 && !spec.dry_run {
            return Err(SetupError::DoctorFailed { fails }.into());
        }
    }
    let region = ra.endpoint.region.clone();
    let line = credential_process_line(spec, &ta, &profile, &role);
    ensure_config(&mut run, &line, &region)?;
    run.out.trust_anchor_arn = ta;
    run.out.profile_arn = profile;
    run.out.role_arn = role;
    Ok(run.out)
}

/// The local files `--delete-files` removes: the client certificate and key, and the CA's
/// files (with `pki revoke`'s list) when the CA is setup's own.
fn local_files(spec: &Spec) -> Vec<&'static str> {
    let mut names = vec!["client.pem", "client.key"];
    if spec.ca == CaSource::Own {
        names.extend(["ca.pem", "ca.key", "ca.revoked.json"]);
    }
    names
}

fn delete_local_files(run: &mut Run) -> Result<()> {
    let spec = run.spec;
    let present: Vec<&str> = local_files(spec)
        .into_iter()
        .filter(|n| exists(&spec.dir.join(n)))
        .collect();
    if present.is_empty() {
        return Ok(());
    }
    let dir = files::Dir::open(&spec.dir, None)?;
    for name in present {
        run.step(
            Step::new(
                format!("file {}", spec.dir.join(name).display()),
                "remove",
                Action::Delete,
            ),
            || Ok(dir.remove(std::ffi::OsStr::new(name))?),
        )?;
    }
    Ok(())
}

/// Removes what carries the tag: the config profile (when its line is ours), the Roles
/// Anywhere profile, the role (its managed policies detached first), the trust anchor. The
/// local CA and certificates stay unless `spec.delete_files`.
pub fn delete(spec: &Spec, services: &Services, report: &mut dyn FnMut(&Step)) -> Result<Outcome> {
    super::check_name(&spec.name)?;
    let mut run = Run {
        spec,
        report,
        out: Outcome::default(),
    };
    let (ra, iam, name) = (services.rolesanywhere, services.iam, spec.name.clone());
    // The config profile: only when its credential_process uses our certificate.
    let cert = spec.client_paths().0.display().to_string();
    let ours_line = |line: Option<&str>| line.is_some_and(|l| l.contains(&quote(&cert)));
    let section = aws_config::profile_section(&spec.profile_name);
    let text = files::shared_files::read_trusted(&spec.config_path, "AWS config file")?
        .unwrap_or_default();
    if ours_line(files::credentials_file::get_key(&text, &section, "credential_process").as_deref())
    {
        run.step(
            Step::new(
                format!("[{section}] in {}", spec.config_path.display()),
                "remove profile",
                Action::Delete,
            ),
            || {
                aws_config::remove_profile(
                    &spec.config_path,
                    &spec.profile_name,
                    "credential_process",
                    ours_line,
                )
            },
        )?;
    }
    for p in ra.list_all("ListProfiles", "profiles", "profiles")? {
        let arn = p["profileArn"].as_str().unwrap_or_default();
        if ours(&ra.tags(arn)?, &name) {
            let id = p["profileId"].as_str().unwrap_or_default().to_string();
            run.step(
                Step::new(
                    format!("profile {:?}", p["name"].as_str().unwrap_or_default()),
                    "rolesanywhere DeleteProfile",
                    Action::Delete,
                ),
                || {
                    ra.call(&Request {
                        method: "DELETE",
                        ..post("DeleteProfile", format!("profile/{id}"), None)
                    })
                },
            )?;
        }
    }
    if iam.get_role(&name)?.is_some() && ours(&iam.role_tags(&name)?, &name) {
        for policy in iam.attached_policies(&name)? {
            run.step(
                Step::new(
                    format!("policy {policy} on role {name}"),
                    "iam DetachRolePolicy",
                    Action::Delete,
                ),
                || iam.detach_policy(&name, &policy),
            )?;
        }
        run.step(
            Step::new(format!("role {name}"), "iam DeleteRole", Action::Delete),
            || iam.delete_role(&name),
        )?;
    }
    for t in ra.list_all("ListTrustAnchors", "trustanchors", "trustAnchors")? {
        let arn = t["trustAnchorArn"].as_str().unwrap_or_default();
        if ours(&ra.tags(arn)?, &name) {
            let id = t["trustAnchorId"].as_str().unwrap_or_default().to_string();
            run.step(
                Step::new(
                    format!("trust anchor {:?}", t["name"].as_str().unwrap_or_default()),
                    "rolesanywhere DeleteTrustAnchor",
                    Action::Delete,
                ),
                || {
                    ra.call(&Request {
                        method: "DELETE",
                        ..post("DeleteTrustAnchor", format!("trustanchor/{id}"), None)
                    })
                },
            )?;
        }
    }
    if spec.delete_files {
        delete_local_files(&mut run)?;
    }
    Ok(run.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_process_words_are_quoted_only_when_needed() {
        assert_eq!(
            quote("/usr/bin/aws_signing_helper"),
            "/usr/bin/aws_signing_helper"
        );
        assert_eq!(
            quote("arn:aws:iam::123456789012:role/dev"),
            "arn:aws:iam::123456789012:role/dev"
        );
        assert_eq!(quote("/home/a b/client.pem"), "\"/home/a b/client.pem\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn the_line_names_files_arns_and_endpoint() {
        let spec = Spec {
            name: "dev".into(),
            dir: "/h/my setup".into(),
            ca: CaSource::Own,
            cn: "dev".into(),
            policy_arns: vec![],
            profile_name: "dev".into(),
            config_path: "/h/.aws/config".into(),
            binary: "/opt/bin/aws_signing_helper".into(),
            session_endpoint: Some("https://127.0.0.1:9".into()),
            dry_run: false,
            ca_key_password: None,
            delete_files: false,
        };
        assert_eq!(
            credential_process_line(&spec, "arn:t", "arn:p", "arn:r"),
            "/opt/bin/aws_signing_helper credential-process --certificate \"/h/my setup/client.pem\" --private-key \"/h/my setup/client.key\" --trust-anchor-arn arn:t --profile-arn arn:p --role-arn arn:r --endpoint https://127.0.0.1:9"
        );
    }

    #[test]
    fn policies_compare_as_json() {
        assert!(same_policy("{\"a\": [1, 2]}", "{\"a\":[1,2]}"));
        assert!(!same_policy("{\"a\": [2, 1]}", "{\"a\":[1,2]}"));
        assert!(!same_policy("not json", "not json"));
    }
}
