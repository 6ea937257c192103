//! Where CreateSession goes: region and endpoint.
//!
//! Fixes two bugs of the official tool: a FIPS pseudo-region (`fips-us-east-1`,
//! `us-east-1-fips`) is signed with the real region, and an endpoint URL with a path is signed
//! with that path (the official tool always signs `/sessions`).

use crate::error::Result;
use crate::files::aws_config::Settings;
use crate::protocol::http::split_url;

/// Why no CreateSession endpoint could be resolved (the SDK's endpoint rule errors, in its
/// words, and URLs we cannot use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointError {
    /// Neither `--region` nor the trust anchor ARN gives a region.
    MissingRegion,
    /// FIPS is on (`use_fips_endpoint`) and a custom endpoint is set.
    FipsWithCustom,
    /// Dual-stack is on (`use_dualstack_endpoint`) and a custom endpoint is set.
    DualstackWithCustom,
    /// Dual-stack is on and the region's partition has none (`fips`: FIPS is on too).
    NoDualstack { fips: bool },
    /// The endpoint `url` does not parse as `scheme://authority[/path]`.
    InvalidUrl { url: String },
    /// The endpoint `url` is neither https nor http.
    BadScheme { url: String },
}

const RULE_ERROR: &str = "failed to resolve service endpoint, endpoint rule error, ";

impl EndpointError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            EndpointError::MissingRegion => Some("pass --region or a trust anchor ARN with a region"),
            EndpointError::InvalidUrl { .. } => Some("use a URL such as https://rolesanywhere.us-east-1.amazonaws.com or https://127.0.0.1:8443"),
            EndpointError::FipsWithCustom
            | EndpointError::DualstackWithCustom
            | EndpointError::NoDualstack { .. }
            | EndpointError::BadScheme { .. } => None,
        }
    }
}

impl std::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndpointError::MissingRegion => {
                write!(f, "{RULE_ERROR}Invalid Configuration: Missing Region")
            }
            EndpointError::FipsWithCustom => write!(
                f,
                "{RULE_ERROR}Invalid Configuration: FIPS and custom endpoint are not supported"
            ),
            EndpointError::DualstackWithCustom => write!(
                f,
                "{RULE_ERROR}Invalid Configuration: Dualstack and custom endpoint are not supported"
            ),
            EndpointError::NoDualstack { fips: true } => write!(
                f,
                "{RULE_ERROR}FIPS and DualStack are enabled, but this partition does not support one or both"
            ),
            EndpointError::NoDualstack { fips: false } => write!(
                f,
                "{RULE_ERROR}DualStack is enabled but this partition does not support DualStack"
            ),
            EndpointError::InvalidUrl { url } => write!(f, "invalid endpoint URL {url:?}"),
            EndpointError::BadScheme { url } => write!(
                f,
                "invalid endpoint URL {url:?}: the scheme must be https or http"
            ),
        }
    }
}

impl std::error::Error for EndpointError {}

crate::error::typed_error!(EndpointError);

/// A resolved CreateSession target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `scheme://authority` (no path).
    pub origin: String,
    /// The `Host` header value: host, plus the port when it is not the scheme's default.
    pub host: String,
    /// The request path, also the canonical URI: the endpoint's path joined with `/sessions`.
    pub path: String,
    /// Region used in the signing scope.
    pub region: String,
}

struct Partition {
    dns: &'static str,
    dualstack_dns: &'static str,
    dualstack: bool,
}

const AWS: Partition = Partition {
    dns: "amazonaws.com",
    dualstack_dns: "api.aws",
    dualstack: true,
};

/// Does `region` look like `PREFIX-word-digits` (or `PREFIX-word-word-digits` for multi-part prefixes)?
fn matches(region: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|prefix| {
        let Some(rest) = region
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
        else {
            return false;
        };
        let Some((word, digits)) = rest.split_once('-') else {
            return false;
        };
        !word.is_empty()
            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
    })
}

