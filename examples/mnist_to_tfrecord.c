/* Writes (Fashion-)MNIST as TFRecord files of tf.train.Example records,
 * as TensorFlow's convert_to_records.py does: features height, width,
 * depth and label (int64) and image_raw (the 784 pixel bytes).
 *
 *     ./mnist_to_tfrecord [data_dir [out_dir [shards]]]
 * writes out_dir/train-NNNNN-of-SSSSS.tfrecord (shards files, default 4)
 * and out_dir/test.tfrecord; data_dir as for the mlp example; out_dir
 * defaults to /tmp/tfc-mnist-tfrecord. The mlp_tfrecord example reads them.
 */
#include <tfc.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Writes dataset rows [begin, end) to path. 0 or -1 (message printed). */
static int write_file(const char *path, tfc_dataset *d, int64_t begin, int64_t end) {
    tfc_status *st = tfc_status_new();
    tfc_record_writer *w = tfc_record_writer_open(path, 0, st);
    const float *images = tfc_tensor_data(tfc_dataset_images(d));
    const int32_t *labels = tfc_tensor_data(tfc_dataset_labels(d));
    int rc = w ? 0 : -1;
    for (int64_t i = begin; rc == 0 && i < end; i++) {
        unsigned char pixels[784];
        for (int k = 0; k < 784; k++)
            pixels[k] = (unsigned char)(images[i * 784 + k] * 255.0f + 0.5f);
        int64_t height = 28, width = 28, depth = 1, label = labels[i];
        const void *raw = pixels;
        size_t raw_len = sizeof pixels, len = 0;
        tfc_example *ex = tfc_example_new();
        uint8_t *rec = NULL;
        if (ex && !tfc_example_add_int64s(ex, "height", &height, 1) &&
            !tfc_example_add_int64s(ex, "width", &width, 1) &&
            !tfc_example_add_int64s(ex, "depth", &depth, 1) &&
            !tfc_example_add_int64s(ex, "label", &label, 1) &&
            !tfc_example_add_bytes(ex, "image_raw", &raw, &raw_len, 1))
            rec = tfc_example_serialize(ex, &len);
        if (!rec || tfc_record_writer_write(w, rec, len, st)) rc = -1;
        free(rec);
        tfc_example_free(ex);
    }
    if (w && tfc_record_writer_close(w, st)) rc = -1;
    if (rc) fprintf(stderr, "%s: %s\n", path, tfc_status_message(st));
    tfc_status_free(st);
    return rc;
}

int main(int argc, char **argv) {
    const char *out_dir = argc > 2 ? argv[2] : "/tmp/tfc-mnist-tfrecord";
    int shards = argc > 3 ? atoi(argv[3]) : 4;
    if (shards < 1 || shards > 1000) {
        fprintf(stderr, "shards must be 1 to 1000\n");
        return 1;
    }
    tfc_status *st = tfc_status_new();
    tfc_mnist *data = tfc_mnist_load(argc > 1 ? argv[1] : NULL, st);
    if (!data) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        tfc_status_free(st);
        return 1;
    }
    if (mkdir(out_dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "cannot make %s: %s\n", out_dir, strerror(errno));
        return 1;
    }
    int64_t n = tfc_dataset_size(data->train);
    int rc = 0;
    char path[4096];
    for (int s = 0; s < shards && !rc; s++) {
        snprintf(path, sizeof path, "%s/train-%05d-of-%05d.tfrecord", out_dir, s, shards);
        rc = write_file(path, data->train, n * s / shards, n * (s + 1) / shards);
    }
    snprintf(path, sizeof path, "%s/test.tfrecord", out_dir);
    if (!rc) rc = write_file(path, data->test, 0, tfc_dataset_size(data->test));
    if (!rc)
        printf("wrote %lld training examples in %d files and %lld test examples to %s\n",
               (long long)n, shards, (long long)tfc_dataset_size(data->test), out_dir);
    tfc_mnist_free(data);
    tfc_status_free(st);
    return rc ? 1 : 0;
}
