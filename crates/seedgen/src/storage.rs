//! Spoiler logs and door-randomizer patches in S3 or an S3-compatible store (spec §2.3,
//! §3.7), through aws-sdk-s3 with a custom endpoint and path-style addressing when
//! configured.

use std::io::Write;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectCannedAcl;
use flate2::Compression;
use flate2::write::GzEncoder;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Object storage settings (`storage`).
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct StorageSettings {
    /// Bucket for spoiler logs and patches; empty disables spoiler races and door seeds.
    pub bucket: String,
    /// Custom endpoint of an S3-compatible store (MinIO, moto); empty for AWS.
    pub endpoint: Option<String>,
    /// The S3 region.
    pub region: String,
    /// Path-style URLs (`endpoint/bucket/key`), needed by most S3-compatible stores.
    pub force_path_style: bool,
    /// Static credentials; when absent, `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub access_key_id: Option<String>,
    /// Static secret key (never logged).
    #[serde(default, skip_serializing)]
    pub secret_access_key: Option<SecretString>,
    /// Public URL prefix of the bucket (`SPOILERLOGURLBASE`), e.g.
    /// `https://spoilers.example.com`; keys are appended after a `/`.
    pub public_url_base: String,
    /// Canned ACL for public objects (`public-read`); empty to rely on bucket policy.
    pub public_acl: String,
}

impl StorageSettings {
    /// Settings for a bucket on a local S3-compatible server (moto, MinIO): path-style URLs,
    /// static `test` credentials, objects public under `{endpoint}/{bucket}`. What the test
    /// suites and a local stack use; production sets its own.
    pub fn local(endpoint: &str, bucket: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            endpoint: Some(endpoint.to_owned()),
            region: "us-east-1".to_owned(),
            force_path_style: true,
            access_key_id: Some("test".to_owned()),
            secret_access_key: Some("test".to_owned().into()),
            public_url_base: format!("{}/{bucket}", endpoint.trim_end_matches('/')),
            public_acl: "public-read".to_owned(),
        }
    }
}

/// A failed storage operation.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No bucket is configured.
    #[error("spoiler and patch storage is not configured (set SEEDGEN_STORAGE__BUCKET)")]
    NotConfigured,
    /// `action` is what was attempted: `store`, `read`, `create bucket`.
    #[error("cannot {action} {key}: {message}")]
    Request {
        /// What was attempted.
        action: &'static str,
        /// The object key.
        key: String,
        /// The store's message.
        message: String,
    },
}

/// The bucket, ready to write.
#[derive(Debug, Clone)]
pub struct ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    public_url_base: String,
    public_acl: Option<ObjectCannedAcl>,
}

impl ObjectStore {
    /// Builds a client from settings; `None` when no bucket is configured.
    pub fn new(settings: &StorageSettings) -> Option<Self> {
        if settings.bucket.is_empty() {
            return None;
        }
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let key_id = settings
            .access_key_id
            .clone()
            .or_else(|| std::env::var("AWS_ACCESS_KEY_ID").ok())
            .unwrap_or_default();
        let secret = settings
            .secret_access_key
            .as_ref()
            .map(|s| s.expose_secret().to_string())
            .or_else(|| std::env::var("AWS_SECRET_ACCESS_KEY").ok())
            .unwrap_or_default();
        let region = if settings.region.is_empty() {
            "us-east-1".to_string()
        } else {
            settings.region.clone()
        };
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(Credentials::new(key_id, secret, None, None, "seedgen"))
            .http_client(http)
            .force_path_style(settings.force_path_style);
        if let Some(endpoint) = settings.endpoint.as_ref().filter(|e| !e.is_empty()) {
            config = config.endpoint_url(endpoint);
        }
        let public_url_base = if settings.public_url_base.is_empty() {
            format!("https://{}.s3.amazonaws.com", settings.bucket)
        } else {
            settings.public_url_base.trim_end_matches('/').to_string()
        };
        Some(Self {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
            public_url_base,
            public_acl: (!settings.public_acl.is_empty())
                .then(|| ObjectCannedAcl::from(settings.public_acl.as_str())),
        })
    }

    /// The public URL of `key`.
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_url_base)
    }

    /// Stores `body` under `key` and returns its public URL. `gzip` compresses it and sets
    /// `Content-Encoding: gzip`; `public` applies the public ACL.
    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        gzip: bool,
        public: bool,
        content_type: &str,
    ) -> Result<String, StorageError> {
        let fail = |message: String| StorageError::Request {
            action: "store",
            key: key.to_string(),
            message,
        };
        let body = if gzip {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(&body).map_err(|e| fail(e.to_string()))?;
            encoder.finish().map_err(|e| fail(e.to_string()))?
        } else {
            body
        };
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_disposition("attachment")
            .body(ByteStream::from(body));
        if gzip {
            request = request.content_encoding("gzip");
        }
        if public && let Some(acl) = &self.public_acl {
            request = request.acl(acl.clone());
        }
        request.send().await.map_err(|error| {
            let detail = aws_sdk_s3::error::DisplayErrorContext(&error).to_string();
            fail(detail)
        })?;
        Ok(self.url(key))
    }

    /// Reads an object back (tests and operators checking an upload).
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| StorageError::Request {
                action: "read",
                key: key.to_string(),
                message: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
            })?;
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| StorageError::Request {
                action: "read",
                key: key.to_string(),
                message: e.to_string(),
            })?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// Creates the bucket if it does not exist (local stores in tests and compose).
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        match self
            .client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                let text = aws_sdk_s3::error::DisplayErrorContext(&error).to_string();
                if text.contains("BucketAlreadyOwnedByYou") || text.contains("BucketAlreadyExists")
                {
                    Ok(())
                } else {
                    Err(StorageError::Request {
                        action: "create bucket",
                        key: self.bucket.clone(),
                        message: text,
                    })
                }
            }
        }
    }
}

/// `{kind}__{hash}__{code joined by '-' without spaces}__{4 random}.txt` (spec §3.7).
pub fn spoiler_key(kind: &str, hash: &str, code: &[String], rng: &mut impl rand::Rng) -> String {
    format!(
        "{kind}__{hash}__{}__{}.txt",
        code.join("-").replace(' ', ""),
        crate::providers::random_alphanumeric(rng, 4)
    )
}

/// The spoiler JSON as uploaded: pretty-printed with 4-space indentation, in the order the
/// spoiler was built (prizes, regions, drops, meta).
pub fn spoiler_body(spoiler: &Json) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    match serde::Serialize::serialize(spoiler, &mut serializer) {
        Ok(()) => out,
        Err(_) => b"null".to_vec(),
    }
}
