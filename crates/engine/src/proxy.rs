//! The proxy a client goes through: botocore's `proxies=` (a URL per scheme) or, by default, the
//! environment's HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY in either case, as curl and
//! requests read them (NO_PROXY takes hosts, domain suffixes, CIDRs and `*`). Credentials in a
//! proxy URL are sent as Basic auth and never shown: messages name the proxy by host and port.

use aws_smithy_http_client::proxy::ProxyConfig;
use hyper_util::client::proxy::matcher::Matcher;

/// The variables that choose a proxy.
const VARIABLES: [&str; 8] =
    ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"];

/// Explicit proxies by the scheme of the URLs they carry (`http`, `https`), as botocore's
/// `Config(proxies={...})`.
pub type Proxies = Vec<(String, String)>;

/// The proxy variables as this process has them now (part of what makes two clients the same).
pub fn environment() -> Vec<(String, String)> {
    VARIABLES.iter().filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?))).collect()
}

fn no_proxy() -> Option<String> {
    ["NO_PROXY", "no_proxy"].iter().find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
}

/// NO_PROXY's `*` bypasses every proxy, as with curl (hyper-util matches it to host names only,
/// not to IP addresses such as a loopback endpoint's).
fn bypass_all() -> bool {
    no_proxy().is_some_and(|rules| rules.split(',').any(|rule| rule.trim() == "*"))
}

fn explicit<'a>(proxies: &'a Proxies, scheme: &str) -> Option<&'a str> {
    proxies.iter().find(|(which, _)| which == scheme).map(|(_, url)| url.as_str())
}

/// What the HTTP client is given. With different explicit proxies for http and https, the one for
/// the endpoint's scheme is used (the SDK's client takes one).
pub fn config(proxies: Option<&Proxies>, endpoint_scheme: &str) -> Result<ProxyConfig, String> {
    if bypass_all() {
        return Ok(ProxyConfig::disabled());
    }
    let Some(proxies) = proxies else { return Ok(ProxyConfig::from_env()) };
    for (scheme, _) in proxies {
        if scheme != "http" && scheme != "https" {
            return Err(format!("proxies takes 'http' and 'https' keys, not '{scheme}'"));
        }
    }
    let invalid = |_| "a proxy URL is not an http:// or https:// URL with a host".to_owned();
    let config = match (explicit(proxies, "http"), explicit(proxies, "https")) {
        (None, None) => return Ok(ProxyConfig::disabled()),
        (Some(http), Some(https)) if http == https => ProxyConfig::all(http),
        (Some(http), None) => ProxyConfig::http(http),
        (None, Some(https)) => ProxyConfig::https(https),
        (Some(http), Some(_)) if endpoint_scheme == "http" => ProxyConfig::http(http),
        (Some(_), Some(https)) => ProxyConfig::https(https),
    }
    .map_err(invalid)?;
    Ok(match no_proxy() {
        Some(rules) => config.no_proxy(rules),
        None => config,
    })
}

/// The proxy (`host:port`) that calls to `endpoint` go through, for messages; None if direct.
pub fn for_endpoint(proxies: Option<&Proxies>, endpoint: &str) -> Option<String> {
    if bypass_all() {
        return None;
    }
    let matcher = match proxies {
        None => Matcher::from_env(),
        Some(proxies) => {
            let mut builder = Matcher::builder();
            if let Some(http) = explicit(proxies, "http") {
                builder = builder.http(http.to_owned());
            }
            if let Some(https) = explicit(proxies, "https") {
                builder = builder.https(https.to_owned());
            }
            builder.no(no_proxy().unwrap_or_default()).build()
        }
    };
    let intercept = matcher.intercept(&endpoint.parse().ok()?)?;
    let proxy = intercept.uri();
    Some(format!(
        "{}:{}",
        proxy.host()?,
        proxy.port_u16().unwrap_or(if proxy.scheme_str() == Some("https") { 443 } else { 80 })
    ))
}
