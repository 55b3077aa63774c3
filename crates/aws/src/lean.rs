//! A lean transport for the calls every write makes: the writer's lock
//! (DynamoDB `UpdateItem`) and push (SQS `SendMessage`), the distributor's
//! commit (`TransactWriteItems`) and reply (`SendMessage`), and its writes
//! to user storage: on S3 the object's `PutObject` and `GetObject`, on
//! DynamoDB the node's `PutItem` or `UpdateItem` and a batch's
//! `TransactWriteItems`. The request is the service's own (JSON for
//! DynamoDB and SQS, S3's REST), signed with `aws-sigv4` (the SDK's own signer) and sent
//! on a pooled hyper connection, without the SDK's orchestrator, which
//! costs about twice the CPU of the request itself (docs/profiles/README.md,
//! "Without the orchestrator").
//!
//! It is a fast path, not a second client: a call gives back the service's
//! answer only when it is a success or an answer the caller reads as such
//! (a failed lock condition with the item it returns, a failed `If-Match`,
//! a missing key). Anything else — a connection that fails, a throttled or
//! failed request, credentials the service refuses, a body it cannot read —
//! is [`Fallback`] or an answer the caller does not take, and the caller
//! makes the same call again with the SDK, whose retry policy, error
//! classification and credentials cache then decide. Every such call is
//! safe to make twice: the lock's condition lets its own token take it
//! again, a transaction carries one client request token (DynamoDB
//! answers a token it has run as committed), a push or a reply is
//! deduplicated by its id, a read reads again, a user-store item write is
//! conditional on the stored zxid being at most its own and writes the
//! same item, and an object write is conditional on the object it
//! replaces and writes the same bytes.
//!
//! What it takes from the SDK's configuration, so that it talks to the
//! same place as the SDK with the same identity:
//! - the endpoint, from the service's own endpoint resolver (region, FIPS,
//!   dual stack, a configured URL; for S3 the bucket and its addressing
//!   style, and only where the endpoint signs with plain SigV4);
//! - credentials, from the configuration's provider chain, kept until five
//!   minutes before they expire and dropped when the service refuses them;
//! - TLS with the system's roots and the SDK's crypto provider (aws-lc),
//!   and its connect timeout.
//!
//! `FK_AWS_TRANSPORT=sdk` turns it off: every call then goes through the
//! SDK alone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use bytes::Bytes;
use futures::FutureExt as _;
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::ser::{Serialize, SerializeMap as _, Serializer};
use serde_json::{Map, Value};

use crate::calls::CallCounter;

/// Environment variable: `sdk` sends every call through the SDK alone.
pub const TRANSPORT_ENV: &str = crate::env::AWS_TRANSPORT;

/// Credentials are renewed this long before they expire (the SDK's
/// identity cache uses the same margin).
const CREDENTIALS_MARGIN: Duration = Duration::from_secs(300);

/// The content type of both services' JSON protocol.
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The SDK's default connect timeout (`BehaviorVersion::latest()`).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// Whether the environment asks for the lean transport: `lean` or unset
/// (the default) yes, `sdk` no; any other value is an error.
pub fn enabled_by_env() -> Result<bool, String> {
    enabled(std::env::var(TRANSPORT_ENV).ok().as_deref())
}

/// What [`TRANSPORT_ENV`]'s value (if set) asks for.
fn enabled(value: Option<&str>) -> Result<bool, String> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("lean") => Ok(true),
        Some("sdk") => Ok(false),
        Some(other) => Err(format!(
            "{TRANSPORT_ENV}={other:?}: expected \"lean\" or \"sdk\""
        )),
    }
}

/// The JSON-protocol services the lean transport speaks to (S3 has
/// [`LeanS3`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    DynamoDb,
    Sqs,
}