fn partition(region: &str) -> Partition {
    // Checked in the SDK's order: the more specific prefixes first.
    if matches(region, &["us-gov"]) {
        return Partition {
            dns: "amazonaws.com",
            dualstack_dns: "api.aws",
            dualstack: true,
        };
    }
    if matches(region, &["us-isob"]) {
        return Partition {
            dns: "sc2s.sgov.gov",
            dualstack_dns: "sc2s.sgov.gov",
            dualstack: false,
        };
    }
    if matches(region, &["us-isof"]) {
        return Partition {
            dns: "csp.hci.ic.gov",
            dualstack_dns: "csp.hci.ic.gov",
            dualstack: false,
        };
    }
    if matches(region, &["us-iso"]) {
        return Partition {
            dns: "c2s.ic.gov",
            dualstack_dns: "c2s.ic.gov",
            dualstack: false,
        };
    }
    if matches(region, &["eu-isoe"]) {
        return Partition {
            dns: "cloud.adc-e.uk",
            dualstack_dns: "cloud.adc-e.uk",
            dualstack: false,
        };
    }
    if matches(region, &["cn"]) {
        return Partition {
            dns: "amazonaws.com.cn",
            dualstack_dns: "api.amazonwebservices.com.cn",
            dualstack: true,
        };
    }
    AWS
}

/// Strips a FIPS pseudo-region marker; returns the real region and whether it was there.
fn strip_fips(region: &str) -> (String, bool) {
    if let Some(r) = region.strip_prefix("fips-") {
        return (r.to_string(), true);
    }
    if let Some(r) = region.strip_suffix("-fips") {
        return (r.to_string(), true);
    }
    if region.contains("-fips-") {
        return (region.replacen("-fips-", "-", 1), true);
    }
    (region.to_string(), false)
}

