/* The op registry: the tables of every op family, searched by type name.
 * Adding a family means adding its table here. */
#include "graph/op_registry.h"

#include <pthread.h>
#include <string.h>

extern const tfc_op_def tfc_ops_core[];
extern const tfc_op_def tfc_ops_math[];
extern const tfc_op_def tfc_ops_reduce[];
extern const tfc_op_def tfc_ops_array[];
extern const tfc_op_def tfc_ops_nn[];
extern const tfc_op_def tfc_ops_random[];
extern const tfc_op_def tfc_ops_state[];
extern const tfc_op_def tfc_ops_training[];
extern const tfc_op_def tfc_ops_training_fused[];
extern const tfc_op_def tfc_ops_pool_fused[]; /* src/ops/pool.c */
extern const tfc_op_def tfc_ops_bias_fused[]; /* src/ops/bias_fused.c */
extern const tfc_op_def tfc_ops_io[];
/* SaveV2, RestoreV2, ShardedFilename, MergeV2Checkpoints (src/ops/save_restore.c) */
extern const tfc_op_def tfc_ops_save_restore[];
extern const tfc_op_def tfc_ops_summary[];
extern const tfc_op_def tfc_ops_conv[];
extern const tfc_op_def tfc_ops_depthwise_conv[];
extern const tfc_op_def tfc_ops_embedding[];
extern const tfc_op_def tfc_ops_control_flow[];
extern const tfc_op_def tfc_ops_sampling[];
extern const tfc_op_def tfc_ops_scatter[];
extern const tfc_op_def tfc_ops_check_numerics[];
/* DynamicStitch; FloorDiv and FloorMod (the run-time reduction gradients) */
extern const tfc_op_def tfc_ops_array_dynamic[];
extern const tfc_op_def tfc_ops_math_floor_div[];
extern const tfc_op_def tfc_ops_linalg[];
/* indexing and selection: StridedSlice(Grad), Where, TopKV2/InTopKV2,
 * Multinomial, PlaceholderWithDefault */
extern const tfc_op_def tfc_ops_strided_slice[];
extern const tfc_op_def tfc_ops_where[];
extern const tfc_op_def tfc_ops_topk[];
extern const tfc_op_def tfc_ops_multinomial[];
extern const tfc_op_def tfc_ops_placeholder_with_default[];
/* strings (src/ops/string*.c) */
extern const tfc_op_def tfc_ops_string[];
extern const tfc_op_def tfc_ops_string_codec[];
extern const tfc_op_def tfc_ops_string_io[];
/* queues and input pipelines (src/data/) */
extern const tfc_op_def tfc_ops_queue[];
extern const tfc_op_def tfc_ops_reader[];
extern const tfc_op_def tfc_ops_input[];
extern const tfc_op_def tfc_ops_parse[];
/* conditional accumulators (src/data/accumulator_ops.c) */
extern const tfc_op_def tfc_ops_accumulator[];
/* resource variables (src/ops/resource_variable*.c) */
extern const tfc_op_def tfc_ops_resource_variable[];
extern const tfc_op_def tfc_ops_resource_variable_training[];
/* images (src/ops/image.c), TensorProto bytes (serialize_tensor.c),
 * mutexes (mutex.c) */
extern const tfc_op_def tfc_ops_image[];
extern const tfc_op_def tfc_ops_audio[]; /* EncodeWav, DecodeWav (audio_wav.c) */
extern const tfc_op_def tfc_ops_serialize_tensor[];
extern const tfc_op_def tfc_ops_mutex[];
/* 8-bit quantization (src/ops/quantize*.c) */
extern const tfc_op_def tfc_ops_quantize[];
#ifdef TFC_WITH_MPI
/* collectives (src/distributed/allreduce_ops.c), with TFC_DISTRIBUTED */
extern const tfc_op_def tfc_ops_allreduce[];
#endif

static const tfc_op_def *const families[] = {
    tfc_ops_core, tfc_ops_math, tfc_ops_reduce, tfc_ops_array,
    tfc_ops_nn,   tfc_ops_random, tfc_ops_state, tfc_ops_training,
    tfc_ops_training_fused, tfc_ops_pool_fused, tfc_ops_bias_fused,
    tfc_ops_io,   tfc_ops_save_restore, tfc_ops_summary, tfc_ops_conv, tfc_ops_depthwise_conv, tfc_ops_embedding,
    tfc_ops_sampling, tfc_ops_control_flow, tfc_ops_scatter, tfc_ops_check_numerics,
    tfc_ops_array_dynamic, tfc_ops_math_floor_div,
    tfc_ops_linalg,
    tfc_ops_strided_slice, tfc_ops_where, tfc_ops_topk, tfc_ops_multinomial,
    tfc_ops_placeholder_with_default,
    tfc_ops_string, tfc_ops_string_codec, tfc_ops_string_io,
    tfc_ops_queue, tfc_ops_reader, tfc_ops_input, tfc_ops_parse, tfc_ops_accumulator,
    tfc_ops_resource_variable, tfc_ops_resource_variable_training,
    tfc_ops_image, tfc_ops_audio, tfc_ops_serialize_tensor, tfc_ops_mutex,
    tfc_ops_quantize,
#ifdef TFC_WITH_MPI
    tfc_ops_allreduce,
#endif
};

static tfc_strmap by_type;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_index(void) {
    for (size_t f = 0; f < sizeof families / sizeof *families; f++)
        for (const tfc_op_def *d = families[f]; d->type; d++)
            tfc_strmap_put(&by_type, d->type, (void *)d);
}

const tfc_op_def *tfc_op_lookup(const char *type) {
    pthread_once(&once, build_index);
    return tfc_strmap_get(&by_type, type);
}

int tfc_op_is_registered(const char *type) { return type && tfc_op_lookup(type) != NULL; }

void tfc_op_registry_each(void (*fn)(const tfc_op_def *def, void *user), void *user) {
    for (size_t f = 0; f < sizeof families / sizeof *families; f++)
        for (const tfc_op_def *d = families[f]; d->type; d++) fn(d, user);
}