impl Service {
    /// The SigV4 signing name.
    fn signing_name(self) -> &'static str {
        match self {
            Service::DynamoDb => "dynamodb",
            Service::Sqs => "sqs",
        }
    }

    /// The `X-Amz-Target` of `operation`.
    fn target(self, operation: &str) -> String {
        match self {
            Service::DynamoDb => format!("DynamoDB_20120810.{operation}"),
            Service::Sqs => format!("AmazonSQS.{operation}"),
        }
    }

    /// The name the call counter knows the service by (the SDK's).
    fn counted_as(self) -> &'static str {
        match self {
            Service::DynamoDb => "DynamoDB",
            Service::Sqs => "SQS",
        }
    }
}

/// Why a lean call gave no answer: the caller makes it again with the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback(pub String);

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A service's answer: its HTTP status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The status and error code, to say why an answer was not taken.
    pub fn describe(&self) -> String {
        format!(
            "status {} ({})",
            self.status,
            self.error_code().unwrap_or("no code")
        )
    }

    /// The error code of a failed call (`__type`'s part after `#`), as the
    /// JSON protocols give it.
    pub fn error_code(&self) -> Option<&str> {
        let kind = self.body.get("__type")?.as_str()?;
        Some(kind.rsplit_once('#').map_or(kind, |(_, code)| code))
    }
}

/// Credentials from the configuration's provider, kept until shortly
/// before they expire.
#[derive(Debug)]
struct CredentialCache {
    provider: SharedCredentialsProvider,
    current: tokio::sync::Mutex<Option<Credentials>>,
}

impl CredentialCache {
    async fn get(&self) -> Result<Credentials, Fallback> {
        let mut current = self.current.lock().await;
        if let Some(credentials) = current.as_ref() {
            if still_fresh(credentials, SystemTime::now()) {
                return Ok(credentials.clone());
            }
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| Fallback(format!("no credentials: {e}")))?;
        *current = Some(credentials.clone());
        Ok(credentials)
    }

    async fn forget(&self) {
        *self.current.lock().await = None;
    }
}

/// Whether `credentials` may still sign at `now`: without an expiry
/// always, otherwise until [`CREDENTIALS_MARGIN`] before it.
fn still_fresh(credentials: &Credentials, now: SystemTime) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| now + CREDENTIALS_MARGIN < expiry)
}

/// The signing and sending both kinds of lean client share: the HTTP
/// pool, credentials, the region and service they sign for, and the call
/// counter.
#[derive(Debug)]
struct Transport {
    /// Built at the first call (reading the TLS roots is not free, and a
    /// process that builds the clients may never take this path); `Err`
    /// says why it could not be, and every call then falls back.
    http: std::sync::OnceLock<Result<HttpClient, String>>,
    https: bool,
    region: String,
    /// The SigV4 signing name.
    signing_name: &'static str,
    /// The name the call counter knows the service by (the SDK's).
    counted_as: &'static str,
    settings: SigningSettings,
    credentials: CredentialCache,
    counter: CallCounter,
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A request to sign and send. `url` is already percent-encoded as the
/// service expects it; `headers` include `host`.
struct Outgoing<'a> {
    method: &'static str,
    url: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: Bytes,
}

/// An answer as it came: status, headers, body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// A header's value, if it is there and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

impl Transport {
    fn new(
        sdk: &aws_config::SdkConfig,
        https: bool,
        region: String,
        (signing_name, counted_as): (&'static str, &'static str),
        settings: SigningSettings,
        counter: &CallCounter,
    ) -> Result<Self, String> {
        let provider = sdk
            .credentials_provider()
            .ok_or("no credentials provider")?;
        Ok(Transport {
            http: std::sync::OnceLock::new(),
            https,
            region,
            signing_name,
            counted_as,
            settings,
            credentials: CredentialCache {
                provider,
                current: tokio::sync::Mutex::new(None),
            },
            counter: counter.clone(),
        })
    }

