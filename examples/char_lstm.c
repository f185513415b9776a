/* A character-level language model: a two-layer LSTM (MultiRNNCell of
 * BasicLSTMCells) unrolled with tfc_static_rnn, in the style of
 * char-rnn.
 *
 * The text is cut into BATCH parallel streams; each step trains on the next
 * STEPS characters of every stream (one-hot inputs, predicting the next
 * character), carrying the LSTM state from step to step (truncated
 * backpropagation through time). It prints the average loss (nats per
 * character) as training goes, then samples text from the model one
 * character at a time, feeding each drawn character back in. Gradients are
 * clipped to a global norm of 5 (tfc_clip_by_global_norm between
 * compute_gradients and apply_gradients). The program fails if the loss
 * did not fall.
 *
 *     ./char_lstm [text_file [epochs]]
 * The default text is /usr/share/common-licenses/GPL-3 (35 KB of English).
 */
#include <tfc.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    BATCH = 32,
    STEPS = 32,       /* characters unrolled per training step */
    UNITS = 128,      /* per LSTM layer */
    LAYERS = 2,
    NSTATE = 2 * LAYERS,
    DEFAULT_EPOCHS = 40,
    REPORT_EVERY = 50,
    SAMPLE_CHARS = 600
};
#define DEFAULT_TEXT "/usr/share/common-licenses/GPL-3"
#define LEARNING_RATE 0.003
#define CLIP_NORM 5.0 /* tf.clip_by_global_norm bound of the gradients */
#define TEMPERATURE 0.7

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static unsigned char *read_file(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (*n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)*n)) && fread(buf, 1, (size_t)*n, f) != (size_t)*n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* The model for one batch size: placeholders, the unrolled LSTM, logits. */
typedef struct model {
    tfc_output inputs[STEPS];  /* int32 [batch] character ids per time step */
    tfc_output state[NSTATE];  /* fed: the state carried in */
    tfc_output final[NSTATE];  /* fetched: the state carried out */
    tfc_output logits;         /* [steps * batch, vocab] */
} model;

static void build_model(tfc_graph *g, tfc_rnn_cell *cell, int64_t batch, int steps, int vocab,
                        tfc_output softmax_w, tfc_output softmax_b, model *m) {
    int64_t sdims[] = {batch, UNITS};
    tfc_output x[STEPS], outs[STEPS];
    for (int t = 0; t < steps; t++) {
        m->inputs[t] = tfc_placeholder(g, NULL, TFC_INT32, 1, &batch);
        x[t] = tfc_one_hot(g, m->inputs[t], vocab, 1.0f, 0.0f);
    }
    for (int i = 0; i < NSTATE; i++) m->state[i] = tfc_placeholder(g, NULL, TFC_FLOAT, 2, sdims);
    tfc_static_rnn(g, cell, x, steps, m->state, "rnn", outs, m->final);
    /* one matmul for all time steps: rows are (t, b) in time-major order */
    tfc_output all = tfc_concat(g, outs, steps, 0);
    m->logits = tfc_bias_add(g, tfc_matmul(g, all, softmax_w), softmax_b);
}

