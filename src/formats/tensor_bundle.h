/* TensorFlow's V2 checkpoint ("tensor bundle"): <prefix>.index maps each
 * tensor name to a BundleEntryProto (dtype, shape, offset, size, masked
 * CRC-32C) and <prefix>.data-00000-of-00001 holds the raw bytes. */
#ifndef TFC_FORMATS_TENSOR_BUNDLE_H
#define TFC_FORMATS_TENSOR_BUNDLE_H

#include "formats/sstable.h"
#include "tfc.h"

/* Writes `n` named tensors as checkpoint `prefix`: both files go to
 * temporary names first and are renamed into place only when complete
 * (data file, then index). Names need not be sorted but must be unique.
 * 0, or -1 with `status` set. */
int tfc_bundle_write(const char *prefix, const char *const *names, tfc_tensor *const *tensors,
                     int n, tfc_status *status);
/* As tfc_bundle_write, with the index's blocks stored as `compression` asks.
 * tfc_bundle_write stores them uncompressed, as TensorFlow's BundleWriter
 * and MergeBundles do since TF 1.2 (TF < 1.1 cannot read snappy blocks). */
int tfc_bundle_write_compressed(const char *prefix, const char *const *names,
                                tfc_tensor *const *tensors, int n,
                                tfc_sstable_compression compression, tfc_status *status);

/* Index of entry `name` in the reader, or -1. */
int tfc_checkpoint_reader_find(const tfc_checkpoint_reader *r, const char *name);
/* TensorFlow's DataType number of entry i (also for types tfc lacks). */
int tfc_checkpoint_reader_raw_dtype(const tfc_checkpoint_reader *r, int i);

#endif