    /// Signs and sends `request`, counted (when it is sent) as the SDK
    /// counts its calls: `Ok` with any answer, `Err` when there is none.
    /// Credentials refused with a 403 are dropped, so that the next call
    /// asks the provider again.
    async fn send(&self, operation: &str, request: Outgoing<'_>) -> Result<Response, Fallback> {
        let http = self
            .http
            .get_or_init(|| http_client(self.https))
            .as_ref()
            .map_err(|e| Fallback(e.clone()))?;
        let credentials = self.credentials.get().await?;
        let request = self.signed(request, credentials)?;
        // Counted as it is sent, as the SDK counts its calls: one that
        // never got this far (no credentials, no HTTP client) is none.
        self.counter
            .record(&format!("{}.{operation}", self.counted_as));
        let (parts, body) = http
            .request(request)
            .await
            .map_err(|e| Fallback(format!("sending: {e}")))?
            .into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| Fallback(format!("reading the answer: {e}")))?
            .to_bytes();
        if parts.status == http::StatusCode::FORBIDDEN {
            self.credentials.forget().await;
        }
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    /// Notes that the caller did not take `operation`'s lean call (`why`)
    /// and the SDK makes it again: counted as a fallback, and logged.
    fn fell_back(&self, operation: &str, why: &dyn std::fmt::Display) {
        self.counter
            .record_fallback(&format!("{}.{operation}", self.counted_as));
        tracing::info!(
            service = self.counted_as,
            operation,
            %why,
            "lean call not taken: the SDK makes it again"
        );
    }

    fn signed(
        &self,
        request: Outgoing<'_>,
        credentials: Credentials,
    ) -> Result<http::Request<Full<Bytes>>, Fallback> {
        let identity: Identity = credentials.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.signing_name)
            .time(SystemTime::now())
            .settings(self.settings.clone())
            .build()
            .map_err(|e| Fallback(format!("signing: {e}")))?
            .into();
        let signable = SignableRequest::new(
            request.method,
            request.url,
            request.headers.iter().copied(),
            SignableBody::Bytes(&request.body),
        )
        .map_err(|e| Fallback(format!("signing: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| Fallback(format!("signing: {e}")))?
            .into_parts();
        let mut builder = http::Request::builder()
            .method(request.method)
            .uri(request.url);
        for (name, value) in request.headers {
            builder = builder.header(*name, *value);
        }
        let mut signed = builder
            .body(Full::new(request.body))
            .map_err(|e| Fallback(format!("building the request: {e}")))?;
        instructions.apply_to_request_http1x(&mut signed);
        Ok(signed)
    }
}

/// Whether the environment leaves the lean transport on ([`TRANSPORT_ENV`]);
/// a value that means neither is logged as an error and turns it off.
fn wanted_by_env() -> bool {
    match enabled_by_env() {
        Ok(on) => on,
        Err(error) => {
            tracing::error!(%error, "lean transport off: the SDK makes every call");
            false
        }
    }
}

/// `client` if it could be built; otherwise the reason is logged.
fn built<T>(client: Result<T, String>, what: &str) -> Option<T> {
    client
        .map_err(|reason| {
            tracing::warn!(what, %reason, "lean transport off: the SDK makes these calls");
        })
        .ok()
}

/// A URL's host header and whether it is https, or why it is no URL to use.
fn host_of(url: &str) -> Result<(http::Uri, String, bool), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("endpoint {url:?}: {e}"))?;
    let host = uri
        .authority()
        .ok_or_else(|| format!("endpoint {url:?} has no host"))?
        .to_string();
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("endpoint {url:?} is neither http nor https")),
    };
    Ok((uri, host, https))
}

/// One JSON-protocol service's lean client (DynamoDB, SQS); built once per
/// process, shared by clones.
#[derive(Debug, Clone)]
pub struct LeanClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    service: Service,
    transport: Transport,
    /// The endpoint as text (what is signed) and its authority (the `host`
    /// header), kept rather than formatted for every call.
    url: String,
    host: String,
}

