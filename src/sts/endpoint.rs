//! Where STS requests go: flags, then the environment, then the shared config (see the module
//! doc of [`crate::sts`]).

use crate::error::Result;
use crate::files::aws_config;
use crate::protocol::http::split_url;

/// Where STS requests go and how they are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://authority`.
    pub origin: String,
    /// The `Host` header (port only when not the scheme's default).
    pub host: String,
    /// The request path and canonical URI (`/` at least).
    pub path: String,
    /// The signing region.
    pub region: String,
}

impl Endpoint {
    /// The full URL of the endpoint.
    pub fn url(&self) -> String {
        format!("{}{}", self.origin, self.path)
    }
}

/// Why no STS or IAM endpoint could be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryEndpointError {
    /// The region (from `--region`, `AWS_REGION` or the profile) has characters no region has.
    Region { region: String },
    /// The `service`'s endpoint `url` (set in `settings`) is not an http(s) URL.
    Url {
        service: &'static str,
        url: String,
        settings: &'static str,
    },
}

impl QueryEndpointError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            QueryEndpointError::Region { .. } => "a region looks like us-east-1".to_string(),
            QueryEndpointError::Url { service, .. } => format!(
                "use a URL such as https://{}.amazonaws.com or http://127.0.0.1:5000",
                service.to_ascii_lowercase()
            ),
        })
    }
}

impl std::fmt::Display for QueryEndpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryEndpointError::Region { region } => write!(
                f,
                "invalid region {region:?} (--region / AWS_REGION / region in ~/.aws/config)"
            ),
            QueryEndpointError::Url {
                service,
                url,
                settings,
            } => write!(f, "invalid {service} endpoint URL {url:?} ({settings})"),
        }
    }
}

impl std::error::Error for QueryEndpointError {}

crate::error::typed_error!(QueryEndpointError);

use crate::env::var as env;

/// Resolves the endpoint from the flags, the environment and the shared config (see the
/// module doc).
pub fn resolve_endpoint(
    region_flag: &str,
    endpoint_flag: &str,
    settings: &aws_config::Settings,
) -> Result<Endpoint> {
    let region = resolve_region(region_flag, settings)?;
    // The SDKs' order: the flag, the environment (service, then global), then the shared
    // config (service, then global); the settings already drop ignored ones.
    let from_env = || {
        (!settings.ignore_endpoint_urls)
            .then(|| env("AWS_ENDPOINT_URL_STS").or_else(|| env("AWS_ENDPOINT_URL")))
            .flatten()
    };
    let custom = Some(endpoint_flag.to_string())
        .filter(|e| !e.is_empty())
        .or_else(from_env)
        .or_else(|| settings.sts_endpoint_url.clone())
        .or_else(|| settings.global_endpoint_url.clone());
    let (base, region) = match (custom, region) {
        (Some(url), region) => (url, region.unwrap_or_else(|| "us-east-1".to_string())),
        (None, Some(region)) => {
            let dns = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            (format!("https://sts.{region}.{dns}"), region)
        }
        (None, None) => ("https://sts.amazonaws.com".to_string(), "us-east-1".into()),
    };
    parse(&base, region, "STS", "--endpoint / AWS_ENDPOINT_URL_STS")
}

/// IAM's endpoint: `--endpoint-url-iam`, else `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL`, the
/// profile's `services` → `iam` or `endpoint_url`; else the partition's global endpoint
/// (`https://iam.amazonaws.com`, signed for us-east-1; China and GovCloud have their own).
/// The region only selects the partition.
pub fn resolve_iam_endpoint(
    region_flag: &str,
    endpoint_flag: &str,
    settings: &aws_config::Settings,
) -> Result<Endpoint> {
    let region = resolve_region(region_flag, settings)?.unwrap_or_default();
    let (global, signing_region) = if region.starts_with("cn-") {
        ("https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1")
    } else if region.starts_with("us-gov-") {
        ("https://iam.us-gov.amazonaws.com", "us-gov-west-1")
    } else {
        ("https://iam.amazonaws.com", "us-east-1")
    };
    let from_env = || {
        (!settings.ignore_endpoint_urls)
            .then(|| env("AWS_ENDPOINT_URL_IAM").or_else(|| env("AWS_ENDPOINT_URL")))
            .flatten()
    };
    let base = Some(endpoint_flag.to_string())
        .filter(|e| !e.is_empty())
        .or_else(from_env)
        .or_else(|| settings.iam_endpoint_url.clone())
        .or_else(|| settings.global_endpoint_url.clone())
        .unwrap_or_else(|| global.to_string());
    parse(
        &base,
        signing_region.to_string(),
        "IAM",
        "--endpoint-url-iam / AWS_ENDPOINT_URL_IAM",
    )
}

