//! Attachments' bytes (reports, photos, slides) as content-addressed files beside the store,
//! never inside sled (DESIGN §5): `blobs/ab/abcd…` named by the SHA-256 of the bytes in hex.
//! A file is written whole or not at all: the bytes go to a fresh file under `blobs/incoming/`,
//! hashed and counted as they are written and refused past the size cap, synced, and only
//! then renamed into place (and the folder synced), so a reader never sees a partial blob and
//! a crash leaves at most a stray incoming file, which the next open removes.
//!
//! Which blobs are wanted is the store's business: it keeps, in the same writes as the
//! records, which held records name each blob (`Store::blob_names`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::hex;

pub mod photos;

/// The largest attachment a node keeps unless its settings say otherwise: 50 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 50 * 1024 * 1024;
const INCOMING: &str = "incoming";
/// A file in `incoming/` this old is what an interrupted write left.
const STALE_INCOMING: std::time::Duration = std::time::Duration::from_secs(3600);

/// Why a blob was not kept. Nothing of it is left behind.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the file is larger than {max} bytes, the most an attachment may be here (store.max_file_mb)")]
    TooLarge { max: u64 },
    #[error("the bytes received have SHA-256 {found}, not {expected} as their record says; they were not kept")]
    WrongHash { expected: String, found: String },
    #[error("the bytes received are {found} bytes long, not {expected} as their record says; they were not kept")]
    WrongSize { expected: u64, found: u64 },
    #[error("cannot read or write {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
}

/// A blob as kept: its hash and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    pub sha256: [u8; 32],
    pub size: u64,
}

/// The blobs folder of a data directory.
#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
    max_bytes: u64,
}

impl Blobs {
    /// Opens (or creates) the folder, removing what an interrupted write left in `incoming/`
    /// an hour ago or more (a younger file may be another process's write under way: the
    /// node's and a `publish` command's).
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Blobs, BlobError> {
        let incoming = dir.join(INCOMING);
        fs::create_dir_all(&incoming).map_err(io_at(&incoming))?;
        for entry in fs::read_dir(&incoming).map_err(io_at(&incoming))? {
            let entry = entry.map_err(io_at(&incoming))?;
            let age = entry.metadata().and_then(|meta| meta.modified()).map(|at| at.elapsed().unwrap_or_default());
            if age.is_ok_and(|age| age >= STALE_INCOMING) {
                fs::remove_file(entry.path()).map_err(io_at(&entry.path()))?;
            }
        }
        Ok(Blobs { dir: dir.to_owned(), max_bytes })
    }

    /// The most bytes one blob may have.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Where the blob with this hash is (or would be) kept.
    pub fn path(&self, sha256: &[u8; 32]) -> PathBuf {
        let name = hex::to_hex(sha256);
        self.dir.join(&name[..2]).join(name)
    }

    /// Whether the blob is here, whole.
    pub fn has(&self, sha256: &[u8; 32]) -> bool {
        self.path(sha256).is_file()
    }

    /// The blob, opened for reading, and its length; `None` when it is not here.
    pub fn open_blob(&self, sha256: &[u8; 32]) -> Result<Option<(File, u64)>, BlobError> {
        let path = self.path(sha256);
        match File::open(&path) {
            Ok(file) => {
                let size = file.metadata().map_err(io_at(&path))?.len();
                Ok(Some((file, size)))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(BlobError::Io { path, error }),
        }
    }

    /// Keeps the bytes `from` gives, whatever their hash, and answers it.
    pub fn put(&self, from: impl Read) -> Result<Kept, BlobError> {
        self.write(from, None)
    }

    /// Keeps the bytes `from` gives only if they are `expected`: the blob a record names.
    pub fn put_expected(&self, from: impl Read, expected: Kept) -> Result<Kept, BlobError> {
        self.write(from, Some(expected))
    }

    /// The blobs here, in no order.
    pub fn held(&self) -> Result<Vec<Kept>, BlobError> {
        let mut out = Vec::new();
        for shard in fs::read_dir(&self.dir).map_err(io_at(&self.dir))? {
            let shard = shard.map_err(io_at(&self.dir))?.path();
            if shard.file_name().is_some_and(|name| name == INCOMING) || !shard.is_dir() {
                continue;
            }
            for entry in fs::read_dir(&shard).map_err(io_at(&shard))? {
                let entry = entry.map_err(io_at(&shard))?;
                let Some(sha256) = entry.file_name().to_str().and_then(|name| hex::parse_hex32(name).ok()) else {
                    continue;
                };
                let size = entry.metadata().map_err(io_at(&entry.path()))?.len();
                out.push(Kept { sha256, size });
            }
        }
        Ok(out)
    }

    /// The blobs kept at least `age` ago (by when their file was written).
    pub fn kept_before(&self, age: std::time::Duration) -> Result<Vec<[u8; 32]>, BlobError> {
        let mut out = Vec::new();
        for kept in self.held()? {
            let path = self.path(&kept.sha256);
            let written = fs::metadata(&path).and_then(|meta| meta.modified()).map_err(io_at(&path))?;
            if written.elapsed().is_ok_and(|elapsed| elapsed >= age) {
                out.push(kept.sha256);
            }
        }
        Ok(out)
    }

    /// Removes the blob, if it is here. A reader that has it open reads on to its end.
    pub fn remove(&self, sha256: &[u8; 32]) -> Result<bool, BlobError> {
        let path = self.path(sha256);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(BlobError::Io { path, error }),
        }
    }

