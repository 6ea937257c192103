use super::*;
use crate::pki::{self, ClientSpec, KeyAlg};

const TA: &str = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/ta-1";
const PROFILE: &str = "arn:aws:rolesanywhere:us-east-1:111122223333:profile/p-1";
const ROLE: &str = "arn:aws:iam::111122223333:role/R";

fn cert(pem: &str) -> Certificate {
    let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    Certificate::from_der(&der).unwrap()
}

fn pair(sans: Vec<String>) -> (Certificate, Certificate) {
    let ca = pki::new_ca("Doctor CA", KeyAlg::EcP256, 30).unwrap();
    let leaf = pki::issue_client(
        &ca.cert_pem,
        &ca.key_pem,
        &ClientSpec {
            common_name: "workload-1",
            organization: Some("Acme"),
            alg: KeyAlg::EcP256,
            days: 10,
            sans,
        },
    )
    .unwrap();
    (cert(&ca.cert_pem), cert(&leaf.cert_pem))
}

fn input<'a>(leaf: &'a Certificate, anchors: &'a [Certificate]) -> Input<'a> {
    Input {
        crls: &[],
        leaf,
        chain: &[],
        key_matches: Some(true),
        trust_anchors: anchors,
        trust_anchor_arn: TA,
        profile_arn: PROFILE,
        role_arn: ROLE,
        region: "",
        now: Timestamp::now(),
        warn_days: 30,
        clock_synchronized: Some(true),
    }
}

fn failures(f: &[Finding]) -> Vec<String> {
    f.iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| format!("{}: {}", f.check, f.message))
        .collect()
}

#[test]
fn a_pki_certificate_passes_and_expiry_soon_warns() {
    let (ca, leaf) = pair(vec![]);
    let anchors = [ca];
    let f = diagnose(&input(&leaf, &anchors));
    assert!(failures(&f).is_empty(), "{:?}", failures(&f));
    // 10 days left < 30: a warning, not a failure.
    assert!(f
        .iter()
        .any(|f| f.check == "validity" && f.status == Status::Warn));
    assert!(f
        .iter()
        .any(|f| f.check == "chain" && f.status == Status::Ok));
}

#[test]
fn wrong_anchor_key_and_arns_fail_with_fixes() {
    let (_, leaf) = pair(vec![]);
    let (other_ca, _) = pair(vec![]);
    let anchors = [other_ca];
    let mut i = input(&leaf, &anchors);
    i.key_matches = Some(false);
    i.profile_arn = "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/p-1";
    i.region = "us-west-2";
    let f = diagnose(&i);
    let fails = failures(&f);
    assert!(fails.iter().any(|m| m.starts_with("key:")), "{fails:?}");
    // Same CA name, another key: the "different CA with the same name" explanation.
    assert!(
        fails.iter().any(|m| m.contains("did not sign")),
        "{fails:?}"
    );
    assert!(fails
        .iter()
        .any(|m| m.contains("region mismatch: the trust anchor")));
    assert!(fails.iter().any(|m| m.contains("--region us-west-2")));
    assert!(f
        .iter()
        .filter(|f| f.status == Status::Fail)
        .all(|f| f.fix.is_some()));
    i.trust_anchor_arn = "arn:aws:rolesanywhere:us-east-1:1:trust-anchor/x";
    assert!(failures(&diagnose(&i))
        .iter()
        .any(|m| m.contains("--trust-anchor-arn") && m.contains("not valid")));
}

#[test]
fn derived_session_values_and_policy() {
    let (_, leaf) = pair(vec![
        "dns:a.example".into(),
        "dns:b.example".into(),
        "uri:spiffe://t/w".into(),
    ]);
    let d = derive(&leaf, TA);
    assert_eq!(d.session_name, leaf.serial_hex_upper().to_ascii_lowercase());
    assert_eq!(d.source_identity, "CN=workload-1");
    let tag = |k: &str| d.tags.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(tag("x509Subject/CN"), Some("workload-1"));
    assert_eq!(tag("x509Subject/O"), Some("Acme"));
    assert_eq!(tag("x509Issuer/CN"), Some("Doctor CA"));
    assert_eq!(tag("x509SAN/DNS"), Some("a.example"));
    assert_eq!(tag("x509SAN/URI"), Some("spiffe://t/w"));
    let policy: serde_json::Value = serde_json::from_str(&d.trust_policy).unwrap();
    let cond = &policy["Statement"][0]["Condition"];
    assert_eq!(
        cond["StringEquals"]["aws:PrincipalTag/x509Subject/CN"],
        "workload-1"
    );
    assert_eq!(cond["ArnEquals"]["aws:SourceArn"], TA);
}