impl LeanClient {
    /// The lean client of `service` for `sdk`'s configuration, or why there
    /// is none (no region or credentials provider, an endpoint its resolver
    /// refuses): the SDK then makes every call. Nothing is read or
    /// connected before the first call.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        service: Service,
        counter: &CallCounter,
    ) -> Result<Self, String> {
        let region = sdk.region().ok_or("no region")?.to_string();
        let url = resolve_endpoint(sdk, service, &region)?;
        let (uri, host, https) = host_of(&url)?;
        let names = (service.signing_name(), service.counted_as());
        let transport = Transport::new(
            sdk,
            https,
            region,
            names,
            SigningSettings::default(),
            counter,
        )?;
        Ok(LeanClient {
            inner: Arc::new(Inner {
                service,
                transport,
                url: uri.to_string(),
                host,
            }),
        })
    }

    /// Builds the client when the environment allows it ([`TRANSPORT_ENV`]);
    /// `None` (with the reason logged) when it does not or cannot be built.
    /// A value of the variable that means neither logs an error and leaves
    /// every call to the SDK, the path that needs no choice.
    pub fn from_env(
        sdk: &aws_config::SdkConfig,
        service: Service,
        counter: &CallCounter,
    ) -> Option<Self> {
        if !wanted_by_env() {
            return None;
        }
        built(Self::new(sdk, service, counter), service.counted_as())
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.inner.url
    }

    /// Sends `operation` with `body`, counted (when it is sent) as the SDK
    /// counts its calls. `Ok` with any answer the service gave, `Err` when
    /// there is none. Credentials the service refuses are dropped, so that
    /// the next call asks the provider again.
    /// Notes that the caller did not take `operation`'s call (`why`: a
    /// [`Fallback`] or [`Answer::describe`]) and the SDK makes it again:
    /// counted in the call counter's fallbacks, and logged.
    pub fn fell_back(&self, operation: &str, why: &dyn std::fmt::Display) {
        self.inner.transport.fell_back(operation, why);
    }

    pub async fn call<B>(&self, operation: &str, body: &B) -> Result<Answer, Fallback>
    where
        B: Serialize + ?Sized,
    {
        let inner = &self.inner;
        let payload = serde_json::to_vec(body).map_err(|e| Fallback(e.to_string()))?;
        let target = inner.service.target(operation);
        let headers = [
            ("host", inner.host.as_str()),
            ("content-type", CONTENT_TYPE),
            ("x-amz-target", target.as_str()),
        ];
        let response = inner
            .transport
            .send(
                operation,
                Outgoing {
                    method: "POST",
                    url: &inner.url,
                    headers: &headers,
                    body: Bytes::from(payload),
                },
            )
            .await?;
        let status = response.status;
        let body: Value = if response.body.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(&response.body)
                .map_err(|e| Fallback(format!("answer of status {status} is not JSON: {e}")))?
        };
        let answer = Answer { status, body };
        if answer.error_code().is_some_and(crate::errors::is_denied) {
            inner.transport.credentials.forget().await;
        }
        Ok(answer)
    }
}

/// S3's object calls on one bucket, signed as S3 signs them (the payload's
/// SHA-256 in `x-amz-content-sha256`, the key encoded once, as the SDK
/// encodes it); built once per store, shared by clones. The caller reads
/// the answer: the statuses it knows, anything else it leaves to the SDK.
#[cfg(feature = "s3")]
#[derive(Debug, Clone)]
pub struct LeanS3 {
    inner: Arc<S3Inner>,
}

#[cfg(feature = "s3")]
#[derive(Debug)]
struct S3Inner {
    transport: Transport,
    /// The bucket's URL as the SDK's resolver gives it (virtual-hosted,
    /// or path-style with the bucket as the first segment), without a
    /// trailing `/`, and its host.
    bucket_url: String,
    host: String,
}

