//! Where the content of dossier documents is kept, through `object_store`: the
//! `documents` folder of the data folder by default, S3-compatible storage with
//! `OES_STORAGE_URL=s3://BUCKET`.
//!
//! Keys are made by the server only (`dossiers/{dossier}/{document}`, both UUIDs), so no
//! name a client sends reaches the store. An object is written whole once its upload has
//! passed every check, before its row (see `persistence::grants::documents`); objects
//! left without a live row (a crash between the two, a removal whose deletion failed)
//! are swept after an hour.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use persistence::Pool;

use crate::config::Settings;
use crate::http::error::ApiError;

/// The prefix of every document's key.
const DOCUMENTS: &str = "dossiers";

/// How long an object may stay without a live row before the sweep deletes it: longer
/// than any upload takes between storing its content and committing its row.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// The document store, shared by the workers.
#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
}

impl Storage {
    /// Opens the store the settings name: a folder is made if missing; a bucket must
    /// exist.
    pub fn open(settings: &Settings) -> Result<Self, String> {
        let store: Arc<dyn ObjectStore> = match settings.storage_url.as_deref() {
            None | Some("") => {
                let root = settings.data_dir.join("documents");
                std::fs::create_dir_all(&root)
                    .map_err(|e| format!("cannot make {}: {e}", root.display()))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(&root)
                        .map_err(|e| e.to_string())?
                        // A row is inserted once its object is stored: durably so.
                        .with_fsync(true)
                        .with_automatic_cleanup(true),
                )
            }
            Some(url) if url.starts_with("s3://") => {
                let mut builder = AmazonS3Builder::from_env().with_url(url);
                if let Some(endpoint) = settings.storage_endpoint.as_deref() {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                Arc::new(builder.build().map_err(|e| e.to_string())?)
            }
            Some(other) => {
                return Err(format!(
                    "OES_STORAGE_URL must be s3://BUCKET or unset, not {other:?}"
                ));
            }
        };
        Ok(Self { store })
    }

    /// Stores `content` under `key`, whole or not at all.
    pub async fn put(&self, key: &str, content: Bytes) -> Result<(), ApiError> {
        self.store
            .put(&Path::from(key), PutPayload::from_bytes(content))
            .await
            .map(|_| ())
            .map_err(|e| ApiError::Internal(format!("document storage, put {key}: {e}")))
    }

    /// The content under `key`, as a stream of chunks.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<
        impl futures_util::Stream<Item = Result<Bytes, object_store::Error>> + use<>,
        ApiError,
    > {
        let result = self
            .store
            .get(&Path::from(key))
            .await
            .map_err(|e| ApiError::Internal(format!("document storage, get {key}: {e}")))?;
        Ok(result.into_stream())
    }

    /// Deletes the object under `key`; one already gone is no error.
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ApiError::Internal(format!(
                "document storage, delete {key}: {e}"
            ))),
        }
    }

    /// Deletes, after a failed write, the object stored for it; a failure is only
    /// logged: the sweep will delete it.
    pub async fn discard(&self, key: &str) {
        if let Err(error) = self.delete(key).await {
            tracing::warn!(%error, key, "document content left for the sweep");
        }
    }

    /// The keys of every object under the documents' prefix, with when each was last
    /// written.
    pub async fn keys(&self) -> Result<Vec<(String, chrono::DateTime<Utc>)>, String> {
        self.store
            .list(Some(&Path::from(DOCUMENTS)))
            .map_ok(|meta| (meta.location.to_string(), meta.last_modified))
            .try_collect()
            .await
            .map_err(|e| e.to_string())
    }

    /// Deletes the objects older than `grace` that no live document stores its content
    /// under; returns how many. Blocking (it reads the database): run it on a thread of
    /// its own.
    pub async fn sweep(&self, pool: &Pool, grace: Duration) -> Result<usize, String> {
        let cutoff = Utc::now()
            - chrono::Duration::from_std(grace).unwrap_or_else(|_| chrono::Duration::hours(1));
        let keys: Vec<String> = self
            .keys()
            .await?
            .into_iter()
            .filter(|(_, written)| *written < cutoff)
            .map(|(key, _)| key)
            .collect();
        if keys.is_empty() {
            return Ok(0);
        }
        let live = {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            persistence::grants::documents::live_keys(&mut conn, &keys)
                .map_err(|e| e.to_string())?
        };
        let orphans: Vec<String> = keys.into_iter().filter(|k| !live.contains(k)).collect();
        let swept = futures_util::stream::iter(orphans)
            .map(|key| async move { self.delete(&key).await.is_ok() })
            .buffer_unordered(8)
            .filter(|deleted| std::future::ready(*deleted))
            .count()
            .await;
        Ok(swept)
    }

    /// Sweeps orphan objects at start and every hour after, on a thread of its own (the
    /// store's calls need a runtime, and a long listing must not hold up the
    /// housekeeping thread's limiters).
    pub fn sweep_in_background(&self, pool: Pool) -> std::io::Result<()> {
        let storage = self.clone();
        std::thread::Builder::new()
            .name("document-sweep".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::error!(%error, "no runtime for the document sweep");
                        return;
                    }
                };
                loop {
                    match runtime.block_on(storage.sweep(&pool, ORPHAN_GRACE)) {
                        Ok(0) => {}
                        Ok(swept) => tracing::info!(swept, "orphan document contents deleted"),
                        Err(error) => tracing::warn!(%error, "document sweep failed"),
                    }
                    std::thread::sleep(ORPHAN_GRACE);
                }
            })
            .map(|_| ())
    }
}
