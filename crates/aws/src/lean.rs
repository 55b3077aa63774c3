//! A lean transport for the two calls every write makes under load: the
//! writer's lock (DynamoDB `UpdateItem`) and the distributor's reply (SQS
//! `SendMessage`). The request is the service's JSON, signed with
//! `aws-sigv4` (the SDK's own signer) and sent on a pooled hyper
//! connection, without the SDK's orchestrator, which costs about twice the
//! CPU of the request itself (docs/profiles/README.md, "Without the
//! orchestrator").
//!
//! It is a fast path, not a second client: a call gives back the service's
//! answer only when it is a success or an answer the caller reads as such
//! (a failed lock condition with the item it returns). Anything else — a
//! connection that fails, a throttled or failed request, credentials the
//! service refuses, a body it cannot read — is [`Fallback`], and the
//! caller makes the same call again with the SDK, whose retry policy,
//! error classification and credentials cache then decide. Both calls are
//! safe to make twice: the lock's condition lets its own token take it
//! again, and a reply is deduplicated by its id.
//!
//! What it takes from the SDK's configuration, so that it talks to the
//! same place as the SDK with the same identity:
//! - the endpoint, from the service's own endpoint resolver (region, FIPS,
//!   dual stack, a configured URL);
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

/// The services the lean transport speaks to.
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

/// One service's lean client; built once per process, shared by clones.
#[derive(Debug, Clone)]
pub struct LeanClient {
    inner: Arc<Inner>,
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Debug)]
struct Inner {
    service: Service,
    /// Built at the first call (reading the TLS roots is not free, and a
    /// process that builds the clients may never take this path); `Err`
    /// says why it could not be, and every call then falls back.
    http: std::sync::OnceLock<Result<HttpClient, String>>,
    endpoint: http::Uri,
    /// `endpoint` as text (what is signed) and its authority (the `host`
    /// header), kept rather than formatted for every call.
    url: String,
    host: String,
    region: String,
    credentials: CredentialCache,
    counter: CallCounter,
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
        let provider = sdk
            .credentials_provider()
            .ok_or("no credentials provider")?;
        let url = resolve_endpoint(sdk, service, &region)?;
        let endpoint: http::Uri = url.parse().map_err(|e| format!("endpoint {url:?}: {e}"))?;
        let host = endpoint
            .authority()
            .ok_or_else(|| format!("endpoint {url:?} has no host"))?
            .to_string();
        if !matches!(endpoint.scheme_str(), Some("https" | "http")) {
            return Err(format!("endpoint {url:?} is neither http nor https"));
        }
        Ok(LeanClient {
            inner: Arc::new(Inner {
                service,
                http: std::sync::OnceLock::new(),
                url: endpoint.to_string(),
                endpoint,
                host,
                region,
                credentials: CredentialCache {
                    provider,
                    current: tokio::sync::Mutex::new(None),
                },
                counter: counter.clone(),
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
        match enabled_by_env() {
            Ok(true) => {}
            Ok(false) => return None,
            Err(error) => {
                tracing::error!(%error, "lean transport off: the SDK makes every call");
                return None;
            }
        }
        match Self::new(sdk, service, counter) {
            Ok(client) => Some(client),
            Err(reason) => {
                tracing::warn!(?service, %reason, "lean transport off: the SDK makes every call");
                None
            }
        }
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.inner.url
    }

    /// Sends `operation` with `body`, counted (when it is sent) as the SDK
    /// counts its calls. `Ok`
    /// with any answer the service gave, `Err` when there is none.
    /// Credentials the service refuses are dropped, so that the next call
    /// asks the provider again.
    pub async fn call(&self, operation: &str, body: &Value) -> Result<Answer, Fallback> {
        let inner = &self.inner;
        let payload = serde_json::to_vec(body).map_err(|e| Fallback(e.to_string()))?;
        let http = inner
            .http
            .get_or_init(|| http_client(inner.endpoint.scheme_str() == Some("https")))
            .as_ref()
            .map_err(|e| Fallback(e.clone()))?;
        let credentials = inner.credentials.get().await?;
        let request = self.signed(operation, payload, credentials)?;
        // Counted as it is sent, as the SDK counts its calls: one that
        // never got this far (no credentials, no HTTP client) is none.
        inner
            .counter
            .record(&format!("{}.{operation}", inner.service.counted_as()));
        let response = http
            .request(request)
            .await
            .map_err(|e| Fallback(format!("sending: {e}")))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| Fallback(format!("reading the answer: {e}")))?
            .to_bytes();
        let body: Value = if bytes.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| Fallback(format!("answer of status {status} is not JSON: {e}")))?
        };
        let answer = Answer { status, body };
        if status == 403 || answer.error_code().is_some_and(crate::errors::is_denied) {
            inner.credentials.forget().await;
        }
        Ok(answer)
    }

    fn signed(
        &self,
        operation: &str,
        payload: Vec<u8>,
        credentials: Credentials,
    ) -> Result<http::Request<Full<Bytes>>, Fallback> {
        let inner = &self.inner;
        let target = inner.service.target(operation);
        let headers = [
            ("host", inner.host.as_str()),
            ("content-type", CONTENT_TYPE),
            ("x-amz-target", target.as_str()),
        ];
        let identity: Identity = credentials.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&inner.region)
            .name(inner.service.signing_name())
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Fallback(format!("signing: {e}")))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            inner.url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(&payload),
        )
        .map_err(|e| Fallback(format!("signing: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| Fallback(format!("signing: {e}")))?
            .into_parts();
        let mut request = http::Request::post(&inner.endpoint);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut request = request
            .body(Full::new(Bytes::from(payload)))
            .map_err(|e| Fallback(format!("building the request: {e}")))?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
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
    if endpoint.properties().contains_key("authSchemes") {
        // A scheme other than plain SigV4 in the region (e.g. SigV4a):
        // leave the call to the SDK.
        return Err(format!(
            "endpoint {} names its own auth schemes",
            endpoint.url()
        ));
    }
    Ok(endpoint.url().to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The other way, to check the reading against: the functions build
    // their requests' JSON in place.
    /// DynamoDB's JSON of an attribute value.
    fn attribute_json(value: &AttributeValue) -> Value {
        let b64 = |b: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(b));
        let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let (kind, json) = match value {
            AttributeValue::S(s) => ("S", Value::String(s.clone())),
            AttributeValue::N(n) => ("N", Value::String(n.clone())),
            AttributeValue::B(b) => ("B", b64(b.as_ref())),
            AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttributeValue::Null(b) => ("NULL", Value::Bool(*b)),
            AttributeValue::Ss(v) => ("SS", strings(v)),
            AttributeValue::Ns(v) => ("NS", strings(v)),
            AttributeValue::Bs(v) => (
                "BS",
                Value::Array(v.iter().map(|b| b64(b.as_ref())).collect()),
            ),
            AttributeValue::L(v) => ("L", Value::Array(v.iter().map(attribute_json).collect())),
            AttributeValue::M(m) => ("M", item_json(m)),
            // A kind this SDK does not know: not something we write.
            _ => ("NULL", Value::Bool(true)),
        };
        let mut object = Map::with_capacity(1);
        object.insert(kind.to_string(), json);
        Value::Object(object)
    }

    /// DynamoDB's JSON of an item (or a map).
    fn item_json(item: &HashMap<String, AttributeValue>) -> Value {
        Value::Object(
            item.iter()
                .map(|(name, value)| (name.clone(), attribute_json(value)))
                .collect(),
        )
    }

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