#[cfg(feature = "s3")]
impl LeanS3 {
    /// The lean S3 client of `bucket` for `sdk`'s configuration, addressed
    /// as the SDK's client is (`force_path_style`), or why there is none:
    /// no region or credentials provider, or an endpoint that signs other
    /// than with plain SigV4 (an S3 Express directory bucket, a
    /// multi-region access point).
    pub fn new(
        sdk: &aws_config::SdkConfig,
        bucket: &str,
        force_path_style: bool,
        counter: &CallCounter,
    ) -> Result<Self, String> {
        let region = sdk.region().ok_or("no region")?.to_string();
        let (url, signing_region) = resolve_bucket(sdk, bucket, force_path_style, &region)?;
        let (_, host, https) = host_of(&url)?;
        use aws_sigv4::http_request::{
            PayloadChecksumKind, PercentEncodingMode, UriPathNormalizationMode,
        };
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let transport =
            Transport::new(sdk, https, signing_region, ("s3", "S3"), settings, counter)?;
        Ok(LeanS3 {
            inner: Arc::new(S3Inner {
                transport,
                bucket_url: url.trim_end_matches('/').to_string(),
                host,
            }),
        })
    }

    /// As [`LeanClient::from_env`]: `None` when the environment turns the
    /// lean transport off or the client cannot be built.
    pub fn from_env(
        sdk: &aws_config::SdkConfig,
        bucket: &str,
        force_path_style: bool,
        counter: &CallCounter,
    ) -> Option<Self> {
        if !wanted_by_env() {
            return None;
        }
        built(Self::new(sdk, bucket, force_path_style, counter), "S3")
    }

    /// The URL of `key`'s object (the key encoded as the SDK encodes it).
    pub fn object_url(&self, key: &str) -> String {
        let key = aws_smithy_http::label::fmt_string(
            key,
            aws_smithy_http::label::EncodingStrategy::Greedy,
        );
        format!("{}/{key}", self.inner.bucket_url)
    }

