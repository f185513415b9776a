/* Device names in TensorFlow's syntax (DeviceNameUtils): a full name
 * "/job:worker/replica:0/task:1/device:GPU:0" or any part of it, in any
 * order, each part at most once in meaning (a repeated part overrides):
 *
 *   /job:NAME         NAME a letter, then letters, digits, '_'; or '*'
 *   /replica:N        N a decimal number, or '*'
 *   /task:N
 *   /device:TYPE:N    TYPE a letter, then letters, digits, '_', or '*';
 *   /device:TYPE        N a number or '*'; no ":N" means any id
 *   /cpu:N /CPU:N     legacy forms of /device:CPU:N and /device:GPU:N
 *   /gpu:N /GPU:N
 *
 * "" and "/" name no constraint. "*" leaves a part unset. The types "cpu"
 * and "gpu" in /device: are written upper case, as TensorFlow's DeviceSpec
 * does; other types keep their case. This file depends on nothing: the
 * graph builder validates device strings with it, and the placer will
 * match and merge them. */
#ifndef TFC_DEVICE_DEVICE_NAME_H
#define TFC_DEVICE_DEVICE_NAME_H

#include <stddef.h>

enum {
    TFC_DEVICE_JOB_MAX = 128, /* a job name's bytes, with its NUL */
    TFC_DEVICE_TYPE_MAX = 64  /* a device type's bytes, with its NUL */
};

/* A parsed device name; a part is set when its has_ flag is. */
typedef struct tfc_device_name {
    int has_job;
    char job[TFC_DEVICE_JOB_MAX];
    int has_replica;
    int replica;
    int has_task;
    int task;
    int has_type;
    char type[TFC_DEVICE_TYPE_MAX];
    int has_id; /* 0: any id ('*' or none given) */
    int id;
} tfc_device_name;

/* Parses `spec` into *out (which may be NULL to only check it). 0, or -1
 * with the reason, a sentence naming the offending part, in err[errcap]
 * (err may be NULL). */
int tfc_device_name_parse(const char *spec, tfc_device_name *out, char *err, size_t errcap);

/* TensorFlow's canonical form (ParsedNameToString): the set parts in the
 * order /job:J/replica:R/task:T/device:TYPE:N, "*" for an unset id of a
 * set type, "" when nothing is set. Writes at most cap bytes (NUL
 * included) and returns the length of the whole form, as snprintf does. */
size_t tfc_device_name_format(const tfc_device_name *d, char *buf, size_t cap);

/* MergeDevNames: the parts set in `other` are set in `target`. Where both
 * set a job, replica or task that differ, that is an error; so are a type
 * or id that differ, unless allow_soft_placement, when the type (and id)
 * or the id is unset instead. 0, or -1 with the reason in err (and
 * `target` possibly half merged). */
int tfc_device_name_merge(tfc_device_name *target, const tfc_device_name *other,
                          int allow_soft_placement, char *err, size_t errcap);

/* MergeUnsetDevNames: the parts `target` lacks are taken from `other`.
 * Nested device scopes merge so (tf.device): the inner spec is the target,
 * the enclosing scope's the other, so inner parts override outer ones. */
void tfc_device_name_merge_unset(tfc_device_name *target, const tfc_device_name *other);

#endif