    fn write(&self, mut from: impl Read, expected: Option<Kept>) -> Result<Kept, BlobError> {
        let max = expected.map_or(self.max_bytes, |expected| expected.size.min(self.max_bytes));
        if let Some(expected) = expected
            && expected.size > self.max_bytes
        {
            return Err(BlobError::TooLarge { max: self.max_bytes });
        }
        let incoming = self.dir.join(INCOMING).join(format!("{:016x}", rand::random::<u64>()));
        let mut file = OpenOptions::new().write(true).create_new(true).open(&incoming).map_err(io_at(&incoming))?;
        let outcome = (|| {
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut buffer = vec![0; 64 * 1024];
            loop {
                let read = match from.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => read,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(BlobError::Io { path: incoming.clone(), error }),
                };
                size += read as u64;
                if size > max {
                    return Err(match expected {
                        Some(expected) if expected.size <= self.max_bytes => {
                            BlobError::WrongSize { expected: expected.size, found: size }
                        }
                        _ => BlobError::TooLarge { max: self.max_bytes },
                    });
                }
                hasher.update(&buffer[..read]);
                file.write_all(&buffer[..read]).map_err(io_at(&incoming))?;
            }
            let kept = Kept { sha256: hasher.finalize().into(), size };
            if let Some(expected) = expected {
                if kept.size != expected.size {
                    return Err(BlobError::WrongSize { expected: expected.size, found: kept.size });
                }
                if kept.sha256 != expected.sha256 {
                    return Err(BlobError::WrongHash {
                        expected: hex::to_hex(&expected.sha256),
                        found: hex::to_hex(&kept.sha256),
                    });
                }
            }
            file.sync_all().map_err(io_at(&incoming))?;
            Ok(kept)
        })();
        drop(file);
        let kept = match outcome {
            Ok(kept) => kept,
            Err(error) => {
                let _ = fs::remove_file(&incoming);
                return Err(error);
            }
        };
        let path = self.path(&kept.sha256);
        let shard = path.parent().expect("a blob's path has its shard folder");
        let placed = fs::create_dir_all(shard)
            .and_then(|()| fs::rename(&incoming, &path))
            .and_then(|()| File::open(shard)?.sync_all());
        if let Err(error) = placed {
            let _ = fs::remove_file(&incoming);
            return Err(BlobError::Io { path, error });
        }
        Ok(kept)
    }
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> BlobError + '_ {
    move |error| BlobError::Io { path: path.to_owned(), error }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }

    #[test]
    fn a_blob_is_kept_by_its_hash_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path(), 1024 * 1024).unwrap();
        let bytes: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
        let kept = blobs.put(&bytes[..]).unwrap();
        assert_eq!(kept, Kept { sha256: sha(&bytes), size: bytes.len() as u64 });
        assert!(blobs.has(&kept.sha256));
        let (mut file, size) = blobs.open_blob(&kept.sha256).unwrap().unwrap();
        let mut read = Vec::new();
        file.read_to_end(&mut read).unwrap();
        assert_eq!((read, size), (bytes.clone(), bytes.len() as u64));
        assert_eq!(blobs.held().unwrap(), [kept]);
        // Keeping it again changes nothing.
        assert_eq!(blobs.put(&bytes[..]).unwrap(), kept);
        assert_eq!(blobs.held().unwrap().len(), 1);
        assert!(blobs.remove(&kept.sha256).unwrap());
        assert!(!blobs.has(&kept.sha256) && blobs.open_blob(&kept.sha256).unwrap().is_none());
    }

    #[test]
    fn bytes_over_the_cap_or_not_what_the_record_names_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path(), 1000).unwrap();
        let too_large = blobs.put(&[7u8; 1001][..]).unwrap_err();
        assert!(too_large.to_string().contains("larger than 1000 bytes"), "{too_large}");
        let named = Kept { sha256: sha(b"the report"), size: 10 };
        let wrong = blobs.put_expected(&b"the rep0rt"[..], named).unwrap_err();
        assert!(matches!(wrong, BlobError::WrongHash { .. }), "{wrong}");
        let short = blobs.put_expected(&b"the rep"[..], named).unwrap_err();
        assert!(matches!(short, BlobError::WrongSize { expected: 10, found: 7 }), "{short}");
        let long = blobs.put_expected(&b"the report, and more"[..], named).unwrap_err();
        assert!(matches!(long, BlobError::WrongSize { expected: 10, .. }), "{long}");
        let over = blobs.put_expected(&b""[..], Kept { size: 1001, ..named }).unwrap_err();
        assert!(matches!(over, BlobError::TooLarge { max: 1000 }), "{over}");
        assert!(blobs.held().unwrap().is_empty());
        assert_eq!(fs::read_dir(dir.path().join(INCOMING)).unwrap().count(), 0);
        assert_eq!(blobs.put_expected(&b"the report"[..], named).unwrap(), named);
    }

    #[test]
    fn what_an_interrupted_write_left_an_hour_ago_is_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        Blobs::open(dir.path(), 1000).unwrap();
        let stale = dir.path().join(INCOMING).join("0123456789abcdef");
        fs::write(&stale, b"half a photo").unwrap();
        let under_way = dir.path().join(INCOMING).join("fedcba9876543210");
        fs::write(&under_way, b"a report being written").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        File::options().write(true).open(&stale).unwrap().set_modified(two_hours_ago).unwrap();
        let blobs = Blobs::open(dir.path(), 1000).unwrap();
        assert!(!stale.exists() && under_way.exists(), "only the stale write is removed");
        assert!(blobs.held().unwrap().is_empty());
    }
}