    /// One PutObject of `body` at `key`, with `headers` (metadata,
    /// conditions) besides the content type.
    pub async fn put_object(
        &self,
        key: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Response, Fallback> {
        let url = self.object_url(key);
        let mut all = Vec::with_capacity(headers.len() + 2);
        all.push(("host", self.inner.host.as_str()));
        all.push(("content-type", content_type));
        all.extend_from_slice(headers);
        let request = Outgoing {
            method: "PUT",
            url: &url,
            headers: &all,
            body,
        };
        self.inner.transport.send("PutObject", request).await
    }

    /// One GetObject of `key`.
    /// As [`LeanClient::fell_back`].
    pub fn fell_back(&self, operation: &str, why: &dyn std::fmt::Display) {
        self.inner.transport.fell_back(operation, why);
    }

    pub async fn get_object(&self, key: &str) -> Result<Response, Fallback> {
        let url = self.object_url(key);
        let request = Outgoing {
            method: "GET",
            url: &url,
            headers: &[("host", self.inner.host.as_str())],
            body: Bytes::new(),
        };
        self.inner.transport.send("GetObject", request).await
    }
}

/// S3's error code in an XML error body (`<Code>…</Code>`), if there is one.
pub fn s3_error_code(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(&text[start..end])
}

/// The URL the SDK's own resolver gives `service` under `sdk`.
fn resolve_endpoint(
    sdk: &aws_config::SdkConfig,
    service: Service,
    region: &str,
) -> Result<String, String> {
    // Each service's resolver and parameters are types of its own crate.
    macro_rules! resolve {
        ($service:ident) => {{
            use $service::config::endpoint::{DefaultResolver, Params, ResolveEndpoint as _};
            let params = Params::builder()
                .region(region)
                .set_use_fips(sdk.use_fips())
                .set_use_dual_stack(sdk.use_dual_stack())
                .set_endpoint(sdk.endpoint_url().map(str::to_string))
                .build()
                .map_err(|e| e.to_string())?;
            DefaultResolver::new()
                .resolve_endpoint(&params)
                .now_or_never()
                .ok_or("the endpoint resolver did not answer at once")?
        }};
    }
    let endpoint = match service {
        Service::DynamoDb => resolve!(aws_sdk_dynamodb),
        Service::Sqs => resolve!(aws_sdk_sqs),
    };
    let endpoint = endpoint.map_err(|e| format!("resolving the endpoint: {e}"))?;
    let signing_region = plain_sigv4(&endpoint, service.signing_name(), region)?;
    if signing_region != region {
        return Err(format!(
            "endpoint {} signs for {signing_region}, not {region}",
            endpoint.url()
        ));
    }
    Ok(endpoint.url().to_string())
}

/// The region `endpoint` is signed for when its first auth scheme is plain
/// SigV4 for `name` (or it names none); otherwise why the lean transport
/// leaves its calls to the SDK (SigV4a, S3 Express sessions).
fn plain_sigv4(
    endpoint: &aws_smithy_types::endpoint::Endpoint,
    name: &str,
    region: &str,
) -> Result<String, String> {
    use aws_smithy_types::Document;
    let text = |value: Option<&Document>| match value {
        Some(Document::String(text)) => Some(text.clone()),
        _ => None,
    };
    // The resolver lists the schemes apart, or (older SDKs) as a property.
    let (scheme, signing_name, signing_region) = match endpoint.auth_schemes().first() {
        Some(scheme) => (
            Some(scheme.name().to_string()),
            text(scheme.get("signingName")),
            text(scheme.get("signingRegion")),
        ),
        None => match endpoint.properties().get("authSchemes") {
            Some(Document::Array(schemes)) => match schemes.first() {
                Some(Document::Object(scheme)) => (
                    text(scheme.get("name")),
                    text(scheme.get("signingName")),
                    text(scheme.get("signingRegion")),
                ),
                _ => (None, None, None),
            },
            _ => (Some("sigv4".to_string()), None, None),
        },
    };
    if scheme.as_deref() != Some("sigv4") || signing_name.as_deref().is_some_and(|n| n != name) {
        return Err(format!(
            "endpoint {} signs as {scheme:?} for {signing_name:?}, not SigV4 for {name}",
            endpoint.url()
        ));
    }
    Ok(signing_region.unwrap_or_else(|| region.to_string()))
}

/// The URL and signing region S3's own resolver gives `bucket` under
/// `sdk`; only an endpoint whose first auth scheme is plain SigV4 for `s3`.
#[cfg(feature = "s3")]
fn resolve_bucket(
    sdk: &aws_config::SdkConfig,
    bucket: &str,
    force_path_style: bool,
    region: &str,
) -> Result<(String, String), String> {
    use aws_sdk_s3::config::endpoint::{DefaultResolver, Params, ResolveEndpoint as _};
    let params = Params::builder()
        .bucket(bucket)
        .region(region)
        .force_path_style(force_path_style)
        .set_use_fips(sdk.use_fips())
        .set_use_dual_stack(sdk.use_dual_stack())
        .set_endpoint(sdk.endpoint_url().map(str::to_string))
        .build()
        .map_err(|e| e.to_string())?;
    let endpoint = DefaultResolver::new()
        .resolve_endpoint(&params)
        .now_or_never()
        .ok_or("the endpoint resolver did not answer at once")?
        .map_err(|e| format!("resolving the endpoint: {e}"))?;
    let signing_region = plain_sigv4(&endpoint, "s3", region)?;
    Ok((endpoint.url().to_string(), signing_region))
}

/// A pooled HTTP/1 client; TLS with the system's roots when `https`.
fn http_client(https: bool) -> Result<HttpClient, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = if https {
        builder
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("TLS roots: {e}"))?
    } else {
        // Plain HTTP (an emulator): TLS is never used, so no roots are read.
        builder.with_tls_config(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS: {e}"))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        )
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_nodelay(true);
    let connector = builder.https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// An attribute value from DynamoDB's JSON; `Err` names what is wrong.
pub fn attribute_from_json(json: &Value) -> Result<AttributeValue, String> {
    let object = json
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| format!("not an attribute value: {json}"))?;
    let (kind, value) = object.iter().next().expect("one entry");
    let string = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{kind} is not a string: {v}"))
    };
    let bytes = |v: &Value| {
        let text = v
            .as_str()
            .ok_or_else(|| format!("{kind} is not base64: {v}"))?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(aws_smithy_types::Blob::new)
            .map_err(|e| format!("{kind}: {e}"))
    };
    let array = |v: &Value| {
        v.as_array()
            .ok_or_else(|| format!("{kind} is not a list: {v}"))
            .cloned()
    };
    let boolean = |v: &Value| {
        v.as_bool()
            .ok_or_else(|| format!("{kind} is not a boolean: {v}"))
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(string(value)?),
        "N" => AttributeValue::N(string(value)?),
        "B" => AttributeValue::B(bytes(value)?),
        "BOOL" => AttributeValue::Bool(boolean(value)?),
        "NULL" => AttributeValue::Null(boolean(value)?),
        "SS" => AttributeValue::Ss(array(value)?.iter().map(string).collect::<Result<_, _>>()?),
        "NS" => AttributeValue::Ns(array(value)?.iter().map(string).collect::<Result<_, _>>()?),
        "BS" => AttributeValue::Bs(array(value)?.iter().map(bytes).collect::<Result<_, _>>()?),
        "L" => AttributeValue::L(
            array(value)?
                .iter()
                .map(attribute_from_json)
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(item_from_json(value)?),
        other => return Err(format!("unknown attribute type {other:?}")),
    })
}