/// Resolves the target from `--region`, the trust anchor's region, `--endpoint` and settings.
pub fn resolve(
    region_flag: &str,
    anchor_region: &str,
    endpoint_flag: &str,
    settings: &Settings,
) -> Result<Target> {
    let given = if region_flag.is_empty() {
        anchor_region
    } else {
        region_flag
    };
    let (region, fips_region) = strip_fips(given);
    let fips = settings.use_fips || fips_region;
    if region.is_empty() {
        return Err(EndpointError::MissingRegion.into());
    }
    // Precedence as in the SDKs: service-specific env/config, then --endpoint, then the global URL.
    let custom = settings
        .service_endpoint_url
        .clone()
        .or_else(|| (!endpoint_flag.is_empty()).then(|| endpoint_flag.to_string()))
        .or_else(|| settings.global_endpoint_url.clone());
    let base = match custom {
        Some(url) => {
            if settings.use_fips {
                return Err(EndpointError::FipsWithCustom.into());
            }
            if settings.use_dualstack {
                return Err(EndpointError::DualstackWithCustom.into());
            }
            url
        }
        None => {
            let p = partition(&region);
            if settings.use_dualstack && !p.dualstack {
                return Err(EndpointError::NoDualstack { fips }.into());
            }
            let service = if fips {
                "rolesanywhere-fips"
            } else {
                "rolesanywhere"
            };
            let dns = if settings.use_dualstack {
                p.dualstack_dns
            } else {
                p.dns
            };
            format!("https://{service}.{region}.{dns}")
        }
    };
    let (scheme, authority, path) =
        split_url(&base).ok_or_else(|| EndpointError::InvalidUrl { url: base.clone() })?;
    if scheme != "https" && scheme != "http" {
        return Err(EndpointError::BadScheme { url: base.clone() }.into());
    }
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = authority
        .strip_suffix(default_port)
        .unwrap_or(authority)
        .to_string();
    Ok(Target {
        origin: format!("{scheme}://{authority}"),
        host,
        path: format!("{}/sessions", path.trim_end_matches('/')),
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(region: &str, settings: &Settings) -> Result<Target> {
        resolve(region, "", "", settings)
    }

    #[test]
    fn partitions_and_variants() {
        let s = Settings::default();
        assert_eq!(
            r("us-east-1", &s).unwrap().origin,
            "https://rolesanywhere.us-east-1.amazonaws.com"
        );
        assert_eq!(
            r("cn-north-1", &s).unwrap().origin,
            "https://rolesanywhere.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            r("us-iso-east-1", &s).unwrap().origin,
            "https://rolesanywhere.us-iso-east-1.c2s.ic.gov"
        );
        assert_eq!(
            r("us-isob-east-1", &s).unwrap().origin,
            "https://rolesanywhere.us-isob-east-1.sc2s.sgov.gov"
        );
        assert_eq!(
            r("eu-isoe-west-1", &s).unwrap().origin,
            "https://rolesanywhere.eu-isoe-west-1.cloud.adc-e.uk"
        );
        assert_eq!(
            r("us-isof-south-1", &s).unwrap().origin,
            "https://rolesanywhere.us-isof-south-1.csp.hci.ic.gov"
        );
        let fips = Settings {
            use_fips: true,
            ..Settings::default()
        };
        assert_eq!(
            r("us-gov-west-1", &fips).unwrap().origin,
            "https://rolesanywhere-fips.us-gov-west-1.amazonaws.com"
        );
        let ds = Settings {
            use_dualstack: true,
            ..Settings::default()
        };
        assert_eq!(
            r("eu-west-1", &ds).unwrap().origin,
            "https://rolesanywhere.eu-west-1.api.aws"
        );
        assert!(r("us-iso-east-1", &ds)
            .unwrap_err()
            .message()
            .contains("does not support DualStack"));
        assert!(r("", &s).unwrap_err().message().contains("Missing Region"));
    }

    #[test]
    fn fips_pseudo_region_is_signed_with_the_real_region() {
        let t = r("fips-us-east-1", &Settings::default()).unwrap();
        assert_eq!(
            t.origin,
            "https://rolesanywhere-fips.us-east-1.amazonaws.com"
        );
        assert_eq!(t.region, "us-east-1");
        assert_eq!(
            r("us-west-2-fips", &Settings::default()).unwrap().region,
            "us-west-2"
        );
    }

    #[test]
    fn custom_endpoint_keeps_its_path_and_port() {
        let t = resolve(
            "",
            "us-east-1",
            "https://127.0.0.1:8443/prefix/",
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(t.origin, "https://127.0.0.1:8443");
        assert_eq!(t.host, "127.0.0.1:8443");
        assert_eq!(t.path, "/prefix/sessions");
        assert_eq!(t.region, "us-east-1");
        let t = resolve("", "us-east-1", "https://h:443", &Settings::default()).unwrap();
        assert_eq!(t.host, "h");
        let env = Settings {
            service_endpoint_url: Some("http://a:1".into()),
            ..Settings::default()
        };
        assert_eq!(
            resolve("", "us-east-1", "https://b", &env).unwrap().origin,
            "http://a:1"
        );
        let fips = Settings {
            use_fips: true,
            ..Settings::default()
        };
        assert!(resolve("", "us-east-1", "https://b", &fips)
            .unwrap_err()
            .message()
            .contains("FIPS and custom endpoint"));
    }

    #[test]
    fn errors_render_todays_text_and_stay_typed() {
        let typed = |e: &crate::error::Error| {
            std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<EndpointError>())
                .cloned()
        };
        let e = r("", &Settings::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to resolve service endpoint, endpoint rule error, Invalid Configuration: Missing Region (hint: pass --region or a trust anchor ARN with a region)"
        );
        assert_eq!(typed(&e), Some(EndpointError::MissingRegion));
        let both = Settings {
            use_fips: true,
            use_dualstack: true,
            ..Settings::default()
        };
        let e = r("us-iso-east-1", &both).unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to resolve service endpoint, endpoint rule error, FIPS and DualStack are enabled, but this partition does not support one or both"
        );
        assert_eq!(typed(&e), Some(EndpointError::NoDualstack { fips: true }));
        let e = resolve("", "us-east-1", "nope", &Settings::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid endpoint URL \"nope\" (hint: use a URL such as https://rolesanywhere.us-east-1.amazonaws.com or https://127.0.0.1:8443)"
        );
        assert_eq!(
            typed(&e),
            Some(EndpointError::InvalidUrl { url: "nope".into() })
        );
        let e = resolve("", "us-east-1", "ftp://h", &Settings::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid endpoint URL \"ftp://h\": the scheme must be https or http"
        );
        assert_eq!(
            typed(&e),
            Some(EndpointError::BadScheme {
                url: "ftp://h".into()
            })
        );
    }
}
