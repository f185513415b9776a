/* The file-level steps of a crash-safe save (the Saver's half that touches
 * the directory): the `checkpoint` state file, writing a file atomically and
 * durably, and sweeping away the temporaries of writers that died. */
#ifndef TFC_TRAIN_CHECKPOINT_STATE_H
#define TFC_TRAIN_CHECKPOINT_STATE_H

#include "tfc.h"

#include <stddef.h>

/* Reads <dir>/checkpoint: `latest` (model_checkpoint_path) and, when `all`
 * is not NULL, every all_model_checkpoint_paths entry, oldest first, as
 * written (relative to `dir` or absolute). The caller frees the strings and
 * the array. 0, or -1 (no file or no latest; *latest NULL). */
int tfc_ckpt_state_read(const char *dir, char **latest, char ***all, int *nall);

/* Replaces <dir>/checkpoint atomically: latest is paths[n-1], all entries
 * are paths[0..n) (oldest first), each written relative to `dir` as TF's
 * Saver does. The old file stays intact until the new one is complete and
 * on disk. n >= 1. 0, or -1 with `status` set. */
int tfc_ckpt_state_write(const char *dir, char *const *paths, int n, tfc_status *status);

/* Writes `n` bytes to `path` through a temporary in the same directory
 * (<path>.tempstate<pid>-<seq>), fsynced before it is renamed over `path`,
 * so `path` holds either its old bytes or all of the new ones. 0, or -1 with
 * `status` set (the temporary removed). */
int tfc_ckpt_write_file_atomic(const char *path, const void *p, size_t n, tfc_status *status);

/* fsyncs directory `dir`, making the renames done in it durable; 0 or -1.
 * Callers treat it as best effort: a failure weakens durability across a
 * power loss, never the all-or-nothing renames a killed process relies on. */
int tfc_ckpt_sync_dir(const char *dir);

/* Removes from `dir` the temporaries a checkpoint writer leaves when it is
 * killed mid-save: a checkpoint's .index, .data-NNNNN-of-NNNNN or .meta
 * file, or `checkpoint`, with a .tempstate<pid>[-<seq>] suffix, and the
 * <ckpt>.meta.tmp<pid> of earlier versions; only those whose pid names no
 * live process (kill(pid, 0) fails with ESRCH): a writer still running,
 * such as another saver on the same directory, keeps its files. (A writer
 * in another pid namespace sharing the directory would look dead.) Returns
 * how many files it removed. */
int tfc_ckpt_remove_stale_temporaries(const char *dir);

#endif