/// An item (or a map) from DynamoDB's JSON.
pub fn item_from_json(json: &Value) -> Result<HashMap<String, AttributeValue>, String> {
    json.as_object()
        .ok_or_else(|| format!("not an item: {json}"))?
        .iter()
        .map(|(name, value)| Ok((name.clone(), attribute_from_json(value)?)))
        .collect()
}

/// DynamoDB's JSON of an attribute value, written straight into a request
/// body (no `Value` tree in between); a kind this SDK does not know, which
/// nothing here writes, is `NULL`.
pub struct AttributeJson<'a>(pub &'a AttributeValue);

impl Serialize for AttributeJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let mut map = serializer.serialize_map(Some(1))?;
        match self.0 {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", n)?,
            AttributeValue::B(b) => map.serialize_entry("B", &b64(b.as_ref()))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null(b) => map.serialize_entry("NULL", b)?,
            AttributeValue::Ss(v) => map.serialize_entry("SS", v)?,
            AttributeValue::Ns(v) => map.serialize_entry("NS", v)?,
            AttributeValue::Bs(v) => {
                let encoded: Vec<String> = v.iter().map(|b| b64(b.as_ref())).collect();
                map.serialize_entry("BS", &encoded)?
            }
            AttributeValue::L(v) => {
                let values: Vec<AttributeJson> = v.iter().map(AttributeJson).collect();
                map.serialize_entry("L", &values)?
            }
            AttributeValue::M(m) => map.serialize_entry("M", &ItemJson(m))?,
            _ => map.serialize_entry("NULL", &true)?,
        }
        map.end()
    }
}

/// DynamoDB's JSON of an item (or a map), written as [`AttributeJson`] is.
pub struct ItemJson<'a>(pub &'a HashMap<String, AttributeValue>);

impl Serialize for ItemJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .map(|(name, value)| (name, AttributeJson(value))),
        )
    }
}

/// [`AttributeJson`] as a `Value`.
pub fn attribute_json(value: &AttributeValue) -> Value {
    // Cannot fail: every map key is a string.
    serde_json::to_value(AttributeJson(value)).unwrap_or(Value::Null)
}

