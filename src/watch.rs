//! Watching the config and rules files (the only user of `notify`).
//!
//! Editors save in many ways (write in place, write a temporary file and rename it over the old
//! one, delete and re-create), so the directories holding the files are watched, not the
//! files themselves, and any debounced event that touches one of the files counts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::event::ModifyKind;
use notify_debouncer_full::notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

/// How long a burst of file events is gathered before it becomes one change.
pub const DEBOUNCE: Duration = Duration::from_millis(500);

/// Watches some files until dropped.
pub struct FileWatch {
    files: Vec<PathBuf>,
    _debouncer: notify_debouncer_full::Debouncer<
        notify_debouncer_full::notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path} for changes: {source}")]
pub struct WatchError {
    path: PathBuf,
    source: notify_debouncer_full::notify::Error,
}

impl FileWatch {
    /// Calls `changed` (from the watcher's thread) once per debounced burst of changes to any
    /// of `files`.
    pub fn new(
        files: &[PathBuf],
        changed: impl Fn(Vec<PathBuf>) + Send + 'static,
    ) -> Result<FileWatch, WatchError> {
        let files: Vec<PathBuf> = files.iter().map(|f| absolute(f)).collect();
        let wanted = files.clone();
        let handler = move |result: DebounceEventResult| match result {
            Ok(events) => {
                let hits: BTreeSet<PathBuf> = events
                    .iter()
                    .filter(|e| changes_content(&e.event.kind))
                    .flat_map(|e| e.event.paths.iter())
                    .filter(|p| wanted.iter().any(|w| w == *p))
                    .cloned()
                    .collect();
                if !hits.is_empty() {
                    changed(hits.into_iter().collect());
                }
            }
            Err(errors) => {
                for e in errors {
                    tracing::warn!(error = %e, "file watcher error");
                }
            }
        };
        let mut debouncer =
            new_debouncer(DEBOUNCE, None, handler).map_err(|source| WatchError {
                path: files.first().cloned().unwrap_or_default(),
                source,
            })?;
        let dirs: BTreeSet<PathBuf> = files
            .iter()
            .map(|f| f.parent().map(Path::to_path_buf).unwrap_or_default())
            .collect();
        for dir in dirs {
            debouncer
                .watch(&dir, RecursiveMode::NonRecursive)
                .map_err(|source| WatchError { path: dir, source })?;
        }
        Ok(FileWatch {
            files,
            _debouncer: debouncer,
        })
    }

    /// The files watched, as absolute paths.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

/// Writes, creations, renames and deletions count; opening and reading (which kkachi itself does
/// on every reload) and metadata changes do not.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(m) => !matches!(m, ModifyKind::Metadata(_)),
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// `path` made absolute against the working directory, with `.` and `..` parts removed the way
/// the watcher reports paths.
fn absolute(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    // Resolve symlinked directories (e.g. /etc/kkachi -> elsewhere) as inotify reports the
    // watched directory's own path joined with the file name.
    let (dir, name) = (path.parent(), path.file_name());
    match (dir.and_then(|d| d.canonicalize().ok()), name) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn an_edit_a_rename_over_and_a_delete_each_count_and_other_files_do_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rules = dir.path().join("rules.toml");
        std::fs::write(&rules, "a").expect("write");
        let (tx, rx) = mpsc::channel();
        let watch = FileWatch::new(std::slice::from_ref(&rules), move |paths| {
            let _ = tx.send(paths);
        })
        .expect("watch");
        let wait = || rx.recv_timeout(Duration::from_secs(5));
        let rules_abs = watch.files()[0].clone();

        std::fs::write(&rules, "b").expect("edit in place");
        assert_eq!(wait().expect("an edit is seen"), vec![rules_abs.clone()]);

        // Reading the file (as a reload does) is not a change.
        std::fs::read_to_string(&rules).expect("read");
        assert!(rx.recv_timeout(DEBOUNCE * 3).is_err());

        // Another file in the same directory is ignored.
        std::fs::write(dir.path().join("notes.txt"), "x").expect("write");
        assert!(rx.recv_timeout(DEBOUNCE * 3).is_err());

        // The vim/emacs way: write a new file, rename it over the old one.
        let tmp = dir.path().join(".rules.toml.swp");
        std::fs::write(&tmp, "c").expect("write tmp");
        std::fs::rename(&tmp, &rules).expect("rename over");
        assert_eq!(
            wait().expect("a rename over is seen"),
            vec![rules_abs.clone()]
        );

        std::fs::remove_file(&rules).expect("delete");
        assert_eq!(wait().expect("a delete is seen"), vec![rules_abs]);
    }
}