/// The region from the flag, the environment or the profile, checked.
pub fn resolve_region(
    region_flag: &str,
    settings: &aws_config::Settings,
) -> Result<Option<String>> {
    let region = Some(region_flag.to_string())
        .filter(|r| !r.is_empty())
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| settings.region.clone());
    if let Some(r) = &region {
        if !r
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(QueryEndpointError::Region { region: r.clone() }.into());
        }
    }
    Ok(region)
}

/// An endpoint URL split into origin, `Host` and path.
fn parse(
    base: &str,
    region: String,
    service: &'static str,
    settings: &'static str,
) -> Result<Endpoint> {
    let bad = || QueryEndpointError::Url {
        service,
        url: base.to_string(),
        settings,
    };
    let (scheme, authority, path) = split_url(base).ok_or_else(bad)?;
    if scheme != "https" && scheme != "http" {
        return Err(bad().into());
    }
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let path = if path.is_empty() { "/" } else { path };
    Ok(Endpoint {
        origin: format!("{scheme}://{authority}"),
        host: authority
            .strip_suffix(default_port)
            .unwrap_or(authority)
            .to_string(),
        path: path.to_string(),
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(region: &str, url: &str) -> Result<Endpoint> {
        resolve_endpoint(region, url, &aws_config::Settings::default())
    }
    #[test]
    fn endpoint_resolution() {
        let e = resolve("eu-west-1", "").unwrap();
        assert_eq!(e.url(), "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(e.host, "sts.eu-west-1.amazonaws.com");
        assert_eq!(e.region, "eu-west-1");
        let e = resolve("cn-north-1", "").unwrap();
        assert_eq!(e.origin, "https://sts.cn-north-1.amazonaws.com.cn");
        let e = resolve("", "http://127.0.0.1:5000").unwrap();
        assert_eq!(e.host, "127.0.0.1:5000");
        assert_eq!(e.path, "/");
        let e = resolve("us-west-2", "https://h:443/x").unwrap();
        assert_eq!((e.host.as_str(), e.path.as_str()), ("h", "/x"));
        assert!(resolve("", "ftp://h").is_err());
        assert!(resolve("Bad Region", "").is_err());
    }

    #[test]
    fn endpoint_from_shared_config() {
        // (Assumes the test environment sets no AWS_REGION / AWS_ENDPOINT_URL*.)
        let mut settings = aws_config::Settings {
            region: Some("eu-central-1".into()),
            ..Default::default()
        };
        let e = resolve_endpoint("", "", &settings).unwrap();
        assert_eq!(e.url(), "https://sts.eu-central-1.amazonaws.com/");
        assert_eq!(
            resolve_endpoint("us-west-1", "", &settings).unwrap().region,
            "us-west-1"
        );
        settings.global_endpoint_url = Some("http://127.0.0.1:1".into());
        assert_eq!(
            resolve_endpoint("", "", &settings).unwrap().host,
            "127.0.0.1:1"
        );
        settings.sts_endpoint_url = Some("http://127.0.0.1:2".into());
        let e = resolve_endpoint("", "", &settings).unwrap();
        assert_eq!(
            (e.host.as_str(), e.region.as_str()),
            ("127.0.0.1:2", "eu-central-1")
        );
        assert_eq!(
            resolve_endpoint("", "http://127.0.0.1:3", &settings)
                .unwrap()
                .host,
            "127.0.0.1:3"
        );
        settings.region = Some("EU".into());
        assert!(resolve_endpoint("", "", &settings)
            .unwrap_err()
            .message()
            .contains("region in ~/.aws/config"));
    }

    #[test]
    fn errors_render_todays_text_and_stay_typed() {
        let typed = |e: &crate::error::Error| {
            std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<QueryEndpointError>())
                .cloned()
        };
        let e = resolve("", "ftp://h").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid STS endpoint URL \"ftp://h\" (--endpoint / AWS_ENDPOINT_URL_STS) (hint: use a URL such as https://sts.amazonaws.com or http://127.0.0.1:5000)"
        );
        assert!(
            matches!(typed(&e), Some(QueryEndpointError::Url { service: "STS", url, .. }) if url == "ftp://h")
        );
        let e = resolve("Bad Region", "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid region \"Bad Region\" (--region / AWS_REGION / region in ~/.aws/config) (hint: a region looks like us-east-1)"
        );
        assert_eq!(
            typed(&e),
            Some(QueryEndpointError::Region {
                region: "Bad Region".into()
            })
        );
    }
}