/* Draws from softmax(logits / temperature). */
static int sample(const float *logits, int n, uint64_t *rng) {
    double mx = logits[0], z = 0, p[256];
    for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    for (int i = 0; i < n; i++) z += p[i] = exp((logits[i] - mx) / TEMPERATURE);
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(*rng >> 11) / 9007199254740992.0 * z;
    for (int i = 0; i < n; i++)
        if ((u -= p[i]) < 0) return i;
    return n - 1;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 && argv[1][0] ? argv[1] : DEFAULT_TEXT;
    int epochs = argc > 2 ? atoi(argv[2]) : DEFAULT_EPOCHS;
    if (epochs < 1) epochs = DEFAULT_EPOCHS;
    long n = 0;
    unsigned char *text = read_file(path, &n);
    if (!text || n < BATCH * STEPS + 1) {
        fprintf(stderr, "cannot read at least %d bytes of text from %s\n", BATCH * STEPS + 1,
                path);
        free(text);
        return 1;
    }
    /* the characters that occur, numbered in byte order */
    int id_of[256], vocab = 0;
    unsigned char char_of[256];
    for (int i = 0; i < 256; i++) id_of[i] = -1;
    for (long i = 0; i < n; i++) id_of[text[i]] = 1;
    for (int i = 0; i < 256; i++)
        if (id_of[i] > 0) {
            char_of[vocab] = (unsigned char)i;
            id_of[i] = vocab++;
        }
    long stream_len = (n - 1) / BATCH;
    long steps_per_epoch = stream_len / STEPS;
    printf("%s: %ld characters, %d distinct; %ld steps per epoch\n", path, n, vocab,
           steps_per_epoch);

    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    tfc_rnn_cell *layers[LAYERS];
    for (int i = 0; i < LAYERS; i++) layers[i] = tfc_basic_lstm_cell(UNITS, 1.0);
    tfc_rnn_cell *cell = tfc_multi_rnn_cell(layers, LAYERS);
    int64_t wdims[] = {UNITS, vocab}, bdim = vocab;
    tfc_output softmax_w = tfc_variable(
        g, "softmax_w", tfc_truncated_normal(g, TFC_FLOAT, 2, wdims, 0, 1.0 / sqrt(UNITS), 0));
    tfc_output softmax_b = tfc_variable(g, "softmax_b", tfc_zeros(g, TFC_FLOAT, 1, &bdim));

    model train_m, gen_m;
    build_model(g, cell, BATCH, STEPS, vocab, softmax_w, softmax_b, &train_m);
    int64_t tb = (int64_t)STEPS * BATCH;
    tfc_output targets = tfc_placeholder(g, "targets", TFC_INT32, 1, &tb);
    tfc_output loss = tfc_reduce_mean(
        g, tfc_sparse_softmax_cross_entropy_with_logits(g, targets, train_m.logits), NULL, 0, 0);
    /* minimize, with the gradients clipped to a global norm of CLIP_NORM on
     * the way, as char-rnn does: an exploding step cannot wreck the weights */
    tfc_optimizer *opt = tfc_adam_optimizer(LEARNING_RATE, 0.9, 0.999, 1e-8);
    int npairs = 0;
    tfc_grad_and_var *gv = tfc_optimizer_compute_gradients(opt, g, loss, NULL, 0, &npairs);
    tfc_output *grads = calloc((size_t)npairs + 1, sizeof *grads);
    for (int i = 0; gv && grads && i < npairs; i++) grads[i] = gv[i].grad;
    tfc_node *train = NULL;
    if (gv && grads && tfc_clip_by_global_norm(g, grads, npairs, CLIP_NORM, grads, NULL) == 0) {
        for (int i = 0; i < npairs; i++) gv[i].grad = grads[i];
        train = tfc_optimizer_apply_gradients(opt, g, gv, npairs, (tfc_output){NULL, 0});
    }
    free(grads);
    free(gv);
    /* the same cell (shared variables) one character at a time */
    build_model(g, cell, 1, 1, vocab, softmax_w, softmax_b, &gen_m);
    tfc_node *init = tfc_global_variables_initializer(g);
    if (tfc_graph_error(g)) {
        fprintf(stderr, "building failed: %s\n", tfc_graph_error(g));
        tfc_optimizer_free(opt);
        tfc_rnn_cell_free(cell);
        tfc_graph_free(g);
        free(text);
        return 1;
    }

    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    if (s) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);

    /* feeds: STEPS inputs, NSTATE states, targets */
    enum { NFEED = STEPS + NSTATE + 1 };
    tfc_output feeds[NFEED];
    tfc_tensor *vals[NFEED];
    int64_t bd = BATCH, sd[] = {BATCH, UNITS};
    for (int t = 0; t < STEPS; t++) {
        feeds[t] = train_m.inputs[t];
        vals[t] = tfc_tensor_new(TFC_INT32, 1, &bd);
    }
    for (int i = 0; i < NSTATE; i++) {
        feeds[STEPS + i] = train_m.state[i];
        vals[STEPS + i] = tfc_tensor_new(TFC_FLOAT, 2, sd);
    }
    feeds[NFEED - 1] = targets;
    vals[NFEED - 1] = tfc_tensor_new(TFC_INT32, 1, &tb);
    tfc_output fetches[1 + NSTATE];
    fetches[0] = loss;
    for (int i = 0; i < NSTATE; i++) fetches[1 + i] = train_m.final[i];

    struct timespec t0;
    timespec_get(&t0, TIME_UTC);
    double first = -1, last = -1, recent = 0;
    long step = 0;
    for (int epoch = 1; epoch <= epochs && tfc_status_code(st) == TFC_OK; epoch++) {
        /* each epoch starts every stream from a zero state */
        for (int i = 0; i < NSTATE; i++)
            memset(tfc_tensor_data(vals[STEPS + i]), 0, tfc_tensor_nbytes(vals[STEPS + i]));
        for (long k = 0; k < steps_per_epoch && tfc_status_code(st) == TFC_OK; k++, step++) {
            int32_t *tgt = tfc_tensor_data(vals[NFEED - 1]);
            for (int t = 0; t < STEPS; t++) {
                int32_t *in = tfc_tensor_data(vals[t]);
                for (int b = 0; b < BATCH; b++) {
                    long at = b * stream_len + k * STEPS + t;
                    in[b] = id_of[text[at]];
                    tgt[t * BATCH + b] = id_of[text[at + 1]];
                }
            }
            tfc_tensor *got[1 + NSTATE] = {NULL};
            tfc_session_run(s, feeds, vals, NFEED, fetches, 1 + NSTATE, got, &train, 1, st);
            if (!got[0]) break;
            recent += *(const float *)tfc_tensor_data(got[0]);
            tfc_tensor_free(got[0]);
            /* the state carried out becomes the next step's state */
            for (int i = 0; i < NSTATE; i++) {
                tfc_tensor_free(vals[STEPS + i]);
                vals[STEPS + i] = got[1 + i];
            }
            if ((step + 1) % REPORT_EVERY == 0) {
                double avg = recent / REPORT_EVERY;
                if (first < 0) first = avg;
                last = avg;
                printf("epoch %2d step %5ld  loss %.3f  (%.0fs)\n", epoch, step + 1, avg,
                       seconds_since(&t0));
                fflush(stdout);
                recent = 0;
            }
        }
    }

    int rc = tfc_status_code(st) == TFC_OK ? 0 : 1;
    if (rc == 0) {
        /* sampling: start from the text's first character and a zero state */
        int64_t one = 1, sd1[] = {1, UNITS};
        tfc_output gfeeds[1 + NSTATE], gfetch[1 + NSTATE];
        tfc_tensor *gvals[1 + NSTATE];
        gfeeds[0] = gen_m.inputs[0];
        gvals[0] = tfc_tensor_new(TFC_INT32, 1, &one);
        gfetch[0] = gen_m.logits;
        for (int i = 0; i < NSTATE; i++) {
            gfeeds[1 + i] = gen_m.state[i];
            gvals[1 + i] = tfc_tensor_new(TFC_FLOAT, 2, sd1);
            gfetch[1 + i] = gen_m.final[i];
        }
        uint64_t rng = 42;
        int c = id_of[text[0]];
        printf("---- sample (temperature %.1f) ----\n%c", TEMPERATURE, char_of[c]);
        for (int k = 0; k < SAMPLE_CHARS && tfc_status_code(st) == TFC_OK; k++) {
            *(int32_t *)tfc_tensor_data(gvals[0]) = c;
            tfc_tensor *got[1 + NSTATE] = {NULL};
            tfc_session_run(s, gfeeds, gvals, 1 + NSTATE, gfetch, 1 + NSTATE, got, NULL, 0, st);
            if (!got[0]) break;
            c = sample(tfc_tensor_data(got[0]), vocab, &rng);
            putchar(char_of[c]);
            tfc_tensor_free(got[0]);
            for (int i = 0; i < NSTATE; i++) {
                tfc_tensor_free(gvals[1 + i]);
                gvals[1 + i] = got[1 + i];
            }
        }
        printf("\n---- end of sample ----\n");
        for (int i = 0; i < 1 + NSTATE; i++) tfc_tensor_free(gvals[i]);
        rc = tfc_status_code(st) == TFC_OK ? 0 : 1;
    }
    if (rc) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
    } else if (!(last < first - 0.5)) {
        fprintf(stderr, "the loss did not fall enough (%.3f -> %.3f)\n", first, last);
        rc = 1;
    } else {
        printf("loss fell from %.3f to %.3f nats per character\n", first, last);
    }
    for (int i = 0; i < NFEED; i++) tfc_tensor_free(vals[i]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
    free(text);
    return rc;
}