/// [`ItemJson`] as a `Value`.
pub fn item_json(item: &HashMap<String, AttributeValue>) -> Value {
    serde_json::to_value(ItemJson(item)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn attribute() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            ".*".prop_map(AttributeValue::S),
            any::<i64>().prop_map(|n| AttributeValue::N(n.to_string())),
            proptest::collection::vec(any::<u8>(), 0..16)
                .prop_map(|b| AttributeValue::B(aws_smithy_types::Blob::new(b))),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null(true)),
            proptest::collection::vec(".*", 1..4).prop_map(AttributeValue::Ss),
            proptest::collection::vec(any::<i32>().prop_map(|n| n.to_string()), 1..4)
                .prop_map(AttributeValue::Ns),
            proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 1..8).prop_map(aws_smithy_types::Blob::new),
                1..3
            )
            .prop_map(AttributeValue::Bs),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                proptest::collection::hash_map("[a-z]{1,6}", inner, 0..4)
                    .prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        #[test]
        fn an_item_comes_back_from_its_json_unchanged(
            item in proptest::collection::hash_map("[a-zA-Z#:]{1,8}", attribute(), 0..6)
        ) {
            let text = serde_json::to_string(&item_json(&item)).unwrap();
            let back = item_from_json(&serde_json::from_str(&text).unwrap()).unwrap();
            prop_assert_eq!(back, item);
        }
    }

    #[test]
    fn the_wire_form_is_dynamodbs() {
        let item = HashMap::from([
            ("path".to_string(), AttributeValue::S("/a".into())),
            ("version".to_string(), AttributeValue::N("3".into())),
            (
                "data".to_string(),
                AttributeValue::B(aws_smithy_types::Blob::new(b"hi".to_vec())),
            ),
        ]);
        assert_eq!(
            item_json(&item),
            serde_json::json!({"path": {"S": "/a"}, "version": {"N": "3"}, "data": {"B": "aGk="}})
        );
    }

    #[test]
    fn malformed_attribute_values_are_refused_by_name() {
        for (json, says) in [
            (serde_json::json!({"S": 1}), "S is not a string"),
            (serde_json::json!({"B": "%%"}), "B:"),
            (
                serde_json::json!({"S": "a", "N": "1"}),
                "not an attribute value",
            ),
            (serde_json::json!({"X": "a"}), "unknown attribute type"),
            (serde_json::json!("a"), "not an attribute value"),
        ] {
            let err = attribute_from_json(&json).unwrap_err();
            assert!(err.contains(says), "{json}: {err}");
        }
    }

    #[test]
    fn credentials_are_kept_until_five_minutes_before_they_expire() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let expiring = |after: u64| {
            Credentials::new(
                "k",
                "s",
                Some("t".into()),
                Some(now + Duration::from_secs(after)),
                "test",
            )
        };
        assert!(still_fresh(&expiring(301), now));
        assert!(!still_fresh(&expiring(300), now));
        assert!(!still_fresh(&expiring(10), now));
        assert!(still_fresh(
            &Credentials::new("k", "s", None, None, "test"),
            now
        ));
    }

    #[test]
    fn an_error_code_is_the_part_after_the_namespace() {
        let answer = |kind: &str| Answer {
            status: 400,
            body: serde_json::json!({"__type": kind, "message": "no"}),
        };
        assert_eq!(
            answer("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException").error_code(),
            Some("ConditionalCheckFailedException")
        );
        assert_eq!(
            answer("QueueDoesNotExist").error_code(),
            Some("QueueDoesNotExist")
        );
        let ok = Answer {
            status: 200,
            body: serde_json::json!({}),
        };
        assert_eq!(ok.error_code(), None);
    }

    #[test]
    fn an_s3_error_code_is_read_from_its_xml() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"#;
        assert_eq!(s3_error_code(body), Some("NoSuchKey"));
        assert_eq!(
            s3_error_code(b"<Error><Code>NoSuchBucket</Code>"),
            Some("NoSuchBucket")
        );
        assert_eq!(s3_error_code(b""), None);
        assert_eq!(s3_error_code(b"<Error><Code>cut"), None);
        assert_eq!(s3_error_code(&[0xff, 0xfe]), None);
    }

    #[test]
    fn sdk_in_the_environment_turns_it_off_and_a_typo_is_an_error() {
        assert_eq!(enabled(Some("sdk")), Ok(false));
        assert_eq!(enabled(Some(" SDK ")), Ok(false));
        assert_eq!(enabled(Some("lean")), Ok(true));
        assert_eq!(enabled(Some("")), Ok(true));
        assert_eq!(enabled(None), Ok(true));
        let err = enabled(Some("skd")).unwrap_err();
        assert!(
            err.contains("FK_AWS_TRANSPORT") && err.contains("\"lean\" or \"sdk\""),
            "{err}"
        );
    }
}
